import type { ErrorRequestHandler, RequestHandler, Response } from 'express';

/** RFC 9457 problem details. `errors` names the fields at fault for bad input. */
export interface Problem {
  type?: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  errors?: { field: string; message: string }[];
  [extension: string]: unknown;
}

export function sendProblem(res: Response, problem: Problem): void {
  res
    .status(problem.status)
    .type('application/problem+json')
    .json({ type: 'about:blank', ...problem });
}

export const notFound: RequestHandler = (req, res) => {
  sendProblem(res, {
    title: 'Not Found',
    status: 404,
    detail: `No route for ${req.method} ${req.path}`,
    instance: req.originalUrl,
  });
};

interface HttpError {
  status?: number;
  statusCode?: number;
  type?: string;
  expose?: boolean;
  message?: string;
}

/** Last error handler: body-parser errors keep their status, anything else is a 500 without internals. */
export function problemErrorHandler(onFault: (err: unknown) => void): ErrorRequestHandler {
  return (err: HttpError, req, res, _next) => {
    const status = err.status ?? err.statusCode ?? 500;
    if (status >= 500) onFault(err);
    const titles: Record<string, string> = {
      'entity.too.large': 'Payload Too Large',
      'entity.parse.failed': 'Malformed JSON',
      'charset.unsupported': 'Unsupported Media Type',
      'encoding.unsupported': 'Unsupported Media Type',
    };
    sendProblem(res, {
      title: titles[err.type ?? ''] ?? (status >= 500 ? 'Internal Server Error' : 'Bad Request'),
      status,
      detail: status < 500 && err.expose !== false ? err.message : undefined,
      instance: req.originalUrl,
    });
  };
}
