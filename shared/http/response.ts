import * as z from 'zod';
import { fieldErrorCodes, type FieldError } from '../errors.js';
import type { HttpResult } from './types.js';

const securityHeaders = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
} as const;

/** A JSON response; `no-store` by default because our answers carry tokens and personal data. */
export function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): HttpResult {
  return {
    statusCode,
    headers: { 'content-type': 'application/json; charset=utf-8', ...securityHeaders, ...headers },
    body: JSON.stringify(body),
  };
}

/** What `GET /healthz` answers. */
export const healthSchema = z.object({ status: z.literal('ok') }).meta({ title: 'Health' });

export interface Problem {
  status: number;
  code: string;
  title: string;
  detail: string;
  errors?: readonly FieldError[];
  licenceId?: string;
  requestId?: string;
}

/**
 * The body of every refusal (RFC 9457 `application/problem+json`): `code` is the stable machine code,
 * `errors` names each failing input. The OpenAPI document (`GET /openapi.json`) publishes this schema.
 */
export const problemDocumentSchema = z
  .object({
    type: z.string().meta({ description: '`urn:elicence:problem:<code>`' }),
    title: z.string(),
    status: z.int().min(400).max(599),
    detail: z.string(),
    code: z.string().meta({ description: 'Stable machine-readable code, e.g. `invalid_request`' }),
    errors: z
      .array(
        z.object({
          path: z.string(),
          message: z.string().meta({ description: 'What is wrong, in English, for developers' }),
          code: z.enum(fieldErrorCodes).meta({
            description:
              'Why, as a stable code to translate (docs/api.md, Errors); a client meeting a code it does not know says the value is not accepted',
          }),
          params: z
            .record(z.string(), z.union([z.string(), z.number(), z.boolean()]))
            .optional()
            .meta({
              description: 'What the code’s message needs, e.g. `{ "maximum": 50 }`, `{ "expected": "X" }`',
            }),
        }),
      )
      .optional()
      .meta({ description: 'One entry per failing input, named by its path (`fields.vehicleClass`)' }),
    licenceId: z.string().optional().meta({
      description:
        'The licence the refused request wrote all the same (409 `issuer_key_withdrawn`): re-issue it (`POST /licences/{id}/reissue`), do not send the request again',
    }),
    requestId: z.string().optional().meta({ description: 'Quote it when reporting a problem' }),
  })
  .meta({
    title: 'Problem',
    examples: [
      {
        type: 'urn:elicence:problem:invalid_request',
        title: 'Bad Request',
        status: 400,
        detail: 'Invalid request: holderName: Too small: expected string to have >=1 characters',
        code: 'invalid_request',
        errors: [
          {
            path: 'holderName',
            message: 'Too small: expected string to have >=1 characters',
            code: 'required',
          },
        ],
        requestId: 'Jc1bPh7yIAMEb2Q=',
      },
    ],
  });
export type ProblemDocument = z.output<typeof problemDocumentSchema>;

/** An RFC 9457 problem document with our stable `code`. */
export function problem(p: Problem, headers: Record<string, string> = {}): HttpResult {
  return {
    statusCode: p.status,
    headers: { 'content-type': 'application/problem+json; charset=utf-8', ...securityHeaders, ...headers },
    body: JSON.stringify({
      type: `urn:elicence:problem:${p.code}`,
      title: p.title,
      status: p.status,
      detail: p.detail,
      code: p.code,
      ...(p.errors && p.errors.length > 0
        ? {
            errors: p.errors.map((e) => ({
              path: e.path,
              message: e.message,
              code: e.code ?? 'invalid',
              ...(e.params ? { params: { ...e.params } } : {}),
            })),
          }
        : {}),
      ...(p.licenceId ? { licenceId: p.licenceId } : {}),
      ...(p.requestId ? { requestId: p.requestId } : {}),
    } satisfies ProblemDocument),
  };
}
