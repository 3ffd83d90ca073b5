import { z } from 'zod';
import { ROLES, type Role } from './auth';
import { componentSchemas, type SchemaRegistry, schemaRef, toJsonSchema } from './json-schema';

export { type SchemaRegistry, schemaRegistry } from './json-schema';

/**
 * Builds the services' OpenAPI 3.1 documents from the zod schemas their routes validate with
 * (zod 4's JSON Schema output): request bodies, query parameters and answers are the same
 * schemas the code uses, so the document cannot drift from them. Each service lists its
 * operations (command-api/http/openapi.ts, query-api/http/openapi.ts); this module adds what
 * every operation shares: security, problem answers with their `code`s, rate-limit and
 * Retry-After headers.
 */

/** RFC 9457 problem details as every service sends them (lib/http/problem.ts). */
export const problemSchema = z.object({
  type: z
    .string()
    .describe('a URI naming the kind of problem, e.g. urn:orderstream:problem:invalid-request'),
  title: z.string(),
  status: z.number().int(),
  detail: z.string().optional(),
  instance: z.string().optional(),
  code: z.string().optional().describe('machine-readable reason of a business refusal'),
  errors: z
    .array(z.object({ field: z.string(), message: z.string() }))
    .optional()
    .describe('the fields, headers or query parameters at fault'),
});

/** Response headers the services send, by name (`components.headers`). */
const HEADERS = {
  Location: {
    description: 'Where the created resource, or the pending command’s outcome, can be read',
    schema: { type: 'string' },
  },
  'X-Consistency-Token': {
    description:
      'The positions of the appended events: send it to the query API to read your own write',
    schema: { type: 'string' },
  },
  'Retry-After': {
    description: 'Seconds to wait before trying again',
    schema: { type: 'integer', minimum: 1 },
  },
  'RateLimit-Policy': {
    description:
      'The rate-limit policy that counted this request (IETF draft-ietf-httpapi-ratelimit-headers), e.g. `"per-principal";q=600000;w=60`: q requests per w seconds',
    schema: { type: 'string' },
  },
  RateLimit: {
    description:
      'What is left of the policy’s quota, e.g. `"per-principal";r=599999;t=42`: r requests left, t seconds until the window resets',
    schema: { type: 'string' },
  },
  'X-Read-From': {
    description: 'Which copy of the Postgres read model answered',
    schema: { type: 'string', enum: ['leader', 'follower'] },
  },
  'WWW-Authenticate': { description: 'Always `Bearer`', schema: { type: 'string' } },
} as const;

export type ResponseHeader = keyof typeof HEADERS;

const RATE_LIMIT_HEADERS: ResponseHeader[] = ['RateLimit-Policy', 'RateLimit'];

/** What a problem status means, in every service. */
const PROBLEM_DESCRIPTIONS: Record<string, string> = {
  '400': 'Bad input: `errors` names every field, header or query parameter at fault',
  '401': 'No bearer token, or one that is expired, forged or without a known role',
  '403': 'The token’s role may not do this',
  '404': 'Not found',
  '409': 'Refused: the current state forbids it',
  '413': 'The body is larger than HTTP_BODY_LIMIT',
  '415': 'A body that is not JSON',
  '422': 'Refused: the request is not valid for the domain',
  '429':
    'Over the rate limit (RATE_LIMIT_PER_PRINCIPAL or RATE_LIMIT_PER_IP per RATE_LIMIT_WINDOW_S)',
  '503': 'Not available right now (Retry-After)',
};

export type ProblemStatus =
  | '400'
  | '401'
  | '403'
  | '404'
  | '409'
  | '413'
  | '415'
  | '422'
  | '429'
  | '503';

export interface SuccessResponse {
  description: string;
  /** A schema of the document's registry (or any zod schema, inlined); none: no body. */
  schema?: z.ZodType;
  /** Another media type than application/json, e.g. text/event-stream. */
  mediaType?: string;
  headers?: ResponseHeader[];
  /** For text/event-stream: the schema of each event's `data` (as `x-event-data`). */
  eventData?: z.ZodType;
}

