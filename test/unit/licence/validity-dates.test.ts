import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { decodeJwt } from 'jose';
import { describe, expect, it } from 'vitest';
import { findLicenceType } from '../../../shared/licence/catalogue.js';
import { issueLicence, issueLicenceInput } from '../../../shared/licence/issue-licence.js';
import { effectiveStatus, type LicenceRecord } from '../../../shared/licence/licence.js';
import { renderLicencePdf } from '../../../shared/licence/licence-pdf.js';
import { reissueLicence } from '../../../shared/licence/reissue-licence.js';
import {
  defaultValidUntil,
  lastValidDay,
  validUntilAfter,
  validUntilOf,
} from '../../../shared/validity-dates.js';
import { verifyScan } from '../../../shared/verification/verify-scan.js';
import { validity as consoleValidity } from '../../../shared/web/console/labels.js';
import { licenceCsvLine } from '../../../shared/web/console/licence-csv.js';
import { validity as walletValidity } from '../../../shared/web/pages/wallet-home-page.js';
import { licenceWorld } from '../../support/licence-world.js';
import { drivingLicenceBody, newIdNumber } from '../../support/licences.js';

const zh = (chinese: string) => chinese;

/** Six years from a start day typed in the console (00:00 Beijing time), by the calendar (review R60 F1). */
describe('a licence’s last valid day, in Beijing time (review R60 F1)', () => {
  it.each([
    // [start day, years, last valid day]
    ['2026-03-05', 6, '2032-03-05'],
    ['2027-03-01', 6, '2033-03-01'],
    ['2027-03-01', 5, '2032-03-01'], // across 29 Feb 2028 and 2032: still the same day
    ['2028-01-01', 5, '2033-01-01'],
    ['2028-01-01', 10, '2038-01-01'],
    ['2028-02-29', 6, '2034-02-28'], // no 29 February in 2034: the month's last day
    ['2028-02-29', 4, '2032-02-29'],
    ['2028-02-29', 10, '2038-02-28'],
    ['2026-12-31', 6, '2032-12-31'],
  ])('from %s, %i years: valid through %s, ending at 00:00 Beijing the next day', (start, years, last) => {
    const validUntil = defaultValidUntil(`${start}T00:00:00+08:00`, years);
    expect(lastValidDay(validUntil)).toBe(last);
    expect(validUntil).toBe(new Date(Date.parse(`${last}T00:00:00+08:00`) + 86_400_000).toISOString());
  });

  it('counts from the Beijing date of a start given as any instant', () => {
    // 23:30 UTC on 4 March is 07:30 on 5 March in Beijing.
    expect(lastValidDay(defaultValidUntil('2026-03-04T23:30:00Z', 6))).toBe('2032-03-05');
    expect(lastValidDay(defaultValidUntil('2026-03-05T15:59:59Z', 6))).toBe('2032-03-05');
    expect(lastValidDay(defaultValidUntil('2026-03-05T16:00:00Z', 6))).toBe('2032-03-06');
  });

  it('prints the same day for an end stored at 23:59:59 Beijing time as for one at 00:00 the next day', () => {
    expect(lastValidDay('2032-03-05T15:59:59.000Z')).toBe('2032-03-05');
    expect(lastValidDay('2032-03-05T23:59:59+08:00')).toBe('2032-03-05');
    expect(lastValidDay('2032-03-05T16:00:00.000Z')).toBe('2032-03-05');
    expect(lastValidDay(undefined)).toBeUndefined();
    expect(validUntilAfter('2032-03-05')).toBe('2032-03-05T16:00:00.000Z');
  });

  it('stores a given end as the end of the Beijing day it falls in', () => {
    expect(validUntilOf('2032-03-05T23:59:59+08:00')).toBe('2032-03-05T16:00:00.000Z');
    expect(validUntilOf('2032-03-05T12:00:00+08:00')).toBe('2032-03-05T16:00:00.000Z');
    expect(validUntilOf('2032-03-06T00:00:00+08:00')).toBe('2032-03-05T16:00:00.000Z');
    expect(validUntilOf('2032-03-06T00:00:00.001+08:00')).toBe('2032-03-06T16:00:00.000Z');
  });

  it('has the catalogue’s defaults in whole years: 5, 6 and 10', () => {
    expect(findLicenceType('production-operation-permit')?.defaultValidityYears).toBe(5);
    expect(findLicenceType('driving-licence')?.defaultValidityYears).toBe(6);
    expect(findLicenceType('social-security-card')?.defaultValidityYears).toBe(10);
  });
});

