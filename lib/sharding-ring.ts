import { createHash } from 'node:crypto';

/**
 * Points per shard on the ring. With 160 (ketama's choice) one of 4 shards got 12 % over its
 * share; with 512 each shard of up to 10 owns within 10 % of an even share of the ring.
 */
export const DEFAULT_VIRTUAL_NODES = 512;

/** A position on the ring: the first 6 bytes (48 bits) of the key's MD5, a safe integer. */
export function ringHash(key: string): number {
  return createHash('md5').update(key, 'utf8').digest().readUIntBE(0, 6);
}

export interface ShardingRingOptions {
  /** Points per shard (default DEFAULT_VIRTUAL_NODES). */
  virtualNodes?: number;
}

/**
 * Consistent hashing with virtual nodes (DESIGN §5): each shard owns `virtualNodes` points,
 * the hashes of `<shard name>#<i>`; a key belongs to the first point at or after its hash
 * (wrapping around). Adding a shard moves only the keys its new points take over (about
 * 1/(K+1) of them); the rest stay put.
 *
 * Shards are named by their place in the configured list (`shard-0`, `shard-1`, …) unless
 * names are given. Name them by something every copy of the model shares — never by URL —
 * so a leader and its follower databases route every key alike.
 */
export class ShardingRing {
  /** Shard names, in configured order; `shardFor` returns an index into this list. */
  readonly shards: readonly string[];
  private readonly points: number[];
  private readonly owners: number[];

  constructor(shards: number | readonly string[], options: ShardingRingOptions = {}) {
    const names =
      typeof shards === 'number'
        ? Array.from({ length: shards }, (_, i) => `shard-${i}`)
        : [...shards];
    if (names.length === 0) throw new RangeError('a sharding ring needs at least one shard');
    if (new Set(names).size !== names.length) {
      throw new RangeError(`shard names must be unique: ${names.join(', ')}`);
    }
    const virtualNodes = options.virtualNodes ?? DEFAULT_VIRTUAL_NODES;
    if (!Number.isInteger(virtualNodes) || virtualNodes < 1) {
      throw new RangeError(`virtualNodes must be a whole number ≥ 1, got ${virtualNodes}`);
    }
    const ring: { point: number; owner: number }[] = [];
    names.forEach((name, owner) => {
      for (let i = 0; i < virtualNodes; i++) ring.push({ point: ringHash(`${name}#${i}`), owner });
    });
    // Ties (vanishingly rare) go to the earlier shard, so the order is total and stable.
    ring.sort((a, b) => a.point - b.point || a.owner - b.owner);
    this.shards = names;
    this.points = ring.map((r) => r.point);
    this.owners = ring.map((r) => r.owner);
  }

  get size(): number {
    return this.shards.length;
  }

  /** Index (in the configured shard list) of the shard that holds `key`. */
  shardFor(key: string): number {
    const h = ringHash(key);
    const { points } = this;
    let lo = 0;
    let hi = points.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((points[mid] as number) < h) lo = mid + 1;
      else hi = mid;
    }
    return this.owners[lo === points.length ? 0 : lo] as number;
  }
}

const rings = new Map<number, ShardingRing>();

/**
 * The ring of `shards` shards named by place (`shard-0` …), built once per size (it hashes 512
 * points a shard). Readers switching generations move between rings of different sizes.
 */
export function ringOf(shards: number): ShardingRing {
  let ring = rings.get(shards);
  if (!ring) {
    ring = new ShardingRing(shards);
    rings.set(shards, ring);
  }
  return ring;
}
