import type { OpenAPIObject } from '@nestjs/swagger';

/**
 * The public, token-bearing endpoints served by trigger-ingest (docs/workflows.md). They are not controllers
 * of this app, so the document describes them here, by hand; `/openapi.json` covers every endpoint
 * under the one base URL. No bearer token: the token in the path is the credential.
 */
const error = { $ref: '#/components/schemas/PublicError' };
const token = { name: 'token', in: 'path', required: true, schema: { type: 'string' }, description: 'from waiting_payload' };
const decisionBody = {
  required: false,
  content: {
    'application/json': { schema: { $ref: '#/components/schemas/DecisionBody' } },
    'application/x-www-form-urlencoded': { schema: { $ref: '#/components/schemas/DecisionBody' } },
  },
};
const decided = {
  description: 'Decided (JSON clients); form posts and HTML clients get an HTML result page',
  content: {
    'application/json': {
      schema: {
        type: 'object',
        required: ['decided', 'decision', 'execution_id'],
        properties: { decided: { const: true }, decision: { enum: ['approved', 'rejected'] }, execution_id: { type: 'string' } },
      },
    },
    'text/html': { schema: { type: 'string' } },
  },
};
const errors = (...codes: number[]) =>
  Object.fromEntries(codes.map((c) => [String(c), { description: DESCRIPTIONS[c], content: { 'application/json': { schema: error } } }]));
const DESCRIPTIONS: Record<number, string> = {
  400: 'validation_failed',
  404: 'unknown, expired or timed-out link',
  409: 'already decided: the message names the first decision',
  413: 'payload_too_large',
};

export function addPublicEndpoints(document: OpenAPIObject): OpenAPIObject {
  const decide = (decision: string) => ({
    post: {
      tags: ['public'],
      summary: `${decision} a parked approval step (decides once)`,
      security: [],
      parameters: [token],
      requestBody: decisionBody,
      responses: { '200': decided, ...errors(400, 404, 409) },
    },
  });
  const paths: Record<string, unknown> = {
    '/v1/resume/{token}': {
      post: {
        tags: ['public'],
        summary: 'Resume a parked wait_for_webhook step; the body becomes the step input and output',
        security: [],
        parameters: [token],
        requestBody: { required: false, content: { 'application/json': { schema: {} }, 'application/x-www-form-urlencoded': { schema: { type: 'object' } }, 'text/plain': { schema: { type: 'string' } } } },
        responses: {
          '200': {
            description: '`{resumed: true, execution_id}`, or `{resumed: false, status: "already_completed"}` for a used token',
            content: {
              'application/json': {
                schema: {
                  oneOf: [
                    { type: 'object', required: ['resumed', 'execution_id'], properties: { resumed: { const: true }, execution_id: { type: 'string' } } },
                    { type: 'object', required: ['resumed', 'status'], properties: { resumed: { const: false }, status: { const: 'already_completed' } } },
                  ],
                },
              },
            },
          },
          ...errors(404, 413),
        },
      },
    },
    '/v1/approvals/{token}': {
      get: {
        tags: ['public'],
        summary: 'The approval review page (HTML), or its data with Accept: application/json. Never decides.',
        security: [],
        parameters: [token],
        responses: {
          '200': {
            description: 'review page',
            content: {
              'text/html': { schema: { type: 'string' } },
              'application/json': {
                schema: {
                  type: 'object',
                  properties: {
                    execution_id: { type: 'string' },
                    job_id: { type: 'string' },
                    job_name: { type: 'string' },
                    step_id: { type: 'string' },
                    message: { type: 'string' },
                    context: { type: 'object' },
                    started_at: { type: ['string', 'null'] },
                    expires_at: { type: 'string' },
                    state: { enum: ['pending', 'decided'] },
                    decision: { oneOf: [{ type: 'null' }, { $ref: '#/components/schemas/ApprovalDecision' }] },
                  },
                },
              },
            },
          },
          ...errors(404),
        },
      },
    },
    '/v1/approvals/{token}/approve': decide('Approve'),
    '/v1/approvals/{token}/reject': decide('Reject'),
  };
  const schemas: Record<string, unknown> = {
      PublicError: {
        type: 'object',
        required: ['error'],
        properties: { error: { type: 'object', required: ['code', 'message', 'details'], properties: { code: { type: 'string' }, message: { type: 'string' }, details: {} } } },
      },
      DecisionBody: { type: 'object', additionalProperties: false, properties: { comment: { type: 'string', maxLength: 2000 }, decided_by: { type: 'string', maxLength: 200 } } },
      ApprovalDecision: {
        type: 'object',
        required: ['decision', 'comment', 'decided_by', 'decided_at'],
        properties: { decision: { enum: ['approved', 'rejected'] }, comment: { type: ['string', 'null'] }, decided_by: { type: ['string', 'null'] }, decided_at: { type: 'string', format: 'date-time' } },
      },
  };
  // Plain JSON Schema 2020-12 (`const`, type lists), which OpenAPI 3.1 allows and the 3.0-era types do not describe.
  document.paths = { ...document.paths, ...(paths as OpenAPIObject['paths']) };
  document.components = { ...document.components, schemas: { ...document.components?.schemas, ...(schemas as NonNullable<OpenAPIObject['components']>['schemas']) } };
  return document;
}
