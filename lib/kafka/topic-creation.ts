/**
 * Both client libraries answer a topic creation per topic and throw the refusals together
 * ("Topic creation errors"). A cluster just started refuses some for a moment (a broker the
 * controller has not unfenced yet: "replication factor larger than available brokers"), so
 * such an answer is marked retriable — the adapters ask again for the topics still missing —
 * and, if it persists, reported with each topic's own reason.
 */
export function perTopicCreationError(err: unknown): Error | undefined {
  const errors = (err as { errors?: unknown } | null)?.errors;
  if (!Array.isArray(errors) || errors.length === 0) return undefined;
  const reasons = errors.map(
    (e: { topic?: string; message?: string }) => `${e.topic ?? '?'}: ${e.message ?? String(e)}`,
  );
  return Object.assign(new Error(`could not create topics (${reasons.join('; ')})`), {
    retriable: true,
  });
}
