import * as z from 'zod';
import { calendarDayText } from '../kit/day-input.js';
import type { ListQuery } from './issuer-api.js';

/** A blank field is no filter, as a search form left empty sends it. */
const blank = (value: unknown) => (typeof value === 'string' && value.trim() === '' ? undefined : value);
const optional = <T extends z.ZodType>(schema: T) =>
  z.preprocess(blank, schema.optional()).catch(undefined) as unknown as z.ZodOptional<T>;

export const listSorts = ['-issuedAt', 'issuedAt', '-number', 'number'] as const;
export type ListSort = (typeof listSorts)[number];

/** Keyset paging keeps the cursors of the pages before, so "previous" is one of them: at most this many. */
export const maxBackCursors = 50;

/**
 * The console list's search, as its form posts it (or, without the personal fields, a link's query): each
 * unreadable value is no filter, as a menu left at "all" would send, so a crafted query cannot break the
 * page. `back` holds the cursors of the pages before this one ("-" for the first), space-separated;
 * `total` the count of the search's first page, so that a page turn does not count again.
 *
 * @example
 * ```ts
 * consoleSearch.parse({ holderName: '张', sort: 'issuedAt' }); // { holderName: '张', sort: 'issuedAt', back: [], page: 1 }
 * ```
 */
export const consoleSearch = z.object({
  status: optional(z.enum(['valid', 'suspended', 'revoked', 'expired'])),
  type: optional(z.string().trim().max(64)),
  holder: optional(z.string().trim().max(32)),
  // How to read `holder`: an ID number (`person`) or a credit code (`entity`); blank, the API decides, and
  // asks (400 `ambiguous_holder`) when a number valid as both is held by a person and an enterprise alike.
  holderKind: optional(z.enum(['person', 'entity'])),
  holderName: optional(z.string().trim().max(50)),
  number: optional(z.string().trim().max(100)),
  // Typed days (text inputs, any browser locale): one unreadable is refused, naming its field
  // (readConsoleSearch), never dropped, since a search quietly without its dates would mislead.
  issuedFrom: z.preprocess(blank, calendarDayText.optional()),
  issuedTo: z.preprocess(blank, calendarDayText.optional()),
  // Only licences whose signing key was withdrawn (the API's `keyWithdrawn=true`): those to re-issue.
  keyWithdrawn: optional(z.enum(['true'])),
  sort: z.enum(listSorts).catch('-issuedAt').default('-issuedAt'),
  cursor: optional(z.string().max(2048)),
  back: z
    .preprocess(
      (value) => (typeof value === 'string' ? value.split(' ').filter(Boolean) : []),
      z.array(z.string().max(2048)).max(maxBackCursors),
    )
    .catch([]),
  page: z.coerce.number().int().min(1).max(1_000_000).catch(1).default(1),
  // The total counted on the search's first page, carried by the pager ("123", or "1000+" when capped):
  // shown, never trusted for anything else; anything unreadable is no total, and the page counts again.
  total: z
    .preprocess(
      (value) => {
        const match = typeof value === 'string' ? /^(\d{1,9})(\+?)$/.exec(value) : null;
        return match ? { count: Number(match[1]), capped: match[2] === '+' } : undefined;
      },
      z.object({ count: z.number().int().min(0), capped: z.boolean() }).optional(),
    )
    .catch(undefined),
});
export type ConsoleSearch = z.output<typeof consoleSearch>;

/** The search's day fields, typed as text. */
export const dayFilters = ['issuedFrom', 'issuedTo'] as const;
export type DayFilter = (typeof dayFilters)[number];

/**
 * The search a form or query asks for, and the day fields it could not read (as typed, to show again
 * with their error): the rest of the search stands without them. The page answers 400 naming each.
 *
 * @example
 * ```ts
 * readConsoleSearch({ issuedFrom: '2026-02-30' }); // { search: { …, issuedFrom: undefined }, invalid: { issuedFrom: '2026-02-30' } }
 * ```
 */
export function readConsoleSearch(input: Record<string, unknown>): {
  search: ConsoleSearch;
  invalid: Partial<Record<DayFilter, string>>;
} {
  const parsed = consoleSearch.safeParse(input);
  if (parsed.success) return { search: parsed.data, invalid: {} };
  const invalid: Partial<Record<DayFilter, string>> = {};
  const rest = { ...input };
  for (const issue of parsed.error.issues) {
    const field = dayFilters.find((name) => name === issue.path[0]);
    if (!field) continue;
    invalid[field] = String(input[field] ?? '').slice(0, 32);
    delete rest[field];
  }
  // Only the day fields can fail (every other field falls back): without them the search parses.
  return { search: consoleSearch.parse(rest), invalid };
}

/** The fields that name a person: only ever posted, never in a URL, the history or a server log. */
export const personalFilters = ['holder', 'holderName'] as const;

/** The pager's hidden `total` field for a counted total: "123", or "1000+" when the count was capped. */
export function totalField(total: { count: number; capped: boolean }): string {
  return `${total.count}${total.capped ? '+' : ''}`;
}

/**
 * The filters of a search (without its paging), to carry in hidden fields or test for emptiness; the
 * holder's kind only with a holder (the API refuses it alone).
 */
export function searchFilters(search: ConsoleSearch): Record<string, string> {
  const { status, type, holder, holderName, number, issuedFrom, issuedTo, keyWithdrawn } = search;
  const holderKind = holder ? search.holderKind : undefined;
  return Object.fromEntries(
    Object.entries({
      status,
      type,
      holder,
      holderKind,
      holderName,
      number,
      issuedFrom,
      issuedTo,
      keyWithdrawn,
    }).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
}

/**
 * The API query of a search: its filters and sort, the page's cursor, and the total counted unless the
 * pager carried it (a count reads up to its cap of the index: once a search, not once a page).
 *
 * @example
 * ```ts
 * await api.list(listQueryOf(search, 20));
 * ```
 */
export function listQueryOf(search: ConsoleSearch, limit: number): ListQuery {
  return {
    ...searchFilters(search),
    sort: search.sort,
    total: search.total === undefined,
    ...(search.cursor ? { cursor: search.cursor } : {}),
    limit,
  };
}
