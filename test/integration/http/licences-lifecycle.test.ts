import { decodeJwt } from 'jose';
import jsqr from 'jsqr';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseLicenceId } from '../../../shared/identifiers/licence-id.js';
import { StatusType } from '../../../packages/verifier/src/status-list.js';
import { expectProblem, postJson } from '../../support/http-api.js';
import {
  drivingLicenceBody,
  expectJson,
  getWithToken,
  issued,
  issueLicence,
  issuerKeySet,
  licencePath,
  listAll,
  maskedIdNumber,
  newIdNumber,
  statusAt,
  verifyCredential,
  type CredentialClaims,
  type KeySet,
  type LicenceJson,
  searchLicences,
} from '../../support/licences.js';
import { clientCredentialsToken, startTestRuntime, type TestRuntime } from '../../support/runtime.js';
import { beijingDate, lastValidDay } from '../../../shared/validity-dates.js';

// jsqr is CommonJS with an `exports.default`: under NodeNext the default import is `module.exports`.
const decodeQr = jsqr.default;

let runtime: TestRuntime;
let token: string;
let keys: KeySet;

beforeAll(async () => {
  runtime = await startTestRuntime();
  token = await clientCredentialsToken(runtime, runtime.credentials.issuer, 'licences:issue');
  keys = await issuerKeySet(runtime, runtime.credentials.issuer.id);
});
afterAll(async () => {
  await runtime?.close();
});

const rfc3339Utc = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;
const seconds = (timestamp: string) => Math.floor(Date.parse(timestamp) / 1000);

