import type { Message } from '../domain/decider';
import type { Logger } from '../lib/logger';
import { PartitionMovedError } from '../lib/owned-partitions/partition-loop';
import type { CommandBus, CommandContext } from './command-bus';
import type { AggregateKind } from './processor/aggregate-kind';
import type { CommandProcessor } from './processor/command-processor';
import type { CommandReply } from './processor/reply';

/** Too many commands in flight in this process: refused at once, the caller retries later. */
export class OverloadedError extends Error {
  override name = 'OverloadedError';
  constructor(readonly retryAfterSeconds: number) {
    super(`too many commands in flight; retry in ${retryAfterSeconds} s`);
  }
}

/**
 * Where a command goes (DESIGN §4, fast path): to its partition's owner in this process when
 * it owns it — decided in the owner's next transaction, answered after the commit — otherwise
 * through the commands topic to the owner elsewhere. A bounded number of commands may be in
 * flight; past it the caller gets OverloadedError at once instead of a growing queue.
 */
export class CommandRouter {
  private inFlight = 0;

  constructor(
    private readonly processor: CommandProcessor,
    private readonly bus: CommandBus,
    private readonly logger: Logger,
    private readonly maxInFlight: number,
  ) {}

  /** The outcome, or undefined when `timeoutMs` passes first (decided later: see the bus). */
  async send(
    kind: AggregateKind<Message, Message, unknown>,
    aggregateId: string,
    command: Message,
    context: CommandContext,
    timeoutMs: number,
  ): Promise<CommandReply | undefined> {
    if (this.inFlight >= this.maxInFlight) throw new OverloadedError(1);
    this.inFlight += 1;
    try {
      if (this.processor.owns(kind, aggregateId)) {
        try {
          return await this.sendLocally(kind, aggregateId, command, context, timeoutMs);
        } catch (err) {
          // Not decided here (the partition moved, or its owner restarts): the commands topic
          // takes it to whoever owns it; a repeat of a decided command gets its first outcome.
          this.logger.debug({ err, commandId: context.commandId }, 'command sent on to the topic');
        }
      }
      return await this.bus.send(kind.topics.commands, aggregateId, command, context, timeoutMs);
    } finally {
      this.inFlight -= 1;
    }
  }

  private sendLocally(
    kind: AggregateKind<Message, Message, unknown>,
    aggregateId: string,
    command: Message,
    context: CommandContext,
    timeoutMs: number,
  ): Promise<CommandReply | undefined> {
    return new Promise((resolve, reject) => {
      let waiting = true;
      const timer = setTimeout(() => {
        waiting = false;
        resolve(undefined);
      }, timeoutMs);
      this.bus.pending(context);
      try {
        this.processor.submit(kind, aggregateId, {
          command,
          context,
          waiting: () => waiting,
          answer: (reply) => {
            clearTimeout(timer);
            this.bus.record(reply);
            if (waiting) resolve(reply);
          },
          fail: (error) => {
            clearTimeout(timer);
            if (waiting) reject(error);
            else this.bus.forget(context.commandId);
          },
        });
      } catch (err) {
        clearTimeout(timer);
        reject(err instanceof Error ? err : new PartitionMovedError());
      }
    });
  }
}
