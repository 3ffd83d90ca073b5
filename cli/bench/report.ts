import { describeCounts } from './outcome';
import type { RawBaseline } from './raw/baselines';
import type { BenchResults, E2eResults } from './results';
import type { FailoverResult } from './scenarios/failover';
import type { ReadsResult } from './scenarios/reads';
import type { TracingCostResult } from './scenarios/tracing-cost';
import { dec, int, ms, type Row, significant } from './table';

/** The bench's one table: every figure of a run, with the e2e ratios to the raw baselines. */

export interface Ratio {
  figure: string;
  value: number;
}

/**
 * Acknowledged orders/s over the raw figures of the adapter the stack ran with, measured in
 * the same run: how close the stack comes to what its Kafka client and broker can do.
 */
export function ratios(results: BenchResults): Ratio[] {
  const acked = results.e2e?.throughput?.acknowledgedPerSec;
  const raw = results.raw.find((r) => r.adapter === results.adapter);
  if (acked === undefined || !raw) return [];
  const over = (figure: string, base: number | undefined): Ratio[] =>
    base && base > 0 ? [{ figure, value: acked / base }] : [];
  return [
    ...over('÷ raw tx/s, 1-message transactions, 1 producer', raw.transactions1?.txPerSec),
    ...over('÷ raw tx/s, 1-message transactions, 6 producers', raw.transactions6?.txPerSec),
    ...over('÷ raw msg/s, 50-message transactions + offsets', raw.consumeProduce?.msgsPerSec),
    ...over('÷ raw msg/s, batched idempotent produce', raw.produce?.msgsPerSec),
  ];
}

export function reportRows(results: BenchResults): Row[] {
  const m = results.machine;
  const rows: Row[] = [
    { section: `orderstream bench · ${results.date}${results.quick ? ' · --quick' : ''}` },
    {
      figure: 'Kafka adapter of the stack',
      value: results.adapter,
      detail: `KAFKA_CLIENT=${results.adapter} for every service, ${results.adapterChosenBy}`,
    },
    {
      figure: 'machine',
      value: `${m.cpus} cores`,
      detail: `${int(m.memoryMb)} MB, ${m.cpuModel}, ${m.os}, load ${dec(m.loadAverageStart)} → ${dec(m.loadAverageEnd)}`,
    },
    {
      figure: 'node',
      value: results.node,
      detail: `run ${results.runId}, ${ms(results.durationMs)}`,
    },
  ];
  for (const raw of results.raw) rows.push(...rawRows(raw));
  if (results.e2e) rows.push(...e2eRows(results.e2e, results));
  if (results.failover) rows.push(...failoverRows(results.failover));
  if (results.errors.length > 0) {
    rows.push({ section: 'did not finish' });
    for (const error of results.errors) rows.push({ figure: '!', value: '', detail: error });
  }
  return rows;
}

function rawRows(raw: RawBaseline): Row[] {
  const rows: Row[] = [{ section: `raw Kafka through the port: ${raw.adapter} (1 KB messages)` }];
  const p = raw.produce;
  if (p)
    rows.push({
      figure: 'batched idempotent produce',
      value: `${int(p.msgsPerSec)} msg/s`,
      detail: `${int(p.messages)} msgs in sends of ${p.sendSize}, ${p.sendsInFlight} in flight, ${ms(p.ms)}`,
    });
  for (const t of [raw.transactions1, raw.transactions6])
    if (t)
      rows.push({
        figure: `transactions of 1 message, ${t.producers} producer${t.producers > 1 ? 's' : ''}`,
        value: `${int(t.txPerSec)} tx/s`,
        detail: `${int(t.transactions)} tx in ${ms(t.ms)}`,
      });
  const c = raw.consumeProduce;
  if (c)
    rows.push({
      figure: `consume→produce, ${c.messagesPerTransaction}-msg tx + offsets, ${c.producers} producers`,
      value: `${int(c.msgsPerSec)} msg/s`,
      detail: `${int(c.transactions)} tx, ${int(c.messages)} msgs in ${ms(c.ms)}${c.inputExhausted ? ' (input used up)' : ''}`,
    });
  for (const error of raw.errors) rows.push({ figure: 'failed', value: '', detail: error });
  return rows;
}

