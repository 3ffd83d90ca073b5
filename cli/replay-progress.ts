/** One line of replay progress: a bar, events applied, rate, lag and ETA. */
export function progressLine(applied: bigint, lag: bigint, eventsPerSecond: number): string {
  const total = applied + lag;
  const share = total === 0n ? 1 : Number(applied) / Number(total);
  const width = 24;
  const filled = Math.round(share * width);
  const eta =
    lag === 0n ? 0 : eventsPerSecond > 0 ? Math.ceil(Number(lag) / eventsPerSecond) : undefined;
  return [
    `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${(share * 100).toFixed(0).padStart(3)}%`,
    `${applied}/${total} events`,
    `${Math.round(eventsPerSecond)} ev/s`,
    `lag ${lag}`,
    `ETA ${eta === undefined ? '?' : `${eta}s`}`,
  ].join(' · ');
}
