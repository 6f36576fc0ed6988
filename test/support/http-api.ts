import { KMSClient } from '@aws-sdk/client-kms';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import { dependencies } from '../../functions/composition/dependencies.js';
import {
  creditCodeCheckCharacter,
  organisationCodeCheckCharacter,
} from '../../shared/identifiers/credit-code.js';
import type { LocalRuntime } from '../../infra/local/runtime.js';

/** The 31 characters GB 32100 allows, which are also valid GB 11714 organisation-code characters. */
const creditAlphabet = '0123456789ABCDEFGHJKLMNPQRTUWXY';

/**
 * A fresh, valid unified social credit code (GB 32100): random organisation code body with its
 * GB 11714 check character, then the MOD 31 check character. `11` is a government agency.
 */
export function newCreditCode(prefix = '11', region = '310000'): string {
  const body = Array.from(randomBytes(8), (byte) => creditAlphabet[byte % creditAlphabet.length]).join('');
  const first17 = `${prefix}${region}${body}${organisationCodeCheckCharacter(body)}`;
  return `${first17}${creditCodeCheckCharacter(first17)}`;
}

/** A body for `POST /admin/issuers` that is valid apart from what `overrides` changes. */
export function issuerBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'Shanghai Market Regulation Administration (test)',
    creditCode: newCreditCode(),
    region: '310000',
    licenceTypes: ['business-licence'],
    ...overrides,
  };
}

/** An issuer as `POST /admin/issuers` answers it: its client id and secret are shown this once. */
export type OnboardedIssuer = { id: string; kid: string; clientId: string; clientSecret: string } & Record<
  string,
  unknown
>;

/** Onboards an issuer from {@link issuerBody} with `overrides`, expecting 201, and answers it. */
export async function onboardIssuer(
  runtime: Pick<LocalRuntime, 'baseUrl'>,
  adminToken: string,
  overrides: Record<string, unknown> = {},
): Promise<OnboardedIssuer> {
  const response = await postJson(runtime, '/admin/issuers', adminToken, issuerBody(overrides));
  expect(response.status, await response.clone().text()).toBe(201);
  return (await response.json()) as OnboardedIssuer;
}

/** `POST` of a JSON body (or raw text) with an optional bearer token. */
export function postJson(
  runtime: Pick<LocalRuntime, 'baseUrl'>,
  path: string,
  token: string | undefined,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(`${runtime.baseUrl}${path}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
      ...headers,
    },
    body:
      typeof body === 'string'
        ? body
        : body instanceof Uint8Array
          ? new Blob([new Uint8Array(body)])
          : JSON.stringify(body),
  });
}

/** An RFC 9457 problem document as our API writes it. */
export interface ProblemDocument {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  errors?: Array<{ path: string; message: string; code: string; params?: Record<string, unknown> }>;
  requestId?: string;
}

/**
 * Asserts that `response` is a problem+json document with `status` (and `code`, when given) and the
 * members every problem of ours carries; returns the document.
 */
export async function expectProblem(
  response: Response,
  status: number,
  code?: string,
): Promise<ProblemDocument> {
  const text = await response.text();
  expect(response.status, text).toBe(status);
  expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  const body = JSON.parse(text) as ProblemDocument;
  expect(body).toMatchObject({
    type: expect.stringMatching(/\S/),
    title: expect.stringMatching(/\S/),
    status,
    detail: expect.stringMatching(/\S/),
    code: code ?? expect.stringMatching(/^[a-z_]+$/),
  });
  return body;
}

/**
 * Every item of the runtime's tables (the service table, then the audit table, then the batch table)
 * whose `pk` starts with `pkPrefix`, read with consistent scans. Only in the process that started the
 * runtime (the runtime provides its dependencies there).
 */
export async function scanItems(pkPrefix: string): Promise<Array<Record<string, unknown>>> {
  const { doc, config } = dependencies();
  const items: Array<Record<string, unknown>> = [];
  for (const TableName of [config.tableName, config.auditTableName, config.batchTableName]) {
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await doc.send(
        new ScanCommand({
          TableName,
          FilterExpression: 'begins_with(pk, :prefix)',
          ExpressionAttributeValues: { ':prefix': pkPrefix },
          ConsistentRead: true,
          ExclusiveStartKey,
        }),
      );
      items.push(...((page.Items ?? []) as Array<Record<string, unknown>>));
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
  }
  return items;
}

/** The issuer items (one per credit code) in the runtime's table. */
export const issuerItems = () => scanItems('issuer#');

/** The OAuth client items in the runtime's table. */
export const clientItems = () => scanItems('oidc#Client#');

/** A KMS client of our own on the runtime's KMS emulator, as an operator's tooling would use. */
export function emulatorKms(runtime: Pick<LocalRuntime, 'kms'>): KMSClient {
  if (!runtime.kms) throw new Error('the runtime has no embedded KMS emulator');
  return new KMSClient({
    region: 'cn-north-1',
    endpoint: runtime.kms.endpoint,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
}

/** HTTP Basic client authentication, as RFC 6749 §2.3.1 encodes it. */
export function basicAuth(client: { clientId: string; clientSecret: string }): string {
  const user = encodeURIComponent(client.clientId);
  const password = encodeURIComponent(client.clientSecret);
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

/** A raw token endpoint request with client_secret_basic: the response itself, for refusal checks. */
export function tokenRequest(
  runtime: Pick<LocalRuntime, 'baseUrl'>,
  client: { clientId: string; clientSecret: string },
  parameters: Record<string, string>,
): Promise<Response> {
  return fetch(`${runtime.baseUrl}/token`, {
    method: 'POST',
    headers: { authorization: basicAuth(client), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(parameters),
  });
}
