import { describe, expect, it } from 'vitest';
import { bulkReadEntry, recordedFilters } from '../../../shared/licence/bulk-reads.js';

describe('recordedFilters', () => {
  it('records the keyWithdrawn filter of an export of the licences to re-issue', () => {
    expect(recordedFilters({ status: 'valid', keyWithdrawn: 'true' })).toBe('status=valid&keyWithdrawn=true');
    expect(recordedFilters({ status: 'valid' })).toBe('status=valid');
    expect(
      bulkReadEntry(
        'licences.exported',
        { keyWithdrawn: 'true', holderName: '王' },
        { at: '2026-12-05T00:00:00.000Z', actor: 'cl_a', issuerId: 'iss_a', count: 3 },
      ),
    ).toMatchObject({ filters: 'keyWithdrawn=true&holderName' });
  });

  it('names holders’ filters without their values', () => {
    expect(recordedFilters({ holder: '110105199001011234', holderName: '王', number: '12' })).toBe(
      'holder&holderName&number',
    );
  });
});
