import type { KafkaAdmin } from '../lib/kafka';
import type { ProjectionTarget } from '../projectors/runtime/projection';

export interface PartitionLag {
  topic: string;
  partition: number;
  /** Last offset applied (-1 when nothing yet). */
  checkpoint: bigint;
  /** Log end offset (high watermark). */
  end: bigint;
  lag: bigint;
}

/** For every partition of `topics`: how far `target` has applied it, the log's end, the lag. */
export async function projectionLag(
  admin: KafkaAdmin,
  target: ProjectionTarget,
  topics: string[],
): Promise<PartitionLag[]> {
  const rows: PartitionLag[] = [];
  for (const topic of topics) {
    const ends = await admin.offsets(topic);
    const resume = await target.resumeOffsets(
      topic,
      ends.map((e) => e.partition),
    );
    for (const { partition, high: end } of ends) {
      const next = resume.get(partition) ?? 0n;
      rows.push({
        topic,
        partition,
        checkpoint: next - 1n,
        end,
        lag: end > next ? end - next : 0n,
      });
    }
  }
  return rows;
}

export const totalLag = (rows: PartitionLag[]) => rows.reduce((sum, r) => sum + r.lag, 0n);
