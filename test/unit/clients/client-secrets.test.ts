import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  ClientSecrets,
  onClientSecretKey,
  secretMarkersOf,
  secretVersionOf,
} from '../../../shared/clients/client-secrets.js';
import type { Mac } from '../../../shared/crypto/mac.js';

/** A MAC under `key` that counts its calls. */
function mac(key: string): Mac & { calls: number } {
  const counted = {
    calls: 0,
    mac: async (data: Uint8Array) => {
      counted.calls++;
      return new Uint8Array(createHmac('sha256', key).update(data).digest());
    },
  };
  return counted;
}

describe('ClientSecrets', () => {
  it('derives a marked client’s secret from the client-secret key, an unmarked one’s from the lookup key', async () => {
    const clientSecret = mac('client-secret');
    const lookup = mac('lookup');
    const secrets = new ClientSecrets({ clientSecret, lookup });
    const onKey = await secrets.secretFor('cl_1', onClientSecretKey());
    const legacy = await secrets.secretFor('cl_1', {});
    expect(onKey).not.toBe(legacy);
    expect(clientSecret.calls).toBe(1);
    expect(lookup.calls).toBe(1);
    // Kept per container, per key.
    expect(await secrets.secretFor('cl_1', { secret_key: 'client-secret' })).toBe(onKey);
    expect(await secrets.secretFor('cl_1')).toBe(legacy);
    expect(clientSecret.calls + lookup.calls).toBe(2);
  });

  it('gives each version of a rotated secret its own value', async () => {
    const secrets = new ClientSecrets({ clientSecret: mac('client-secret') });
    const [one, two, three] = await Promise.all(
      [1, 2, 3].map((version) => secrets.secretFor('cl_1', onClientSecretKey(version))),
    );
    expect(new Set([one, two, three]).size).toBe(3);
    expect(onClientSecretKey(1)).toEqual({ secret_key: 'client-secret' });
    expect(onClientSecretKey(2)).toEqual({ secret_key: 'client-secret', secret_version: 2 });
  });

  it('refuses a legacy secret without the lookup key, and fails closed on a marker it does not know', async () => {
    const secrets = new ClientSecrets({ clientSecret: mac('client-secret') });
    await expect(secrets.secretFor('cl_1', {})).rejects.toThrow('registered before its own key');
    expect(() => secretVersionOf({ secret_key: 'lookup' })).toThrow('does not know');
    expect(() => secretVersionOf({ secret_key: 'client-secret', secret_version: 0 })).toThrow();
    expect(() => secretVersionOf({ secret_key: 'client-secret', secret_version: '2' })).toThrow();
    expect(secretVersionOf({})).toBeUndefined();
    expect(secretMarkersOf({ client_id: 'cl_1', scope: 'openid', secret_key: 'client-secret' })).toEqual({
      secret_key: 'client-secret',
    });
  });

  it('derives the page clients’ secrets from the web key, whatever the markers say', async () => {
    const web = mac('web');
    const secrets = new ClientSecrets({
      clientSecret: mac('client-secret'),
      pageClients: { ids: ['wallet'], mac: web },
    });
    expect(await secrets.secretFor('wallet', { secret_key: 'nonsense' })).toBe(
      await secrets.secretFor('wallet'),
    );
    expect(web.calls).toBe(1);
  });
});
