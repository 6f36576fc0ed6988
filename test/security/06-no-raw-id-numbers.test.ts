import { randomUUID } from 'node:crypto';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registryPeople } from '../../infra/local/demo-data.js';
import { createDynamoClient, documentClientFor } from '../../shared/adapters/dynamo/client.js';
import { postJson } from '../support/http-api.js';
import {
  businessLicenceBody,
  drivingLicenceBody,
  issued,
  licencePath,
  newIdNumber,
  type LicenceJson,
  searchLicences,
} from '../support/licences.js';
import {
  adminToken,
  authorizationRequest,
  registerPlatform,
  runFlow,
  signIn,
  stepOf,
  type RelyingParty,
  citizenAnswers,
} from '../support/oidc-flows.js';
import { clientCredentialsToken, startTestRuntime, type TestRuntime } from '../support/runtime.js';
import { parseForm, UserAgent } from '../support/user-agent.js';

/**
 * Finding 6: no raw ID number at rest. A realistic mix of sign-ins (with `login_hint` carrying the number,
 * also through a pushed authorization request), registrations, entity sign-ins, issuances naming third
 * persons, status changes, verifications and presentations; then every item of both tables (service and audit) is read with a
 * Scan through the AWS SDK, and no attribute anywhere (JSON inside strings and base64url segments, such as
 * JWT payloads, decoded too) may contain any number used, in any spelling (lower-case x, spaces).
 */

let runtime: TestRuntime;
let wallet: RelyingParty;
const numbers = new Set<string>();

beforeAll(async () => {
  runtime = await startTestRuntime();
  wallet = await registerPlatform(runtime, await adminToken(runtime), {
    name: 'Hint wallet',
    redirectUris: ['https://hint-wallet.example/cb'],
    scopes: ['openid', 'profile', 'licences', 'entity'],
    firstParty: true,
  });
});
afterAll(() => runtime?.close());

/** Every string a value holds, with what it encodes: JSON text, base64url segments (JWT parts), bytes. */
function* strings(value: unknown, depth = 0): Generator<string> {
  if (depth > 6 || value === null || value === undefined) return;
  if (typeof value === 'string') {
    yield value;
    yield* decoded(value, depth);
  } else if (typeof value === 'number' || typeof value === 'bigint') {
    yield String(value);
  } else if (value instanceof Uint8Array) {
    const text = Buffer.from(value).toString('utf8');
    yield text;
    yield* decoded(text, depth);
  } else if (value instanceof Set) {
    for (const member of value) yield* strings(member, depth + 1);
  } else if (Array.isArray(value)) {
    for (const member of value) yield* strings(member, depth + 1);
  } else if (typeof value === 'object') {
    for (const [name, member] of Object.entries(value)) {
      yield name;
      yield* strings(member, depth + 1);
    }
  }
}

