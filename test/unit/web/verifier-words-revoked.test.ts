import { describe, expect, it } from 'vitest';
import { verdicts } from '../../../packages/verifier/src/verdict.js';
import { freshnessNote } from '../../../shared/web/browser/verifier-words.js';

/**
 * The caveat under a verdict from data past its time to live ("a recent suspension or revocation may
 * not show") is for verdicts newer data could change; a `revoked` one (an expired status list still
 * answers it) is final, and the caveat would cast doubt on it.
 */
describe('the stale-data caveat under a revoked verdict', () => {
  const caveat = { en: 'may not show', zh: '可能未反映' } as const;

  it('is left out, in both languages, while the age and the offline note stay', () => {
    const en = freshnessNote(
      { verdict: 'revoked', stale: true, dataAge: 3 * 86_400 },
      { refreshed: false, offline: true },
      'en',
    );
    expect(en).toBe('Offline verdict from saved data updated 3 days ago.');
    expect(en).not.toContain(caveat.en);
    const zh = freshnessNote(
      { verdict: 'revoked', stale: true, dataAge: 3 * 86_400 },
      { refreshed: false, offline: false },
      'zh',
    );
    expect(zh).toMatch(/^未能更新数据/);
    expect(zh).not.toContain(caveat.zh);
  });

  it('leaves nothing to say when the data was refreshed, even if stale', () => {
    expect(
      freshnessNote({ verdict: 'revoked', stale: true }, { refreshed: true, offline: false }, 'en'),
    ).toBe(undefined);
  });

  it('is still said under every other verdict', () => {
    for (const verdict of verdicts.filter((one) => one !== 'revoked')) {
      for (const lang of ['en', 'zh'] as const) {
        const note = freshnessNote(
          { verdict, stale: true, dataAge: 3600 },
          { refreshed: false, offline: true },
          lang,
        );
        expect(note, `${verdict} (${lang})`).toContain(caveat[lang]);
      }
    }
  });
});