describe('a driving licence from issuance to revocation', () => {
  const idNumber = newIdNumber('110105');
  const body = drivingLicenceBody(idNumber, { holderName: '赵生命' });
  let licence: LicenceJson;
  let location: string | null;
  let claims: CredentialClaims;

  const changeStatus = async (status: string, reason: string) =>
    postJson(runtime, `${licencePath(licence.id)}/status`, token, { status, reason });

  beforeAll(async () => {
    const response = await issueLicence(runtime, token, body);
    location = response.headers.get('location');
    licence = await expectJson<LicenceJson>(response, 201);
  });

  it('answers 201 with Location and the Licence of API.md, the ID number masked', async () => {
    const issuer = runtime.credentials.issuer;
    expect(location).toBe(licencePath(licence.id));
    expect(licence).toEqual({
      id: expect.any(String),
      type: 'driving-licence',
      issuer: {
        id: issuer.id,
        name: expect.stringMatching(/\S/),
        creditCode: expect.any(String),
        status: 'active',
      },
      holder: { kind: 'person', name: '赵生命', masked: maskedIdNumber(idNumber) },
      fields: body.fields,
      status: 'valid',
      issuedAt: expect.stringMatching(rfc3339Utc),
      validFrom: expect.stringMatching(rfc3339Utc),
      validUntil: expect.stringMatching(rfc3339Utc),
      credential: expect.stringMatching(/^[\w-]+\.[\w-]+\.[\w-]+$/),
    });
    expect(licence.holder.masked).toMatch(/^110105\*{8}\d{3}[\dX]$/);
    // A GB/T 36904 identifier of a driving licence (type 003) of this issuer, version 1.
    expect(parseLicenceId(licence.id)).toMatchObject({
      id: licence.id,
      typeCode: '003',
      issuerCreditCode: licence.issuer.creditCode,
      version: 1,
    });
    // Six years by default (《机动车驾驶证申领和使用规定》), counted on the calendar from validFrom's
    // Beijing date, valid through the same day six years on: validUntil is 00:00 Beijing the day after.
    const from = beijingDate(Date.parse(licence.validFrom));
    const lastDay = `${Number(from.slice(0, 4)) + 6}${from.slice(4)}`.replace(/-02-29$/, '-02-28');
    expect(lastValidDay(licence.validUntil)).toBe(lastDay);
    expect(licence.validUntil).toMatch(/T16:00:00\.000Z$/);
    expect(Date.parse(licence.validFrom)).toBeLessThanOrEqual(Date.parse(licence.issuedAt));
  });

  it('carries the raw ID number nowhere: not in the JSON, not in the credential', () => {
    expect(JSON.stringify(licence)).not.toContain(idNumber);
    expect(JSON.stringify(decodeJwt(licence.credential))).not.toContain(idNumber);
    expect(JSON.stringify(decodeJwt(licence.credential))).not.toContain(idNumber.slice(6, 14));
  });

  it('has a credential that verifies against the issuer key of the trust list, with the claims', async () => {
    claims = await verifyCredential(licence.credential, keys);
    expect(claims).toMatchObject({
      iss: `${runtime.baseUrl}/issuers/${runtime.credentials.issuer.id}`,
      vct: `${runtime.baseUrl}/licence-types/driving-licence`,
      jti: licence.id,
      iat: seconds(licence.issuedAt),
      nbf: seconds(licence.validFrom),
      exp: seconds(licence.validUntil!),
      status: {
        status_list: {
          idx: expect.any(Number),
          uri: expect.stringMatching(`^${runtime.baseUrl}/status-lists/`),
        },
      },
    });
    expect(Number.isSafeInteger(claims.status.status_list.idx)).toBe(true);
    // The licence's own identifier follows from its slot: serial n is entry n of list 0.
    expect(claims.status.status_list.idx).toBe(parseLicenceId(licence.id).serial);
  });

  it('is read back by its id, and at its Location', async () => {
    const read = await expectJson<LicenceJson>(
      await getWithToken(runtime, licencePath(licence.id), token),
      200,
    );
    // The issuer's read adds the status history: here its issuance alone, by the issuer's client.
    const issuedEntry = {
      at: licence.issuedAt,
      action: 'issued',
      actor: runtime.credentials.issuer.clientId,
    };
    expect(read).toEqual({ ...licence, history: [issuedEntry] });
    const atLocation = await expectJson<LicenceJson>(await getWithToken(runtime, location!, token), 200);
    expect(atLocation).toEqual({ ...licence, history: [issuedEntry] });
  });

  it('stands as valid (0) in its status list at issuance', async () => {
    const { idx, uri } = claims.status.status_list;
    expect(await statusAt(uri, idx, keys)).toBe(StatusType.VALID);
  });

  it('is suspended (2), reinstated (0) and revoked (1), each step visible in the status list', async () => {
    const { idx, uri } = claims.status.status_list;
    const steps = [
      { status: 'suspended', reason: '交通违法记满12分', listValue: StatusType.SUSPENDED },
      { status: 'valid', reason: '学习考试合格', listValue: StatusType.VALID },
      { status: 'revoked', reason: '饮酒后驾驶营运机动车', listValue: StatusType.INVALID },
    ] as const;
    for (const step of steps) {
      const changed = await expectJson<LicenceJson>(await changeStatus(step.status, step.reason), 200);
      expect(changed).toMatchObject({ id: licence.id, status: step.status, statusReason: step.reason });
      // The credential itself never changes: the status list carries the status.
      expect(changed.credential).toBe(licence.credential);
      const read = await expectJson<LicenceJson>(
        await getWithToken(runtime, licencePath(licence.id), token),
        200,
      );
      expect(read.status, step.status).toBe(step.status);
      expect(await statusAt(uri, idx, keys), step.status).toBe(step.listValue);
    }
  });

  it('refuses to reinstate or suspend a revoked licence (409 licence_revoked)', async () => {
    await expectProblem(await changeStatus('valid', '申请恢复'), 409, 'licence_revoked');
    await expectProblem(await changeStatus('suspended', '再次暂扣'), 409, 'licence_revoked');
    const { idx, uri } = claims.status.status_list;
    expect(await statusAt(uri, idx, keys)).toBe(StatusType.INVALID);
    const read = await expectJson<LicenceJson>(
      await getWithToken(runtime, licencePath(licence.id), token),
      200,
    );
    expect(read.status).toBe('revoked');
  });

  it('renders its QR code as a PNG that decodes to exactly the credential', async () => {
    const response = await getWithToken(runtime, `${licencePath(licence.id)}/qr.png`, token);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('image/png');
    const png = PNG.sync.read(Buffer.from(await response.arrayBuffer()));
    const code = decodeQr(new Uint8ClampedArray(png.data), png.width, png.height);
    expect(code?.data).toBe(licence.credential);
  });

  it('renders its QR code as an SVG document', async () => {
    const response = await getWithToken(runtime, `${licencePath(licence.id)}/qr.svg`, token);
    const svg = await response.text();
    expect(response.status, svg).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^image\/svg\+xml/);
    expect(svg).toMatch(/^(<\?xml[^>]*>\s*)?<svg[\s>]/);
    expect(svg).toContain('xmlns="http://www.w3.org/2000/svg"');
    expect(svg).toMatch(/viewBox="0 0 (\d+) \1"/);
    expect(svg.trimEnd()).toMatch(/<\/svg>$/);
  });

  it('is listed under status=revoked and found by its holder’s ID number', async () => {
    const revoked = await listAll(runtime, token, 'status=revoked');
    expect(revoked.map((item) => item.id)).toContain(licence.id);
    expect(revoked.every((item) => item.status === 'revoked')).toBe(true);

    const valid = await listAll(runtime, token, 'status=valid');
    expect(valid.map((item) => item.id)).not.toContain(licence.id);
    expect(valid.length).toBeGreaterThan(0);

    const byHolder = await listAll(runtime, token, `holder=${idNumber}`);
    expect(byHolder.map((item) => item.id)).toEqual([licence.id]);
    expect(byHolder[0]).toMatchObject({ status: 'revoked', holder: { masked: maskedIdNumber(idNumber) } });
    // The number of someone who holds nothing finds nothing.
    const other = await listAll(runtime, token, `holder=${newIdNumber('310101')}`);
    expect(other).toEqual([]);
  });
});

