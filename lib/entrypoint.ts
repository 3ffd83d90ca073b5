import { OperatorError } from './errors';

/** Runs a process's main function; an OperatorError ends it with its one-line message, exit 1. */
export function runEntrypoint(main: () => Promise<void>): void {
  main().catch((err: unknown) => {
    if (err instanceof OperatorError) {
      // One line per problem, each marked, none with a stack trace.
      for (const line of err.message.split('\n')) process.stderr.write(`error: ${line}\n`);
    } else {
      process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    }
    process.exit(1);
  });
}
