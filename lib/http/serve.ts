import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Express } from 'express';
import type { Logger } from '../logger';
import { shutdownTracing } from '../telemetry/trace-context';

export interface RunningServer {
  server: Server;
  url: string;
  close: () => Promise<void>;
}

export function listen(app: Express, host: string, port: number): Promise<RunningServer> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host);
    // Keep idle connections longer than clients do (fetch/undici: 4 s), so a client never sends
    // a request on a socket the server has just closed (a reset instead of an answer).
    server.keepAliveTimeout = 65_000;
    server.headersTimeout = 66_000;
    server.on('clientError', answerUnparsable);
    const closing = drainOnClose(server);
    server.once('error', reject);
    server.once('listening', () => {
      const address = server.address() as AddressInfo;
      const shownHost = host.includes(':') ? `[${host}]` : host;
      resolve({
        server,
        url: `http://${shownHost}:${address.port}`,
        close: () =>
          new Promise<void>((done) => {
            closing();
            server.close(() => done());
            server.closeIdleConnections();
          }),
      });
    });
  });
}

/**
 * Once closing, every answer not yet sent ends its connection (`Connection: close`). A closed
 * server stops accepting connections but serves further requests on its open keep-alive ones:
 * a busy client kept it from ever finishing its close, until the forced exit cut the
 * requests in flight. Returns what starts the drain.
 */
function drainOnClose(server: Server): () => void {
  const unanswered = new Set<ServerResponse>();
  let draining = false;
  const endConnection = (res: ServerResponse) => {
    if (!res.headersSent) res.setHeader('Connection', 'close');
  };
  // Before the app's own listener, so the header is set before any answer is written.
  server.prependListener('request', (_req: IncomingMessage, res: ServerResponse) => {
    if (draining) {
      endConnection(res);
      return;
    }
    unanswered.add(res);
    res.once('close', () => unanswered.delete(res));
  });
  return () => {
    draining = true;
    for (const res of unanswered) endConnection(res);
    unanswered.clear();
  };
}

/** Where the HTTP parser found what it refuses, as a problem's `errors[].field`. */
const PARSE_FAULT_FIELDS: Record<string, string> = {
  HPE_INVALID_HEADER_TOKEN: '(headers)',
  HPE_INVALID_URL: '(path)',
};

/**
 * A request Node's HTTP parser refuses (a header or the request line holding NUL or another
 * control character, headers too large, …) never reaches express: answer it as problem+json,
 * like every other bad input, instead of Node's bare 400.
 */
function answerUnparsable(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const [status, title] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'Request Header Fields Too Large']
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'Request Timeout']
        : [400, 'Bad Request'];
  const reason = err.message.replace(/^Parse Error: /, '');
  const body = JSON.stringify({
    type: status === 400 ? 'urn:orderstream:problem:invalid-request' : 'about:blank',
    title,
    status,
    detail: `the request is not valid HTTP: ${reason}`,
    ...(status === 400 && {
      errors: [{ field: PARSE_FAULT_FIELDS[err.code ?? ''] ?? '(request)', message: reason }],
    }),
  });
  socket.end(
    `HTTP/1.1 ${status} ${title}\r\nContent-Type: application/problem+json\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/** Stops the service on SIGINT/SIGTERM: stop accepting, release resources, exit 0. */
export function stopOnSignals(logger: Logger, stop: () => Promise<void>): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    stop()
      .then(shutdownTracing)
      .catch((err: unknown) => logger.error({ err }, 'error while stopping'))
      .finally(() => process.exit(0));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
}
