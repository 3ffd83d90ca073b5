import { OperatorError } from './errors';

/** Runs a process's main function; an OperatorError ends it with its one-line message, exit 1. */
export function runEntrypoint(main: () => Promise<void>): void {
  main().catch((err: unknown) => {
    if (err instanceof OperatorError) {
      process.stderr.write(`error: ${err.message}\n`);
    } else {
      process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    }
    process.exit(1);
  });
}