function e2eRows(e: E2eResults, results: BenchResults): Row[] {
  const rows: Row[] = [
    {
      section: `end to end: the whole stack on ${results.adapter}, orders of ${e.orderLines} line, payment latency ${e.paymentLatencyMs} ms`,
    },
    { figure: 'stack start (until every API is ready)', value: ms(e.stackStartMs) },
  ];
  const l = e.logEntries;
  if (l) {
    rows.push({
      figure: 'log offsets per order (all topics)',
      value: dec(l.offsetsPerOrder),
      detail: `${int(l.placed)} orders, ${int(l.confirmed)} confirmed; ${dec(l.recordsPerOrder)} records/order, the rest transaction markers (and aborted records)${l.quietBefore && l.quietAfter ? '' : ' (stack not quiet: figures include other work)'}`,
    });
    for (const t of l.topics)
      rows.push({
        figure: `  ${t.topic.slice(t.topic.indexOf('.') + 1)}`,
        value: dec(l.placed > 0 ? t.offsets / l.placed : 0),
        detail: `${int(t.offsets)} offsets, ${int(t.records)} records`,
      });
  }
  const t = e.throughput;
  if (t) {
    rows.push(
      {
        figure: 'POST /orders max throughput (201s)',
        value: `${dec(t.acknowledgedPerSec, 1)} orders/s`,
        detail: `closed loop, ${t.concurrency} connections, ${ms(t.windowMs)}; ${describeCounts(t.outcomes)}`,
      },
      {
        figure: '  latency p50 / p99 (closed loop)',
        value: `${ms(t.latency.p50)} / ${ms(t.latency.p99)}`,
      },
    );
    for (const r of ratios(results))
      rows.push({ figure: `  ${r.figure}`, value: significant(r.value), detail: results.adapter });
    rows.push({
      figure: 'CPU ms per acknowledged order',
      value: dec(t.stackCpuMsPerOrder),
      detail: 'the stack, bench excluded',
    });
    for (const [name, perOrder] of Object.entries(t.cpuMsPerOrder))
      rows.push({
        figure: `  ${name}`,
        value: dec(perOrder),
        detail: `${int(t.cpuMs[name])} ms in the window, ${dec(((t.cpuMs[name] ?? 0) / t.windowMs) * 100, 0)} % of a core`,
      });
  }
  const i = e.idle;
  if (i) {
    rows.push({
      figure: `idle stack CPU, % of the machine (${i.cores} cores)`,
      value: `${dec(i.stackMachinePercent)} %`,
      detail: `${ms(i.windowMs)} after ${i.quiet ? 'the load was worked off' : 'waiting (still busy)'} (${ms(i.waitedForQuietMs)})`,
    });
    for (const [name, pct] of Object.entries(i.machinePercent))
      rows.push({ figure: `  ${name}`, value: `${dec(pct)} %` });
  }
  for (const r of e.fixedRates ?? [])
    rows.push({
      figure: `${int(r.offeredPerSec)} orders/s offered: p50 / p99`,
      value: `${ms(r.latency.p50)} / ${ms(r.latency.p99)}`,
      detail: `open loop ${ms(r.elapsedMs)}; ${dec(r.acknowledgedPerSec, 1)} acked/s; ${describeCounts(r.outcomes)}${r.shed > 0 ? `; shed ${int(r.shed)}` : ''}; generator ${dec(r.loadGeneratorCorePercent, 0)} % of a core`,
    });
  const o = e.overload;
  if (o)
    rows.push(
      {
        figure: `overload: ${int(o.offeredPerSec)} orders/s offered (${o.factor} × ${int(o.capacityPerSec)})`,
        value: `${dec(o.acknowledgedPerSec, 1)} acked/s`,
        detail: `${ms(o.elapsedMs)}; ${describeCounts(o.outcomes)}${o.shed > 0 ? `; shed ${int(o.shed)}` : ''}`,
      },
      { figure: '  answers over 1 s (or none)', value: int(o.latency.overOneSecond) },
      {
        figure: '  500 answers',
        value: int(o.outcomes['500'] ?? 0),
        detail: o.noServerErrors ? 'ok: none' : 'FAIL: overload must not be a fault',
      },
    );
  const f = e.flashSale;
  if (f)
    rows.push(
      {
        figure: `flash sale: ${int(f.buyers)} buyers, ${f.units} units`,
        value: f.settledMs === null ? 'not settled' : ms(f.settledMs),
        detail: `first request → every order settled; all answered in ${ms(f.answeredMs)}; ${describeCounts(f.outcomes)}${f.retries > 0 ? `, ${int(f.retries)} retries` : ''}${f.unsent > 0 ? `; ${int(f.unsent)} never sent (out of time)` : ''}`,
      },
      {
        figure: '  confirmed',
        value: int(f.confirmed),
        detail: f.exactlyUnitsConfirmed
          ? `ok: exactly ${f.units}`
          : `FAIL: expected exactly ${f.units}`,
      },
      {
        figure: '  cancelled / unsettled',
        value: `${int(f.cancelled)} / ${int(f.unsettled)}`,
        detail: `of ${int(f.placed)} placed`,
      },
    );
  if (e.reads) rows.push(...readRows(e.reads));
  if (e.tracing) rows.push(...tracingRows(e.tracing));
  return rows;
}

