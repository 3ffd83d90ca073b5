import type { KafkaClient } from '../kafka';
import { Gauge, registers } from './registry';

const deadLetterTopics = new Map<string, KafkaClient>();

/** Records in each dead-letter topic (its log end less its start), read at each scrape. */
new Gauge({
  name: 'orderstream_dead_letter_records',
  help: 'Records held in a dead-letter topic (saga dead letters, projector poison events)',
  labelNames: ['topic'] as const,
  registers,
  async collect() {
    this.reset();
    for (const [topic, kafka] of deadLetterTopics) {
      const admin = kafka.admin();
      try {
        const offsets = await admin.offsets(topic);
        this.set(
          { topic },
          offsets.reduce((sum, o) => sum + Number(o.high - o.low), 0),
        );
      } catch {
        // not measurable just now: absent from this scrape
      } finally {
        await admin.close().catch(() => undefined);
      }
    }
  },
});

/** Reports the depth of dead-letter `topic` at `/metrics` until the returned function is called. */
export function reportDeadLetters(kafka: KafkaClient, topic: string): () => void {
  deadLetterTopics.set(topic, kafka);
  return () => deadLetterTopics.delete(topic);
}

type BreakerState = 'closed' | 'half-open' | 'open';
const BREAKER_VALUES: Record<BreakerState, number> = { closed: 0, 'half-open': 1, open: 2 };
const breakers = new Map<string, () => BreakerState>();

new Gauge({
  name: 'orderstream_circuit_breaker_state',
  help: 'Circuit breaker state per dependency: 0 closed, 1 half-open, 2 open',
  labelNames: ['dependency'] as const,
  registers,
  collect() {
    this.reset();
    for (const [dependency, state] of breakers) this.set({ dependency }, BREAKER_VALUES[state()]);
  },
});

/** Reports a circuit breaker's state at `/metrics` until the returned function is called. */
export function reportBreaker(dependency: string, state: () => BreakerState): () => void {
  breakers.set(dependency, state);
  return () => breakers.delete(dependency);
}
