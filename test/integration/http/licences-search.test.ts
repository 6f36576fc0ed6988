import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectProblem, onboardIssuer, postJson } from '../../support/http-api.js';
import {
  drivingLicenceBody,
  expectJson,
  getWithToken,
  issued,
  licencePath,
  newIdNumber,
  type LicenceJson,
} from '../../support/licences.js';
import { clientCredentialsToken, startTestRuntime, type TestRuntime } from '../../support/runtime.js';

interface Page {
  items: LicenceJson[];
  cursor?: string;
  total?: { count: number; capped: boolean };
}

interface HistoryEntry {
  at: string;
  action: string;
  actor: string;
  reason?: string;
  reasonCode?: string;
}

let runtime: TestRuntime;
let token: string;
let clientId: string;
const licences: LicenceJson[] = [];
const names = ['欧阳一', '欧阳二', '司马三', '欧阳四', '诸葛五'];

beforeAll(async () => {
  runtime = await startTestRuntime();
  const admin = await clientCredentialsToken(runtime, runtime.credentials.admin, 'admin');
  // An issuer of its own, so that the counts are this file's licences only.
  const issuer = await onboardIssuer(runtime, admin, { licenceTypes: ['driving-licence'] });
  clientId = issuer.clientId;
  token = await clientCredentialsToken(runtime, issuer, 'licences:issue');
  for (const holderName of names) {
    licences.push(await issued(runtime, token, drivingLicenceBody(newIdNumber(), { holderName })));
  }
});
afterAll(async () => {
  await runtime?.close();
});

const list = async (query: Record<string, string>) =>
  expectJson<Page>(await getWithToken(runtime, `/licences?${new URLSearchParams(query)}`, token), 200);

/** Every licence a query lists, following its cursor, and the totals each page reported. */
async function allPages(query: Record<string, string>): Promise<{ ids: string[]; totals: unknown[] }> {
  const ids: string[] = [];
  const totals: unknown[] = [];
  let cursor: string | undefined;
  do {
    const page = await list({ ...query, total: 'true', ...(cursor ? { cursor } : {}) });
    ids.push(...page.items.map((licence) => licence.id));
    totals.push(page.total);
    cursor = page.cursor;
  } while (cursor);
  return { ids, totals };
}

const today = () => new Date(Date.now() + 8 * 3_600_000).toISOString().slice(0, 10);
const idsOf = (...indexes: number[]) => indexes.map((i) => licences[i]!.id);

describe('searching an issuer’s licences (GET /licences)', () => {
  it('finds by a part of the holder’s name, with the total of all pages, a page at a time', async () => {
    const { ids, totals } = await allPages({ holderName: '欧阳', limit: '2' });
    expect(ids).toEqual(idsOf(3, 1, 0));
    expect(totals).toEqual([
      { count: 3, capped: false },
      { count: 3, capped: false },
    ]);
    expect((await list({ holderName: '无此人', total: 'true' })).total).toEqual({ count: 0, capped: false });
    // Without `total=true` the count is not made.
    expect((await list({ holderName: '欧阳' })).total).toBeUndefined();
  });

  it('finds by a part of the licence number, by type, by status and by issue day', async () => {
    const serialPart = licences[2]!.id.split('.').slice(-4).join('.');
    expect((await list({ number: serialPart })).items.map((l) => l.id)).toEqual(idsOf(2));
    expect((await allPages({ type: 'driving-licence' })).ids).toEqual(idsOf(4, 3, 2, 1, 0));
    expect((await list({ type: 'business-licence', total: 'true' })).total).toEqual({
      count: 0,
      capped: false,
    });
    expect((await allPages({ issuedFrom: today(), issuedTo: today() })).ids).toHaveLength(5);
    expect((await allPages({ issuedTo: '2020-01-01' })).ids).toEqual([]);
    expect((await allPages({ status: 'suspended' })).ids).toEqual([]);
  });

  it('sorts by issue time either way and by number, and a cursor continues its own order', async () => {
    expect((await allPages({ sort: 'issuedAt', limit: '2' })).ids).toEqual(idsOf(0, 1, 2, 3, 4));
    expect((await allPages({ sort: '-issuedAt', limit: '2' })).ids).toEqual(idsOf(4, 3, 2, 1, 0));
    const serial = (id: string) => Number(id.split('.').at(-3));
    const ascending = (await list({ sort: 'number', limit: '100' })).items.map((l) => serial(l.id));
    expect(ascending).toEqual([...ascending].sort((a, b) => a - b));
    const descending = (await list({ sort: '-number', limit: '100' })).items.map((l) => serial(l.id));
    expect(descending).toEqual([...ascending].reverse());
  });

  it('refuses a bad search naming its field, never a 5xx', async () => {
    for (const [query, field] of [
      [{ issuedFrom: '2026-02-30' }, 'issuedFrom'],
      [{ issuedTo: 'yesterday' }, 'issuedTo'],
      [{ issuedFrom: '2026-03-02', issuedTo: '2026-03-01' }, 'issuedTo'],
      [{ sort: 'holder' }, 'sort'],
      [{ total: 'yes' }, 'total'],
      [{ holderName: 'x'.repeat(51) }, 'holderName'],
    ] as const) {
      const problem = await expectProblem(
        await getWithToken(runtime, `/licences?${new URLSearchParams(query)}`, token),
        400,
      );
      expect(problem.errors?.map((error) => error.path)).toContain(field);
    }
  });
});

