import { GetCommand, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDependencies, type Dependencies } from '../../../functions/composition/dependencies.js';
import { interactionCookieKey } from '../../../shared/sso/derived-secrets.js';
import { keys } from '../../../shared/adapters/dynamo/keys.js';
import { maxQueryLength } from '../../../shared/http/edge.js';
import { unmetResult } from '../../../shared/sso/phone-interactions.js';
import {
  interactionCookieBytes,
  InteractionCookies,
  MAX_AUTHORIZATION_STATE_BYTES,
  MAX_INTERACTION_COOKIE_BYTES,
} from '../../../shared/sso/interaction-cookies.js';
import {
  citizenAnswers,
  adminToken,
  authorizationRequest,
  callbackOf,
  exchange,
  registerPlatform,
  runFlow,
  type AuthorizationRequest,
  type RelyingParty,
} from '../../support/oidc-flows.js';
import { startTestRuntime, type TestRuntime } from '../../support/runtime.js';
import { parseForm, UserAgent } from '../../support/user-agent.js';

/**
 * A sign-in under way (the provider's interaction) lives in the browser, in a sealed cookie per
 * interaction (shared/sso/interaction-cookies.ts), not in the table (but for a state too large for its
 * cookie, kept under `interaction-state#<uid>`, the cookie pointing at it): what the browser sends back
 * must open under the service's key for that uid and browser, unexpired, and its resume makes a code
 * once (`oidc#InteractionUsed#<uid>`, shared/adapters/dynamo/oidc-adapter.ts).
 */

let runtime: TestRuntime;
let platform: RelyingParty;
let deps: Dependencies;
let sealing: InteractionCookies;
/** The browser's binding cookie on plain http (`__Host-sign-in-browser` on https). */
const BROWSER_COOKIE = 'sign-in-browser';
const cookieOptions = { secure: false, paths: (uid: string) => [`/interaction/${uid}`, `/authorize/${uid}`] };

beforeAll(async () => {
  runtime = await startTestRuntime();
  platform = await registerPlatform(runtime, await adminToken(runtime), {
    name: '交互 Interaction cookies',
    redirectUris: ['https://interaction-cookies.example/cb'],
    scopes: ['openid', 'profile'],
    firstParty: true,
  });
  deps = buildDependencies(runtime.config);
  // The local runtime serves plain http on loopback: the cookie is not `Secure` there (nor prefixed).
  sealing = new InteractionCookies(await interactionCookieKey(deps.interactionMac), cookieOptions);
});
afterAll(async () => {
  deps?.doc.destroy();
  deps?.kms.destroy();
  await runtime?.close();
});

const citizen = () => citizenAnswers(runtime);

/** The sign-in page of a new authorization request, shown in `ua`. */
async function signInPage(ua: UserAgent, request?: AuthorizationRequest) {
  const asked = request ?? (await authorizationRequest(platform));
  const { page } = await ua.navigate(asked.url);
  expect(page?.status).toBe(200);
  const form = parseForm(page!.html)!;
  expect(form.action).toMatch(/\/login$/);
  const uid = /^\/interaction\/([^/]+)$/.exec(page!.url.pathname)![1]!;
  return { request: asked, uid, form, page: page! };
}

/** Types the right password on the sign-in page: the answer is the 303 to the provider's resume. */
async function passwordTyped(ua: UserAgent, shown: Awaited<ReturnType<typeof signInPage>>) {
  const answer = await ua.request(new URL(shown.form.action, shown.page.url), { form: citizen() });
  expect(answer.status).toBe(303);
  return new URL(answer.headers.get('location')!, runtime.baseUrl);
}

const codeIn = (response: Response) => {
  const location = response.headers.get('location');
  if (!location || !location.startsWith(platform.redirectUri)) return undefined;
  return new URL(location).searchParams.get('code') ?? undefined;
};

/** The value of the cookie `name` in a `Cookie` header. */
const valueIn = (header: string, name: string) =>
  header
    .split('; ')
    .find((pair) => pair.startsWith(`${name}=`))
    ?.slice(name.length + 1);

/** A `Cookie` header with the cookie `name` replaced by `value`. */
const withValue = (header: string, name: string, value: string) =>
  header
    .split('; ')
    .map((pair) => (pair.startsWith(`${name}=`) ? `${name}=${value}` : pair))
    .join('; ');

