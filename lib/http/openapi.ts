/** Building blocks shared by the services' OpenAPI documents (see lib/http/problem.ts). */

/** Reference to the shared problem response (`components.responses.Problem`). */
export const problemResponse = { $ref: '#/components/responses/Problem' } as const;

export const jsonBody = (schema: object) => ({ content: { 'application/json': { schema } } });

export const pathParam = (name: string, description?: string) => ({
  name,
  in: 'path',
  required: true,
  ...(description ? { description } : {}),
  schema: { type: 'string' },
});

/** `components.responses.Problem`: RFC 9457 problem details as every service sends them. */
export const problemComponent = {
  description: 'RFC 9457 problem details',
  content: {
    'application/problem+json': {
      schema: {
        type: 'object',
        properties: {
          type: { type: 'string' },
          title: { type: 'string' },
          status: { type: 'integer' },
          detail: { type: 'string' },
          code: { type: 'string', description: 'machine-readable reason of a business refusal' },
          errors: {
            type: 'array',
            description: 'the fields, headers or query parameters at fault',
            items: {
              type: 'object',
              properties: { field: { type: 'string' }, message: { type: 'string' } },
            },
          },
        },
      },
    },
  },
} as const;
