import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDependencies } from '../../../functions/composition/dependencies.js';
import { recordShares } from '../../../shared/sharing/record-shares.js';
import { parseIdNumber } from '../../../shared/identifiers/id-number.js';
import { personLookupKey } from '../../../shared/identifiers/lookup-key.js';
import { proveAccountInPerson } from '../../support/assurance.js';
import { expectProblem, postJson } from '../../support/http-api.js';
import {
  licencesToken,
  adminToken,
  getWithToken,
  registerPlatform,
  runFlow,
  signIn,
  type RelyingParty,
  citizenAnswers,
} from '../../support/oidc-flows.js';
import { clientCredentialsToken, startTestRuntime, type TestRuntime } from '../../support/runtime.js';
import { UserAgent } from '../../support/user-agent.js';
import { issueDrivingLicence } from '../verify/helpers.js';

/** `GET /me/usage` (API.md, 用证记录): the entries as the holder reads them. */
interface UsageEntry {
  at: string;
  action: 'shared' | 'verified' | 'presented';
  licenceId: string;
  licenceType: string;
  client?: { id: string; name: string };
  purpose?: string;
  verdict?: string;
}
interface UsagePage {
  items: UsageEntry[];
  cursor?: string;
}

let runtime: TestRuntime;
let wallet: RelyingParty;
let citizenToken: string;
let licence: { id: string; credential: string };

/** A first-party app's access token (scope `licences`) for a person who signs in with a password. */
const tokenOf = (username: string, password: string) =>
  licencesToken(runtime, wallet, { username, password });

async function usage(token: string, query = ''): Promise<UsagePage> {
  const response = await getWithToken(runtime, `/me/usage${query}`, token);
  expect(response.status, await response.clone().text()).toBe(200);
  expect(response.headers.get('cache-control')).toContain('no-store');
  return (await response.json()) as UsagePage;
}

function verify(qr: string, token?: string) {
  return fetch(`${runtime.baseUrl}/verify`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ qr }),
  }).then(async (response) => {
    expect(response.status).toBe(200);
    return (await response.json()) as { verdict: string };
  });
}

/** Registers one of the seeded synthetic people, optionally proven in person (level 3). */
async function registered(index: number, proven: boolean): Promise<{ idNumber: string; password: string }> {
  const person = runtime.credentials.people[index]!;
  const password = `Usage-Record-${index}-2026`;
  const response = await postJson(runtime, '/accounts', undefined, {
    consent: true,
    idNumber: person.idNumber,
    name: person.name,
    password,
  });
  expect(response.status, await response.clone().text()).toBe(201);
  if (proven) await proveAccountInPerson(runtime, person.idNumber);
  return { idNumber: person.idNumber, password };
}

beforeAll(async () => {
  runtime = await startTestRuntime();
  wallet = await registerPlatform(runtime, await adminToken(runtime), {
    name: 'Wallet',
    redirectUris: ['https://wallet.example/cb'],
    scopes: ['openid', 'profile', 'licences', 'entity'],
    firstParty: true,
  });
  const { citizen } = runtime.credentials;
  citizenToken = await tokenOf(citizen.idNumber, citizen.password);
  const held = (await (await getWithToken(runtime, '/me/licences', citizenToken)).json()) as {
    items: Array<{ id: string; type: string; credential: string }>;
  };
  licence = held.items.find((one) => one.type === 'driving-licence')!;
  expect(licence).toBeDefined();
});
afterAll(() => runtime?.close());

