import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClientStore } from '../../../shared/clients/client-store.js';
import { dependencies } from '../../../functions/composition/dependencies.js';
import { postJson, tokenRequest } from '../../support/http-api.js';
import { adminToken, registerPlatform } from '../../support/oidc-flows.js';
import { startTestRuntime, type TestRuntime } from '../../support/runtime.js';

/**
 * `PATCH /admin/clients/{id}` (an operator changing a platform's events endpoint) and
 * `POST /admin/clients/{id}/secret` (rotating its secret, because the old one leaked) at the same moment:
 * the PATCH must change its member and nothing else. It used to read the whole record and save it back,
 * so a rotation landing between its read and its write was undone: the record named the old secret's
 * version again, the secret the operator was just shown stopped working, and the leaked one worked again.
 */

/** Armed: the next `find` of the client store (the PATCH's read) lets `meanwhile` run before it answers. */
let meanwhile: (() => Promise<void>) | undefined;

/** The client store every function uses, running `meanwhile` between a read and what the reader does next. */
function interleaved(store: ClientStore): ClientStore {
  return {
    save: (metadata) => store.save(metadata),
    register: (metadata, trace) => store.register(metadata, trace),
    update: (clientId, change, trace) => store.update(clientId, change, trace),
    delete: (clientId) => store.delete(clientId),
    find: async (clientId) => {
      const read = await store.find(clientId);
      const run = meanwhile;
      meanwhile = undefined;
      // The read is answered as it was before the other request's write: a stale view.
      await run?.();
      return read;
    },
  };
}

let runtime: TestRuntime;
let admin: string;

beforeAll(async () => {
  runtime = await startTestRuntime(undefined, {}, { clients: (operator) => interleaved(operator.clients) });
  admin = await adminToken(runtime);
});
afterAll(async () => {
  await runtime?.close();
});

/** Whether the token endpoint takes `secret` as the client's (a platform may not use client_credentials: 400, not 401). */
async function authenticates(clientId: string, secret: string): Promise<boolean> {
  const response = await tokenRequest(
    runtime,
    { clientId, clientSecret: secret },
    { grant_type: 'client_credentials', scope: 'openid' },
  );
  return response.status !== 401;
}

describe('a PATCH of a client racing a rotation of its secret', () => {
  it('keeps the rotated secret: the PATCH writes its member only, never the record it read', async () => {
    const platform = await registerPlatform(runtime, admin, {
      name: '并发修改测试平台',
      redirectUris: ['https://race.example/callback'],
      scopes: ['openid', 'profile'],
    });
    expect(await authenticates(platform.clientId, platform.clientSecret)).toBe(true);

    let rotatedSecret: string | undefined;
    meanwhile = async () => {
      const rotated = await postJson(runtime, `/admin/clients/${platform.clientId}/secret`, admin, undefined);
      expect(rotated.status, await rotated.clone().text()).toBe(200);
      rotatedSecret = ((await rotated.json()) as { clientSecret: string }).clientSecret;
    };
    const patched = await fetch(`${runtime.baseUrl}/admin/clients/${platform.clientId}`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ eventsUri: 'https://race.example/events' }),
    });
    expect(patched.status, await patched.clone().text()).toBe(200);
    expect(rotatedSecret).toBeDefined();

    // Both changes stand: the endpoint set, the secret rotated (the leaked one refused, the new one taken).
    const stored = await dependencies().clients.find(platform.clientId);
    expect(stored).toMatchObject({ events_uri: 'https://race.example/events', secret_version: 2 });
    expect(await authenticates(platform.clientId, rotatedSecret!)).toBe(true);
    expect(await authenticates(platform.clientId, platform.clientSecret)).toBe(false);
  });

  it('answers 404 for a client deleted between its read and its write, and creates nothing', async () => {
    const platform = await registerPlatform(runtime, admin, {
      name: '并发删除测试平台',
      redirectUris: ['https://gone.example/callback'],
      scopes: ['openid', 'profile'],
    });
    meanwhile = () => dependencies().clients.delete(platform.clientId);
    const patched = await fetch(`${runtime.baseUrl}/admin/clients/${platform.clientId}`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ eventsUri: 'https://gone.example/events' }),
    });
    expect(patched.status, await patched.clone().text()).toBe(404);
    expect(await dependencies().clients.find(platform.clientId)).toBeUndefined();
  });
});