/** A GET of `url` with exactly the `Cookie` header `cookie`, as a browser holding those cookies. */
const getWith = (url: URL | string, cookie: string) =>
  fetch(new URL(url, runtime.baseUrl), { headers: { accept: 'text/html', cookie }, redirect: 'manual' });

describe('the sign-in under way, in a sealed cookie', () => {
  it('is set per interaction, HttpOnly, SameSite=Lax, for its pages and the resume only, and fits a browser', async () => {
    const ua = new UserAgent(runtime.baseUrl);
    const request = await authorizationRequest(platform);
    const answer = await ua.request(request.url);
    expect(answer.status).toBe(303);
    const uid = /\/interaction\/([^/?]+)/.exec(answer.headers.get('location')!)![1]!;
    const set = answer.headers.getSetCookie().filter((line) => line.startsWith(`${sealing.nameOf(uid)}=`));
    expect(set.map((line) => /Path=([^;]+)/.exec(line)?.[1]).sort()).toEqual([
      `/authorize/${uid}`,
      `/interaction/${uid}`,
    ]);
    for (const line of set) {
      expect(line).toMatch(/; HttpOnly/);
      expect(line).toMatch(/; SameSite=Lax/);
      expect(line).toMatch(/; Max-Age=\d+/);
      const pair = line.split(';')[0]!;
      expect(pair.length).toBeLessThanOrEqual(MAX_INTERACTION_COOKIE_BYTES);
    }
    // With it, once per browser, the binding the seal names: host-wide, HttpOnly, SameSite=Lax.
    const binding = answer.headers.getSetCookie().filter((line) => line.startsWith(`${BROWSER_COOKIE}=`));
    expect(binding).toHaveLength(1);
    expect(binding[0]).toMatch(
      /^sign-in-browser=[A-Za-z0-9_-]{43}; Path=\/; Max-Age=\d+; HttpOnly; SameSite=Lax$/,
    );
    // Not sent anywhere else: the landing page and another interaction's pages get none of it.
    expect(ua.cookieHeader(new URL('/', runtime.baseUrl))).not.toContain(sealing.nameOf(uid));
    expect(ua.cookieHeader(new URL('/interaction/other', runtime.baseUrl))).not.toContain(
      sealing.nameOf(uid),
    );
  });

  it('opens nothing with one byte changed: no page, no sign-in, no code', async () => {
    const ua = new UserAgent(runtime.baseUrl);
    const shown = await signInPage(ua);
    const resume = await passwordTyped(ua, shown);
    const name = sealing.nameOf(shown.uid);
    const held = ua.cookieHeader(resume);
    const value = valueIn(held, name)!;
    const bytes = Buffer.from(value, 'base64url');
    bytes[Math.floor(bytes.length / 2)]! ^= 0x01;
    const tampered = withValue(held, name, bytes.toString('base64url'));

    const resumed = await getWith(resume, tampered);
    expect(resumed.status).toBeGreaterThanOrEqual(400);
    expect(resumed.status).toBeLessThan(500);
    expect(codeIn(resumed)).toBeUndefined();
    const pageCookies = withValue(
      ua.cookieHeader(new URL(`/interaction/${shown.uid}`, runtime.baseUrl)),
      name,
      bytes.toString('base64url'),
    );
    const page = await getWith(`/interaction/${shown.uid}`, pageCookies);
    expect(page.status).toBeGreaterThanOrEqual(400);
    expect(page.status).toBeLessThan(500);
    expect(await page.text()).not.toMatch(/action="\/interaction\/[^"]+\/login"/);
    // The untouched cookie still works: the change alone made the difference.
    const genuine = await ua.request(resume);
    expect(codeIn(genuine)).toBeTypeOf('string');
  });

  it('opens nothing once expired, nor sealed for another interaction', async () => {
    const ua = new UserAgent(runtime.baseUrl);
    const shown = await signInPage(ua);
    const resume = await passwordTyped(ua, shown);
    const name = sealing.nameOf(shown.uid);
    const held = ua.cookieHeader(resume);
    const now = Math.floor(Date.now() / 1000);
    const browser = valueIn(held, BROWSER_COOKIE);
    const payload = sealing.open(shown.uid, valueIn(held, name)!, now, browser)!;
    expect(payload).toMatchObject({ result: { login: {} } });

    const expired = withValue(held, name, sealing.seal(shown.uid, payload, now - 1, browser!));
    const late = await getWith(resume, expired);
    expect(late.status).toBeGreaterThanOrEqual(400);
    expect(late.status).toBeLessThan(500);
    expect(codeIn(late)).toBeUndefined();
    const elsewhere = withValue(
      held,
      name,
      sealing.seal('AnotherInteraction123', payload, now + 600, browser!),
    );
    expect(codeIn(await getWith(resume, elsewhere))).toBeUndefined();

    // The same state sealed for this uid with time left does resume: only the expiry refused it.
    const fresh = withValue(held, name, sealing.seal(shown.uid, payload, now + 600, browser!));
    expect(codeIn(await getWith(resume, fresh))).toBeTypeOf('string');
  });

  it('opens nothing sealed under a key the lookup key derives: its other holders cannot forge a login', async () => {
    // The victim's account, as their own sign-in records it.
    const victim = new UserAgent(runtime.baseUrl);
    const theirs = await signInPage(victim);
    const theirResume = await passwordTyped(victim, theirs);
    const now = Math.floor(Date.now() / 1000);
    const victimLogin = (
      sealing.open(
        theirs.uid,
        valueIn(victim.cookieHeader(theirResume), sealing.nameOf(theirs.uid))!,
        now,
        valueIn(victim.cookieHeader(theirResume), BROWSER_COOKIE),
      )!.result as { login: { accountId: string } }
    ).login;

    // The attacker holds the lookup key (as admin, licences, me, accounts and batches do), starts a
    // sign-in of their own, types no password, and seals the victim's login into its cookie.
    const ua = new UserAgent(runtime.baseUrl);
    const shown = await signInPage(ua);
    const name = sealing.nameOf(shown.uid);
    const resume = new URL(`/authorize/${shown.uid}`, runtime.baseUrl);
    const held = ua.cookieHeader(resume);
    const browser = valueIn(held, BROWSER_COOKIE);
    const payload = sealing.open(shown.uid, valueIn(held, name)!, now, browser)!;
    expect(payload.result).toBeUndefined();
    const forged = { ...payload, result: { login: { accountId: victimLogin.accountId, acr: 'loa:3' } } };
    const lookupSealing = new InteractionCookies(await interactionCookieKey(deps.lookupMac), cookieOptions);

    const answer = await getWith(
      resume,
      withValue(held, name, lookupSealing.seal(shown.uid, forged, now + 600, browser!)),
    );
    expect(answer.status).toBeGreaterThanOrEqual(400);
    expect(answer.status).toBeLessThan(500);
    expect(codeIn(answer)).toBeUndefined();
    // Only the key refused it: sealed under the provider's own key, the same state would resume.
    const underServiceKey = withValue(held, name, sealing.seal(shown.uid, forged, now + 600, browser!));
    expect(codeIn(await getWith(resume, underServiceKey))).toBeTypeOf('string');
  });

  it('refuses a sign-in planted from another browser: without the browser binding it resumes nothing', async () => {
    // The attacker signs in as themselves in their own browser, up to the provider's resume…
    const attacker = new UserAgent(runtime.baseUrl);
    const shown = await signInPage(attacker);
    const resume = await passwordTyped(attacker, shown);
    const page = new URL(`/interaction/${shown.uid}`, runtime.baseUrl);
    // …and, from a sibling host that may set cookies for the parent domain, plants in the victim's
    // browser everything they hold for it but the host-only binding (`__Host-` on https: no other host
    // can set it), hoping the victim's browser resumes the attacker's login (login CSRF).
    const victim = new UserAgent(runtime.baseUrl);
    const planted = (url: URL, held: string) =>
      [
        ...attacker
          .cookieHeader(url)
          .split('; ')
          .filter((pair) => !pair.startsWith(`${BROWSER_COOKIE}=`)),
        ...held.split('; ').filter((pair) => pair.startsWith(`${BROWSER_COOKIE}=`)),
      ].join('; ');

    // A victim's browser that never signed in here, and one that holds a binding of its own.
    const fresh = await getWith(resume, planted(resume, ''));
    expect(fresh.status).toBeGreaterThanOrEqual(400);
    expect(fresh.status).toBeLessThan(500);
    expect(codeIn(fresh)).toBeUndefined();
    await signInPage(victim);
    const ownBinding = victim.cookieHeader(resume);
    expect(valueIn(ownBinding, BROWSER_COOKIE)).toBeTypeOf('string');
    const bound = await getWith(resume, planted(resume, ownBinding));
    expect(bound.status).toBeGreaterThanOrEqual(400);
    expect(bound.status).toBeLessThan(500);
    expect(codeIn(bound)).toBeUndefined();
    // Nor does the interaction's page open for it (its form would submit the attacker's sign-in).
    const shownToVictim = await getWith(page, planted(page, victim.cookieHeader(page)));
    expect(shownToVictim.status).toBeGreaterThanOrEqual(400);
    expect(shownToVictim.status).toBeLessThan(500);
    expect(await shownToVictim.text()).not.toMatch(/action="\/interaction\/[^"]+\/login"/);

    // Only the binding made the difference: in the attacker's own browser the same cookies resume.
    expect(codeIn(await attacker.request(resume))).toBeTypeOf('string');
  });

  it('resumes once: the cookie captured before the resume and sent again after it gets no code', async () => {
    const ua = new UserAgent(runtime.baseUrl);
    const shown = await signInPage(ua);
    const resume = await passwordTyped(ua, shown);
    // Everything the browser holds for the resume, the provider's resume cookie included.
    const captured = ua.cookieHeader(resume);
    expect(valueIn(captured, sealing.nameOf(shown.uid))).toBeTypeOf('string');

    const first = await ua.request(resume);
    expect(codeIn(first)).toBeTypeOf('string');
    // The answer clears the cookie in the browser…
    expect(ua.cookieHeader(resume)).not.toContain(sealing.nameOf(shown.uid));
    // …and a copy kept from before is refused: the interaction is marked used in the table.
    const replayed = await getWith(resume, captured);
    expect(codeIn(replayed)).toBeUndefined();
    expect(replayed.status).toBeGreaterThanOrEqual(400);
    expect(replayed.status).toBeLessThan(500);
  });

  it('keeps two sign-ins in two tabs apart: both complete', async () => {
    const ua = new UserAgent(runtime.baseUrl);
    const first = await signInPage(ua);
    const bindingAfterFirst = valueIn(ua.cookieHeader(new URL('/', runtime.baseUrl)), BROWSER_COOKIE);
    const second = await signInPage(ua);
    expect(second.uid).not.toBe(first.uid);
    // One binding per browser, reused by the second sign-in, never one per interaction.
    const held = ua.cookieHeader(new URL('/', runtime.baseUrl)).split('; ');
    expect(held.filter((pair) => pair.startsWith(`${BROWSER_COOKIE}=`))).toEqual([
      `${BROWSER_COOKIE}=${bindingAfterFirst}`,
    ]);
    // Both pages are still there after the other was opened…
    for (const shown of [first, second]) {
      const again = await ua.navigate(`/interaction/${shown.uid}`);
      expect(again.page?.status).toBe(200);
    }
    // …and both sign in, in the order the person gets to them.
    const resumeSecond = await passwordTyped(ua, second);
    const resumeFirst = await passwordTyped(ua, first);
    for (const [shown, resume] of [
      [first, resumeFirst],
      [second, resumeSecond],
    ] as const) {
      const answer = await ua.request(resume);
      const code = codeIn(answer);
      expect(code).toBeTypeOf('string');
      const tokens = await exchange(platform, shown.request, new URL(answer.headers.get('location')!));
      expect(tokens.claims()?.sub).toBeTypeOf('string');
    }
  });

  it('ends a cancelled sign-in at the platform with access_denied, once', async () => {
    const ua = new UserAgent(runtime.baseUrl);
    const shown = await signInPage(ua);
    expect(shown.page.html).toContain(`href="/interaction/${shown.uid}/abort"`);
    const cancelled = await ua.request(`/interaction/${shown.uid}/abort`);
    expect(cancelled.status).toBe(303);
    const resume = new URL(cancelled.headers.get('location')!, runtime.baseUrl);
    const captured = ua.cookieHeader(resume);
    const back = await ua.request(resume);
    const location = new URL(back.headers.get('location')!);
    expect(location.href.startsWith(platform.redirectUri)).toBe(true);
    expect(location.searchParams.get('error')).toBe('access_denied');
    expect(location.searchParams.get('state')).toBe(shown.request.state);
    // The same cancellation replayed says nothing to the platform again.
    const replayed = await getWith(resume, captured);
    expect(replayed.headers.get('location') ?? '').not.toContain(platform.redirectUri);
  });

  /** Puts `payload` in the table as the adapter stored interactions before they moved to cookies. */
  const storedInTable = (uid: string, payload: Record<string, unknown>) =>
    deps.doc.send(
      new PutCommand({
        TableName: runtime.config.tableName,
        Item: {
          pk: `oidc#Interaction#${uid}`,
          sk: 'oidc',
          payload,
          expiresAt: Math.floor(Date.now() / 1000) + 600,
        },
      }),
    );

  it('refuses an interaction stored in the table (before interactions moved to cookies): it opens in no browser', async () => {
    const ua = new UserAgent(runtime.baseUrl);
    const shown = await signInPage(ua);
    const name = sealing.nameOf(shown.uid);
    const page = new URL(`/interaction/${shown.uid}`, runtime.baseUrl);
    const payload = sealing.open(
      shown.uid,
      valueIn(ua.cookieHeader(page), name)!,
      Math.floor(Date.now() / 1000),
      valueIn(ua.cookieHeader(page), BROWSER_COOKIE),
    )!;
    await storedInTable(shown.uid, payload);
    // Nor would the adapter store one there any more: outside a request with the browser's cookies
    // there is nowhere an interaction may be kept.
    const Adapter = deps.adapter;
    await expect(new Adapter('Interaction').upsert(shown.uid, payload, 600)).rejects.toThrow(/cookie/);
    expect(await new Adapter('Interaction').find(shown.uid)).toBeUndefined();
    ua.forget(name);
    const shownAgain = await ua.request(page);
    expect(shownAgain.status).toBeGreaterThanOrEqual(400);
    expect(shownAgain.status).toBeLessThan(500);
  });

  it('gives no code for a table-stored interaction resumed by a browser of another binding', async () => {
    // The attacker's sign-in, up to its resume, its state (their login in it) copied into the table.
    const attacker = new UserAgent(runtime.baseUrl);
    const shown = await signInPage(attacker);
    const resume = await passwordTyped(attacker, shown);
    const name = sealing.nameOf(shown.uid);
    const held = attacker.cookieHeader(resume);
    const payload = sealing.open(
      shown.uid,
      valueIn(held, name)!,
      Math.floor(Date.now() / 1000),
      valueIn(held, BROWSER_COOKIE),
    )!;
    expect(payload.result).toBeDefined();
    await storedInTable(shown.uid, payload);
    // The victim's browser, with its own binding and everything else the attacker holds for the resume
    // planted (the provider's resume cookie among it), with and without the interaction's own cookie.
    const victim = new UserAgent(runtime.baseUrl);
    await signInPage(victim);
    const own = valueIn(victim.cookieHeader(resume), BROWSER_COOKIE)!;
    const planted = held.split('; ').filter((pair) => !pair.startsWith(`${BROWSER_COOKIE}=`));
    for (const cookies of [planted, planted.filter((pair) => !pair.startsWith(`${name}=`))]) {
      const cookie = [...cookies, `${BROWSER_COOKIE}=${own}`].join('; ');
      const resumed = await getWith(resume, cookie);
      expect(resumed.status).toBeGreaterThanOrEqual(400);
      expect(resumed.status).toBeLessThan(500);
      expect(codeIn(resumed)).toBeUndefined();
    }
  });

  describe('a sign-in too large for a cookie: kept in the table, the cookie pointing at it', () => {
    let sharing: RelyingParty;
    /** The contract's longest purpose (docs/sharing.md: 1 to 200 characters), in Chinese: 600 bytes. */
    const purpose = '为办理营业执照变更登记核验'.repeat(16).slice(0, 200);
    /** A share of two licence types with that purpose, acting for the enterprise. */
    const request = (params: Record<string, string> = {}) =>
      authorizationRequest(sharing, {
        scope: 'openid profile entity',
        authorization_details: JSON.stringify([
          {
            type: 'licence_access',
            licence_types: ['business-licence', 'production-operation-permit'],
            purpose,
          },
        ]),
        ...params,
      });
    /** The item an interaction spilled to, as stored (absent: none, or deleted). */
    const spilled = async (uid: string) =>
      (
        await deps.doc.send(
          new GetCommand({
            TableName: runtime.config.tableName,
            Key: keys.interactionState(uid),
            ConsistentRead: true,
          }),
        )
      ).Item as { sealed?: string; expiresAt?: number } | undefined;
    /** The uids of the interactions whose cookies an answer sets, with the length of each cookie. */
    const interactionCookiesOf = (answer: Response) =>
      answer.headers
        .getSetCookie()
        .map((line) => /^interaction-([^=]+)=([^;]*)/.exec(line))
        .filter((match): match is RegExpExecArray => match !== null && match[2] !== '')
        .map((match) => ({ uid: match[1]!, bytes: match[0].length }));

    beforeAll(async () => {
      sharing = await registerPlatform(runtime, await adminToken(runtime), {
        name: '企业授权 Enterprise sharing',
        redirectUris: ['https://interaction-spill.example/cb'],
        scopes: ['openid', 'profile', 'entity'],
        authorizationDetailsTypes: ['licence_access'],
      });
    });

    it('a share with a 200-character Chinese purpose goes through password, enterprise, consent and the code exchange (openid-client)', async () => {
      /** Each save of an interaction: where, its cookie (the name and value), and the seal it points at. */
      const saves: Array<{ at: string; uid: string; bytes: number; sealed?: number }> = [];
      const ua = new UserAgent(runtime.baseUrl, [], async (input, init) => {
        const answer = await fetch(input, init);
        // Set for two paths: one save.
        const set = new Map(interactionCookiesOf(answer).map((one) => [one.uid, one]));
        for (const { uid, bytes } of set.values()) {
          const at = `${init?.method ?? 'GET'} ${new URL(String(input)).pathname.replace(/\/[A-Za-z0-9_-]{20,}/g, '/<uid>')}`;
          saves.push({
            at,
            uid,
            bytes,
            ...((await spilled(uid))?.sealed && { sealed: (await spilled(uid))!.sealed!.length }),
          });
        }
        return answer;
      });
      const asked = await request();
      const outcome = await runFlow(ua, asked.url, {
        ...citizen(),
        entity: runtime.credentials.entity.creditCode,
        consent: true,
      });
      expect(outcome.steps).toEqual(['login', 'entity', 'consent']);
      expect(outcome.callback?.searchParams.get('error'), outcome.callback?.href).toBeNull();
      const tokens = await exchange(sharing, asked, outcome.callback!);
      expect(tokens.claims()?.sub).toBeTypeOf('string');
      expect(tokens.authorization_details).toEqual([
        {
          type: 'licence_access',
          licence_types: ['business-licence', 'production-operation-permit'],
          purpose,
        },
      ]);
      // The steps that outgrew a cookie were kept in the table; every cookie is one a browser keeps.
      const kept = saves.filter((save) => save.sealed !== undefined);
      expect(kept.length).toBeGreaterThanOrEqual(1);
      for (const { sealed } of kept) expect(sealed).toBeGreaterThan(MAX_INTERACTION_COOKIE_BYTES);
      for (const { bytes } of saves) expect(bytes).toBeLessThanOrEqual(MAX_INTERACTION_COOKIE_BYTES);
      console.info(
        saves
          .map(
            ({ at, bytes, sealed }) =>
              `${at}: cookie ${bytes} bytes${sealed ? `, sealed ${sealed} in the table` : ''}`,
          )
          .join('\n'),
      );
      // The sign-in ended: nothing of it is left in the table.
      for (const uid of new Set(saves.map(({ uid }) => uid))) expect(await spilled(uid)).toBeUndefined();
    });

    /** The length of the interaction cookie /authorize sets for a request with `state`. */
    const cookieAtAuthorize = async (state: string) => {
      const answer = await new UserAgent(runtime.baseUrl).request((await request({ state })).url);
      const [set] = interactionCookiesOf(answer);
      expect(set, answer.headers.get('location') ?? String(answer.status)).toBeDefined();
      return set!.bytes;
    };

    /**
     * A browser at the resume of a spilled sign-in: its password typed, its enterprise chosen on a page
     * whose state (the provider's session now in it) outgrew its cookie; what it holds for the resume.
     */
    async function atSpilledResume() {
      // A `state` (a character seals to 4/3 of a byte) that fills the cookie at /authorize to 200 bytes
      // short of its limit: room for a result saved before the sign-in, none for the steps after it.
      const probe = 1000;
      const room = MAX_INTERACTION_COOKIE_BYTES - 200 - (await cookieAtAuthorize('S'.repeat(probe)));
      const state = 'S'.repeat(probe + Math.floor((room * 3) / 4));
      const ua = new UserAgent(runtime.baseUrl);
      const shown = await signInPage(ua, await request({ state }));
      expect(await spilled(shown.uid)).toBeUndefined();
      const entityPage = (await ua.navigate(await passwordTyped(ua, shown))).page!;
      const uid = /^\/interaction\/([^/]+)$/.exec(entityPage.url.pathname)![1]!;
      const stored = await spilled(uid);
      expect(stored?.sealed?.length).toBeGreaterThan(MAX_INTERACTION_COOKIE_BYTES);
      expect(stored?.expiresAt).toBeGreaterThan(Math.floor(Date.now() / 1000) + 3000);
      const form = parseForm(entityPage.html)!;
      expect(form.action).toMatch(/\/entity$/);
      const chosen = await ua.request(new URL(form.action, entityPage.url), {
        form: { entity: runtime.credentials.entity.creditCode },
      });
      expect(chosen.status).toBe(303);
      const resume = new URL(chosen.headers.get('location')!, runtime.baseUrl);
      return { ua, shown: { uid }, resume, held: ua.cookieHeader(resume), name: sealing.nameOf(uid) };
    }

    /** The number of states kept in the table, of every interaction. */
    const spilledCount = async () =>
      (
        await deps.doc.send(
          new ScanCommand({
            TableName: runtime.config.tableName,
            FilterExpression: 'begins_with(pk, :p)',
            ExpressionAttributeValues: { ':p': keys.interactionState('x').pk.slice(0, -1) },
          }),
        )
      ).Items?.length ?? 0;

    it('keeps nothing before anyone signed in: 20 cookieless GETs with the longest query are refused at the platform (R26)', async () => {
      // Review R26: each anonymous GET /authorize whose state outgrew its cookie wrote an item of ~11 KB to
      // the table (one per request, no throttle, kept up to 48 hours by DynamoDB's TTL).
      const before = await spilledCount();
      const get = (await request()).url;
      get.searchParams.set('state', '');
      get.searchParams.set('state', 'A'.repeat(maxQueryLength - get.search.length + 1));
      expect(get.search.length - 1).toBe(maxQueryLength);
      for (let i = 0; i < 20; i += 1) {
        const answer = await new UserAgent(runtime.baseUrl).request(get);
        expect(answer.status).toBe(303);
        const location = new URL(answer.headers.get('location')!);
        expect(location.href.startsWith(sharing.redirectUri)).toBe(true);
        expect(location.searchParams.get('error')).toBe('invalid_request');
        expect(location.searchParams.get('error_description')).toMatch(/too large/);
        expect(interactionCookiesOf(answer)).toEqual([]);
      }
      expect(await spilledCount()).toBe(before);
    });

    it('opens its pointer only in the browser it was made for: replayed elsewhere, no page, no code', async () => {
      const { ua, shown, resume, held } = await atSpilledResume();
      const withoutBinding = held
        .split('; ')
        .filter((pair) => !pair.startsWith(`${BROWSER_COOKIE}=`))
        .join('; ');
      const other = new UserAgent(runtime.baseUrl);
      await signInPage(other);
      const otherBinding = `${BROWSER_COOKIE}=${valueIn(other.cookieHeader(resume), BROWSER_COOKIE)}`;
      for (const cookie of [withoutBinding, `${withoutBinding}; ${otherBinding}`]) {
        const resumed = await getWith(resume, cookie);
        expect(resumed.status).toBeGreaterThanOrEqual(400);
        expect(resumed.status).toBeLessThan(500);
        expect(codeIn(resumed)).toBeUndefined();
        const page = await getWith(`/interaction/${shown.uid}`, cookie);
        expect(page.status).toBeGreaterThanOrEqual(400);
        expect(page.status).toBeLessThan(500);
      }
      // Only the binding made the difference: the browser it was made for goes on to the consent.
      const own = await ua.navigate(resume);
      expect(own.page?.status).toBe(200);
      expect(own.page?.html).toContain('/confirm"');
    });

    it('opens nothing with one byte of its pointer changed', async () => {
      const { ua, resume, held, name } = await atSpilledResume();
      const pointer = valueIn(held, name)!;
      expect(pointer.length).toBeLessThan(400);
      const bytes = Buffer.from(pointer, 'base64url');
      for (const at of [0, Math.floor(bytes.length / 2), bytes.length - 1]) {
        const changed = Buffer.from(bytes);
        changed[at]! ^= 0x01;
        const resumed = await getWith(resume, withValue(held, name, changed.toString('base64url')));
        expect(resumed.status).toBeGreaterThanOrEqual(400);
        expect(resumed.status).toBeLessThan(500);
        expect(codeIn(resumed)).toBeUndefined();
      }
      const own = await ua.navigate(resume);
      expect(own.page?.html).toContain('/confirm"');
    });

    it('leaves room at /authorize for the longest result saved before the sign-in: the person who cannot sign in goes back to the platform', async () => {
      // What `unmet` adds to the cookie (give or take base64's rounding).
      const extra =
        interactionCookieBytes('u', { result: unmetResult }, 0, false) -
        interactionCookieBytes('u', {}, 0, false);
      const probe = 1000;
      const stateFor = async (cookie: number) =>
        'S'.repeat(probe + Math.floor(((cookie - (await cookieAtAuthorize('S'.repeat(probe)))) * 3) / 4));
      const before = await spilledCount();
      const refused = await new UserAgent(runtime.baseUrl).request(
        (await request({ state: await stateFor(MAX_INTERACTION_COOKIE_BYTES - extra + 6) })).url,
      );
      expect(new URL(refused.headers.get('location')!).searchParams.get('error')).toBe('invalid_request');
      const ua = new UserAgent(runtime.baseUrl);
      const shown = await signInPage(
        ua,
        await request({ state: await stateFor(MAX_INTERACTION_COOKIE_BYTES - extra - 3) }),
      );
      const gaveUp = await ua.navigate(new URL(`/interaction/${shown.uid}/unmet`, runtime.baseUrl));
      expect(gaveUp.leftTo?.searchParams.get('error')).toBe('unmet_authentication_requirements');
      expect(await spilledCount()).toBe(before);
    });

    it('is refused at /authorize past the hard bound, clearly, with nothing stored', async () => {
      // A GET that API Gateway admits fits (10,240 bytes of request line and headers); a pushed request may
      // be larger, up to the provider's 56 KB body. A long `nonce` (the error's redirect repeats `state`).
      const pushed = (nonce: string) =>
        client.buildAuthorizationUrlWithPAR(sharing.config, {
          redirect_uri: sharing.redirectUri,
          scope: 'openid profile',
          code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
          code_challenge_method: 'S256',
          nonce,
        });
      const answer = await new UserAgent(runtime.baseUrl).request(await pushed('S'.repeat(20_000)));
      expect(answer.status).toBe(303);
      const location = new URL(answer.headers.get('location')!);
      expect(location.href.startsWith(sharing.redirectUri)).toBe(true);
      expect(location.searchParams.get('error')).toBe('invalid_request');
      expect(location.searchParams.get('error_description')).toMatch(/too large/);
      expect(location.searchParams.get('error_description')).toContain(String(MAX_AUTHORIZATION_STATE_BYTES));
      expect(answer.headers.getSetCookie().filter((line) => line.startsWith('interaction-'))).toEqual([]);
      // Under the bound, the same pushed request is refused too, before anyone signed in: its state does
      // not fit its cookie, and nothing is kept in the table for it.
      const before = await spilledCount();
      const smaller = await new UserAgent(runtime.baseUrl).request(await pushed('S'.repeat(9_000)));
      const refused = new URL(smaller.headers.get('location')!);
      expect(refused.searchParams.get('error')).toBe('invalid_request');
      expect(refused.searchParams.get('error_description')).toContain(String(MAX_INTERACTION_COOKIE_BYTES));
      expect(await spilledCount()).toBe(before);
    });
  });

  it('a sign-in that fits its cookie makes the same table calls as before the spill (none for its state)', async () => {
    const flow = async () => {
      const ua = new UserAgent(runtime.baseUrl);
      const asked = await authorizationRequest(platform);
      const { callback } = await callbackOf(ua, asked.url, citizen());
      return exchange(platform, asked, callback);
    };
    await flow(); // warms every container on the way
    runtime.dynamo!.resetStats();
    await flow();
    // As before a sign-in's state could be kept in the table (round-trips.test.ts names each call):
    // authorize none, the sign-in page none; the password the throttle's 2 transactions, the ID number's
    // claim and the account (2 gets); the resume the mark (a put), the account (a get) and the grant, code
    // and session (one batch write); the token one batch get, the code consumed (an update), the access
    // token put. No call for the state itself.
    expect(runtime.dynamo!.stats()).toEqual({
      BatchGetItem: 1,
      BatchWriteItem: 1,
      GetItem: 3,
      PutItem: 2,
      TransactWriteItems: 2,
      UpdateItem: 1,
    });
  });
});