/** Issues a driving licence as the console sends it: `overrides` are the validity the form posts. */
async function issueAs(overrides: Record<string, unknown>) {
  const world = licenceWorld();
  const issuer = await world.addIssuer();
  const { licence } = await issueLicence(
    issueLicenceInput.parse(drivingLicenceBody(newIdNumber(), overrides)),
    { issuerId: issuer.id, clientId: 'cl_issuer', idempotencyKey: randomUUID() },
    world.issueDeps,
  );
  /** The verdict of `POST /verify` on the licence's QR code with the clock at `at`. */
  const verifyAt = async (at: string) => {
    world.clock.advanceSeconds((Date.parse(at) - world.clock.now()) / 1000);
    return verifyScan(licence.credential, { clientId: 'cl_verifier' }, {}, world.verifyDeps);
  };
  return { licence, verifyAt };
}

describe('a licence is valid through the whole of its printed last day (review R60 F1)', () => {
  it('console start day, type default: valid at 23:59:59 Beijing on the printed last day, expired at 00:00', async () => {
    // What the console posts for 生效日期 2026-03-05 with 有效期至 left blank.
    const { licence, verifyAt } = await issueAs({ validFrom: '2026-03-05T00:00:00+08:00' });
    expect(licence.validUntil).toBe('2032-03-05T16:00:00.000Z');
    expect(consoleValidity(licence.validFrom, licence.validUntil, zh).text).toBe('2026-03-05 至 2032-03-05');
    expect(decodeJwt(licence.credential).exp).toBe(Date.parse('2032-03-05T16:00:00Z') / 1000);

    const lastSecond = new Date('2032-03-05T15:59:59Z'); // 23:59:59 Beijing on 2032-03-05
    const nextDay = new Date('2032-03-05T16:00:00Z'); // 00:00 Beijing on 2032-03-06
    expect(effectiveStatus(licence, lastSecond)).toBe('valid');
    expect(effectiveStatus(licence, nextDay)).toBe('expired');
    expect(await verifyAt(lastSecond.toISOString())).toMatchObject({ verdict: 'valid' });
    // A verifier tolerates a minute of clock skew (`DEFAULT_CLOCK_SKEW_SECONDS`): expired from 00:01.
    expect(await verifyAt('2032-03-05T16:01:00Z')).toMatchObject({ verdict: 'expired' });
  });

  it('no start given: the default ends at the end of the day, not at the time of day it was issued', async () => {
    // The world's clock: 2026-03-01T08:00:00Z, 16:00 Beijing time.
    const { licence } = await issueAs({});
    expect(licence.validFrom).toBe('2026-03-01T08:00:00.000Z');
    expect(licence.validUntil).toBe('2032-03-01T16:00:00.000Z');
    expect(lastValidDay(licence.validUntil)).toBe('2032-03-01');
    expect(effectiveStatus(licence, new Date('2032-03-01T15:59:59Z'))).toBe('valid');
    expect(effectiveStatus(licence, new Date('2032-03-01T16:00:00Z'))).toBe('expired');
  });

  it('a given end, even 23:59:59 Beijing time (the console before R60), is valid to the day’s end', async () => {
    const { licence } = await issueAs({
      validFrom: '2026-03-05T00:00:00+08:00',
      validUntil: '2030-06-30T23:59:59+08:00',
    });
    expect(licence.validUntil).toBe('2030-06-30T16:00:00.000Z');
    expect(effectiveStatus(licence, new Date('2030-06-30T15:59:59.500Z'))).toBe('valid');
    expect(effectiveStatus(licence, new Date('2030-06-30T16:00:00Z'))).toBe('expired');
  });

  it('every display prints the last valid day: console, CSV, wallet and PDF; a stored 23:59:59 end too', async () => {
    const { licence } = await issueAs({ validFrom: '2026-03-05T00:00:00+08:00' });
    const stored: LicenceRecord = { ...licence, validUntil: '2032-03-05T15:59:59.000Z' }; // before R60
    const work = await mkdtemp(join(tmpdir(), 'elicence-r60-'));
    try {
      for (const record of [licence, stored]) {
        const shown = {
          ...record,
          status: 'valid' as const,
          issuer: { id: 'i', name: 'n', creditCode: 'c' },
        };
        expect(consoleValidity(record.validFrom, record.validUntil, zh).text).toBe(
          '2026-03-05 至 2032-03-05',
        );
        expect(licenceCsvLine(shown, [], zh)).toMatch(/,2026-03-05,2032-03-05\r\n$/);
        expect(walletValidity(zh, record).toString()).toMatch(
          /<time datetime="2032-03-05">2032-03-05<\/time>/,
        );
        const file = join(work, 'licence.pdf');
        await writeFile(
          file,
          await renderLicencePdf(
            {
              licence: { ...record, history: [] },
              issuer: { id: 'i', name: '某市公安局交通管理局', creditCode: 'c' },
              status: 'valid',
            },
            'a4',
          ),
        );
        const { stdout } = await promisify(execFile)('pdftotext', [file, '-']);
        expect(stdout.replace(/\s/g, '')).toContain('2026年3月5日至2032年3月5日');
      }
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });
});

describe('review R64-1: an end past 9999 stored before', () => {
  it('a licence stored ending at +010000-01-01T16:00:00.000Z (9999-12-31T23:59:59Z as sent) re-issues through 9999-12-31', async () => {
    const world = licenceWorld();
    const issuer = await world.addIssuer();
    const { licence } = await issueLicence(
      issueLicenceInput.parse(drivingLicenceBody(newIdNumber())),
      { issuerId: issuer.id, clientId: 'cl_issuer', idempotencyKey: randomUUID() },
      world.issueDeps,
    );
    // As the service stored a "no expiry" stand-in before R64: compared as text, before its start.
    await world.licences.save({ ...licence, validUntil: '+010000-01-01T16:00:00.000Z' });
    const { licence: replacement } = await reissueLicence(
      licence.id,
      { issuerId: issuer.id, clientId: 'cl_issuer' },
      { ...world.issueDeps, ...world.statusDeps },
    );
    expect(replacement.validFrom).toBe(licence.validFrom);
    expect(replacement.validUntil).toBe('9999-12-31T16:00:00.000Z');
    expect(lastValidDay(replacement.validUntil)).toBe('9999-12-31');
  });

  it('counts a default from a start in any year, and says the end of 9999-12-31 as a four-digit year', () => {
    expect(defaultValidUntil('9993-12-30T16:00:00Z', 6)).toBe('9999-12-31T16:00:00.000Z');
    expect(Date.parse(defaultValidUntil('9995-01-01T00:00:00+08:00', 6))).toBe(
      Date.parse('+010001-01-01T16:00:00.000Z'),
    ); // refused by the issuance, not thrown here
    expect(lastValidDay(defaultValidUntil('0010-03-05T00:00:00+08:00', 5))).toBe('0015-03-05');
    expect(validUntilOf('9999-12-31T15:59:59Z')).toBe('9999-12-31T16:00:00.000Z');
  });
});
