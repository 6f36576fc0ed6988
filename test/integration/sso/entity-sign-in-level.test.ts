import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDependencies, dependencies } from '../../../functions/composition/dependencies.js';
import { agencyHead } from '../../../infra/local/demo-data.js';
import { maskIdNumber, parseIdNumber } from '../../../shared/identifiers/id-number.js';
import { parseCreditCode } from '../../../shared/identifiers/credit-code.js';
import { personLookupKey } from '../../../shared/identifiers/lookup-key.js';
import { postJson } from '../../support/http-api.js';
import { newCreditCode } from '../../support/in-memory-identity.js';
import { CarrierOfNumbers } from '../../support/in-memory-sms.js';
import {
  authorizationRequest,
  callbackOf,
  demoPlatform,
  exchange,
  offeredEntities,
  refusal,
  runFlow,
  signIn,
  writtenAccessToken,
  type RelyingParty,
} from '../../support/oidc-flows.js';
import { newPerson, startRuntimeWithCarrier, stepUpBySms, uidOf } from '../../support/sharing-flows.js';
import type { TestRuntime } from '../../support/runtime.js';
import { UserAgent } from '../../support/user-agent.js';

/**
 * Acting for an enterprise at a platform needs level 3, the account's and the sign-in's (review R22).
 * Before, a level-2 account was enough: whoever knew a representative's ID number and name (where the
 * number had no account) registered it, without a phone, and signed in at platforms as the enterprise's
 * legal representative. A level-2 person is not stranded: the chooser offers the enterprise with a line
 * saying it needs level 3, and choosing it goes through the step-up page first.
 */

let runtime: TestRuntime;
let platform: RelyingParty;
const carrier = new CarrierOfNumbers();
const entityScope = 'openid profile entity';
const browser = () => new UserAgent(runtime.baseUrl, [`${runtime.baseUrl}/demo/callback`]);

beforeAll(async () => {
  runtime = await startRuntimeWithCarrier(carrier);
  platform = await demoPlatform(runtime);
});
afterAll(() => runtime?.close());

describe('a level-2 account on a representative’s number', () => {
  it('is sent to the step-up, which only the representative’s own phone passes, not signed in as the enterprise', async () => {
    // Whoever knows the agency head's number and name registers it: level 2, no phone.
    const password = 'Squatter-2026!';
    const registered = await postJson(runtime, '/accounts', undefined, {
      consent: true,
      idNumber: agencyHead.idNumber,
      name: agencyHead.name,
      password,
    });
    expect(registered.status, await registered.clone().text()).toBe(201);
    const agency = runtime.credentials.issuer.creditCode;

    const ua = browser();
    const request = await authorizationRequest(platform, { scope: entityScope });
    const atChoice = await runFlow(ua, request.url, { username: agencyHead.idNumber, password });
    expect(atChoice.stoppedAt).toBe('entity');
    expect(offeredEntities(atChoice.page!.html)).toEqual([agency]);

    // Choosing it (before: on through the consent page, signed in as the agency's legal representative).
    const chosen = await runFlow(ua, atChoice.page!.url, { entity: agency });
    expect(chosen.steps).toEqual(['entity']);
    expect(chosen.callback).toBeUndefined();
    expect(chosen.page?.html).toContain('获取验证码');
    expect(chosen.page?.html).toContain('需要三级身份认证');
    // The chooser said so beside the enterprise.
    expect(atChoice.page!.html).toContain('以企业身份办事需要三级身份认证');

    // The squatter cannot: the platform hears so, and gets no code.
    const uid = uidOf(chosen.page!.html);
    const out = await ua.navigate(new URL(`/interaction/${uid}/unmet`, runtime.baseUrl));
    expect(out.leftTo?.searchParams.get('error')).toBe('unmet_authentication_requirements');
    expect(out.leftTo?.searchParams.has('code')).toBe(false);
  });
});

describe('the legal representative', () => {
  it('at level 3 signs in at the platform as the enterprise, with no step-up', async () => {
    const { citizen, entity } = runtime.credentials;
    const { steps, claims, tokens } = await signIn(
      platform,
      browser(),
      { username: citizen.idNumber, password: citizen.password, entity: entity.creditCode },
      { scope: entityScope },
    );
    expect(steps).toEqual(['login', 'entity', 'consent']);
    expect(claims).toMatchObject({ acr: 'urn:elicence:loa:3' });
    const info = await client.fetchUserInfo(platform.config, tokens.access_token, claims.sub);
    expect(info).toMatchObject({ subject_type: 'legal_person', credit_code: entity.creditCode });
  });

  it('at level 2 is offered the enterprise, steps up by SMS, then acts for it', async () => {
    // A representative per the business registry, registered on their own (level 2 by password), whose
    // phone the carrier confirms.
    const person = await newPerson(runtime, carrier);
    const creditCode = newCreditCode();
    const deps = buildDependencies(runtime.config);
    const id = parseIdNumber(person.idNumber, new Date());
    await deps.registry.putEntity({
      creditCode: parseCreditCode(creditCode),
      name: '厦门示例贸易有限公司',
      representativeLookupKey: await personLookupKey(deps.lookupMac, id),
      representativeMasked: maskIdNumber(id),
    });
    deps.doc.destroy();
    deps.kms.destroy();

    const ua = browser();
    const request = await authorizationRequest(platform, { scope: entityScope });
    const atChoice = await runFlow(ua, request.url, { username: person.idNumber, password: person.password });
    expect(offeredEntities(atChoice.page!.html)).toEqual([creditCode]);

    const atStepUp = await runFlow(ua, atChoice.page!.url, { entity: creditCode });
    expect(atStepUp.callback).toBeUndefined();
    expect(atStepUp.page?.html).toContain('以“厦门示例贸易有限公司”的身份办事需要三级身份认证');
    expect(atChoice.page!.html).toContain('以企业身份办事需要三级身份认证');
    const stepped = await stepUpBySms(runtime, ua, atStepUp.page!.html, person.phone);
    // On through the platform's consent page, with no second choice of the enterprise.
    const { callback, steps } = await callbackOf(ua, stepped.page?.url ?? stepped.leftTo!);
    expect(steps).toEqual(['consent']);
    const tokens = await exchange(platform, request, callback);
    const claims = tokens.claims()!;
    expect(claims).toMatchObject({ acr: 'urn:elicence:loa:3' });
    const info = await client.fetchUserInfo(platform.config, tokens.access_token, claims.sub);
    expect(info).toMatchObject({
      subject_type: 'legal_person',
      credit_code: creditCode,
      act: { sub: expect.any(String) },
    });

    // The level is asked at every lookup too (userinfo here): the same token, as a level-2 sign-in would
    // have left it, names the enterprise no more.
    const stored = await new (dependencies().adapter)('AccessToken').find(tokens.access_token);
    const copy = (acr: string) =>
      writtenAccessToken({
        accountId: String(stored!.accountId),
        clientId: platform.clientId,
        scope: String(stored!.scope),
        acr,
        more: { grantId: stored!.grantId },
      });
    const userinfo = async (acr: string) =>
      client.fetchUserInfo(platform.config, await copy(acr), claims.sub);
    await expect(userinfo('urn:elicence:loa:3')).resolves.toMatchObject({ credit_code: creditCode });
    await expect(refusal(userinfo('urn:elicence:loa:2'))).resolves.toMatchObject({ status: 401 });
  });
});
