import { ListAliasesCommand, type KMSClient } from '@aws-sdk/client-kms';
import { randomInt, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KmsEmulator } from '../../../infra/local/kms-emulator.js';
import { parseLicenceId } from '../../../shared/identifiers/licence-id.js';
import { StatusType } from '../../../packages/verifier/src/status-list.js';
import { emulatorKms } from '../../support/http-api.js';
import {
  drivingLicenceBody,
  issued,
  issueLicence,
  issuerKeySet,
  listAll,
  newIdNumber,
  statusAt,
  verifyCredential,
  type CredentialClaims,
  type KeySet,
  type LicenceJson,
} from '../../support/licences.js';
import { clientCredentialsToken, startTestRuntime, type TestRuntime } from '../../support/runtime.js';

const CLIENTS = 50;
/** Requests each client sends at once with its key at the start, as a double-clicked submit would. */
const PARALLEL_PER_KEY = 2;
const DEADLINE_MS = 60_000;

let runtime: TestRuntime;
let emulator: KmsEmulator;
let kms: KMSClient;
let token: string;
let keys: KeySet;

beforeAll(async () => {
  runtime = await startTestRuntime();
  if (!runtime.kms) throw new Error('the test runtime has no embedded KMS emulator');
  emulator = runtime.kms;
  kms = emulatorKms(runtime);
  // Token and keys first: the faults below are for issuance, not for the authorization server.
  token = await clientCredentialsToken(runtime, runtime.credentials.issuer, 'licences:issue');
  keys = await issuerKeySet(runtime, runtime.credentials.issuer.id);
});
afterAll(async () => {
  emulator?.setFaults({});
  kms?.destroy();
  await runtime?.close();
});

describe('KMS emulator call statistics', () => {
  it('counts calls per X-Amz-Target operation, throttled ones included, until reset', async () => {
    emulator.resetStats();
    expect(emulator.stats()).toEqual({});
    await kms.send(new ListAliasesCommand({}));
    await kms.send(new ListAliasesCommand({}));
    emulator.setFaults({ throttleRate: 1 });
    try {
      await expect(kms.send(new ListAliasesCommand({}))).rejects.toMatchObject({
        name: 'ThrottlingException',
      });
    } finally {
      emulator.setFaults({});
    }
    expect(emulator.stats()).toEqual({ ListAliases: 3 });

    // A copy: changing it changes nothing in the emulator.
    const copy = emulator.stats();
    copy.ListAliases = 0;
    expect(emulator.stats()).toEqual({ ListAliases: 3 });

    emulator.resetStats();
    expect(emulator.stats()).toEqual({});
  });

  it('sees one Sign per issuance, the issuer key read at most once', async () => {
    emulator.resetStats();
    await issued(runtime, token, drivingLicenceBody(newIdNumber()));
    const stats = emulator.stats();
    expect(stats.Sign).toBe(1);
    expect(stats.GetPublicKey ?? 0).toBeLessThanOrEqual(1);
  });
});

interface Attempt {
  status: number;
  code?: string;
  id?: string;
}

/**
 * Sends `body` with `key` until the answer is 201 or 200, retrying a 409 `idempotency_key_in_use` or a
 * 5xx after a short jittered pause; any other answer, or the deadline, fails.
 */
async function issueUntilDone(body: unknown, key: string, deadline: number, log: Attempt[]): Promise<string> {
  for (;;) {
    const response = await issueLicence(runtime, token, body, key);
    const text = await response.text();
    const json = JSON.parse(text) as { id?: string; code?: string };
    log.push({ status: response.status, code: json.code, id: json.id });
    if (response.status === 201 || response.status === 200) return String(json.id);
    const retryable =
      (response.status === 409 && json.code === 'idempotency_key_in_use') || response.status >= 500;
    if (!retryable) throw new Error(`key ${key}: ${response.status} ${text}`);
    if (Date.now() > deadline) throw new Error(`key ${key}: still ${response.status} at the deadline`);
    await sleep(response.status === 409 ? randomInt(20, 80) : randomInt(50, 200));
  }
}

