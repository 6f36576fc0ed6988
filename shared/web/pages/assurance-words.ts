import { levelOfAcr, type AssuranceLevel } from '../../identity/assurance.js';
import type { Translate } from '../kit/i18n.js';

/**
 * Each assurance level's name as people read it (docs/sign-in.md, "levels"). The `acr` value
 * (`urn:elicence:loa:3`) is for platforms; every page that shows a level says it with these words.
 */
const levelNames: Record<AssuranceLevel, (t: Translate) => string> = {
  1: (t) => t('一级（本人声明）', 'Level 1 (self-asserted)'),
  2: (t) => t('二级（实名）', 'Level 2 (real name)'),
  3: (t) => t('三级（实名并核验本人）', 'Level 3 (real name, proven to be the person)'),
};

/**
 * The name of the level an `acr` value (or a level number) stands for, in the page's language; a value
 * the service does not issue is 未知, never shown raw.
 *
 * @example
 * ```ts
 * assuranceName(t, 'urn:elicence:loa:3'); // '三级（实名并核验本人）'
 * assuranceName(t, 'urn:other'); // '未知'
 * ```
 */
export function assuranceName(t: Translate, acrOrLevel: unknown): string {
  const level =
    typeof acrOrLevel === 'number'
      ? ([1, 2, 3] as const).find((l) => l === acrOrLevel)
      : levelOfAcr(acrOrLevel);
  return level ? levelNames[level](t) : t('未知', 'Unknown');
}