function* decoded(text: string, depth: number): Generator<string> {
  const trimmed = text.trim();
  if ((trimmed.startsWith('{') || trimmed.startsWith('[')) && trimmed.length > 1) {
    try {
      yield* strings(JSON.parse(trimmed), depth + 1);
    } catch {
      // not JSON
    }
  }
  for (const segment of text.split(/[.~#:?&=\s]/)) {
    if (segment.length < 16 || !/^[A-Za-z0-9_\-+/]+={0,2}$/.test(segment)) continue;
    const bytes = Buffer.from(segment.replaceAll('+', '-').replaceAll('/', '_'), 'base64url');
    const inner = bytes.toString('utf8');
    // Only text is worth reading on: random bytes (hashes, ciphertext) decode to replacement characters.
    if (inner.includes('\uFFFD')) continue;
    yield inner;
    yield* decoded(inner, depth + 1);
  }
}

/** The number in every spelling it could be stored in: upper or lower x, with or without spaces. */
function containsNumber(text: string, idNumber: string): boolean {
  return text.replace(/\s+/g, '').toUpperCase().includes(idNumber.toUpperCase());
}

async function scanTable(): Promise<Array<Record<string, unknown>>> {
  const client = createDynamoClient({
    region: runtime.config.region,
    endpoint: runtime.config.dynamodbEndpoint,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const doc = documentClientFor(client);
  const items: Array<Record<string, unknown>> = [];
  try {
    // Every table: the service table, the audit table (the audit trail's entries) and the batch table (bulk
    // issuance jobs, whose items hold ID numbers sealed).
    for (const TableName of [
      runtime.config.tableName,
      runtime.config.auditTableName,
      runtime.config.batchTableName,
    ]) {
      let ExclusiveStartKey: Record<string, unknown> | undefined;
      do {
        const page = await doc.send(new ScanCommand({ TableName, ConsistentRead: true, ExclusiveStartKey }));
        items.push(...((page.Items ?? []) as Array<Record<string, unknown>>));
        ExclusiveStartKey = page.LastEvaluatedKey;
      } while (ExclusiveStartKey);
    }
  } finally {
    doc.destroy();
  }
  return items;
}

/** An authorization request pushed first (PAR, RFC 9126), then opened in the browser. */
async function pushedRequestUrl(rp: RelyingParty, params: Record<string, string>): Promise<URL> {
  const { url } = await authorizationRequest(rp, params);
  const response = await fetch(`${runtime.baseUrl}/request`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${encodeURIComponent(rp.clientId)}:${encodeURIComponent(rp.clientSecret)}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: url.searchParams,
  });
  const body = (await response.json()) as { request_uri?: string };
  expect(response.status, JSON.stringify(body)).toBe(201);
  const opened = new URL(`${runtime.baseUrl}/authorize`);
  opened.searchParams.set('client_id', rp.clientId);
  opened.searchParams.set('request_uri', body.request_uri!);
  return opened;
}

describe('no raw ID number is stored anywhere (finding 6)', () => {
  it('after sign-ins, registrations, issuances, status changes, verifications and presentations', async () => {
    const { citizen, entity, issuer } = runtime.credentials;
    const people = registryPeople.filter((person) => person.idNumber !== citizen.idNumber);
    numbers.add(citizen.idNumber);
    numbers.add(entity.representativeIdNumber);
    for (const person of people) numbers.add(person.idNumber);

    // Registrations: a person the registry knows (lower-case x accepted), one it does not.
    const known = people[0]!;
    const stranger = newIdNumber();
    numbers.add(stranger);
    for (const body of [
      { idNumber: known.idNumber.toLowerCase(), name: known.name, password: 'Known-2026!' },
      { idNumber: stranger, name: '赵六', password: 'Zhao-Liu-2026' },
    ]) {
      const response = await postJson(runtime, '/accounts', undefined, { ...body, consent: true });
      expect(response.status, await response.text()).toBe(201);
    }

    // Sign-ins with the number as login hint: completed, left half-way (wrong password), pushed (PAR),
    // with spaces and a lower-case x, and an entity sign-in.
    const signedIn = await signIn(wallet, new UserAgent(runtime.baseUrl), citizenAnswers(runtime), {
      scope: 'openid profile licences',
      login_hint: citizen.idNumber,
    });
    const holderToken = signedIn.tokens.access_token;

    const halfWay = await authorizationRequest(wallet, {
      login_hint: `${stranger.slice(0, 6)} ${stranger.slice(6, 14)} ${stranger.slice(14).toLowerCase()}`,
    });
    const ua = new UserAgent(runtime.baseUrl);
    const loginPage = (await ua.navigate(halfWay.url)).page!;
    expect(stepOf(loginPage.html)).toBe('login');
    const refused = await ua.navigate(new URL(parseForm(loginPage.html)!.action, loginPage.url), {
      form: { username: stranger, password: 'not-the-password' },
    });
    // The login page may show the hint back to the person it was meant for; that is not storage.
    expect(refused.page?.status).toBe(401);

    const untouched = await authorizationRequest(wallet, { login_hint: people[1]!.idNumber });
    const shown = await runFlow(new UserAgent(runtime.baseUrl), untouched.url);
    expect(shown.stoppedAt).toBe('login');
    expect(shown.page?.html).toContain(people[1]!.idNumber);

    const pushed = await runFlow(
      new UserAgent(runtime.baseUrl),
      await pushedRequestUrl(wallet, { login_hint: people[2]!.idNumber.toLowerCase() }),
    );
    expect(pushed.stoppedAt).toBe('login');

    const entityUa = new UserAgent(runtime.baseUrl);
    await signIn(
      wallet,
      entityUa,
      { username: entity.representativeIdNumber, password: citizen.password, entity: entity.creditCode },
      { scope: 'openid profile entity licences', login_hint: entity.representativeIdNumber },
    );

    // Issuances to a person and to an entity, a third person named in the business licence.
    const issuerToken = await clientCredentialsToken(runtime, issuer, 'licences:issue');
    const thirdPerson = newIdNumber('310104');
    numbers.add(thirdPerson);
    const driving = await issued(runtime, issuerToken, drivingLicenceBody(citizen.idNumber));
    const business = await issued(
      runtime,
      issuerToken,
      businessLicenceBody(entity.creditCode, thirdPerson.toLowerCase()),
    );
    // The same request again under the same key: the idempotency record answers it.
    const key = randomUUID();
    const body = drivingLicenceBody(citizen.idNumber, { holderName: '李再试' });
    for (const expected of [201, 200]) {
      const response = await postJson(runtime, '/licences', issuerToken, body, { 'idempotency-key': key });
      expect(response.status).toBe(expected);
    }
    // The holder search carries the number too (in its body).
    const listed = await searchLicences(runtime, issuerToken, { holder: citizen.idNumber });
    expect(listed.status).toBe(200);

    // Status changes.
    for (const status of ['suspended', 'valid'] as const) {
      const response = await postJson(runtime, `${licencePath(business.id)}/status`, issuerToken, {
        status,
        reason: `核查 ${thirdPerson}`.slice(0, 10),
      });
      expect(response.status, await response.text()).toBe(200);
    }

    // A re-issue (POST /licences/{id}/reissue) of a licence naming a third person: the new record, the
    // claim and the revocation are written from the stored (masked) forms alone.
    const toReissue = await issued(runtime, issuerToken, businessLicenceBody(entity.creditCode, thirdPerson));
    const reissued = await postJson(runtime, `${licencePath(toReissue.id)}/reissue`, issuerToken, undefined);
    const reissuedText = await reissued.text();
    expect(reissued.status, reissuedText).toBe(201);
    for (const number of numbers) expect(reissuedText).not.toContain(number);

    // Verifications, anonymous and by a verifier app, and a presentation.
    const verifierToken = await clientCredentialsToken(
      runtime,
      runtime.credentials.verifier,
      'licences:verify',
    );
    for (const licence of [driving, business] as LicenceJson[]) {
      for (const token of [undefined, verifierToken]) {
        const response = await postJson(runtime, '/verify', token, { qr: licence.credential });
        expect(response.status).toBe(200);
      }
    }
    const presentation = await postJson(
      runtime,
      `/me/licences/${encodeURIComponent(driving.id)}/presentations`,
      holderToken,
      { ttlSeconds: 60 },
    );
    expect(presentation.status, await presentation.clone().text()).toBe(201);
    const { token: qr } = (await presentation.json()) as { token: string };
    expect((await postJson(runtime, '/verify', verifierToken, { qr })).status).toBe(200);

    const items = await scanTable();
    expect(items.length).toBeGreaterThan(50);
    const leaks: string[] = [];
    for (const item of items) {
      for (const text of strings(item)) {
        for (const idNumber of numbers) {
          if (containsNumber(text, idNumber))
            leaks.push(`${String(item.pk)} ${String(item.sk)}: ${text.slice(0, 200)}`);
        }
      }
    }
    expect([...new Set(leaks)]).toEqual([]);
  });
});
