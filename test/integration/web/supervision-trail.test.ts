import { randomUUID } from 'node:crypto';
import { DeleteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dependencies } from '../../../functions/composition/dependencies.js';
import { audit } from '../../../functions/composition/factories.js';
import { entryCursor } from '../../../shared/audit/audit-trail.js';
import { supervisionTrailBody } from '../../../shared/web/pages/supervision-page.js';
import { checkLicenceTrail } from '../../../shared/web/supervision/check-licence-trail.js';
import { SupervisionApi, trailPageSize } from '../../../shared/web/supervision/supervision-api.js';
import { licenceAuditItems } from '../../support/audit-entries.js';
import { clientCredentialsToken, startTestRuntime, type TestRuntime } from '../../support/runtime.js';
import { UserAgent } from '../../support/user-agent.js';

/**
 * The supervision console's trail page over HTTP for a licence with more entries than a page holds (a
 * printed QR code scanned over and over): every entry is reachable through 下一页, and each page's check
 * finds the trail intact (the licence's entries on other pages are not "missing from its list"), yet
 * still names an entry of its own stretch taken off the list.
 */
let runtime: TestRuntime;
let ua: UserAgent;
const licenceId = `lic-long-${randomUUID()}`;
const extra = 20;
let written: string[];

beforeAll(async () => {
  runtime = await startTestRuntime();
  const trail = audit(dependencies());
  const base = Date.now() - 120_000;
  written = Array.from({ length: trailPageSize + extra }, (_, i) => new Date(base + i * 10).toISOString());
  await Promise.all(
    written.map((at) =>
      trail.record({ at, actor: 'anonymous', action: 'licence.verified', licenceId, verdict: 'valid' }),
    ),
  );
  ua = new UserAgent(runtime.baseUrl);
  const signIn = await ua.request('/supervision/login', { form: runtime.credentials.supervisor });
  expect(signIn.status).toBe(303);
}, 120_000);
afterAll(() => runtime?.close());

/** The page at `path`: its status, the times of its rows, its 下一页 and 第一页 links. */
async function trailPage(path: string) {
  const response = await ua.request(path);
  const html = await response.text();
  const link = (label: string) => {
    const found = new RegExp(`<a href="([^"]+)"[^>]*>${label}</a>`).exec(html)?.[1];
    return found?.replaceAll('&amp;', '&');
  };
  const table = html.slice(html.indexOf('<tbody>'), html.indexOf('</tbody>'));
  return {
    status: response.status,
    html,
    times: [...table.matchAll(/<time datetime="([^"]+)"/g)].map((match) => match[1]),
    next: link('下一页'),
    first: link('第一页'),
  };
}

const firstPath = `/supervision/trail?licence=${encodeURIComponent(licenceId)}`;

