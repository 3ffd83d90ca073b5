import { Pool } from 'undici';
import type { Outcome } from './outcome';

export interface Answer {
  outcome: Outcome;
  /** The body, when asked for and the request was answered. */
  body?: string;
}

/**
 * The load generator's HTTP client: an undici pool of keep-alive connections to one service
 * (one request per connection at a time, so a slow answer never holds up another).
 */
export class HttpTarget {
  private readonly pool: Pool;

  constructor(
    readonly origin: string,
    connections: number,
  ) {
    this.pool = new Pool(origin, {
      connections,
      pipelining: 1,
      // Idle sockets are dropped before the server's keep-alive (Node: 5 s) closes them, so a
      // POST is never written to a socket the server is closing.
      keepAliveTimeout: 4000,
      keepAliveMaxTimeout: 4000,
      // Our own per-request deadline (below) decides; undici's defaults are longer.
      headersTimeout: 0,
      bodyTimeout: 0,
    });
  }

  /** POSTs JSON; never throws: no answer within `timeoutMs` (queueing included) is `timeout`. */
  async post(
    path: string,
    body: string,
    headers: Record<string, string>,
    timeoutMs: number,
    readBody = false,
  ): Promise<Answer> {
    return this.call('POST', path, body, headers, timeoutMs, readBody);
  }

  async get(path: string, headers: Record<string, string>, timeoutMs: number): Promise<Answer> {
    return this.call('GET', path, undefined, headers, timeoutMs, true);
  }

  private async call(
    method: 'GET' | 'POST',
    path: string,
    body: string | undefined,
    headers: Record<string, string>,
    timeoutMs: number,
    readBody: boolean,
  ): Promise<Answer> {
    if (timeoutMs <= 0) return { outcome: 'timeout' };
    try {
      const res = await this.pool.request({
        method,
        path,
        body,
        headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
        signal: AbortSignal.timeout(Math.ceil(timeoutMs)),
      });
      if (readBody) return { outcome: res.statusCode, body: await res.body.text() };
      await res.body.dump();
      return { outcome: res.statusCode };
    } catch (err) {
      return { outcome: isTimeout(err) ? 'timeout' : `error:${failureCode(err)}` };
    }
  }

  close(): Promise<void> {
    return this.pool.destroy();
  }
}

/** The code of a failed request (ECONNREFUSED, UND_ERR_SOCKET, …), for the tally. */
function failureCode(err: unknown): string {
  const e = err as { code?: unknown; name?: unknown; cause?: { code?: unknown } } | undefined;
  const code = e?.code ?? e?.cause?.code ?? e?.name;
  return typeof code === 'string' && code !== '' ? code : 'unknown';
}

function isTimeout(err: unknown): boolean {
  const e = err as { name?: string; code?: string } | undefined;
  return (
    e?.name === 'TimeoutError' ||
    e?.name === 'AbortError' ||
    e?.code === 'UND_ERR_ABORTED' ||
    e?.code === 'UND_ERR_HEADERS_TIMEOUT' ||
    e?.code === 'UND_ERR_BODY_TIMEOUT'
  );
}
