import type { Message } from '../domain/decider';
import type { Logger } from '../lib/logger';
import { PartitionMovedError } from '../lib/owned-partitions/partition-loop';
import type { CommandBus, CommandContext } from './command-bus';
import type { AggregateKind } from './processor/aggregate-kind';
import type { CommandProcessor } from './processor/command-processor';
import type { CommandReply } from './processor/reply';

/** Too much work in this process: the command was refused undecided; the caller retries later. */
export class OverloadedError extends Error {
  override name = 'OverloadedError';
  constructor(
    readonly retryAfterSeconds: number,
    readonly reason = 'too many commands in flight',
  ) {
    super(`${reason}; retry in ${retryAfterSeconds} s`);
  }
}

export interface RouterLimits {
  /** Commands in flight at once in this process; past it, refused at once. */
  maxInFlight: number;
  /** How long a command handed to an owner here may wait to be taken into a transaction. */
  queueBudgetMs: number;
  /**
   * The budget applies only while more commands than this wait for owners here (a backlog no
   * transaction takes at once): one command that meets a slow transaction is not overload.
   */
  backlog: number;
}

/**
 * Where a command goes (DESIGN §4, fast path): to its partition's owner in this process when
 * it owns it — decided in the owner's next transaction, answered after the commit — otherwise
 * through the commands topic to the owner elsewhere. A bounded number of commands may be in
 * flight; past it the caller gets OverloadedError at once instead of a growing queue. A command
 * its owner here has not taken into a transaction within the queue budget is withdrawn
 * undecided (OverloadedError too), so overload is answered in about a second, never queued.
 */
export class CommandRouter {
  private inFlight = 0;
  /** Commands handed to owners in this process and not yet taken into a transaction. */
  private waitingLocally = 0;

  constructor(
    private readonly processor: CommandProcessor,
    private readonly bus: CommandBus,
    private readonly logger: Logger,
    private readonly limits: RouterLimits,
  ) {}

  /** The outcome, or undefined when `timeoutMs` passes first (decided later: see the bus). */
  async send(
    kind: AggregateKind<Message, Message, unknown>,
    aggregateId: string,
    command: Message,
    context: CommandContext,
    timeoutMs: number,
  ): Promise<CommandReply | undefined> {
    if (this.inFlight >= this.limits.maxInFlight) throw new OverloadedError(1);
    this.inFlight += 1;
    try {
      if (this.processor.owns(kind, aggregateId)) {
        try {
          return await this.sendLocally(kind, aggregateId, command, context, timeoutMs);
        } catch (err) {
          if (err instanceof OverloadedError) throw err;
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
      let taken = false;
      let withdrawn = false;
      const timer = setTimeout(() => {
        waiting = false;
        resolve(undefined);
      }, timeoutMs);
      // Until its owner takes it into a transaction the command can still be withdrawn safely:
      // it is then never decided, and the caller may send it again with the same key.
      let budget: NodeJS.Timeout | undefined;
      const settle = () => {
        if (!taken && !withdrawn) this.waitingLocally -= 1;
        clearTimeout(budget);
      };
      const checkBudget = () => {
        // Once answered 202 the command must be decided: it is no longer withdrawn.
        if (taken || withdrawn || !waiting) return;
        if (this.waitingLocally <= this.limits.backlog) {
          budget = setTimeout(checkBudget, this.limits.queueBudgetMs);
          return;
        }
        settle();
        withdrawn = true;
        waiting = false;
        clearTimeout(timer);
        this.bus.forget(context.commandId);
        reject(new OverloadedError(1, 'the owner of this command is too busy'));
      };
      this.waitingLocally += 1;
      budget = setTimeout(checkBudget, this.limits.queueBudgetMs);
      this.bus.pending(context);
      try {
        this.processor.submit(kind, aggregateId, {
          command,
          context,
          take: () => {
            if (withdrawn) return false;
            settle();
            taken = true;
            return true;
          },
          waiting: () => waiting,
          answer: (reply) => {
            clearTimeout(timer);
            this.bus.record(reply);
            if (waiting) resolve(reply);
          },
          fail: (error) => {
            clearTimeout(timer);
            settle();
            if (waiting) reject(error);
            else this.bus.forget(context.commandId);
          },
        });
      } catch (err) {
        clearTimeout(timer);
        settle();
        reject(err instanceof Error ? err : new PartitionMovedError());
      }
    });
  }
}
