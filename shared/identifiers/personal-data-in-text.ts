import type * as z from 'zod';
import { parseIdNumber } from './id-number.js';
import { isMobileNumber } from './phone.js';

/** What a free text was found to hold: never the number itself, which must not be echoed or logged. */
export type PersonalDataKind = 'id_number' | 'mobile';

/**
 * Between two groups of digits of one number as people type it: up to three spaces, hyphens/dashes or
 * dots (`138.0013.8000`; review R29 L2).
 */
const separator = /^[\s.\-\u2010-\u2015\u2212]{1,3}$/u;

/**
 * A run of ASCII digits (NFKC has made full-width digits ASCII), and the `X` an ID number may end with.
 * A letter or any other character ends the run: only spaces and hyphens join runs into one number.
 */
const digitRun = /[0-9]+[Xx]?/g;

/** A 2017 foreigner's card's number as typed: letters and digits not part of a longer such run. */
const foreign2017InText = /(?<![A-Za-z0-9])[A-Za-z]{3}\d{12}(?![A-Za-z0-9])/g;

/** The longest a number we look for is, in digits: an ID number's 18 (`0086` and a mobile are 15). */
const longest = 18;

/**
 * Finds a resident ID number or a mainland mobile number in a free text a person typed (a status
 * change's reason, a share's purpose), for the fields that are kept for long or shown to others (the
 * audit chain cannot be erased). The text is NFKC-normalised first (full-width `１３８` is `138`), and
 * spaces, hyphens or dots between groups of digits are ignored (`138 0013 8000`, `138.0013.8000`,
 * `110105-19900307-1239`). A
 * candidate starts and ends where a group does, never inside a longer run of digits (a 20-digit archive
 * or bank number holds no match), and is:
 *
 * - an ID number (GB 11643): 17 digits and a check character (`X` or `x` too) that
 *   {@link parseIdNumber} accepts: a province, a possible birth date, the right ISO 7064 MOD 11-2 check
 *   (a Hong Kong, Macao or Taiwan resident's residence permit, `81`/`82`/`83…`, and a foreigner's
 *   permanent residence number, `9…`, too: review R60 F2); and a 2017 foreigner's card's number (three
 *   letters and twelve digits, whole, that {@link parseIdNumber} accepts; written without spaces).
 *   A wrong check character passes: it is no one's number (so an 18-digit file number that happens to
 *   start with a region and a date is refused only one time in eleven). Old 15-digit numbers are not
 *   looked for: with no check character, any 15 digits starting with a province and a date would pass
 *   (order, waybill and IMEI numbers are 15 digits), and first-generation cards are void since 2013.
 * - a mobile number: eleven digits `1[3-9]…`, optionally after `+86`, `86` or `0086` (the forms the
 *   service's own phone parser takes).
 *
 * Answers only the kind, never the number or where it is.
 *
 * @example
 * ```ts
 * findPersonalData('持证人身份证号 110105199003071239，已核实'); // 'id_number'
 * findPersonalData('请联系 ＋８６ １３８-００１３-８０００'); // 'mobile'
 * findPersonalData('档案号 202612070001，交通违法记满12分'); // undefined
 * ```
 */
export function findPersonalData(text: string, today: Date = new Date()): PersonalDataKind | undefined {
  const normal = text.normalize('NFKC');
  const groups = [...normal.matchAll(digitRun)].map((match) => ({
    start: match.index,
    end: match.index + match[0].length,
    text: match[0],
  }));
  // A 2017 foreigner's permanent residence card's number: three letters and twelve digits, whole (not
  // inside a longer run of letters and digits), and parsing (an assigned nationality, a province, a date).
  for (const match of normal.matchAll(foreign2017InText)) if (isIdNumber(match[0], today)) return 'id_number';
  let found: PersonalDataKind | undefined;
  for (let first = 0; first < groups.length; first++) {
    let joined = '';
    const lengths: number[] = [];
    for (let last = first; last < groups.length; last++) {
      const group = groups[last]!;
      if (last > first) {
        const previous = groups[last - 1]!;
        // An X ends an ID number; anything but spaces and hyphens between two runs keeps them apart.
        if (/x$/i.test(previous.text) || !separator.test(normal.slice(previous.end, group.start))) break;
      }
      joined += group.text;
      lengths.push(group.text.replace(/x$/i, '').length);
      if (joined.length > longest) break;
      if (joined.length === 18 && isIdNumber(joined, today)) return 'id_number';
      if (isMobile(joined) && phoneShapes.has(lengths.join('-'))) found = 'mobile';
    }
  }
  return found;
}