describe('GET /licences pagination', () => {
  const fresh: LicenceJson[] = [];

  beforeAll(async () => {
    for (let i = 0; i < 5; i++) fresh.push(await issued(runtime, token, drivingLicenceBody(newIdNumber())));
  });

  it('follows cursor with limit=2 until it is absent: every licence once, newest first', async () => {
    const seen: LicenceJson[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const query = new URLSearchParams({ limit: '2', ...(cursor ? { cursor } : {}) });
      const page = await expectJson<{ items: LicenceJson[]; cursor?: string }>(
        await getWithToken(runtime, `/licences?${query}`, token),
        200,
      );
      expect(page.items.length).toBeLessThanOrEqual(2);
      if (page.cursor !== undefined) expect(page.items).toHaveLength(2);
      seen.push(...page.items);
      cursor = page.cursor;
      pages++;
      expect(pages).toBeLessThan(100);
    } while (cursor);

    const ids = seen.map((item) => item.id);
    expect(new Set(ids).size).toBe(ids.length);
    // Everything this issuer issued: the seed's two, the lifecycle licence, and the five above.
    expect(ids).toEqual((await listAll(runtime, token)).map((item) => item.id));
    expect(ids.length).toBeGreaterThanOrEqual(fresh.length + 2);
    for (const licence of fresh) expect(ids).toContain(licence.id);

    // Newest first: issuedAt never increases down the list, and the five newest lead in reverse order.
    for (let i = 1; i < seen.length; i++) {
      expect(seen[i - 1]!.issuedAt >= seen[i]!.issuedAt, `${i}`).toBe(true);
    }
    expect(ids.slice(0, fresh.length)).toEqual(fresh.map((licence) => licence.id).reverse());
  });

  it('refuses a tampered or foreign cursor (400 invalid_cursor)', async () => {
    const first = await expectJson<{ items: LicenceJson[]; cursor?: string }>(
      await getWithToken(runtime, '/licences?limit=2', token),
      200,
    );
    expect(first.cursor).toEqual(expect.any(String));
    const decoded = JSON.parse(Buffer.from(first.cursor!, 'base64url').toString('utf8')) as Record<
      string,
      string
    >;
    const reencode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const tampered = [
      // Another issuer's partition: a cursor must not open someone else's listing.
      reencode({ ...decoded, gsi2pk: 'issuer-licences#iss_someoneElse' }),
      // A member added, a member missing.
      reencode({ ...decoded, extra: 'x' }),
      reencode({ pk: decoded.pk, sk: decoded.sk }),
      // Not base64url of JSON at all; a real cursor with two characters replaced, one by a non-base64url one.
      'not-a-cursor',
      `${first.cursor!.slice(0, 3)}${first.cursor![3] === 'A' ? 'B' : 'A'}!${first.cursor!.slice(5)}`,
    ];
    for (const cursor of tampered) {
      const response = await getWithToken(
        runtime,
        `/licences?limit=2&cursor=${encodeURIComponent(cursor)}`,
        token,
      );
      await expectProblem(response, 400, 'invalid_cursor');
    }

    // A real cursor of the issuer listing does not continue a listing by holder (another index).
    const response = await searchLicences(runtime, token, {
      limit: 2,
      holder: runtime.credentials.citizen.idNumber,
      cursor: first.cursor!,
    });
    const problem = await expectProblem(response, 400, 'invalid_cursor');
    expect(problem.errors?.map((e) => e.path)).toEqual(['cursor']);
  });

  it('refuses a cursor reused with another issue-date range or order (400 invalid_cursor, not a 500), and pages a range to its end', async () => {
    const first = await expectJson<{ cursor?: string }>(
      await getWithToken(runtime, '/licences?limit=1', token),
      200,
    );
    const cursor = encodeURIComponent(first.cursor!);
    // Review R22: the cursor's start key lies outside the new range, which DynamoDB refused (a 500).
    for (const query of [`issuedFrom=2099-01-01&cursor=${cursor}`, `sort=issuedAt&cursor=${cursor}`]) {
      const problem = await expectProblem(
        await getWithToken(runtime, `/licences?limit=1&${query}`, token),
        400,
        'invalid_cursor',
      );
      expect(problem.errors?.map((e) => e.path)).toEqual(['cursor']);
    }
    const searched = await postJson(runtime, '/licences/search', token, {
      limit: 1,
      issuedFrom: '2000-01-01',
      issuedTo: '2000-01-02',
      cursor: first.cursor,
    });
    const problem = await expectProblem(searched, 400, 'invalid_cursor');
    expect(problem.errors?.map((e) => e.path)).toEqual(['cursor']);

    // With the same range, page after page to its end: what one page of the range holds.
    const today = new Date(Date.now() + 8 * 3_600_000).toISOString().slice(0, 10);
    const range = `issuedFrom=${today}&issuedTo=${today}`;
    const whole = await expectJson<{ items: LicenceJson[] }>(
      await getWithToken(runtime, `/licences?limit=100&${range}`, token),
      200,
    );
    expect(whole.items.length).toBeGreaterThanOrEqual(fresh.length);
    const paged: string[] = [];
    let next: string | undefined;
    do {
      const page = await expectJson<{ items: LicenceJson[]; cursor?: string }>(
        await getWithToken(
          runtime,
          `/licences?limit=2&${range}${next ? `&cursor=${encodeURIComponent(next)}` : ''}`,
          token,
        ),
        200,
      );
      paged.push(...page.items.map((item) => item.id));
      next = page.cursor;
    } while (next && paged.length < 200);
    expect(paged).toEqual(whole.items.map((item) => item.id));
  });

  it('gives a listing by holder a cursor without the holder’s lookup key, and refuses it tampered', async () => {
    const idNumber = newIdNumber();
    for (let i = 0; i < 3; i++) await issued(runtime, token, drivingLicenceBody(idNumber));
    const first = await expectJson<{ items: LicenceJson[]; cursor?: string }>(
      await searchLicences(runtime, token, { holder: idNumber, limit: 1 }),
      200,
    );
    expect(first.cursor).toEqual(expect.any(String));
    const text = Buffer.from(first.cursor!, 'base64url').toString('utf8');
    // The index partition (holder#<lookup key>, a MAC of the ID number) stays on the server.
    expect(text).not.toMatch(/holder#|gsi1pk/);
    expect(text).not.toContain(idNumber);
    const decoded = JSON.parse(text) as Record<string, string>;
    expect(Object.keys(decoded).sort()).toEqual(['gsi1sk', 'pk', 'q', 'sk']);

    // The cursor still leads on, to the other two and then to the end.
    const ids = [...first.items.map((item) => item.id)];
    let cursor: string | undefined = first.cursor;
    while (cursor) {
      const page: { items: LicenceJson[]; cursor?: string } = await expectJson(
        await searchLicences(runtime, token, { holder: idNumber, limit: 1, cursor }),
        200,
      );
      ids.push(...page.items.map((item) => item.id));
      cursor = page.cursor;
    }
    expect(new Set(ids).size).toBe(3);

    // Tampered: a partition of the cursor's own choosing, or a position that is not a string.
    const reencode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    for (const tampered of [
      reencode({ ...decoded, gsi1pk: 'holder#someone-else' }),
      reencode({ ...decoded, gsi1sk: 7 }),
      // Another position in the same listing, its binding left as it was.
      reencode({ ...decoded, gsi1sk: `${decoded.gsi1sk}0` }),
    ]) {
      const problem = await expectProblem(
        await searchLicences(runtime, token, { holder: idNumber, limit: 1, cursor: tampered }),
        400,
        'invalid_cursor',
      );
      expect(problem.errors?.map((e) => e.path)).toEqual(['cursor']);
    }
  });
});

describe('the seeded demo licences', () => {
  it('gives the demo citizen a driving licence, masked like 110105********1239', async () => {
    const { citizen } = runtime.credentials;
    const held = await listAll(runtime, token, `holder=${citizen.idNumber}`);
    expect(held).toHaveLength(1);
    expect(held[0]).toMatchObject({
      type: 'driving-licence',
      status: 'valid',
      holder: { kind: 'person', name: citizen.name, masked: maskedIdNumber(citizen.idNumber) },
    });
    expect(held[0]!.holder.masked).toBe('110105********1239');
    expect(JSON.stringify(held)).not.toContain(citizen.idNumber);
    await verifyCredential(held[0]!.credential, keys);
  });

  it('gives the demo entity a business licence naming the citizen, masked, as legal representative', async () => {
    const { entity, citizen } = runtime.credentials;
    const held = await listAll(runtime, token, `holder=${entity.creditCode}`);
    expect(held).toHaveLength(1);
    expect(held[0]).toMatchObject({
      type: 'business-licence',
      status: 'valid',
      holder: { kind: 'entity', name: entity.name, masked: entity.creditCode },
      fields: { legalRepresentativeIdMasked: maskedIdNumber(citizen.idNumber) },
    });
    expect(JSON.stringify(held)).not.toContain(citizen.idNumber);
    const claims = await verifyCredential(held[0]!.credential, keys);
    expect(JSON.stringify(claims)).not.toContain(citizen.idNumber);
  });
});

describe('a licence whose validity has passed', () => {
  it('reads as expired, is listed under status=expired and not under status=valid', async () => {
    const licence = await issued(
      runtime,
      token,
      drivingLicenceBody(newIdNumber(), {
        validFrom: '2018-01-01T00:00:00Z',
        validUntil: '2024-01-01T00:00:00+08:00',
      }),
    );
    expect(licence).toMatchObject({
      status: 'expired',
      validFrom: '2018-01-01T00:00:00.000Z',
      validUntil: '2023-12-31T16:00:00.000Z',
    });
    const claims = decodeJwt(licence.credential);
    expect(claims).toMatchObject({
      nbf: seconds('2018-01-01T00:00:00Z'),
      exp: seconds('2023-12-31T16:00:00Z'),
    });
    expect((await listAll(runtime, token, 'status=expired')).map((l) => l.id)).toContain(licence.id);
    expect((await listAll(runtime, token, 'status=valid')).map((l) => l.id)).not.toContain(licence.id);
  });
});