function tracingRows(t: TracingCostResult): Row[] {
  return [
    {
      figure: 'tracing and metrics on ÷ off, max throughput',
      value: dec(t.ratio, 3),
      detail: `${dec(t.tracedPerSec, 1)} vs ${dec(t.offPerSec, 1)} orders/s (every trace recorded); ${int(t.spansExported)} spans exported`,
    },
    {
      figure: `  metrics on, ${dec(t.sampled * 100, 0)} % of traces ÷ off`,
      value: dec(t.sampledRatio, 3),
      detail: `${dec(t.sampledPerSec, 1)} orders/s (OTEL_TRACES_SAMPLER=parentbased_traceidratio)`,
    },
    {
      figure: '  CPU ms per order: off / on / sampled',
      value: `${dec(t.offCpuMsPerOrder)} / ${dec(t.tracedCpuMsPerOrder)} / ${dec(t.sampledCpuMsPerOrder)}`,
      detail: 'the stack, bench excluded',
    },
    ...Object.entries(t.cpuMsPerOrderByProcess).map(([name, { off, on }]) => ({
      figure: `    ${name}, off / on`,
      value: `${dec(off)} / ${dec(on)}`,
    })),
    {
      figure: '  legs in the order run, orders/s',
      value: t.legs.map((l) => dec(l.perSec, 1)).join(' · '),
      detail: t.legs.map((l) => l.setting).join(', '),
    },
  ];
}

function readRows(r: ReadsResult): Row[] {
  const rows: Row[] = [
    {
      section: `query API reads: ${r.concurrency} connections, ${r.workers} worker${r.workers > 1 ? 's' : ''}, pool of ${r.pgPoolSize} per shard`,
    },
  ];
  for (const f of [r.stock, r.product]) {
    if (!f) continue;
    rows.push(
      {
        figure: `GET ${f.path}`,
        value: `${int(f.reqPerSec)} req/s`,
        detail: `closed loop p50 / p99 ${ms(f.closedLoop.p50)} / ${ms(f.closedLoop.p99)}; ${describeCounts(f.outcomes)}`,
      },
      {
        figure: `  raw: ${f.rawOperation}`,
        value: `${int(f.rawOpsPerSec)} ops/s`,
        detail: `same concurrency, same run; API ÷ raw = ${significant(f.ratio)}`,
      },
      {
        figure: `  at half rate (${int(f.halfRate.offeredPerSec)} req/s): p50 / p99`,
        value: `${ms(f.halfRate.latency.p50)} / ${ms(f.halfRate.latency.p99)}`,
        detail: `open loop; ${describeCounts(f.halfRate.outcomes)}${f.halfRate.shed > 0 ? `; shed ${int(f.halfRate.shed)}` : ''}`,
      },
    );
  }
  return rows;
}

function failoverRows(f: FailoverResult): Row[] {
  const partition = `${int(f.events)} events, ${int(f.aggregates)} products, one partition`;
  return [
    { section: 'failover: a new owner rebuilds a partition (issue 14)' },
    { figure: 'replaying the whole partition', value: ms(f.fullReplayMs), detail: partition },
    {
      figure: 'from the latest snapshot',
      value: ms(f.fromSnapshotMs),
      detail: `${int(f.events)} events in it, ${int(f.eventsAfterSnapshot)} after it (SNAPSHOT_EVERY_EVENTS=${int(f.snapshotEvery)}), ${dec(f.fullReplayMs / Math.max(1, f.fromSnapshotMs))}× faster`,
    },
  ];
}