/**
 * The lengths of digit groups a mobile number is written in (joined by `-`): whole (`13800138000`,
 * `8613800138000`), 3-4-4 (`138 0013 8000`) or 3-8 (`138-00138000`), each after an optional `86`/`0086`
 * group (`+86 138…`). Not any grouping: a date range's pieces join into eleven digits too
 * (`1998.1.15-2028.1.14` is `1998|1|15|2028`, `19981152028`), and a licence's text quotes validity
 * periods (review R74-1). An ID number's 18 digits carry a check character, so they are joined across any
 * grouping.
 */
const phoneShapes = new Set(
  ['11', '3-4-4', '3-8']
    .flatMap((national) => [national, `2-${national}`, `4-${national}`])
    .concat(['13', '15']),
);

function isIdNumber(candidate: string, today: Date): boolean {
  try {
    parseIdNumber(candidate, today);
    return true;
  } catch {
    return false;
  }
}

function isMobile(candidate: string): boolean {
  // An X after the digits ends an ID number's run, and is no part of a phone's (`13800138000X先生`).
  const national = /^(?:0086|86)?(1\d{10})[Xx]?$/.exec(candidate)?.[1];
  return national !== undefined && isMobileNumber(`+86${national}`);
}

/** The English message of the field error: it names what was found, never the number. */
const messages: Record<PersonalDataKind, string> = {
  id_number: 'must not contain a resident ID number: free text is kept and shown to others',
  mobile: 'must not contain a mobile phone number: free text is kept and shown to others',
};

/**
 * A zod refinement for a free-text field kept or shown to others: text holding an ID number or a mobile
 * number ({@link findPersonalData}) is refused at the field's path with the field error code
 * `personal_data_in_text` (`params.kind`: `id_number` or `mobile`), before anything is written. The
 * message never holds the number.
 *
 * @example
 * ```ts
 * const input = z.strictObject({ reason: z.string().trim().min(1).max(500).superRefine(refusePersonalData) });
 * input.safeParse({ reason: '联系电话13800138000' }).error?.issues[0]?.params; // { code: 'personal_data_in_text', fieldParams: { kind: 'mobile' } }
 * ```
 */
export function refusePersonalData(text: string, context: z.RefinementCtx): void {
  const kind = findPersonalData(text);
  if (kind === undefined) return;
  context.addIssue({
    code: 'custom',
    message: messages[kind],
    params: { code: 'personal_data_in_text', fieldParams: { kind } },
  });
}

/**
 * {@link refusePersonalData} where no zod schema runs (a form checked by hand): the field error's message
 * and parameters, or nothing.
 *
 * @example
 * ```ts
 * personalDataProblem('联系电话13800138000'); // { message: 'must not contain a mobile phone number: …', code: 'personal_data_in_text', params: { kind: 'mobile' } }
 * ```
 */
export function personalDataProblem(
  text: string,
): { message: string; code: 'personal_data_in_text'; params: { kind: PersonalDataKind } } | undefined {
  const kind = findPersonalData(text);
  return kind === undefined
    ? undefined
    : { message: messages[kind], code: 'personal_data_in_text', params: { kind } };
}

/**
 * Six digits in a row: no person's name holds them (an ID number's region, a phone's first half, a
 * postcode), so a name field refuses any such run outright (review R72), beside {@link findPersonalData}.
 * Only names: an address has house numbers and six-digit postcodes, a scope or a number field digits of
 * its own, and those keep only the ID number and mobile check.
 */
const digitRunInName = /[0-9]{6}/;

const digitsInNameMessage = 'must not contain six or more digits in a row: a name holds no number';

/**
 * The check of a person's (or entity's) name typed by someone: {@link personalDataProblem}, then a run of
 * six or more digits (`digits_in_name`). The message never holds the number.
 *
 * @example
 * ```ts
 * nameProblem('110105199003071239'); // { code: 'personal_data_in_text', params: { kind: 'id_number' }, … }
 * nameProblem('王小明 440305'); // { code: 'digits_in_name', … }
 * nameProblem('王小明'); // undefined
 * ```
 */
export function nameProblem(
  name: string,
):
  | { message: string; code: 'personal_data_in_text'; params: { kind: PersonalDataKind } }
  | { message: string; code: 'digits_in_name' }
  | undefined {
  return personalDataProblem(name) ?? digitsInNameProblem(name);
}

/** The six-digit half of {@link nameProblem}. */
function digitsInNameProblem(name: string): { message: string; code: 'digits_in_name' } | undefined {
  return digitRunInName.test(name.normalize('NFKC'))
    ? { message: digitsInNameMessage, code: 'digits_in_name' }
    : undefined;
}

/** {@link nameProblem} as a zod refinement, as {@link refusePersonalData} is for free text. */
export function refusePersonalDataInName(name: string, context: z.RefinementCtx): void {
  const problem = nameProblem(name);
  if (problem === undefined) return;
  context.addIssue({
    code: 'custom',
    message: problem.message,
    params: { code: problem.code, ...('params' in problem ? { fieldParams: problem.params } : {}) },
  });
}
