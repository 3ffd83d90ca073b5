import { z } from 'zod';

/** A log position; a consistency token is the latest one per (topic, partition) a write produced. */
export interface LogPosition {
  topic: string;
  partition: number;
  offset: string;
}

const tokenSchema = z.array(
  z.tuple([z.string().min(1), z.number().int().nonnegative(), z.string().regex(/^\d+$/)]),
);

/** Opaque to clients: base64url of [[topic, partition, offset], …], the highest offset per partition. */
export function encodeConsistencyToken(positions: LogPosition[]): string {
  const highest = new Map<string, LogPosition>();
  for (const p of positions) {
    const key = `${p.topic}#${p.partition}`;
    const seen = highest.get(key);
    if (!seen || BigInt(p.offset) > BigInt(seen.offset)) highest.set(key, p);
  }
  const entries = [...highest.values()].map((p) => [p.topic, p.partition, p.offset]);
  return Buffer.from(JSON.stringify(entries)).toString('base64url');
}

/** The positions in a token; undefined when it is not one this system made. */
export function decodeConsistencyToken(token: string): LogPosition[] | undefined {
  try {
    const parsed = tokenSchema.safeParse(
      JSON.parse(Buffer.from(token, 'base64url').toString('utf8')),
    );
    return parsed.success
      ? parsed.data.map(([topic, partition, offset]) => ({ topic, partition, offset }))
      : undefined;
  } catch {
    return undefined;
  }
}
