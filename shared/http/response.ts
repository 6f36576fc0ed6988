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

export interface Problem {
  status: number;
  code: string;
  title: string;
  detail: string;
  errors?: ReadonlyArray<{ path: string; message: string }>;
  requestId?: string;
}

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
      ...(p.errors && p.errors.length > 0 ? { errors: p.errors } : {}),
      ...(p.requestId ? { requestId: p.requestId } : {}),
    }),
  };
}