export interface ApiOperation {
  method: 'get' | 'post' | 'patch' | 'delete';
  /** In OpenAPI form: `/products/{id}`. */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  tag: string;
  /** Roles whose token may call it; empty: public (`security: []`). */
  roles: readonly Role[];
  /** Path parameters by name, with their description. */
  pathParams?: Record<string, string>;
  /** The query string's schema (a zod object): one parameter per key. */
  query?: z.ZodObject;
  /** Request headers, by name in `components.parameters`. */
  headerParams?: string[];
  body?: z.ZodType;
  success: Record<string, SuccessResponse>;
  /** Problem answers besides those every operation of its kind has, with the `code`s each may carry. */
  problems?: Partial<Record<ProblemStatus, readonly string[]>>;
  /** Counted by the rate limits (all but the health endpoints). */
  rateLimited?: boolean;
  /** Says Retry-After on its 503 (every read and command does). */
  unavailable?: string;
}

export interface DocumentSpec {
  title: string;
  description: string;
  server: { url: string; description: string };
  /** The tags of its operations (`meta`, of metaOperations, comes with every document). */
  tags: { name: string; description: string }[];
  registry: SchemaRegistry;
  operations: ApiOperation[];
  /** Optional request headers operations name (`components.parameters`), by component name. */
  parameters?: Record<string, { name: string; description: string; schema: z.ZodType }>;
}

/** `/openapi.json`, the health endpoints (lib/http/health.ts) and `/metrics`
 *  (lib/http/metrics-route.ts) every service has. */
export function metaOperations(ready: {
  summary: string;
  description?: string;
  schema: z.ZodType;
}): ApiOperation[] {
  const meta = { method: 'get', tag: 'meta', roles: [] } as const;
  return [
    {
      ...meta,
      path: '/openapi.json',
      operationId: 'getOpenApi',
      summary: 'This document',
      success: { '200': { description: 'The OpenAPI 3.1 document', schema: z.object({}) } },
    },
    {
      ...meta,
      path: '/health/live',
      operationId: 'getLiveness',
      summary: 'The process runs',
      rateLimited: false,
      success: { '200': { description: 'Live', schema: z.object({ status: z.literal('live') }) } },
    },
    {
      ...meta,
      path: '/health/ready',
      operationId: 'getReadiness',
      summary: ready.summary,
      description: ready.description,
      rateLimited: false,
      success: { '200': { description: 'Ready', schema: ready.schema } },
      problems: { '503': [] },
      unavailable: 'Not ready: `dependencies` names what does not answer',
    },
    {
      ...meta,
      path: '/metrics',
      operationId: 'getMetrics',
      summary: 'Prometheus metrics of this process',
      rateLimited: false,
      success: {
        '200': {
          description: 'The Prometheus text exposition format (version 0.0.4)',
          schema: z.string(),
          mediaType: 'text/plain',
        },
      },
    },
  ];
}

function headersOf(names: readonly ResponseHeader[]) {
  return names.length === 0
    ? {}
    : {
        headers: Object.fromEntries(
          names.map((name) => [name, { $ref: `#/components/headers/${name}` }]),
        ),
      };
}

/** The problem statuses an operation answers besides its own: by its auth, body and limits. */
function defaultProblems(op: ApiOperation): ProblemStatus[] {
  const statuses: ProblemStatus[] = [];
  // Every route is behind the input gate (lib/http/input-guard.ts), health too.
  statuses.push('400');
  if (op.roles.length > 0) statuses.push('401', '503');
  if (op.roles.length > 0 && op.roles.length < ROLES.length) statuses.push('403');
  if (op.method !== 'get') statuses.push('413', '415');
  if (op.rateLimited !== false) statuses.push('429');
  return statuses;
}

function problemResponse(status: ProblemStatus, codes: readonly string[], op: ApiOperation) {
  const problem = schemaRef('Problem');
  const schema =
    codes.length === 0
      ? problem
      : {
          allOf: [
            problem,
            {
              type: 'object',
              required: ['code'],
              properties: { code: { type: 'string', enum: [...codes] } },
            },
          ],
        };
  const described =
    status === '503' && op.unavailable ? op.unavailable : PROBLEM_DESCRIPTIONS[status];
  const headers: ResponseHeader[] =
    status === '401'
      ? ['WWW-Authenticate']
      : status === '429'
        ? ['Retry-After', ...RATE_LIMIT_HEADERS]
        : status === '503'
          ? ['Retry-After']
          : [];
  return {
    description: codes.length === 0 ? described : `${described}; \`code\`: ${codes.join(', ')}`,
    ...headersOf(headers),
    content: { 'application/problem+json': { schema } },
  };
}