describe('status reasons and history (POST /licences/{id}/status, GET /licences/{id})', () => {
  const change = (id: string, body: unknown) => postJson(runtime, `${licencePath(id)}/status`, token, body);

  it('refuses a reason code not in the list, or of another status, naming reasonCode; other needs text', async () => {
    const id = licences[4]!.id;
    for (const body of [
      { status: 'suspended', reasonCode: 'not-a-reason' },
      // A revocation's reason does not suspend.
      { status: 'suspended', reasonCode: 'violation' },
    ]) {
      const problem = await expectProblem(await change(id, body), 400);
      expect(problem.errors?.map((error) => error.path)).toEqual(['reasonCode']);
    }
    for (const body of [
      { status: 'suspended', reasonCode: 'other' },
      { status: 'suspended', reasonCode: 'other', reason: '   ' },
      { status: 'suspended' },
    ]) {
      const problem = await expectProblem(await change(id, body), 400);
      expect(problem.errors?.map((error) => error.path)).toEqual(['reason']);
    }
    const unchanged = await expectJson<LicenceJson>(await getWithToken(runtime, licencePath(id), token), 200);
    expect(unchanged.status).toBe('valid');
  });

  it('records who, when and why in the history the issuer reads, the preset in Chinese with the note', async () => {
    const id = licences[3]!.id;
    const suspended = await expectJson<LicenceJson>(
      await change(id, { status: 'suspended', reasonCode: 'investigation', reason: '案号 2026-17' }),
      200,
    );
    expect(suspended.statusReason).toBe('涉嫌违法违规，调查期间暂扣：案号 2026-17');
    await expectJson(await change(id, { status: 'valid', reasonCode: 'investigation-closed' }), 200);
    await expectJson(
      await change(id, { status: 'revoked', reasonCode: 'other', reason: '行政复议决定' }),
      200,
    );

    const read = await expectJson<LicenceJson & { history: HistoryEntry[] }>(
      await getWithToken(runtime, licencePath(id), token),
      200,
    );
    expect(read.status).toBe('revoked');
    expect(
      read.history.map(({ action, actor, reason, reasonCode }) => ({ action, actor, reason, reasonCode })),
    ).toEqual([
      { action: 'issued', actor: clientId, reason: undefined, reasonCode: undefined },
      {
        action: 'suspended',
        actor: clientId,
        reason: '涉嫌违法违规，调查期间暂扣：案号 2026-17',
        reasonCode: 'investigation',
      },
      {
        action: 'reinstated',
        actor: clientId,
        reason: '调查结束，恢复有效',
        reasonCode: 'investigation-closed',
      },
      { action: 'revoked', actor: clientId, reason: '行政复议决定', reasonCode: 'other' },
    ]);
    const times = read.history.map((entry) => Date.parse(entry.at));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    // The list does not carry histories: they are the licence page's.
    const listed = (await list({ number: id })).items[0] as LicenceJson & { history?: unknown };
    expect(listed.history).toBeUndefined();
    // And the status filter now finds it.
    expect((await allPages({ status: 'revoked' })).ids).toEqual([id]);
  });
});
