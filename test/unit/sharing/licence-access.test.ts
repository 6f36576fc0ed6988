import { describe, expect, it } from 'vitest';
import { findLicenceType } from '../../../shared/licence/catalogue.js';
import {
  accessSeconds,
  defaultAccessSeconds,
  grantedLicenceTypes,
  LicenceAccessProblem,
  levelToShare,
  licenceAccessDetails,
  mayShareForEntity,
  parseLicenceAccess,
  sharedFieldNames,
} from '../../../shared/sharing/licence-access.js';

const now = new Date('2026-03-01T00:00:00Z');
const detail = (extra: Record<string, unknown> = {}) => ({
  type: 'licence_access' as const,
  licence_types: ['driving-licence'],
  purpose: '办理车辆登记',
  ...extra,
});

/** The member a refused detail is refused for. */
function problemOf(value: unknown): string {
  try {
    parseLicenceAccess(value, now);
  } catch (error) {
    if (error instanceof LicenceAccessProblem) return error.field;
    throw error;
  }
  throw new Error('accepted');
}

describe('a licence_access detail', () => {
  it('is accepted with its types, purpose, read action and an expiry wish', () => {
    expect(
      parseLicenceAccess(detail({ actions: ['read'], expires_at: '2026-03-10T00:00:00+08:00' }), now),
    ).toEqual(detail({ actions: ['read'], expires_at: '2026-03-10T00:00:00+08:00' }));
  });

  it.each([
    ['no type list', { type: 'licence_access', purpose: 'x' }, 'licence_types'],
    ['an empty type list', detail({ licence_types: [] }), 'licence_types'],
    ['nine types', detail({ licence_types: Array(9).fill('driving-licence') }), 'licence_types'],
    ['a type twice', detail({ licence_types: ['driving-licence', 'driving-licence'] }), 'licence_types'],
    ['an unknown type', detail({ licence_types: ['driving-licence', 'pilot-licence'] }), 'licence_types[1]'],
    ['a blank purpose', detail({ purpose: '   ' }), 'purpose'],
    ['a long purpose', detail({ purpose: 'x'.repeat(201) }), 'purpose'],
    ['a purpose with a bidi override', detail({ purpose: '办理\u202e记登辆车' }), 'purpose'],
    ['a purpose of two lines', detail({ purpose: '办理车辆登记\n本次不读取证照' }), 'purpose'],
    ['a purpose with a zero-width space', detail({ purpose: '办理\u200b车辆登记' }), 'purpose'],
    // Review R51 F1: what a body that was not UTF-8 decodes to, and a lone surrogate.
    ['a purpose holding U+FFFD', detail({ purpose: '办理\ufffd\ufffd登记' }), 'purpose'],
    ['a purpose holding a lone surrogate', detail({ purpose: '办理\ud800登记' }), 'purpose'],
    ['a write action', detail({ actions: ['read', 'write'] }), 'actions'],
    ['an expiry in the past', detail({ expires_at: '2026-02-01T00:00:00Z' }), 'expires_at'],
    ['an expiry beyond 90 days', detail({ expires_at: '2026-07-01T00:00:00Z' }), 'expires_at'],
    ['an expiry that is no date', detail({ expires_at: 'soon' }), 'expires_at'],
    ['an unknown member', detail({ locations: ['https://x.example'] }), 'locations'],
  ])('is refused with %s, naming the member', (_case, value, field) => {
    expect(problemOf(value)).toBe(field);
  });

  it('lasts as long as wished, else 30 days', () => {
    expect(accessSeconds([detail()], now)).toBe(defaultAccessSeconds);
    expect(accessSeconds([detail({ expires_at: '2026-03-08T00:00:00Z' })], now)).toBe(7 * 86_400);
  });

  it('needs the highest level of its types (3 by default)', () => {
    expect(levelToShare([detail()])).toBe(3);
    expect(levelToShare([])).toBe(1);
  });

  it('lists its types once, in the catalogue’s order; foreign details are left out', () => {
    const details = licenceAccessDetails([
      detail({ licence_types: ['social-security-card', 'driving-licence'] }),
      detail(),
      { type: 'payment_initiation', amount: 1 },
    ]);
    expect(details).toHaveLength(2);
    expect(grantedLicenceTypes(details)).toEqual(['driving-licence', 'social-security-card']);
  });

  it('hands over the stored fields: a masked number, never the clear one the issuer sent', () => {
    const names = sharedFieldNames(findLicenceType('business-licence')!);
    expect(names).toContain('legalRepresentativeIdMasked');
    expect(names).not.toContain('legalRepresentativeIdNumber');
  });
});

describe('sharing for an enterprise', () => {
  const business = [detail({ licence_types: ['business-licence'] })];
  it('is for its representative, or an agent whose appointment covers licences', () => {
    expect(mayShareForEntity(business, { role: 'legal_representative' })).toBe(true);
    expect(mayShareForEntity(business, { role: 'agent', scope: ['licences'] })).toBe(true);
    expect(mayShareForEntity(business, { role: 'agent', scope: [] })).toBe(false);
    expect(mayShareForEntity(business, undefined)).toBe(false);
  });
  it('leaves the person’s own types to the person', () => {
    expect(mayShareForEntity([detail()], { role: 'agent', scope: [] })).toBe(true);
  });
});
