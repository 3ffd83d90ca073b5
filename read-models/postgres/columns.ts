/**
 * Columns as the query API answers them: bigint amounts (pg returns them as decimal strings) as
 * JSON numbers, timestamps as ISO-8601 in UTC. Text columns are decoded with lib/postgres-text.ts.
 */

/** A bigint column of minor units as a JSON number (amounts stay far below 2^53). */
export const minorUnits = (value: string | number): number => Number(value);

/** A timestamptz column as ISO-8601 in UTC. */
export const isoTime = (value: Date | string): string => new Date(value).toISOString();