describe('GET /me/usage: the holder’s usage record (用证记录)', () => {
  let all: UsageEntry[];

  it('lists an anonymous verification, a verifier app’s, a presentation and a share, newest first', async () => {
    expect((await usage(citizenToken)).items).toEqual([]);

    expect((await verify(licence.credential)).verdict).toBe('valid');
    const verifierToken = await clientCredentialsToken(
      runtime,
      runtime.credentials.verifier,
      'licences:verify',
    );
    expect((await verify(licence.credential, verifierToken)).verdict).toBe('valid');
    const presented = await fetch(
      `${runtime.baseUrl}/me/licences/${encodeURIComponent(licence.id)}/presentations`,
      {
        method: 'POST',
        headers: { authorization: `Bearer ${citizenToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ disclose: ['vehicleClass'] }),
      },
    );
    expect(presented.status).toBe(201);
    // A share with a platform (授权用证), written as the sharing route writes it: through the audit port.
    const deps = buildDependencies(runtime.config);
    const holderKey = await personLookupKey(
      deps.lookupMac,
      parseIdNumber(runtime.credentials.citizen.idNumber, new Date()),
    );
    await new Promise((resolve) => setTimeout(resolve, 5));
    await deps.audit.record({
      at: new Date().toISOString(),
      actor: runtime.credentials.platform.clientId,
      action: 'licence.shared',
      licenceId: licence.id,
      licenceType: 'driving-licence',
      holderKey,
      purpose: '办理车辆登记',
      requestId: 'req-that-the-holder-never-sees',
    });

    const { items, cursor } = await usage(citizenToken);
    expect(cursor).toBeUndefined();
    const base = { at: expect.any(String), licenceId: licence.id, licenceType: 'driving-licence' };
    // toEqual, so nothing else is answered: no holder, no fields, no request ids, no reason text.
    expect(items).toEqual([
      {
        ...base,
        action: 'shared',
        client: { id: runtime.credentials.platform.clientId, name: 'Demo government platform' },
        purpose: '办理车辆登记',
      },
      { ...base, action: 'presented' },
      {
        ...base,
        action: 'verified',
        client: { id: runtime.credentials.verifier.clientId, name: 'Demo verifier app' },
        verdict: 'valid',
      },
      { ...base, action: 'verified', verdict: 'valid' },
    ]);
    expect(items.map((one) => one.at)).toEqual(
      items
        .map((one) => one.at)
        .sort()
        .reverse(),
    );
    all = items;
  });

  it('pages through the record with limit and cursor, each entry once', async () => {
    const seen: UsageEntry[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await usage(
        citizenToken,
        `?limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      expect(page.items).toHaveLength(1);
      seen.push(...page.items);
      cursor = page.cursor;
      pages += 1;
    } while (cursor && pages < 10);
    expect(seen).toEqual(all);
    const firstTwo = await usage(citizenToken, '?limit=2');
    expect(firstTwo.items).toEqual(all.slice(0, 2));
    expect((await usage(citizenToken, `?limit=2&cursor=${firstTwo.cursor}`)).items).toEqual(all.slice(2));
  });

  it('refuses a bad limit or cursor, naming it', async () => {
    for (const [query, path] of [
      ['?limit=0', 'limit'],
      ['?limit=101', 'limit'],
      ['?limit=ten', 'limit'],
      ['?cursor=not-a-cursor', 'cursor'],
      ['?cursor=', 'cursor'],
      ['?colour=blue', ''],
    ] as const) {
      const response = await getWithToken(runtime, `/me/usage${query}`, citizenToken);
      const body = await expectProblem(response, 400);
      expect(['invalid_request', 'invalid_cursor'], query).toContain(body.code);
      if (path)
        expect(
          body.errors?.map((e) => e.path),
          query,
        ).toContain(path);
    }
  });

  it('is the holder’s alone: another person sees none of it, and their own uses only', async () => {
    const other = await registered(0, true);
    const otherToken = await tokenOf(other.idNumber, other.password);
    // The other person verifying the citizen's licence is a use of the citizen's licence, not theirs.
    expect((await verify(licence.credential)).verdict).toBe('valid');
    expect((await usage(otherToken)).items).toEqual([]);
    expect((await usage(citizenToken)).items).toHaveLength(all.length + 1);
  });

  it('shows nothing of a licence type the sign-in’s level does not open (a number merely registered)', async () => {
    const person = await registered(1, false);
    const issuerToken = await clientCredentialsToken(runtime, runtime.credentials.issuer, 'licences:issue');
    const theirs = await issueDrivingLicence(runtime, issuerToken, { holder: { idNumber: person.idNumber } });
    expect((await verify(theirs.credential)).verdict).toBe('valid');
    expect((await usage(await tokenOf(person.idNumber, person.password))).items).toEqual([]);

    await proveAccountInPerson(runtime, person.idNumber);
    const proven = await usage(await tokenOf(person.idNumber, person.password));
    expect(proven.items).toEqual([
      {
        at: expect.any(String),
        action: 'verified',
        licenceId: theirs.id,
        licenceType: 'driving-licence',
        verdict: 'valid',
      },
    ]);
  });

  it('is read in a first-party app only: a platform’s token is refused', async () => {
    // A platform cannot hold `licences` (registration refuses it: privacy review R9 H1); its sign-in
    // token reads neither the licences nor the record of who used them.
    const platform = await registerPlatform(runtime, await adminToken(runtime), {
      name: '某平台',
      redirectUris: ['https://platform.example/cb'],
      scopes: ['openid', 'profile'],
    });
    const { tokens } = await signIn(platform, new UserAgent(runtime.baseUrl), citizenAnswers(runtime), {
      scope: 'openid profile',
    });
    for (const path of ['/me/usage', '/me/licences']) {
      expect([401, 403], path).toContain((await getWithToken(runtime, path, tokens.access_token)).status);
    }
  });

  it('covers the enterprise the person acts for in this session, and only in it', async () => {
    const { entity } = runtime.credentials;
    const { tokens } = await signIn(
      wallet,
      new UserAgent(runtime.baseUrl),
      { ...citizenAnswers(runtime), entity: entity.creditCode },
      { scope: 'openid licences entity' },
    );
    const entityToken = tokens.access_token;
    const held = (await (await getWithToken(runtime, '/me/licences', entityToken)).json()) as {
      items: Array<{ id: string; type: string; credential: string }>;
    };
    const businessLicence = held.items.find((one) => one.type === 'business-licence')!;
    expect(businessLicence).toBeDefined();
    expect((await verify(businessLicence.credential)).verdict).toBe('valid');

    const acting = await usage(entityToken);
    expect(acting.items[0]).toEqual({
      at: expect.any(String),
      action: 'verified',
      licenceId: businessLicence.id,
      licenceType: 'business-licence',
      verdict: 'valid',
    });
    // The person's own entries are there too; signed in for themselves, the enterprise's are not.
    expect(acting.items.map((one) => one.licenceId)).toContain(licence.id);
    expect((await usage(citizenToken)).items.map((one) => one.licenceId)).not.toContain(businessLicence.id);
  });

  it('GET /admin/audit never answers the holder’s lookup key', async () => {
    const response = await getWithToken(
      runtime,
      `/admin/audit?licence=${encodeURIComponent(licence.id)}`,
      await adminToken(runtime),
    );
    expect(response.status).toBe(200);
    const text = await response.text();
    const { items } = JSON.parse(text) as { items: Array<Record<string, unknown>> };
    const uses = items.filter((one) =>
      ['licence.verified', 'licence.presented', 'licence.shared'].includes(String(one.action)),
    );
    expect(uses.length).toBeGreaterThanOrEqual(5);
    for (const one of uses) expect(one.licenceType).toBe('driving-licence');
    expect(text).not.toContain('holderKey');
    // Nor the salt of the holder's commitment (security review L2): the commitment alone is answered.
    expect(text).not.toContain('holderSalt');
    expect(uses.every((one) => /^[0-9a-f]{64}$/.test(String(one.holderCommitment)))).toBe(true);
    const deps = buildDependencies(runtime.config);
    const holderKey = await personLookupKey(
      deps.lookupMac,
      parseIdNumber(runtime.credentials.citizen.idNumber, new Date()),
    );
    expect(text).not.toContain(holderKey);
  });
});

describe('a flood of anonymous verifications does not bury a share (security review r2)', () => {
  it('finds the platform’s share on the first page of ?action=shared, which the unfiltered page no longer holds', async () => {
    const flood = (count: number) =>
      Promise.all(
        Array.from({ length: 4 }, async () => {
          for (let i = 0; i < count / 4; i++)
            expect((await verify(licence.credential)).verdict).toBe('valid');
        }),
      );
    await flood(20);
    // A platform reads the licence with the person's consent: a share (授权用证) in their record, written
    // as GET /shared/licences writes it (recordShares; the flow itself: test/integration/sharing).
    const platform = await registerPlatform(runtime, await adminToken(runtime), {
      name: '被淹没的平台',
      redirectUris: ['https://buried.example/cb'],
      scopes: ['openid', 'profile'],
      authorizationDetailsTypes: ['licence_access'],
    });
    const writer = buildDependencies(runtime.config);
    const record = await writer.licences.get(licence.id);
    await recordShares(
      { clientId: platform.clientId, at: new Date().toISOString(), purposeOf: () => '办理业务' },
      [record!],
      writer,
    );
    writer.doc.destroy();
    writer.kms.destroy();
    const isTheShare = (one: UsageEntry) => one.action === 'shared' && one.client?.id === platform.clientId;
    expect((await usage(citizenToken, '?limit=100')).items.some(isTheShare)).toBe(true);

    // More anonymous verifications of the printed code than a page holds: every one is recorded...
    await flood(104);
    const unfiltered = await usage(citizenToken, '?limit=100');
    expect(unfiltered.items).toHaveLength(100);
    expect(unfiltered.items.every((one) => one.action === 'verified' && !one.client)).toBe(true);
    expect(unfiltered.items.some(isTheShare)).toBe(false);

    // ...and the share is one filter away, on the first page.
    const shares = await usage(citizenToken, '?action=shared&limit=20');
    expect(shares.items.length).toBeGreaterThan(0);
    expect(shares.items.every((one) => one.action === 'shared')).toBe(true);
    expect(shares.items[0]).toEqual({
      at: expect.any(String),
      action: 'shared',
      licenceId: licence.id,
      licenceType: 'driving-licence',
      client: { id: platform.clientId, name: '被淹没的平台' },
      purpose: '办理业务',
    });
    const verified = await usage(citizenToken, '?action=verified&limit=5');
    expect(verified.items.map((one) => one.action)).toEqual(Array(5).fill('verified'));
    expect(verified.cursor).toBeDefined();
    const presented = await usage(citizenToken, '?action=presented');
    expect(presented.items.length).toBeGreaterThan(0);
    expect(presented.items.every((one) => one.action === 'presented')).toBe(true);
  });

  it('finds the share on the first page of ?action=shared under more than 1,000 newer verifications, in one query', async () => {
    // A printed QR code verified anonymously, concurrently, more than 1,000 times after the share: more
    // than a page filtered from the holder's whole record could read past (security review r2, again).
    const before = (await usage(citizenToken, '?action=shared&limit=100')).items;
    expect(before.length).toBeGreaterThan(0);
    let verifications = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (verifications < 1_050) {
          verifications += 1;
          expect((await verify(licence.credential)).verdict).toBe('valid');
        }
      }),
    );
    const unfiltered = await usage(citizenToken, '?limit=100');
    expect(unfiltered.items.every((one) => one.action === 'verified')).toBe(true);

    const dynamo = runtime.dynamo!;
    dynamo.resetStats();
    const shares = await usage(citizenToken, '?action=shared&limit=100');
    // Exact: the same shares as before the flood, newest first, and nothing after them.
    expect(shares).toEqual({ items: before });
    expect(shares.items[0]!.at < unfiltered.items.at(-1)!.at).toBe(true);
    // One query of the index by holder and action (the backfill's mark read once per container, before).
    expect(dynamo.stats().Query).toBe(1);
  });

  it('refuses an unknown action, naming it', async () => {
    for (const action of ['share', 'SHARED', 'licence.shared', '']) {
      const response = await getWithToken(
        runtime,
        `/me/usage?action=${encodeURIComponent(action)}`,
        citizenToken,
      );
      const body = await expectProblem(response, 400, 'invalid_request');
      expect(
        body.errors?.map((e) => e.path),
        action,
      ).toContain('action');
    }
  });

  it('the wallet’s page links each kind, and keeps the kind shown across its older pages', async () => {
    const ua = new UserAgent(runtime.baseUrl);
    await runFlow(ua, '/wallet/login', citizenAnswers(runtime));
    const page = async (query: string) => {
      const response = await ua.request(`/wallet/usage${query}`);
      expect(response.status).toBe(200);
      return response.text();
    };
    /** The link of the page with this id (tags as written: attributes on one line or several). */
    const link = (text: string, id: string) => {
      const tag = [...text.matchAll(/<a\s[^>]*>/g)].map((m) => m[0]).find((a) => a.includes(`id="${id}"`));
      if (!tag) return undefined;
      return {
        href: /href="([^"]*)"/.exec(tag)![1]!.replace(/&amp;/g, '&'),
        current: tag.includes('aria-current="page"'),
      };
    };
    const links = (text: string) =>
      Object.fromEntries(
        ['all', 'shared', 'verified', 'presented'].map((kind) => [kind, link(text, `usage-filter-${kind}`)]),
      );
    const all = await page('');
    expect(links(all)).toEqual({
      all: { href: '/wallet/usage', current: true },
      shared: { href: '/wallet/usage?action=shared', current: false },
      verified: { href: '/wallet/usage?action=verified', current: false },
      presented: { href: '/wallet/usage?action=presented', current: false },
    });
    expect(all).toContain('全部');
    expect(all).toContain('授权用证');
    // The flood above fills the unfiltered page; the shares page shows the buried share.
    expect(all).not.toContain('被淹没的平台');
    const shared = await page('?action=shared');
    expect(links(shared).shared!.current).toBe(true);
    expect(links(shared).all!.current).toBe(false);
    expect(shared).toContain('被淹没的平台');
    expect(shared).not.toContain('usage-verified');

    // 'Older entries' keeps the kind, and so does 'back to the newest' on the older page.
    const verified = await page('?action=verified');
    const olderHref = link(verified, 'usage-older')?.href;
    expect(olderHref).toBeDefined();
    const next = new URL(olderHref!, runtime.baseUrl);
    expect(next.pathname).toBe('/wallet/usage');
    expect(next.searchParams.get('action')).toBe('verified');
    expect(next.searchParams.get('cursor')).toBeTruthy();
    const second = await page(`${next.search}`);
    expect(second).not.toContain('usage-shared');
    expect(second).toContain('usage-verified');
    expect(link(second, 'usage-newest')?.href).toBe('/wallet/usage?action=verified');

    // English, and a kind the record does not have shown as all.
    const english = await page('?action=shared&lang=en');
    expect(english).toMatch(/id="usage-filter-shared"[^>]*>\s*Shares\s*<\/a/);
    expect(links(await page('?action=bogus')).all!.current).toBe(true);
  });
});
