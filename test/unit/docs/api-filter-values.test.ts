import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { listLicencesQuery } from '../../../shared/licence/read-licences.js';
import { filterableUsageKinds } from '../../../shared/licence/usage.js';
import { alertsQuery } from '../../../shared/supervision/alert-rules.js';

/**
 * docs/api.md's table of the listings' filter values: the row of `filter`, as written. A row of that
 * table names its endpoints first (`GET /…`, `POST /…`) and the filter second; other tables may name
 * `status` too (the error codes' "On" column), so only the filter table's rows count.
 */
function documentedRow(filter: string): string {
  const page = readFileSync(new URL('../../../docs/api.md', import.meta.url), 'utf8');
  const row = page.split('\n').find((line) => {
    const cells = line.split('|').map((cell) => cell.trim());
    return (
      line.startsWith('|') &&
      /^`(GET|POST) \//.test(cells[1] ?? '') &&
      (cells[2] ?? '')
        .split(',')
        .map((name) => name.trim())
        .includes(`\`${filter}\``)
    );
  });
  if (!row) throw new Error(`docs/api.md has no filter row for ${filter}`);
  return row;
}

/** The values a documented row names, each in backquotes. */
function named(row: string): string[] {
  return [...row.matchAll(/`([^`]+)`/g)].map((match) => match[1]!);
}

describe("docs/api.md's filter values (review R25, L6)", () => {
  it('names every kind of usage entry GET /me/usage filters by, as its zod schema takes them', () => {
    const values = named(documentedRow('action'));
    for (const kind of filterableUsageKinds) expect(values, kind).toContain(kind);
  });

  it("names every licence status and sort order of the listings' zod schema", () => {
    const statuses = listLicencesQuery.shape.status.unwrap().options;
    const sorts = listLicencesQuery.shape.sort.unwrap().options;
    const statusRow = named(documentedRow('status'));
    const sortRow = named(documentedRow('sort'));
    for (const status of statuses) expect(statusRow, status).toContain(status);
    for (const sort of sorts) expect(sortRow, sort).toContain(sort);
  });

  it("names the alerts' orders", () => {
    const orders = alertsQuery.shape.order.unwrap().options;
    const row = named(documentedRow('order'));
    for (const order of orders) expect(row, order).toContain(order);
  });
});
