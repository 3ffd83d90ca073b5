import type { Message } from '../domain/decider';
import type { KafkaClient, LogReader, Producer } from '../lib/kafka';
import type { Logger } from '../lib/logger';
import { traceFieldsOf } from '../lib/telemetry/trace-context';
import { encodeCommand } from '../schemas/codec';
import type { CommandContext } from './processor/decided-command';
import { type CommandReply, decodeReply, isCommandOutcome } from './processor/reply';

export type { CommandContext };

export type CommandStatus =
  | { status: 'decided'; reply: CommandReply }
  | { status: 'pending'; actor: string };

const MAX_REMEMBERED = 100_000;

/** A request waiting for its reply: the owner's reply carries the request's hash. */
interface Waiter {
  requestHash: string;
  resolve: (reply: CommandReply) => void;
}

/**
 * The way to partition owners in other processes: a command goes to its aggregate's commands
 * topic, marked as awaited, and its owner writes the outcome to the replies topics, which
 * every command-api instance follows from the moment it starts. Also what this instance knows
 * of recent commands (GET /commands/{id}), whichever way they were decided.
 */
export class CommandBus {
  private readonly producer: Producer;
  private readonly reader: LogReader;
  /** Waiters per command id, each for the reply to its own request (by request hash). */
  private readonly waiting = new Map<string, Set<Waiter>>();
  private readonly decided = new Map<string, CommandReply>();
  private readonly sent = new Map<string, string>(); // commandId → actor, until decided

  constructor(
    private readonly kafka: KafkaClient,
    private readonly logger: Logger,
    private readonly replyTopics: string[],
  ) {
    this.producer = kafka.producer();
    this.reader = kafka.reader();
  }

  /** Resolves once the replies' ends are known: no reply to a command sent after it is missed. */
  async start(): Promise<void> {
    const admin = this.kafka.admin();
    const ranges = [];
    try {
      for (const topic of this.replyTopics)
        for (const { partition, high } of await admin.offsets(topic))
          ranges.push({ topic, partition, from: high });
    } finally {
      await admin.close();
    }
    this.reader
      .read(ranges, ({ records }) => {
        for (const record of records) {
          try {
            this.record(decodeReply(record.value));
          } catch (err) {
            this.logger.warn({ err, offset: String(record.offset) }, 'unreadable command reply');
          }
        }
      })
      .catch((err: unknown) => this.logger.error({ err }, 'reading command replies failed'));
  }

  /** Learns a command's outcome (from a reply record, or from an owner in this process). */
  record(reply: CommandReply): void {
    // The refusal of a reused Idempotency-Key answers that request only: the command's
    // outcome (decided, or still to come) stays what GET /commands/{id} reports.
    if (isCommandOutcome(reply)) {
      this.sent.delete(reply.commandId);
      this.decided.delete(reply.commandId);
      this.decided.set(reply.commandId, reply);
      if (this.decided.size > MAX_REMEMBERED) {
        const oldest = this.decided.keys().next().value;
        if (oldest !== undefined) this.decided.delete(oldest);
      }
    }
    const waiters = this.waiting.get(reply.commandId);
    for (const waiter of waiters ?? []) {
      if (waiter.requestHash !== reply.requestHash) continue;
      waiters?.delete(waiter);
      waiter.resolve(reply);
    }
    if (waiters?.size === 0) this.waiting.delete(reply.commandId);
  }

  /** Notes a command sent (either way) and not decided yet. */
  pending(context: CommandContext): void {
    if (!this.decided.has(context.commandId)) this.sent.set(context.commandId, context.actor);
  }

  /** Forgets a pending command that was not decided (its owner failed before deciding it). */
  forget(commandId: string): void {
    this.sent.delete(commandId);
  }

  /**
   * Sends `command` through its commands topic and waits up to `timeoutMs` for its outcome;
   * undefined when the wait ends first (the command is still decided later: see `status`).
   */
  async send(
    commandsTopic: string,
    aggregateId: string,
    command: Message,
    context: CommandContext,
    timeoutMs: number,
  ): Promise<CommandReply | undefined> {
    // Encoded first: a command its schema refuses throws before anything waits for it.
    const { value, headers } = encodeCommand(command, {
      commandId: context.commandId,
      correlationId: context.correlationId,
      actor: context.actor,
      issuedAt: new Date().toISOString(),
      requestHash: context.requestHash,
      replyRequired: true,
      ...traceFieldsOf(context),
    });
    let cancel: () => void = () => {};
    const reply = new Promise<CommandReply | undefined>((resolve) => {
      const waiters = this.waiting.get(context.commandId) ?? new Set();
      const done = (r: CommandReply | undefined) => {
        clearTimeout(timer);
        waiters.delete(waiter);
        if (waiters.size === 0 && this.waiting.get(context.commandId) === waiters)
          this.waiting.delete(context.commandId);
        resolve(r);
      };
      const timer = setTimeout(() => done(undefined), timeoutMs);
      const waiter: Waiter = { requestHash: context.requestHash, resolve: done };
      cancel = () => done(undefined);
      waiters.add(waiter);
      this.waiting.set(context.commandId, waiters);
    });
    this.pending(context);
    try {
      await this.producer.send([{ topic: commandsTopic, key: aggregateId, value, headers }]);
    } catch (err) {
      cancel();
      this.forget(context.commandId);
      throw err;
    }
    return reply;
  }

  /** What this instance knows of a command: decided (with its reply), pending, or nothing. */
  status(commandId: string): CommandStatus | undefined {
    const reply = this.decided.get(commandId);
    if (reply) return { status: 'decided', reply };
    const actor = this.sent.get(commandId);
    return actor === undefined ? undefined : { status: 'pending', actor };
  }

  async stop(): Promise<void> {
    await Promise.allSettled([this.reader.close(), this.producer.close()]);
  }
}
