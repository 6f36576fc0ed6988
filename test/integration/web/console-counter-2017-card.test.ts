import { randomInt } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registryPeople } from '../../../infra/local/demo-data.js';
import { buildDependencies } from '../../../functions/composition/dependencies.js';
import { maskIdNumber, parseIdNumber } from '../../../shared/identifiers/id-number.js';
import { personLookupKey } from '../../../shared/identifiers/lookup-key.js';
import { agencyHeadToken, appointClerk, clerkConsole } from '../../support/clerks.js';
import { postJson } from '../../support/http-api.js';
import { outbox } from '../../support/in-memory-sms.js';
import { loggedLines } from '../../support/logged-lines.js';
import { startTestRuntime, type TestRuntime } from '../../support/runtime.js';
import type { UserAgent } from '../../support/user-agent.js';

/**
 * The counter's proof (当面核验, `/console/counter`) of a holder of the 2017 foreigner's permanent
 * residence card: 15 characters (3 letters, 12 digits; e.g. the made-up `USA110088031526`), accepted
 * wherever an ID number is. The clerk types it, in lower case too; the clerk and the person see it only
 * masked (`***PP********NN`), never the raw number, nor do the log lines of the requests.
 */
describe('the counter proof of a 2017 foreigner’s card holder', () => {
  let runtime: TestRuntime;
  let counter: UserAgent;
  // Made up: USA, Beijing (11) place 00, born 1988-03-15, sequence 2, last digit 6 (no check digit verified).
  const idNumber = 'USA110088031526';
  const person = {
    idNumber,
    name: 'SMITH JANE',
    phone: `+86139${String(randomInt(0, 1e8)).padStart(8, '0')}`,
  };
  const masked = '***11********26';

  beforeAll(async () => {
    runtime = await startTestRuntime(undefined, { LOG_LEVEL: 'INFO' });
    const head = await agencyHeadToken(runtime);
    const clerk = await appointClerk(
      runtime,
      head,
      runtime.credentials.issuer.creditCode,
      registryPeople[16]!,
      ['licences:issue', 'accounts:prove-in-person'],
    );
    counter = (await clerkConsole(runtime, clerk)).ua;
    const registered = await postJson(runtime, '/accounts', undefined, {
      consent: true,
      idNumber,
      name: person.name,
      password: 'Counter-Card-2017',
    });
    expect(registered.status, await registered.clone().text()).toBe(201);
    // The population registry (the exit-entry administration's, for a card holder) and the carrier know them.
    const deps = buildDependencies(runtime.config);
    try {
      const id = parseIdNumber(idNumber, new Date());
      expect(maskIdNumber(id)).toBe(masked);
      const lookupKey = await personLookupKey(deps.lookupMac, id);
      await deps.registry.putPerson({ lookupKey, name: person.name, masked });
      await deps.carrier.putSubscriber({ lookupKey, name: person.name, phone: person.phone });
    } finally {
      deps.doc.destroy();
      deps.kms.destroy();
    }
  });
  afterAll(() => runtime?.close());

  it('finds the account by the number typed in lower case, proves the person with a new phone, masked throughout', async () => {
    const typed = idNumber.toLowerCase();
    const pages: string[] = [];
    const lines = await loggedLines(async () => {
      const found = await counter.request('/console/counter', {
        form: { step: 'find', idNumber: typed, name: person.name },
      });
      pages.push(await found.text());
      expect(found.status, pages.at(-1)).toBe(200);
      expect(pages.at(-1)).toContain(`id="counter-masked">${masked}<`);

      const setPhone = {
        step: 'prove',
        idNumber: typed,
        name: person.name,
        checkedIdCard: 'yes',
        provenPhone: 'set',
        phone: person.phone,
      };
      const sent = await counter.request('/console/counter', { form: setPhone });
      pages.push(await sent.text());
      expect(sent.status, pages.at(-1)).toBe(200);
      const code = (await outbox(runtime)).filter((m) => m.to === person.phone).at(-1)?.code;
      expect(code).toMatch(/^\d{6}$/);
      const proved = await counter.request('/console/counter', { form: { ...setPhone, code: code! } });
      pages.push(await proved.text());
      expect(proved.status, pages.at(-1)).toBe(200);
      expect(pages.at(-1)).toContain('已完成当面核验');
    });
    // What the clerk's screen shows (and the person sees across the counter) names them by the masked
    // form only. The form's own hidden field carries the number the clerk typed to the next step (no
    // script, as for an 18-digit number); nothing else in the page does.
    for (const page of pages) {
      const shown = page.replace(/<input type="hidden" name="idNumber" value="[^"]*" \/>/g, '');
      expect(shown.toUpperCase()).not.toContain(idNumber);
      expect(shown).not.toContain('110088031526');
    }
    expect(pages.at(-1)).not.toContain('110088031526'); // the proof done: not even in a hidden field
    // The requests' log lines were captured (not a silent logger), and none carries the number.
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) {
      expect(line.toUpperCase()).not.toContain(idNumber);
      expect(line).not.toContain('110088031526');
    }
  });
});
