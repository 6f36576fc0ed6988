import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { idNumberCheckCharacter } from '../../../shared/identifiers/id-number.js';
import { startTestRuntime, type TestRuntime } from '../../support/runtime.js';
import { demoTokens, issueDrivingLicence, syncedOfflineVerifier, verified } from '../verify/helpers.js';

/**
 * Review R64-3: a foreigner's permanent residence number (2023: `9`, the accepting province, a
 * three-digit nationality code, birth date, sequence, check) was masked as a resident's is, keeping six
 * characters: `931840********…` told everyone who saw the licence, or scanned it, the holder is a US
 * national (840). It keeps `9` and the province alone.
 */
let runtime: TestRuntime;
let tokens: Awaited<ReturnType<typeof demoTokens>>;
beforeAll(async () => {
  runtime = await startTestRuntime();
  tokens = await demoTokens(runtime);
}, 60_000);
afterAll(() => runtime?.close());

describe('review R64-3: a foreigner’s number masked without its nationality', () => {
  it('the licence, its signed credential and every verifier show 9 and the province, not the nationality', async () => {
    const first17 = '93184019900101002'; // 9, Shanghai (31), USA (840), born 1990-01-01
    const idNumber = first17 + idNumberCheckCharacter(first17);
    const licence = await issueDrivingLicence(runtime, tokens.issuer, { holder: { idNumber } });
    const masked = `931***********${idNumber.slice(14)}`;
    expect(licence.holder.masked).toBe(masked);
    expect((decodeJwt(licence.credential) as { hol: { m: string } }).hol.m).toBe(masked);
    const online = await verified(runtime, licence.credential, tokens.verifier);
    expect(online).toMatchObject({ verdict: 'valid', licence: { holder: { masked } } });
    const offline = await syncedOfflineVerifier(runtime.baseUrl);
    expect(await offline.verifier.verify(licence.credential)).toMatchObject({
      verdict: 'valid',
      licence: { holder: { masked } },
    });
    for (const shown of [licence.holder.masked, online.licence!.holder.masked]) {
      expect(shown).not.toContain('840');
    }
  });
});
