import { GenerateMacCommand } from '@aws-sdk/client-kms';
import { afterAll, describe, expect, it } from 'vitest';
import { dependencies } from '../../../functions/composition/dependencies.js';
import { emulatorKms, postJson, tokenRequest } from '../../support/http-api.js';
import { clientCredentialsToken, startTestRuntime, type TestRuntime } from '../../support/runtime.js';

/**
 * A data folder seeded before client secrets had a key of their own (docs/operating.md, "Client secrets"):
 * its demo clients' records carry no `secret_key`, and their secrets are the lookup key's MACs. `npm start`
 * on it keeps them so (the credentials it prints still work), until an operator rotates a client; a
 * rotated client stays rotated across restarts.
 */

let runtime: TestRuntime | undefined;
afterAll(() => runtime?.close());

/** The lookup key's MAC of `clientId`: every client's secret before the client-secret key. */
async function lookupKeySecret(started: TestRuntime, clientId: string): Promise<string> {
  const kms = emulatorKms(started);
  try {
    const { Mac } = await kms.send(
      new GenerateMacCommand({
        KeyId: started.config.lookupMacKeyId,
        MacAlgorithm: 'HMAC_SHA_256',
        Message: new TextEncoder().encode(`elicence/oauth-client-secret/v1\0${clientId}`),
      }),
    );
    return Buffer.from(Mac!).toString('base64url');
  } finally {
    kms.destroy();
  }
}

async function restart(dataDir: string): Promise<TestRuntime> {
  await runtime?.close();
  runtime = await startTestRuntime(dataDir);
  return runtime;
}

describe('a data folder seeded before the client-secret key', () => {
  it('keeps its demo clients on their lookup-key secrets across starts, until one is rotated', async () => {
    runtime = await startTestRuntime();
    const { dataDir } = runtime;
    const { admin, verifier, issuer } = runtime.credentials;
    // Make the folder as an earlier version left it: the same records without the marker.
    for (const clientId of [admin.clientId, verifier.clientId, issuer.clientId]) {
      const {
        secret_key: _key,
        secret_version: _version,
        ...record
      } = (await dependencies().clients.find(clientId))!;
      await dependencies().clients.save({ ...record, client_id: clientId });
    }

    const second = await restart(dataDir);
    for (const client of [second.credentials.admin, second.credentials.verifier, second.credentials.issuer]) {
      expect(client.clientSecret, client.clientId).toBe(await lookupKeySecret(second, client.clientId));
      expect(
        (await dependencies().clients.find(client.clientId))?.secret_key,
        client.clientId,
      ).toBeUndefined();
    }
    const adminToken = await clientCredentialsToken(second, second.credentials.admin, 'admin');
    await clientCredentialsToken(second, second.credentials.issuer, 'licences:issue');

    const rotated = await postJson(
      second,
      `/admin/clients/${verifier.clientId}/secret`,
      adminToken,
      undefined,
    );
    expect(rotated.status).toBe(200);
    const { clientSecret } = (await rotated.json()) as { clientSecret: string };

    // The next start prints the rotated secret, which works; the lookup key's is refused.
    const third = await restart(dataDir);
    expect(third.credentials.verifier.clientSecret).toBe(clientSecret);
    expect(third.credentials.admin.clientSecret).toBe(await lookupKeySecret(third, admin.clientId));
    await clientCredentialsToken(third, third.credentials.verifier, 'licences:verify');
    const old = await tokenRequest(
      third,
      { clientId: verifier.clientId, clientSecret: await lookupKeySecret(third, verifier.clientId) },
      { grant_type: 'client_credentials', scope: 'licences:verify' },
    );
    expect(old.status).toBe(401);
  });
});