describe('issuance while KMS throttles 30% of calls', () => {
  it(
    'gives exactly one licence per key, every credential verifies, status-list slots have no gaps or duplicates',
    { timeout: 120_000 },
    async () => {
      const idNumbers = new Set<string>();
      while (idNumbers.size < CLIENTS) idNumbers.add(newIdNumber());
      const clients = [...idNumbers].map((idNumber) => ({
        idNumber,
        key: randomUUID(),
        body: drivingLicenceBody(idNumber),
        log: [] as Attempt[],
      }));

      const deadline = Date.now() + DEADLINE_MS;
      const started = Date.now();
      emulator.resetStats();
      emulator.setFaults({ throttleRate: 0.3 });
      let calls: Record<string, number>;
      try {
        await Promise.all(
          clients.map(async (client) => {
            const ids = await Promise.all(
              Array.from({ length: PARALLEL_PER_KEY }, () =>
                issueUntilDone(client.body, client.key, deadline, client.log),
              ),
            );
            // Once done, the key answers its licence again, whatever the faults.
            ids.push(await issueUntilDone(client.body, client.key, deadline, client.log));
            return ids;
          }),
        );
        calls = emulator.stats();
      } finally {
        emulator.setFaults({});
      }
      const elapsed = Date.now() - started;
      expect(elapsed).toBeLessThan(DEADLINE_MS);

      // The faults were real: more KMS calls than the one Sign per licence that succeeded.
      expect(calls.Sign ?? 0).toBeGreaterThan(CLIENTS);

      // Exactly one licence per key: one 201 (the request that created it), every other success a 200
      // with the same id; retryable refusals in between are allowed.
      const idByKey = new Map<string, string>();
      for (const client of clients) {
        const successes = client.log.filter((a) => a.status === 201 || a.status === 200);
        expect(successes, client.key).toHaveLength(PARALLEL_PER_KEY + 1);
        expect(
          successes.filter((a) => a.status === 201),
          client.key,
        ).toHaveLength(1);
        const ids = new Set(successes.map((a) => a.id));
        expect(ids.size, client.key).toBe(1);
        idByKey.set(client.key, successes[0]!.id!);
        for (const attempt of client.log) {
          if (attempt.status === 409) expect(attempt.code).toBe('idempotency_key_in_use');
        }
      }
      const ids = [...idByKey.values()];
      expect(new Set(ids).size).toBe(CLIENTS);

      // The issuer's whole listing: the seed's licences, the one above, and exactly these 50.
      const all = await listAll(runtime, token);
      const allIds = all.map((licence) => licence.id);
      expect(new Set(allIds).size).toBe(allIds.length);
      for (const id of ids) expect(allIds.filter((other) => other === id)).toHaveLength(1);

      // One licence per holder, too.
      for (const client of clients) {
        const held = await listAll(runtime, token, `holder=${client.idNumber}`);
        expect(held.map((licence) => licence.id)).toEqual([idByKey.get(client.key)]);
      }

      // Every credential verifies against the issuer's key from the trust list.
      const claims = new Map<string, CredentialClaims>();
      for (const licence of all) claims.set(licence.id, await verifyCredential(licence.credential, keys));
      for (const licence of all as LicenceJson[]) {
        expect(claims.get(licence.id)).toMatchObject({
          iss: `${runtime.baseUrl}/issuers/${runtime.credentials.issuer.id}`,
          jti: licence.id,
        });
      }

      // Status-list slots: one list, indexes 0..n-1 each exactly once, and each licence's serial is its idx.
      const slots = [...claims.values()].map((c) => c.status.status_list);
      expect(new Set(slots.map((slot) => slot.uri)).size).toBe(1);
      const indexes = slots.map((slot) => slot.idx).sort((a, b) => a - b);
      expect(indexes).toEqual(Array.from({ length: all.length }, (_, i) => i));
      for (const licence of all) {
        expect(parseLicenceId(licence.id).serial).toBe(claims.get(licence.id)!.status.status_list.idx);
      }

      // No slot was reserved and left behind: the next issuance takes the next index.
      const next = await issued(runtime, token, drivingLicenceBody(newIdNumber()));
      const nextClaims = await verifyCredential(next.credential, keys);
      expect(nextClaims.status.status_list.idx).toBe(all.length);

      // And the list says valid for every one of them.
      const uri = slots[0]!.uri;
      for (const slot of slots) expect(await statusAt(uri, slot.idx, keys)).toBe(StatusType.VALID);

      const answers = new Map<number, number>();
      for (const attempt of clients.flatMap((client) => client.log)) {
        answers.set(attempt.status, (answers.get(attempt.status) ?? 0) + 1);
      }
      console.info(
        `${CLIENTS} keys × ${PARALLEL_PER_KEY} concurrent requests under 30% KMS throttling: ${elapsed} ms; ` +
          `answers ${JSON.stringify(Object.fromEntries(answers))}; KMS calls ${JSON.stringify(calls)}`,
      );
    },
  );
});
