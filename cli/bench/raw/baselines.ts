import type { Config } from '../../../lib/config';
import { createKafkaClient, type KafkaAdapterName } from '../../../lib/kafka';
import type { RawPlan } from '../plan';
import { type ConsumeProduceResult, rawConsumeProduce } from './consume-produce';
import { type ProduceResult, rawProduce } from './produce';
import { rawTransactions, type TransactionsResult } from './transactions';

/** One adapter's raw figures, straight through the Kafka port; a part that failed says why. */
export interface RawBaseline {
  adapter: KafkaAdapterName;
  produce?: ProduceResult;
  transactions1?: TransactionsResult;
  transactions6?: TransactionsResult;
  consumeProduce?: ConsumeProduceResult;
  errors: string[];
}

const PARTITIONS = 6;

/**
 * The raw baselines of one adapter on the run's own topics (`<rawPrefix>.<adapter>.…`): what
 * the Kafka client and broker do with no orderstream code around them, for the ratios.
 */
export async function rawBaseline(
  config: Config,
  adapter: KafkaAdapterName,
  rawPrefix: string,
  plan: RawPlan,
  say: (line: string) => void,
): Promise<RawBaseline> {
  const kafka = createKafkaClient({ kafka: { ...config.kafka, client: adapter } });
  const base = `${rawPrefix}.${adapter}`;
  const topics = { input: `${base}.produce`, tx: `${base}.tx`, output: `${base}.loop-out` };
  const result: RawBaseline = { adapter, errors: [] };
  const admin = kafka.admin();
  try {
    await admin.createTopics(
      Object.values(topics).map((name) => ({ name, partitions: PARTITIONS, config: {} })),
    );
  } finally {
    await admin.close();
  }
  const step = async <T>(label: string, run: () => Promise<T>): Promise<T | undefined> => {
    say(`raw ${adapter}: ${label}…`);
    try {
      return await run();
    } catch (err) {
      result.errors.push(`${label}: ${err instanceof Error ? err.message : String(err)}`);
      return undefined;
    }
  };
  result.produce = await step(`produce ${plan.produceMessages} × 1 KB`, () =>
    rawProduce(kafka, topics.input, plan.produceMessages, 500, 8),
  );
  result.transactions1 = await step('1-message transactions, 1 producer', () =>
    rawTransactions(kafka, topics.tx, `${base}.tx1`, 1, plan.transactionMs),
  );
  result.transactions6 = await step(`1-message transactions, ${PARTITIONS} producers`, () =>
    rawTransactions(kafka, topics.tx, `${base}.tx6`, PARTITIONS, plan.transactionMs),
  );
  const inputRecords = result.produce?.messages ?? 0;
  if (inputRecords > 0) {
    result.consumeProduce = await step(
      `consume→produce, 50-message transactions with offsets, ${PARTITIONS} producers`,
      () =>
        rawConsumeProduce(kafka, {
          input: topics.input,
          // The warm-up send of the produce step is in the input too.
          inputRecords: inputRecords + 1,
          output: topics.output,
          groupId: `${base}.loop`,
          idPrefix: `${base}.loop`,
          producers: PARTITIONS,
          messagesPerTransaction: 50,
          durationMs: plan.transactionMs,
        }),
    );
  }
  return result;
}