function operationObject(op: ApiOperation, registry: SchemaRegistry) {
  const parameters: object[] = [];
  for (const [name, description] of Object.entries(op.pathParams ?? {})) {
    parameters.push({ name, in: 'path', required: true, description, schema: { type: 'string' } });
  }
  if (op.query) {
    const query = toJsonSchema(registry, op.query) as {
      properties?: Record<string, { description?: string }>;
      required?: string[];
    };
    for (const [name, schema] of Object.entries(query.properties ?? {})) {
      const { description, ...rest } = schema;
      parameters.push({
        name,
        in: 'query',
        required: query.required?.includes(name) ?? false,
        ...(description ? { description } : {}),
        schema: rest,
      });
    }
  }
  for (const name of op.headerParams ?? []) {
    parameters.push({ $ref: `#/components/parameters/${name}` });
  }
  const responses: Record<string, object> = {};
  const limitHeaders = op.rateLimited === false ? [] : RATE_LIMIT_HEADERS;
  for (const [status, success] of Object.entries(op.success)) {
    responses[status] = {
      description: success.description,
      ...headersOf([...(success.headers ?? []), ...limitHeaders]),
      ...(success.schema
        ? {
            content: {
              [success.mediaType ?? 'application/json']: {
                schema: toJsonSchema(registry, success.schema),
                ...(success.eventData
                  ? { 'x-event-data': toJsonSchema(registry, success.eventData) }
                  : {}),
              },
            },
          }
        : {}),
    };
  }
  const problems = new Map<ProblemStatus, readonly string[]>(
    defaultProblems(op).map((status) => [status, []]),
  );
  for (const [status, codes] of Object.entries(op.problems ?? {})) {
    problems.set(status as ProblemStatus, codes ?? []);
  }
  for (const status of [...problems.keys()].sort()) {
    responses[status] = problemResponse(status, problems.get(status) ?? [], op);
  }
  const roles = op.roles.length === 0 ? 'public' : `role: ${op.roles.join(' or ')}`;
  return {
    operationId: op.operationId,
    summary: op.summary,
    description: op.description ? `${op.description}\n\nAccess: ${roles}.` : `Access: ${roles}.`,
    tags: [op.tag],
    security: op.roles.length === 0 ? [] : [{ bearer: [] }],
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(op.body
      ? {
          requestBody: {
            required: true,
            content: { 'application/json': { schema: toJsonSchema(registry, op.body) } },
          },
        }
      : {}),
    responses,
  };
}

/** The OpenAPI 3.1 document of a service. */
export function openApiDocument(spec: DocumentSpec) {
  if (!spec.registry.has(problemSchema)) spec.registry.add(problemSchema, { id: 'Problem' });
  const paths: Record<string, Record<string, object>> = {};
  for (const op of spec.operations) {
    paths[op.path] ??= {};
    const item = paths[op.path] as Record<string, object>;
    item[op.method] = operationObject(op, spec.registry);
  }
  const used = new Set(
    JSON.stringify(paths)
      .match(/#\/components\/headers\/[A-Za-z-]+/g)
      ?.map((ref) => ref.slice(21)),
  );
  return {
    openapi: '3.1.0',
    info: {
      title: spec.title,
      version: '1.0.0',
      description: spec.description,
      license: { name: 'UNLICENSED (private)', identifier: 'LicenseRef-Proprietary' },
    },
    servers: [spec.server],
    tags: [...spec.tags, { name: 'meta', description: 'This document and health' }],
    paths,
    components: {
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description:
            'A JWT with a role (admin, customer, service): local HS256 tokens (`orderstream token`), or an external issuer’s RS256/ES256 tokens when JWT_JWKS_URL is set',
        },
      },
      ...(spec.parameters
        ? {
            parameters: Object.fromEntries(
              Object.entries(spec.parameters).map(([id, { name, description, schema }]) => [
                id,
                {
                  name,
                  in: 'header',
                  required: false,
                  description,
                  schema: toJsonSchema(spec.registry, schema),
                },
              ]),
            ),
          }
        : {}),
      headers: Object.fromEntries(Object.entries(HEADERS).filter(([name]) => used.has(name))),
      schemas: componentSchemas(spec.registry),
    },
  };
}