describe('the supervision console’s trail page of a long trail', () => {
  it('pages through every entry with 下一页, each once, oldest first, each page checked intact', async () => {
    const first = await trailPage(firstPath);
    expect(first.status).toBe(200);
    expect(first.times).toEqual(written.slice(0, trailPageSize));
    expect(first.html).toContain(`本页 ${trailPageSize} 条记录`);
    expect(first.html).toContain('审计链完整');
    expect(first.first).toBeUndefined();
    expect(first.next).toMatch(/^\/supervision\/trail\?licence=.+&cursor=/);

    const second = await trailPage(first.next!);
    expect(second.status).toBe(200);
    // Entry 501 onwards: what the first page could not show.
    expect(second.times).toEqual(written.slice(trailPageSize));
    expect(second.html).toContain('审计链完整');
    expect(second.next).toBeUndefined();
    expect(second.first).toBe(firstPath);
  });

  it('still names an entry of the page’s own stretch taken off the licence’s list, and only on its page', async () => {
    const { doc, config } = dependencies();
    const Items = await licenceAuditItems(doc, config.auditTableName, licenceId);
    const target = Items.find((item) => item.at === written[trailPageSize + 5])!;
    const { gsi1pk: _pk, gsi1sk: _sk, ...unindexed } = target;
    await doc.send(new PutCommand({ TableName: config.auditTableName, Item: unindexed }));
    try {
      const first = await trailPage(firstPath);
      expect(first.html).toContain('审计链完整');
      const second = await trailPage(first.next!);
      expect(second.times).toHaveLength(extra - 1);
      expect(second.html).toContain('审计链被破坏');
      expect(second.html).toContain(`${String(target.chain)}</code> #${String(target.seq)}`);
    } finally {
      await doc.send(new PutCommand({ TableName: config.auditTableName, Item: target }));
    }
  });

  it('names an entry taken off the list between two pages, on the later one', async () => {
    // An entry of the licence between the first page's last entry and the second page's first, then taken
    // off the list: it belongs to neither page's entries, yet the pages together hold its place.
    const between = new Date(Date.parse(written[trailPageSize - 1]!) + 5).toISOString();
    await audit(dependencies()).record({
      at: between,
      actor: 'anonymous',
      action: 'licence.verified',
      licenceId,
      verdict: 'valid',
    });
    const { doc, config } = dependencies();
    const target = (await licenceAuditItems(doc, config.auditTableName, licenceId)).find(
      (item) => item.at === between,
    )!;
    const { gsi1pk: _pk, gsi1sk: _sk, ...unindexed } = target;
    await doc.send(new PutCommand({ TableName: config.auditTableName, Item: unindexed }));
    try {
      const first = await trailPage(firstPath);
      expect(first.times).toEqual(written.slice(0, trailPageSize));
      expect(first.html).toContain('审计链完整');
      const second = await trailPage(first.next!);
      expect(second.times).toEqual(written.slice(trailPageSize));
      expect(second.html).toContain('审计链被破坏');
      expect(second.html).toContain(`${String(target.chain)}</code> #${String(target.seq)}`);
    } finally {
      await doc.send(new PutCommand({ TableName: config.auditTableName, Item: target }));
    }
  });

  it('answers a cursor it did not make with a 400 page that offers the first page', async () => {
    const forged = Buffer.from('../../audit-chain#x').toString('base64url');
    const page = await trailPage(`${firstPath}&cursor=${forged}`);
    expect(page.status).toBe(400);
    expect(page.html).toContain('翻页链接无效');
    expect(page.html).toContain(`href="${firstPath}"`);
    // An empty cursor too: it is not a way back to the first page that would pass for one.
    const empty = await trailPage(`${firstPath}&cursor=`);
    expect(empty.status).toBe(400);
    expect(empty.html).toContain('翻页链接无效');
  });

  it('refuses a link whose cursor sits on an entry taken off the list: the page would start past it and pass (R14 L2)', async () => {
    // A cursor as the API used to take any (the base64url of a place on the licence's list), made to sit
    // exactly on an entry hidden from the list: the page after it would list and check only what follows,
    // and find the trail intact, though no 下一页 leads there.
    const { doc, config } = dependencies();
    const target = (await licenceAuditItems(doc, config.auditTableName, licenceId)).find(
      (item) => item.at === written[trailPageSize + 2],
    )!;
    const crafted = entryCursor(String(target.gsi1sk));
    const { gsi1pk: _pk, gsi1sk: _sk, ...unindexed } = target;
    await doc.send(new PutCommand({ TableName: config.auditTableName, Item: unindexed }));
    try {
      const page = await trailPage(`${firstPath}&cursor=${crafted}`);
      expect(page.html).not.toContain('审计链完整');
      expect(page.status).toBe(400);
      expect(page.html).toContain('翻页链接无效');
      expect(page.html).toContain(`href="${firstPath}"`);
      // The pages 下一页 leads to still name it.
      const second = await trailPage((await trailPage(firstPath)).next!);
      expect(second.html).toContain('审计链被破坏');
      expect(second.html).toContain(`${String(target.chain)}</code> #${String(target.seq)}`);
    } finally {
      await doc.send(new PutCommand({ TableName: config.auditTableName, Item: target }));
    }
  });

  it('reports broken a genuine 下一页 whose entry was taken off the list since: the page would start past it and pass (R14 L2)', async () => {
    // The cursor is the service's own (sealed), on the first page's last entry; that entry is then taken
    // off the licence's list (its index keys removed, the chain left whole). A bookmarked 下一页 still opens.
    const first = await trailPage(firstPath);
    const { doc, config } = dependencies();
    const target = (await licenceAuditItems(doc, config.auditTableName, licenceId)).find(
      (item) => item.at === written[trailPageSize - 1],
    )!;
    const { gsi1pk: _pk, gsi1sk: _sk, ...unindexed } = target;
    await doc.send(new PutCommand({ TableName: config.auditTableName, Item: unindexed }));
    try {
      const second = await trailPage(first.next!);
      expect(second.status).toBe(200);
      expect(second.times).toContain(written.at(-1));
      expect(second.times).not.toContain(written[trailPageSize - 1]);
      expect(second.html).not.toContain('审计链完整');
      expect(second.html).toContain('审计链被破坏');
      expect(second.html).toContain('no longer on the licence’s list');
    } finally {
      await doc.send(new PutCommand({ TableName: config.auditTableName, Item: target }));
    }
    // Put back, the same link checks clean again.
    expect((await trailPage(first.next!)).html).toContain('审计链完整');
  });

  it('answers over HTTP the entry a cursor stands on, or null once it is off the list (R14 L2)', async () => {
    const token = await clientCredentialsToken(runtime, runtime.credentials.supervisor, 'supervision');
    const get = async (query: Record<string, string>) => {
      const response = await fetch(
        `${runtime.baseUrl}/supervision/audit?${new URLSearchParams({ licence: licenceId, ...query }).toString()}`,
        { headers: { authorization: `Bearer ${token}` } },
      );
      expect(response.status).toBe(200);
      return (await response.json()) as {
        items: Array<{ at: string; hash?: string }>;
        positions: string[];
        after?: { at: string; position: string; entry: { at: string; hash?: string } | null };
        cursor?: string;
      };
    };
    const first = await get({ limit: '3' });
    expect(first.after).toBeUndefined();
    const x = first.items[2]!;
    const second = await get({ limit: '3', cursor: first.cursor! });
    expect(second.after).toEqual({ at: x.at, position: first.positions[2], entry: x });
    expect(second.items.map((item) => item.at)).toEqual(written.slice(3, 6));

    // Entry X deleted from the table outright: the same genuine cursor still opens, and says so.
    const { doc, config } = dependencies();
    const target = (await licenceAuditItems(doc, config.auditTableName, licenceId)).find(
      (item) => item.at === x.at,
    )!;
    await doc.send(
      new DeleteCommand({ TableName: config.auditTableName, Key: { pk: target.pk, sk: target.sk } }),
    );
    try {
      const gone = await get({ limit: '3', cursor: first.cursor! });
      expect(gone.after).toEqual({ at: x.at, position: first.positions[2], entry: null });
      expect(gone.items.map((item) => item.at)).toEqual(written.slice(3, 6));
      const page = await new SupervisionApi(runtime.baseUrl, token).auditOfLicence(licenceId, first.cursor!);
      const check = await checkLicenceTrail(runtime.baseUrl, token, licenceId, page);
      expect(check.result).toMatchObject({ kind: 'broken' });
    } finally {
      await doc.send(new PutCommand({ TableName: config.auditTableName, Item: target }));
    }
  });

  it('refuses a genuine 下一页 cursor altered by one character, or taken to another licence’s trail', async () => {
    const first = await trailPage(firstPath);
    const cursor = new URL(first.next!, runtime.baseUrl).searchParams.get('cursor')!;
    const last = cursor.at(-1) === 'A' ? 'B' : 'A';
    const altered = await trailPage(`${firstPath}&cursor=${cursor.slice(0, -1)}${last}`);
    expect(altered.status).toBe(400);
    expect(altered.html).toContain('翻页链接无效');
    const other = `/supervision/trail?licence=${encodeURIComponent(`${licenceId}-other`)}`;
    const elsewhere = await trailPage(`${other}&cursor=${cursor}`);
    expect(elsewhere.status).toBe(400);
    expect(elsewhere.html).toContain('翻页链接无效');
  });

  it('reports a page whose places are out of order as not intact: such places could draw its stretch around a hidden entry', async () => {
    // Between the API and the check, the second page's start is moved past its first entries, or two of
    // its places swapped: the stretch drawn from them would leave entries of the page outside it.
    const proxiedWith =
      (change: (body: { positions: string[]; after?: { position: string } }) => void): typeof fetch =>
      async (input, init) => {
        const response = await fetch(input, init);
        const url = new URL(input instanceof Request ? input.url : String(input));
        if (url.pathname !== '/supervision/audit' || !response.ok || !url.searchParams.has('cursor'))
          return response;
        const body = (await response.json()) as { positions: string[]; after?: { position: string } };
        change(body);
        return new Response(JSON.stringify(body), { status: response.status, headers: response.headers });
      };
    const token = await clientCredentialsToken(runtime, runtime.credentials.supervisor, 'supervision');
    const { cursor } = await new SupervisionApi(runtime.baseUrl, token).auditOfLicence(licenceId);
    const checkWith = async (proxied: typeof fetch) => {
      const page = await new SupervisionApi(runtime.baseUrl, token, proxied).auditOfLicence(
        licenceId,
        cursor,
      );
      return (await checkLicenceTrail(runtime.baseUrl, token, licenceId, page, proxied)).result;
    };
    const disorder = {
      kind: 'broken',
      problem: 'the API’s places of this page’s entries are out of order',
    };
    expect(await checkWith(proxiedWith(() => {}))).toMatchObject({ kind: 'intact' });
    expect(
      await checkWith(
        proxiedWith((body) => {
          body.after!.position = body.positions[5]!;
        }),
      ),
    ).toMatchObject(disorder);
    expect(
      await checkWith(
        proxiedWith((body) => {
          [body.positions[2], body.positions[3]] = [body.positions[3]!, body.positions[2]!];
        }),
      ),
    ).toMatchObject(disorder);
  });

  it('takes the API’s places as they come: re-encoded into a form nothing like the storage’s keys, each page still checks only its own stretch', async () => {
    // Between the API and the check, every place is written another way that keeps its order as text
    // (each hex digit a letter G–V): a check that rebuilt places from the entries (the table's key format)
    // or read into them would compare unlike things, and find entries of other pages missing or miss one.
    const reencode = (place: unknown) =>
      typeof place === 'string'
        ? Array.from(place, (digit) => String.fromCharCode(71 + Number.parseInt(digit, 16))).join('')
        : place;
    const proxied: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      const url = new URL(input instanceof Request ? input.url : String(input));
      if (url.pathname !== '/supervision/audit' || !response.ok) return response;
      const body = (await response.json()) as { positions: unknown[]; after?: { position: string } };
      body.positions = body.positions.map(reencode);
      if (body.after) body.after.position = reencode(body.after.position) as string;
      return new Response(JSON.stringify(body), { status: response.status, headers: response.headers });
    };
    const token = await clientCredentialsToken(runtime, runtime.credentials.supervisor, 'supervision');
    const api = new SupervisionApi(runtime.baseUrl, token, proxied);
    const check = async (cursor?: string) => {
      const page = await api.auditOfLicence(licenceId, cursor);
      expect(page.positions.every((place) => /^[G-V]+$/.test(place))).toBe(true);
      return { page, check: await checkLicenceTrail(runtime.baseUrl, token, licenceId, page, proxied) };
    };

    const first = await check();
    expect(first.check.result.kind).toBe('intact');
    const second = await check(first.page.cursor);
    expect(second.page.after?.at).toBe(written[trailPageSize - 1]);
    expect(second.check.result.kind).toBe('intact');

    const { doc, config } = dependencies();
    const target = (await licenceAuditItems(doc, config.auditTableName, licenceId)).find(
      (item) => item.at === written[trailPageSize + 3],
    )!;
    const { gsi1pk: _pk, gsi1sk: _sk, ...unindexed } = target;
    await doc.send(new PutCommand({ TableName: config.auditTableName, Item: unindexed }));
    try {
      expect((await check()).check.result.kind).toBe('intact');
      expect((await check(first.page.cursor)).check.result).toMatchObject({
        kind: 'broken',
        chain: target.chain,
        seq: target.seq,
      });
    } finally {
      await doc.send(new PutCommand({ TableName: config.auditTableName, Item: target }));
    }
  });

  it('shows a page whose entries are on a past day no checkpoint closed as not verifiable, never intact (review R52)', async () => {
    // As `npm run audit:verify` holds it: a day that has ended needs a checkpoint signed after it ended
    // that names it, or its chains could have been cut or rewritten whole unseen. The licence's entries
    // were written today; seen two days on, with no checkpoint signed since, their day is such a day.
    const token = await clientCredentialsToken(runtime, runtime.credentials.supervisor, 'supervision');
    const api = new SupervisionApi(runtime.baseUrl, token);
    const page = await api.auditOfLicence(licenceId);
    const today = await checkLicenceTrail(runtime.baseUrl, token, licenceId, page);
    expect(today.result.kind).toBe('intact');
    const later = await checkLicenceTrail(
      runtime.baseUrl,
      token,
      licenceId,
      page,
      fetch,
      Date.now() + 2 * 86_400_000,
    );
    expect(later.result).toMatchObject({ kind: 'unverifiable', unclosedDay: later.daysChecked[0] });
    const body = String(
      supervisionTrailBody((zh) => zh, {
        clientId: 'supervisor',
        licenceId,
        entries: [],
        result: later.result,
        unchained: 0,
        daysChecked: later.daysChecked,
        daysSkipped: 0,
      }),
    );
    expect(body).toContain('无法验证');
    expect(body).toContain(`${later.daysChecked[0]} 没有收盘检查点`);
    expect(body).not.toContain('审计链完整');
  });

  it('shows a page whose API answered no after.entry (the release before, during a deploy) as not verifiable, never intact', async () => {
    // Version skew (docs/operating.md): a canary's console may ask a supervision API of the release
    // before `after.entry`. The page parses and is checked, but an entry taken off the list at its
    // starting place could not be seen, so it is not shown intact; what is broken is still broken.
    const withoutAnchor: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      const url = new URL(input instanceof Request ? input.url : String(input));
      if (url.pathname !== '/supervision/audit' || !response.ok) return response;
      const body = (await response.json()) as { after?: { entry?: unknown } };
      if (body.after) delete body.after.entry;
      return new Response(JSON.stringify(body), { status: response.status, headers: response.headers });
    };
    const token = await clientCredentialsToken(runtime, runtime.credentials.supervisor, 'supervision');
    const api = new SupervisionApi(runtime.baseUrl, token, withoutAnchor);
    const { cursor } = await api.auditOfLicence(licenceId);
    const check = async () => {
      const page = await api.auditOfLicence(licenceId, cursor);
      expect(page.after).toBeDefined();
      expect(page.after).not.toHaveProperty('entry');
      return checkLicenceTrail(runtime.baseUrl, token, licenceId, page, withoutAnchor);
    };
    const unverifiable = await check();
    expect(unverifiable.result).toMatchObject({ kind: 'unverifiable' });
    const body = String(
      supervisionTrailBody((zh) => zh, {
        clientId: 'supervisor',
        licenceId,
        entries: [],
        result: unverifiable.result,
        unchained: 0,
        daysChecked: unverifiable.daysChecked,
        daysSkipped: 0,
      }),
    );
    expect(body).toContain('无法验证');
    expect(body).not.toContain('审计链完整');
    expect(body).not.toContain('审计链被破坏');

    // An entry of the page's stretch taken off the list is still named.
    const { doc, config } = dependencies();
    const target = (await licenceAuditItems(doc, config.auditTableName, licenceId)).find(
      (item) => item.at === written[trailPageSize + 4],
    )!;
    const { gsi1pk: _pk, gsi1sk: _sk, ...unindexed } = target;
    await doc.send(new PutCommand({ TableName: config.auditTableName, Item: unindexed }));
    try {
      expect((await check()).result).toMatchObject({ kind: 'broken', chain: target.chain, seq: target.seq });
    } finally {
      await doc.send(new PutCommand({ TableName: config.auditTableName, Item: target }));
    }
  });
});
