import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../../shared/errors.js';
import { chinaDay, toSupervisionEvent } from '../../../shared/supervision/events.js';
import { aggregate, daysOf, statisticsQuery } from '../../../shared/supervision/statistics.js';

describe('supervision events and statistics', () => {
  it('counts days in China time (UTC+8)', () => {
    expect(chinaDay('2026-03-01T15:59:59.999Z')).toBe('2026-03-01');
    expect(chinaDay('2026-03-01T16:00:00.000Z')).toBe('2026-03-02');
    expect(chinaDay('2026-12-31T16:00:00.000Z')).toBe('2027-01-01');
  });

  it('reads the licence events of the audit trail and nothing else', () => {
    const base = { at: '2026-03-01T02:00:00.000Z', actor: 'cl_1' };
    expect(toSupervisionEvent({ ...base, action: 'account.registered' })).toBeUndefined();
    expect(toSupervisionEvent({ ...base, action: 'licence.presented' })).toBeUndefined();
    expect(toSupervisionEvent({ ...base, action: 'licence.verified', verdict: 'malformed' })).toEqual({
      ...base,
      action: 'verified',
      verdict: 'malformed',
      issuerId: '-',
      licenceType: '-',
    });
    expect(toSupervisionEvent({ ...base, at: 'yesterday', action: 'licence.issued' })).toBeUndefined();
  });

  it('marks a revocation as a replacement only when the re-issue named the licence replacing it', () => {
    const revoked = { at: '2026-03-01T02:00:00.000Z', actor: 'cl_1', action: 'licence.revoked' };
    const replaced = (entry: Parameters<typeof toSupervisionEvent>[0]) => toSupervisionEvent(entry)?.replaced;
    expect(replaced({ ...revoked, reasonCode: 'reissued', replacedBy: 'lic-new' })).toBe(true);
    // The code is any issuer's to give; a replacement only the re-issue names.
    expect(replaced({ ...revoked, reasonCode: 'reissued' })).toBeUndefined();
    expect(replaced({ ...revoked, reasonCode: 'violation', replacedBy: 'lic-new' })).toBeUndefined();
    expect(
      replaced({ ...revoked, action: 'licence.suspended', reasonCode: 'reissued', replacedBy: 'x' }),
    ).toBe(undefined);
    // Older entries keep only the reason text: counted as revocations, as before.
    expect(replaced({ ...revoked, reason: '重新签发为 lic-new' })).toBeUndefined();
  });

  it('aggregates a batch into one increment per day, issuer and type', () => {
    const entry = (at: string, action: string, verdict?: string) =>
      toSupervisionEvent({
        at,
        actor: 'a',
        action,
        issuerId: 'iss_1',
        licenceType: 'driving-licence',
        ...(verdict ? { verdict } : {}),
      })!;
    const increments = aggregate([
      entry('2026-03-01T01:00:00.000Z', 'licence.issued'),
      entry('2026-03-01T02:00:00.000Z', 'licence.issued'),
      entry('2026-03-01T03:00:00.000Z', 'licence.verified', 'valid'),
      entry('2026-03-01T04:00:00.000Z', 'licence.verified', 'revoked'),
      entry('2026-03-01T05:00:00.000Z', 'licence.shared'),
      entry('2026-03-01T17:00:00.000Z', 'licence.revoked'),
    ]);
    expect(increments).toEqual([
      {
        day: '2026-03-01',
        issuerId: 'iss_1',
        licenceType: 'driving-licence',
        counts: {
          issued: 2,
          suspended: 0,
          reinstated: 0,
          revoked: 0,
          shared: 1,
          verified: { valid: 1, revoked: 1 },
        },
      },
      {
        day: '2026-03-02',
        issuerId: 'iss_1',
        licenceType: 'driving-licence',
        counts: { issued: 0, suspended: 0, reinstated: 0, revoked: 1, shared: 0, verified: {} },
      },
    ]);
  });

  it('answers ranges of 1 to 366 days, and refuses others naming `to`', () => {
    expect(daysOf('2024-02-28', '2024-03-01')).toEqual(['2024-02-28', '2024-02-29', '2024-03-01']);
    expect(daysOf('2024-01-01', '2024-12-31')).toHaveLength(366);
    for (const [from, to] of [
      ['2024-01-01', '2025-01-01'],
      ['2024-01-02', '2024-01-01'],
    ] as const) {
      const error = (() => {
        try {
          daysOf(from, to);
        } catch (caught) {
          return caught;
        }
      })();
      expect(error).toBeInstanceOf(InvalidInputError);
      expect((error as InvalidInputError).errors.map((e) => e.path)).toEqual(['to']);
    }
  });

  it('accepts real dates only', () => {
    expect(statisticsQuery.safeParse({ from: '2026-02-29', to: '2026-03-01' }).success).toBe(false);
    expect(statisticsQuery.safeParse({ from: '2028-02-29', to: '2028-03-01' }).success).toBe(true);
    expect(statisticsQuery.safeParse({ from: '2026-3-1', to: '2026-03-01' }).success).toBe(false);
    expect(statisticsQuery.safeParse({ from: '2026-03-01', to: '2026-03-01', holder: 'x' }).success).toBe(
      false,
    );
  });
});
