/**
 * A fault the person running orderstream can fix (bad config, a broker or database that does
 * not answer). Its message is one line: what failed, where it looked, how to fix it.
 * Entry points print it without a stack trace.
 */
export class OperatorError extends Error {
  override name = 'OperatorError';
}
