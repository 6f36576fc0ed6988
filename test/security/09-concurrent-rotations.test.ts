import { decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ListAliasesCommand } from '@aws-sdk/client-kms';
import { emulatorKms, issuerItems, onboardIssuer, postJson } from '../support/http-api.js';
import { drivingLicenceBody, issued, newIdNumber } from '../support/licences.js';
import { clientCredentialsToken, startTestRuntime, type TestRuntime } from '../support/runtime.js';

/**
 * Finding 9: concurrent key rotations of one issuer. Exactly one wins (201); every other is told
 * `409 rotation_in_progress`, never a 5xx (KMS's "alias already exists"); the issuer gains exactly one key,
 * and the key that won is the one that signs from then on.
 */

let runtime: TestRuntime;
let admin: string;
let issuer: { id: string; kid: string; clientId: string; clientSecret: string };

beforeAll(async () => {
  runtime = await startTestRuntime();
  admin = await clientCredentialsToken(runtime, runtime.credentials.admin, 'admin');
  issuer = await onboardIssuer(runtime, admin, { licenceTypes: ['driving-licence'] });
});
afterAll(() => runtime?.close());

const rotate = () => postJson(runtime, `/admin/issuers/${encodeURIComponent(issuer.id)}/keys`, admin, {});

/** The KMS aliases of this issuer's keys: one per key ever created for it. */
async function issuerAliases(): Promise<string[]> {
  const kms = emulatorKms(runtime);
  const names: string[] = [];
  try {
    let Marker: string | undefined;
    do {
      const page = await kms.send(new ListAliasesCommand({ Marker }));
      for (const alias of page.Aliases ?? []) {
        if (alias.AliasName?.startsWith(`alias/elicence/issuer/${issuer.id}`)) names.push(alias.AliasName);
      }
      Marker = page.Truncated ? page.NextMarker : undefined;
    } while (Marker);
  } finally {
    kms.destroy();
  }
  return names;
}

async function storedKeys(): Promise<Array<{ kid: string; keyId: string }>> {
  const item = (await issuerItems()).find((candidate) => candidate.id === issuer.id);
  return (item?.keys as Array<{ kid: string; keyId: string }> | undefined) ?? [];
}

describe('concurrent key rotations (finding 9)', () => {
  it('eight at once: exactly one 201, seven 409 rotation_in_progress, no 5xx, one key more', async () => {
    const aliasesBefore = await issuerAliases();
    const responses = await Promise.all(Array.from({ length: 8 }, () => rotate()));
    const answers = await Promise.all(
      responses.map(async (response) => ({
        status: response.status,
        body: (await response.json()) as { code?: string; kid?: string },
      })),
    );
    const statuses = answers.map((answer) => answer.status).sort();
    expect(statuses, JSON.stringify(answers)).toEqual([201, 409, 409, 409, 409, 409, 409, 409]);
    for (const answer of answers.filter((a) => a.status === 409)) {
      expect(answer.body.code).toBe('rotation_in_progress');
    }
    const winner = answers.find((answer) => answer.status === 201)!.body;
    expect(winner.kid).not.toBe(issuer.kid);

    const keys = await storedKeys();
    expect(keys.map((key) => key.kid)).toEqual([issuer.kid, winner.kid]);
    // The losers created no key at all (nothing to schedule for deletion, nothing that could sign).
    expect(await issuerAliases()).toHaveLength(aliasesBefore.length + 1);

    // The key that won signs what is issued next, and it verifies.
    const token = await clientCredentialsToken(runtime, issuer, 'licences:issue');
    const licence = await issued(runtime, token, drivingLicenceBody(newIdNumber()));
    expect(decodeProtectedHeader(licence.credential).kid).toBe(winner.kid);
    const verdict = await postJson(runtime, '/verify', undefined, { qr: licence.credential });
    expect(((await verdict.json()) as { verdict: string }).verdict).toBe('valid');
  });

  it('rotates again once the first is done (the lock is released)', async () => {
    const before = (await storedKeys()).length;
    const response = await rotate();
    expect(response.status, await response.clone().text()).toBe(201);
    expect(await storedKeys()).toHaveLength(before + 1);
  });
});
