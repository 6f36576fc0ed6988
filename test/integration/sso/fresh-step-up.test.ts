import { DeleteCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDependencies } from '../../../functions/composition/dependencies.js';
import { keys } from '../../../shared/adapters/dynamo/keys.js';
import { parseIdNumber } from '../../../shared/identifiers/id-number.js';
import { personLookupKey } from '../../../shared/identifiers/lookup-key.js';
import { newIdNumber } from '../../support/in-memory-identity.js';
import { CarrierOfNumbers, outbox } from '../../support/in-memory-sms.js';
import {
  authorizationRequest,
  callbackOf,
  demoPlatform,
  exchange,
  runFlow,
  type RelyingParty,
} from '../../support/oidc-flows.js';
import type { TestRuntime } from '../../support/runtime.js';
import {
  newPerson,
  openAccount,
  putInRegistry,
  startRuntimeWithCarrier,
  stepUpBySms,
  uidOf,
} from '../../support/sharing-flows.js';
import { UserAgent } from '../../support/user-agent.js';

/**
 * Review R28 M3 and L3: a platform asking for a new sign-in (`max_age=0`, `prompt=login`) at level 3 of a
 * person whose session was below it got the step-up page alone, and an ID token with `amr` `pwd` and a
 * fresh `auth_time` though no password was typed; and a step-up finished at level 3 whatever level the
 * account stood at.
 */
let runtime: TestRuntime;
let platform: RelyingParty;
const carrier = new CarrierOfNumbers();
const browser = () =>
  new UserAgent(runtime.baseUrl, [`${runtime.baseUrl}/demo/callback`, 'https://platform.example/']);

beforeAll(async () => {
  runtime = await startRuntimeWithCarrier(carrier);
  platform = await demoPlatform(runtime);
});
afterAll(() => runtime?.close());

describe('a new sign-in asked at level 3 of a session below it (review R28 M3)', () => {
  for (const extra of [{ max_age: '0' }, { prompt: 'login' }] as Record<string, string>[]) {
    it(`${JSON.stringify(extra)}: asks for the password first, then the step-up; amr says both`, async () => {
      const person = await newPerson(runtime, carrier);
      const ua = browser();
      const first = await authorizationRequest(platform);
      await callbackOf(ua, first.url, { username: person.idNumber, password: person.password });

      const again = await authorizationRequest(platform, { acr_values: 'urn:elicence:loa:3', ...extra });
      const shown = await runFlow(ua, again.url, {});
      // The sign-in page, with its password field: not the step-up alone.
      expect(shown.stoppedAt).toBe('login');
      expect(shown.page?.html).toContain('name="password"');

      const answered = await runFlow(ua, again.url, { username: person.idNumber, password: person.password });
      expect(answered.page?.html).toContain('获取验证码');
      const stepped = await stepUpBySms(runtime, ua, answered.page!.html, person.phone);
      const callback = stepped.leftTo ?? (await callbackOf(ua, stepped.page!.url, {})).callback;
      const claims = (await exchange(platform, again, callback)).claims()!;
      expect(claims.acr).toBe('urn:elicence:loa:3');
      expect(claims.amr).toEqual(['pwd', 'sms']);
    });
  }
});

describe('a step-up reaches no more than the account stands at (review R28 L3)', () => {
  it('leaves a self-asserted account the registry no longer knows below level 3', async () => {
    const person = {
      idNumber: newIdNumber(),
      name: '周登记',
      phone: '+8613800066001',
      password: 'zhou-pass-1',
    };
    await putInRegistry(runtime, person.idNumber, person.name);
    carrier.add(person);
    // Registered under another name: self-asserted, level 1.
    await openAccount(runtime, { ...person, name: '周别名' });
    const ua = browser();
    const asked = await authorizationRequest(platform, { acr_values: 'urn:elicence:loa:3' });
    const atStepUp = await runFlow(ua, asked.url, { username: person.idNumber, password: person.password });
    expect(atStepUp.page?.html).toContain('获取验证码');
    // The code goes out while the registry knows the person; it no longer does when it is typed.
    const action = new URL(`/interaction/${uidOf(atStepUp.page!.html)}/stepup`, runtime.baseUrl);
    await ua.navigate(action, { form: { phone: person.phone, send: '1' } });
    const code = (await outbox(runtime)).filter((m) => m.to === person.phone).at(-1)?.code;
    expect(code).toMatch(/^\d{6}$/);
    const deps = buildDependencies(runtime.config);
    try {
      const lookupKey = await personLookupKey(deps.lookupMac, parseIdNumber(person.idNumber, new Date()));
      await deps.doc.send(
        new DeleteCommand({ TableName: runtime.config.tableName, Key: keys.registryPerson(lookupKey) }),
      );
    } finally {
      deps.doc.destroy();
      deps.kms.destroy();
    }
    const typed = await ua.navigate(action, { form: { phone: person.phone, code: code! } });
    // The platform never gets level 3 for it: the flow stays with the provider (the step-up again).
    if (typed.leftTo) {
      const claims = (await exchange(platform, asked, typed.leftTo)).claims()!;
      expect(claims.acr).not.toBe('urn:elicence:loa:3');
    } else {
      const onward = await runFlow(ua, typed.page!.url, {});
      if (onward.callback) {
        const claims = (await exchange(platform, asked, onward.callback)).claims()!;
        expect(claims.acr).not.toBe('urn:elicence:loa:3');
      } else {
        expect(onward.page?.html).toContain('获取验证码');
      }
    }
  });
});
