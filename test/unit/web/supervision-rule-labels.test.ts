import { describe, expect, it } from 'vitest';
import { alertRules } from '../../../shared/supervision/alert-rules.js';
import { translator } from '../../../shared/web/kit/i18n.js';
import { ruleLabel } from '../../../shared/web/pages/supervision-page.js';

describe('the supervision page: alert rules in words', () => {
  it('names every rule in Chinese and in English, never by its bare id', () => {
    for (const lang of ['zh', 'en'] as const) {
      const t = translator(lang);
      const labels = alertRules.map((rule) => ruleLabel(rule, t));
      for (const [i, label] of labels.entries()) expect(label, alertRules[i]).not.toBe(alertRules[i]);
      expect(new Set(labels).size).toBe(alertRules.length);
    }
    expect(ruleLabel('verification-flood-licence', translator('zh'))).toBe('同一证照短时间内被大量核验');
    expect(ruleLabel('verification-flood-licence', translator('en'))).toBe(
      'One licence verified unusually often',
    );
  });
});
