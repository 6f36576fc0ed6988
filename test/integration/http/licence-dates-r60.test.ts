import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { idNumberCheckCharacter } from '../../../shared/identifiers/id-number.js';
import { beijingDate, lastValidDay } from '../../../shared/validity-dates.js';
import { parseIssueForm, issueFormModel } from '../../../shared/web/console/issue-form.js';
import { postJson } from '../../support/http-api.js';
import { startTestRuntime, type TestRuntime } from '../../support/runtime.js';
import { demoTokens, issueDrivingLicence, syncedOfflineVerifier } from '../verify/helpers.js';

let runtime: TestRuntime;
let tokens: Awaited<ReturnType<typeof demoTokens>>;
beforeAll(async () => {
  runtime = await startTestRuntime();
  tokens = await demoTokens(runtime);
});
afterAll(() => runtime?.close());

const zh = (chinese: string) => chinese;

/** The request the console's issuance form posts for these typed days (`parseIssueForm`). */
async function consoleRequest(validFrom: string, validUntil = '') {
  const types = (await (await fetch(`${runtime.baseUrl}/licence-types`)).json()) as Parameters<
    typeof issueFormModel
  >[0][];
  const model = issueFormModel(
    types.find((type) => type.code === 'driving-licence')!,
    zh,
  );
  const parsed = parseIssueForm(
    model,
    {
      holderNumber: '110105199003071239',
      holderName: '李测试',
      validFrom,
      validUntil,
      'fields.vehicleClass': 'C1',
      'fields.firstIssuedOn': '2015-03-01',
      'fields.archiveNumber': '110100123456',
    },
    zh,
  );
  if (!('request' in parsed)) throw new Error(JSON.stringify(parsed.errors));
  return parsed.request;
}

describe('review R60 F1 over HTTP: a licence is valid through its printed last day', () => {
  it('a start day typed in the console and the type’s default: six calendar years, through the same day', async () => {
    const request = await consoleRequest('2026-03-05');
    const licence = await issueDrivingLicence(runtime, tokens.issuer, { validFrom: request.validFrom });
    const read = (await (
      await fetch(`${runtime.baseUrl}/licences/${encodeURIComponent(licence.id)}`, {
        headers: { authorization: `Bearer ${tokens.issuer}` },
      })
    ).json()) as { validFrom: string; validUntil: string };
    expect(read).toMatchObject({
      validFrom: '2026-03-04T16:00:00.000Z',
      validUntil: '2032-03-05T16:00:00.000Z', // 00:00 Beijing on 2032-03-06
    });
    expect(lastValidDay(read.validUntil)).toBe('2032-03-05');
  });

  it('an end day typed in the console: the offline verifier finds it valid at 23:59:59 that day, expired after', async () => {
    // Today in Beijing, typed as both start and end: a licence for the one day.
    const today = beijingDate(Date.now());
    const request = await consoleRequest(today, today);
    expect(request.validUntil).toBe(
      new Date(Date.parse(`${today}T00:00:00+08:00`) + 86_400_000).toISOString(),
    );
    const licence = await issueDrivingLicence(runtime, tokens.issuer, {
      validFrom: request.validFrom,
      validUntil: request.validUntil,
    });
    let now = Date.parse(`${today}T23:59:59+08:00`);
    const { verifier } = await syncedOfflineVerifier(runtime.baseUrl);
    const offline = await syncedOfflineVerifier(runtime.baseUrl, () => now);
    expect(await verifier.verify(licence.credential)).toMatchObject({ verdict: 'valid' });
    expect(await offline.verifier.verify(licence.credential)).toMatchObject({ verdict: 'valid' });
    // A minute after midnight (the verifier tolerates a minute of clock skew).
    now += 61_000;
    expect(await offline.verifier.verify(licence.credential)).toMatchObject({ verdict: 'expired' });
  });
});

describe('review R60 F2 over HTTP: the numbers that serve as resident ID numbers', () => {
  const withCheck = (first17: string) => first17 + idNumberCheckCharacter(first17);
  const issue = (idNumber: string) =>
    postJson(
      runtime,
      '/licences',
      tokens.issuer,
      {
        type: 'driving-licence',
        holder: { idNumber },
        holderName: '李测试',
        fields: { vehicleClass: 'C1', firstIssuedOn: '2015-03-01', archiveNumber: '110100123456' },
      },
      { 'idempotency-key': randomUUID() },
    );

  it('issues to a Taiwan resident’s residence permit (830000) and a foreigner’s permanent residence ID', async () => {
    for (const first17 of ['81000019900101002', '83000019900101002', '93184019900101002']) {
      const response = await issue(withCheck(first17));
      expect(response.status, await response.text()).toBe(201);
    }
  });

  it('refuses 71 (Taiwan’s GB/T 2260 code, under which no number is issued) naming the region', async () => {
    const response = await issue(withCheck('71000019900101002'));
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({
      errors: [{ path: 'holder.idNumber', code: 'invalid_region', params: { region: '710000' } }],
    });
  });
});
