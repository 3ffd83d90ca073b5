import { randomUUID } from 'node:crypto';
import type { Consumer, Kafka, Producer } from 'kafkajs';
import type { Message } from '../domain/decider';
import type { Logger } from '../lib/logger';
import { encodeCommand } from '../schemas/codec';
import { COMMAND_HEADERS } from './processor/command-headers';
import { type CommandReply, decodeReply, isCommandOutcome } from './processor/reply';

/** Who sent a command and what for, carried in its headers. */
export interface CommandContext {
  commandId: string;
  correlationId: string;
  /** `role:subject` of the caller. */
  actor: string;
  /** Hash of the HTTP request, to refuse a reused Idempotency-Key with a different body. */
  requestHash: string;
}

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
 * The command API's way to the partition owners: a command goes to its aggregate's commands
 * topic keyed by aggregate id (so the default partitioner picks the owner's partition); the
 * owner's reply comes back on the replies topics, which every command-api instance reads.
 */
export class CommandBus {
  private readonly producer: Producer;
  private readonly replies: Consumer;
  /** Waiters per command id, each for the reply to its own request (by request hash). */
  private readonly waiting = new Map<string, Set<Waiter>>();
  private readonly decided = new Map<string, CommandReply>();
  private readonly sent = new Map<string, string>(); // commandId → actor, until decided

  constructor(
    kafka: Kafka,
    private readonly logger: Logger,
    private readonly replyTopics: string[],
    groupPrefix: string,
  ) {
    this.producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    // Each instance reads every reply, from the moment it starts: its own group, never committed.
    this.replies = kafka.consumer({
      groupId: `${groupPrefix}.command-api.replies.${randomUUID()}`,
      maxWaitTimeInMs: 20,
      readUncommitted: false,
    });
  }

  /** Resolves once replies are being read, so no reply to a command sent after it is missed. */
  async start(): Promise<void> {
    await this.producer.connect();
    await this.replies.connect();
    const fetching = new Promise<void>((resolve) => {
      const off = this.replies.on(this.replies.events.FETCH, () => {
        off();
        resolve();
      });
    });
    for (const topic of this.replyTopics)
      await this.replies.subscribe({ topic, fromBeginning: false });
    await this.replies.run({
      autoCommit: false,
      eachMessage: async ({ message }) => {
        try {
          this.onReply(decodeReply(message.value));
        } catch (err) {
          this.logger.warn({ err, offset: message.offset }, 'unreadable command reply');
        }
      },
    });
    await fetching;
  }

  private onReply(reply: CommandReply): void {
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

  /**
   * Sends `command` and waits up to `timeoutMs` for its outcome; undefined when the wait ends
   * first (the command is still decided later: see `status`).
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
    });
    const reply = new Promise<CommandReply | undefined>((resolve) => {
      const waiters = this.waiting.get(context.commandId) ?? new Set();
      const timer = setTimeout(() => {
        waiters.delete(waiter);
        if (waiters.size === 0 && this.waiting.get(context.commandId) === waiters)
          this.waiting.delete(context.commandId);
        resolve(undefined);
      }, timeoutMs);
      const waiter: Waiter = {
        requestHash: context.requestHash,
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
      };
      waiters.add(waiter);
      this.waiting.set(context.commandId, waiters);
    });
    if (!this.decided.has(context.commandId)) this.sent.set(context.commandId, context.actor);
    await this.producer.send({
      topic: commandsTopic,
      messages: [
        {
          key: aggregateId,
          value,
          headers: { ...headers, [COMMAND_HEADERS.requestHash]: context.requestHash },
        },
      ],
    });
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
    await Promise.all([this.replies.disconnect(), this.producer.disconnect()]);
  }
}
