import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../shared/config.js';
import type { Mac } from '../../../shared/crypto/mac.js';
import { container } from '../../../functions/composition/dependencies.js';
import { pageClientSecrets, webMac } from '../../../functions/composition/factories.js';
import { demoPlatformClientId, walletClientId } from '../../../shared/identifiers/client-ids.js';

const config = loadConfig({});
const clock = { now: () => 0 };

/** An in-process HMAC that counts its calls: enough to see which key a secret came from. */
function countingMac(): Mac & { calls: number } {
  const mac = {
    calls: 0,
    mac: async (data: Uint8Array) => {
      mac.calls += 1;
      return new Uint8Array(createHmac('sha256', 'web key').update(data).digest());
    },
  };
  return mac;
}

describe('container', () => {
  it('builds each dependency on first use, once, and nothing it was not asked for', () => {
    let built = 0;
    const deps = container(config, clock, {
      webMac: () => {
        built += 1;
        return countingMac();
      },
      secrets: pageClientSecrets,
    });
    expect(built).toBe(0);
    expect(deps.webMac).toBe(deps.webMac);
    expect(built).toBe(1);
    expect(Object.keys(deps).sort()).toEqual(['clock', 'config', 'secrets', 'webMac']);
  });

  it('builds what a factory reads when that factory first runs (the KMS client for webMac)', () => {
    let clients = 0;
    const deps = container(config, clock, {
      kms: () => {
        clients += 1;
        return {} as never;
      },
      webMac,
    });
    expect(clients).toBe(0);
    void deps.webMac;
    void deps.webMac;
    expect(clients).toBe(1);
  });
});

describe('pageClientSecrets', () => {
  it('derives the page clients’ secrets from the web key, and refuses every other client’s', async () => {
    const web = countingMac();
    const deps = container(config, clock, { webMac: () => web, secrets: pageClientSecrets });
    expect(await deps.secrets.secretFor(walletClientId)).not.toEqual(
      await deps.secrets.secretFor(demoPlatformClientId),
    );
    expect(web.calls).toBe(2);
    await expect(deps.secrets.secretFor('elicence-issuer-client')).rejects.toThrow(
      'This function does not derive that client’s secret',
    );
  });
});
