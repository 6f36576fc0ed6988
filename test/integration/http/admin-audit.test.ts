import { randomUUID } from 'node:crypto';
import { DeleteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dependencies } from '../../../functions/composition/dependencies.js';
import { audit } from '../../../functions/composition/factories.js';
import {
  drivingLicenceBody,
  getWithToken,
  issued,
  licencePath,
  newIdNumber,
} from '../../support/licences.js';
import { licenceAuditItems } from '../../support/audit-entries.js';
import { expectProblem, postJson } from '../../support/http-api.js';
import { clientCredentialsToken, startTestRuntime, type TestRuntime } from '../../support/runtime.js';

let runtime: TestRuntime;
beforeAll(async () => {
  runtime = await startTestRuntime();
});
afterAll(() => runtime?.close());

describe('the operator reads a licence’s audit trail (网上留痕)', () => {
  it('lists who issued, suspended and verified it, in order, with the holder masked only', async () => {
    const issuerToken = await clientCredentialsToken(runtime, runtime.credentials.issuer, 'licences:issue');
    const idNumber = newIdNumber();
    const licence = await issued(runtime, issuerToken, drivingLicenceBody(idNumber));
    const suspend = await postJson(runtime, `${licencePath(licence.id)}/status`, issuerToken, {
      status: 'suspended',
      reason: '记满12分',
    });
    expect(suspend.status).toBe(200);
    const verify = await fetch(`${runtime.baseUrl}/verify`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ qr: licence.credential }),
    });
    expect(((await verify.json()) as { verdict: string }).verdict).toBe('suspended');

    const adminToken = await clientCredentialsToken(runtime, runtime.credentials.admin, 'admin');
    const response = await getWithToken(
      runtime,
      `/admin/audit?licence=${encodeURIComponent(licence.id)}`,
      adminToken,
    );
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(text).not.toContain(idNumber);
    const { items } = JSON.parse(text) as {
      items: Array<{
        action: string;
        actor: string;
        reason?: string;
        verdict?: string;
        holderMasked?: string;
      }>;
    };
    expect(items.map((entry) => entry.action)).toEqual([
      'licence.issued',
      'licence.suspended',
      'licence.verified',
    ]);
    expect(items[0]).toMatchObject({
      actor: runtime.credentials.issuer.clientId,
      holderMasked: licence.holder.masked,
    });
    expect(items[1]).toMatchObject({ reason: '记满12分' });
    expect(items[2]).toMatchObject({ actor: 'anonymous', verdict: 'suspended' });
  });

  it('is for operators only, and needs the licence named', async () => {
    const adminToken = await clientCredentialsToken(runtime, runtime.credentials.admin, 'admin');
    expect((await getWithToken(runtime, '/admin/audit', adminToken)).status).toBe(400);
    const issuerToken = await clientCredentialsToken(runtime, runtime.credentials.issuer, 'licences:issue');
    expect((await getWithToken(runtime, '/admin/audit?licence=x', issuerToken)).status).toBe(403);
  });

  it('answers a flooded licence a page at a time (100 by default, at most 1000), each entry once, oldest first', async () => {
    // A printed QR code scanned over and over: every verification is an entry of the licence's trail.
    const licenceId = `lic-flood-${randomUUID()}`;
    const trail = audit(dependencies());
    const base = Date.parse('2026-12-05T08:00:00.000Z');
    const written = Array.from({ length: 130 }, (_, i) => new Date(base + i * 1000).toISOString());
    await Promise.all(
      written.map((at) =>
        trail.record({ at, actor: 'anonymous', action: 'licence.verified', licenceId, verdict: 'valid' }),
      ),
    );
    const adminToken = await clientCredentialsToken(runtime, runtime.credentials.admin, 'admin');
    const path = `/admin/audit?licence=${encodeURIComponent(licenceId)}`;
    const read = async (query: string) => {
      const response = await getWithToken(runtime, `${path}${query}`, adminToken);
      expect(response.status).toBe(200);
      return (await response.json()) as { items: Array<{ at: string }>; cursor?: string };
    };

    const first = await read('');
    expect(first.items).toHaveLength(100);
    expect(first.cursor).toEqual(expect.any(String));
    const rest = await read(`&cursor=${encodeURIComponent(first.cursor!)}`);
    expect(rest.items).toHaveLength(30);
    expect(rest.cursor).toBeUndefined();
    expect([...first.items, ...rest.items].map((entry) => entry.at)).toEqual(written);

    const pages: string[][] = [];
    let cursor: string | undefined;
    do {
      const page = await read(`&limit=40${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      pages.push(page.items.map((entry) => entry.at));
      cursor = page.cursor;
    } while (cursor);
    expect(pages.map((page) => page.length)).toEqual([40, 40, 40, 10]);
    expect(pages.flat()).toEqual(written);
  });

  it('says on a page asked after a cursor whether the entry it stands on is still on the list (R14 L2)', async () => {
    const licenceId = `lic-anchor-${randomUUID()}`;
    const trail = audit(dependencies());
    const base = Date.now() - 60_000;
    const written = Array.from({ length: 6 }, (_, i) => new Date(base + i * 1000).toISOString());
    for (const at of written)
      await trail.record({ at, actor: 'anonymous', action: 'licence.verified', licenceId, verdict: 'valid' });
    const adminToken = await clientCredentialsToken(runtime, runtime.credentials.admin, 'admin');
    type Page = {
      items: Array<{ at: string; hash?: string }>;
      after?: { at: string; entry: { at: string; hash?: string; holderKey?: string } | null };
      cursor?: string;
    };
    const read = async (cursor?: string): Promise<Page> => {
      const query = new URLSearchParams({ licence: licenceId, limit: '2', ...(cursor ? { cursor } : {}) });
      const response = await getWithToken(runtime, `/admin/audit?${query.toString()}`, adminToken);
      expect(response.status).toBe(200);
      return (await response.json()) as Page;
    };
    const first = await read();
    expect(first.after).toBeUndefined();
    const second = await read(first.cursor);
    expect(second.after).toMatchObject({ at: written[1], entry: first.items[1] });
    expect(second.after?.entry).not.toHaveProperty('holderKey');

    // The entry the cursor stands on deleted from the table: the service's own cursor still opens.
    const { doc, config } = dependencies();
    const target = (await licenceAuditItems(doc, config.auditTableName, licenceId)).find(
      (item) => item.at === written[1],
    )!;
    await doc.send(
      new DeleteCommand({ TableName: config.auditTableName, Key: { pk: target.pk, sk: target.sk } }),
    );
    try {
      const gone = await read(first.cursor);
      expect(gone.after).toMatchObject({ at: written[1], entry: null });
      expect(gone.items.map((item) => item.at)).toEqual(written.slice(2, 4));
    } finally {
      await doc.send(new PutCommand({ TableName: config.auditTableName, Item: target }));
    }
  });

  it('refuses a limit out of range or a cursor it did not make, naming the field', async () => {
    const adminToken = await clientCredentialsToken(runtime, runtime.credentials.admin, 'admin');
    const path = '/admin/audit?licence=lic-x';
    for (const limit of ['0', '1001', 'many']) {
      const problem = await expectProblem(
        await getWithToken(runtime, `${path}&limit=${limit}`, adminToken),
        400,
      );
      expect(JSON.stringify(problem)).toContain('limit');
    }
    const forged = Buffer.from('../../audit-chain#x').toString('base64url');
    for (const cursor of ['abc!', forged]) {
      const problem = await expectProblem(
        await getWithToken(runtime, `${path}&cursor=${encodeURIComponent(cursor)}`, adminToken),
        400,
        'invalid_cursor',
      );
      expect(JSON.stringify(problem)).toContain('cursor');
    }
  });
});
