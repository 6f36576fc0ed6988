import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { compactVerify, createLocalJWKSet, createRemoteJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import jsqr from 'jsqr';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { proveAccountInPerson } from '../../support/assurance.js';
import { onboardIssuer, postJson } from '../../support/http-api.js';
import {
  licencesToken,
  adminToken,
  getWithToken,
  registerPlatform,
  signIn,
  type RelyingParty,
  citizenAnswers,
} from '../../support/oidc-flows.js';
import {
  clientCredentialsToken,
  startTestRuntime,
  type TestRuntime,
  clientSecretConsole,
} from '../../support/runtime.js';
import { UserAgent } from '../../support/user-agent.js';
import { fetchFrom } from '../../support/from-address.js';
import { runFlow } from '../../support/oidc-flows.js';
import { issueDrivingLicence } from '../verify/helpers.js';
import { dependencies } from '../../../functions/composition/dependencies.js';
import { signLicencePdf } from '../../../shared/licence/licence-pdf-signature.js';
import { issuerUrl } from '../../../shared/licence/issue-licence.js';

const run = promisify(execFile);
// jsqr is CommonJS with an `exports.default`: under NodeNext the default import is `module.exports`.
const jsQR = jsqr.default;

/**
 * The printable licence (电子证照版式文件, docs/printable-licence.md) over real HTTP: the PDF is rendered
 * to an image by poppler's pdftoppm, its QR code decoded (jsQR) and verified `valid` by POST /verify, its
 * text extracted by pdftotext; its detached signature verifies against the published keys, and one byte
 * changed fails it.
 */
let runtime: TestRuntime;
let work: string;
let wallet: RelyingParty;
let citizenToken: string;
let issuerToken: string;
let licence: {
  id: string;
  credential: string;
  holder: { name: string };
  issuer: { id: string; name: string };
};

const tokenOf = (username: string, password: string) =>
  licencesToken(runtime, wallet, { username, password });

async function bytesOf(response: Response, type: string): Promise<Buffer> {
  const body = Buffer.from(await response.arrayBuffer());
  expect(response.status, body.toString().slice(0, 300)).toBe(200);
  expect(response.headers.get('content-type')).toBe(type);
  expect(response.headers.get('cache-control')).toContain('no-store');
  return body;
}

let files = 0;
/** Page 1 of `pdf` as an image at `dpi`, its QR code decoded; and how many pages the file has. */
async function qrOfPage1(pdf: Buffer, dpi: number): Promise<{ text: string | undefined; pages: number }> {
  const name = join(work, `file-${++files}`);
  await writeFile(`${name}.pdf`, pdf);
  await run('pdftoppm', ['-r', String(dpi), '-png', `${name}.pdf`, name]);
  const pages = (await readdir(work)).filter((file) => file.startsWith(`file-${files}-`)).sort();
  const png = PNG.sync.read(await readFile(join(work, pages[0]!)));
  const code = jsQR(new Uint8ClampedArray(png.data), png.width, png.height);
  return { text: code?.data, pages: pages.length };
}

async function textOf(pdf: Buffer): Promise<string> {
  const name = join(work, `text-${++files}.pdf`);
  await writeFile(name, pdf);
  return (await run('pdftotext', [name, '-'])).stdout;
}

async function verdictOf(qr: string): Promise<string> {
  const response = await postJson(runtime, '/verify', undefined, { qr });
  return ((await response.json()) as { verdict: string }).verdict;
}

async function checkPdf(pdf: Buffer, jws: string) {
  const response = await postJson(runtime, '/verify/pdf', undefined, { pdf: pdf.toString('base64'), jws });
  expect(response.status).toBe(200);
  return (await response.json()) as {
    valid: boolean;
    reason?: string;
    claims?: { licenceId: string; layout: string; issuer: { name: string } };
  };
}

const mePdf = (id: string, file: 'pdf' | 'pdf.jws', layout = 'a4') =>
  `/me/licences/${encodeURIComponent(id)}/${file}?layout=${layout}`;
const issuerPdf = (id: string, file: 'pdf' | 'pdf.jws', layout = 'a4') =>
  `/licences/${encodeURIComponent(id)}/${file}?layout=${layout}`;

/** The issuer changes the licence's status (200 expected). */
async function changeStatus(id: string, status: 'suspended' | 'revoked', reason: string): Promise<void> {
  const response = await postJson(runtime, `/licences/${encodeURIComponent(id)}/status`, issuerToken, {
    status,
    reason,
  });
  expect(response.status, await response.clone().text()).toBe(200);
}

/** A printable licence and its detached signature, as the holder or the issuer downloads them. */
async function signedPdf(at: (file: 'pdf' | 'pdf.jws') => string, token: string) {
  const pdf = await bytesOf(await getWithToken(runtime, at('pdf'), token), 'application/pdf');
  const response = await getWithToken(runtime, at('pdf.jws'), token);
  return { pdf, jws: (await bytesOf(response, 'application/jose')).toString(), response };
}

beforeAll(async () => {
  runtime = await startTestRuntime(undefined, clientSecretConsole);
  work = await mkdtemp(join(tmpdir(), 'elicence-pdf-'));
  wallet = await registerPlatform(runtime, await adminToken(runtime), {
    name: 'Wallet',
    redirectUris: ['https://wallet.example/cb'],
    scopes: ['openid', 'profile', 'licences'],
    firstParty: true,
  });
  const { citizen } = runtime.credentials;
  citizenToken = await tokenOf(citizen.idNumber, citizen.password);
  issuerToken = await clientCredentialsToken(runtime, runtime.credentials.issuer, 'licences:issue');
  const held = (await (await getWithToken(runtime, '/me/licences', citizenToken)).json()) as {
    items: (typeof licence & { type: string })[];
  };
  licence = held.items.find((one) => one.type === 'driving-licence')!;
  expect(licence).toBeDefined();
}, 60_000);
afterAll(async () => {
  await runtime?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('the printable licence (GET …/pdf)', () => {
  it.each([
    // 200 dpi: a module of 0.5 mm is 3.9 pixels, a modest scan of the printed page.
    { layout: 'a4', name: 'an A4 page', dpi: 200, pages: 1 },
    // The card's code is smaller: scanned at 300 dpi. Front with the QR code, back with the fields.
    { layout: 'card', name: 'a card (front and back)', dpi: 300, pages: 2 },
  ])('is $name in Chinese whose QR code, scanned from the rendered page, verifies valid', async (shape) => {
    const pdf = await bytesOf(
      await getWithToken(runtime, mePdf(licence.id, 'pdf', shape.layout), citizenToken),
      'application/pdf',
    );
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    // The font is subset: a page of a licence, not the 1.5 MB font.
    expect(pdf.length).toBeLessThan(150_000);
    const { text: qr, pages } = await qrOfPage1(pdf, shape.dpi);
    expect(pages).toBe(shape.pages);
    expect(qr).toBe(licence.credential);
    expect(await verdictOf(qr!)).toBe('valid');

    const raw = await textOf(pdf);
    // A field's label stays on one line, as printed.
    expect(raw).toContain('准驾车型');
    // Long values wrap: compared without the line breaks and spaces the layout puts in.
    const text = raw.replace(/\s+/g, '');
    for (const words of [
      '机动车驾驶证',
      '准驾车型',
      '发证机关',
      '证照编号',
      licence.id,
      licence.holder.name,
      licence.issuer.name,
    ]) {
      expect(text).toContain(words.replace(/\s+/g, ''));
    }
    expect(text).not.toContain('已吊销');
  });

  it('gives the same bytes for the same licence, to its holder and to its issuer', async () => {
    const first = await bytesOf(
      await getWithToken(runtime, mePdf(licence.id, 'pdf'), citizenToken),
      'application/pdf',
    );
    const again = await bytesOf(
      await getWithToken(runtime, mePdf(licence.id, 'pdf'), citizenToken),
      'application/pdf',
    );
    const issuers = await bytesOf(
      await getWithToken(runtime, issuerPdf(licence.id, 'pdf'), issuerToken),
      'application/pdf',
    );
    expect(again.equals(first)).toBe(true);
    expect(issuers.equals(first)).toBe(true);
  });

  it('refuses a layout it does not have, naming the parameter', async () => {
    const response = await getWithToken(runtime, mePdf(licence.id, 'pdf', 'poster'), citizenToken);
    expect(response.status).toBe(400);
    const problem = (await response.json()) as { errors: { path: string }[] };
    expect(problem.errors.map((error) => error.path)).toContain('layout');
  });
});

describe('its detached signature (GET …/pdf.jws, POST /verify/pdf)', () => {
  it('verifies against the published keys, names the file, the licence and the issuer', async () => {
    const { pdf, jws, response } = await signedPdf((file) => mePdf(licence.id, file), citizenToken);
    expect(response.headers.get('content-disposition')).toMatch(
      /attachment; filename="licence-[0-9A-Za-z]+-a4\.pdf\.jws"/,
    );

    // Signed by the presentation key, which the trust list names (checked with the platform keys), and
    // never by a key of the JWKS: the holder API holds no ID-token key (review R7 M1).
    const platformKeys = createRemoteJWKSet(new URL(`${runtime.baseUrl}/.well-known/jwks.json`));
    const trustList = await (await fetch(`${runtime.baseUrl}/trust-list`)).text();
    const { payload: listed } = await jwtVerify(trustList, platformKeys, { algorithms: ['ES256'] });
    const { presentationKeys } = listed as { presentationKeys: JSONWebKeySet };
    await expect(compactVerify(jws, platformKeys, { algorithms: ['ES256'] })).rejects.toThrow();
    const keys = createLocalJWKSet(presentationKeys);
    const { payload, protectedHeader } = await compactVerify(jws, keys, { algorithms: ['ES256'] });
    expect(protectedHeader.typ).toBe('licence-pdf+jws');
    const claims = JSON.parse(new TextDecoder().decode(payload)) as Record<string, unknown>;
    const { createHash } = await import('node:crypto');
    expect(claims).toMatchObject({
      iss: runtime.baseUrl,
      licenceId: licence.id,
      layout: 'a4',
      size: pdf.length,
      sha256: createHash('sha256').update(pdf).digest('base64url'),
      issuer: { name: licence.issuer.name },
    });

    expect(await checkPdf(pdf, jws)).toMatchObject({
      valid: true,
      signedBy: 'platform',
      claims: { licenceId: licence.id, layout: 'a4' },
      licenceStatus: 'valid',
    });
    // Warm, it reads one item: the licence's record (the issuer is kept per container, as for POST /verify);
    // and writes one, its audit entry (test/integration/verify/table-calls.test.ts counts the rest).
    runtime.dynamo!.resetStats();
    expect(await checkPdf(pdf, jws)).toMatchObject({ valid: true, licenceStatus: 'valid' });
    expect(runtime.dynamo!.stats()).toEqual({ GetItem: 1, PutItem: 1 });
  });

  it('fails for a PDF altered by one byte, for another layout’s file, and for a forged signature', async () => {
    const { pdf, jws } = await signedPdf((file) => mePdf(licence.id, file), citizenToken);
    // One byte of the page's content: a character of the licence's text, say.
    const altered = Buffer.from(pdf);
    const at = Math.floor(altered.length / 2);
    altered[at] = altered[at]! ^ 0x01;
    expect(await checkPdf(altered, jws)).toEqual({ valid: false, reason: 'not_this_file' });

    const { pdf: card, jws: cardJws } = await signedPdf(
      (file) => mePdf(licence.id, file, 'card'),
      citizenToken,
    );
    expect(await checkPdf(card, jws)).toEqual({ valid: false, reason: 'not_this_file' });
    expect(await checkPdf(card, cardJws)).toMatchObject({ valid: true, claims: { layout: 'card' } });

    // A signature of another kind by the same key (the licence's credential is the issuer's, not ours).
    expect(await checkPdf(pdf, licence.credential)).toEqual({ valid: false, reason: 'bad_signature' });
    const [header, payload, signature] = jws.split('.');
    const flipped = `${header}.${payload}.${signature!.startsWith('A') ? 'B' : 'A'}${signature!.slice(1)}`;
    expect(await checkPdf(pdf, flipped)).toEqual({ valid: false, reason: 'bad_signature' });
  });

  it('says the licence’s status now beside the file’s validity: revoked after the download', async () => {
    const issued = await issueDrivingLicence(runtime, issuerToken);
    const { pdf, jws } = await signedPdf((file) => issuerPdf(issued.id, file), issuerToken);
    expect(await checkPdf(pdf, jws)).toMatchObject({ valid: true, licenceStatus: 'valid' });
    await changeStatus(issued.id, 'revoked', '测试吊销');
    // The file is still the one signed; the licence no longer holds.
    expect(await checkPdf(pdf, jws)).toMatchObject({
      valid: true,
      signedBy: 'issuer',
      licenceStatus: 'revoked',
    });
  });

  it('no longer verifies once the licence’s issuer is withdrawn, as its QR code no longer does', async () => {
    const admin = await adminToken(runtime);
    const leaving = await onboardIssuer(runtime, admin, { licenceTypes: ['driving-licence'] });
    const leavingToken = await clientCredentialsToken(runtime, leaving, 'licences:issue');
    const issued = await issueDrivingLicence(runtime, leavingToken);
    const { pdf, jws } = await signedPdf((file) => issuerPdf(issued.id, file), leavingToken);
    expect(await checkPdf(pdf, jws)).toMatchObject({ valid: true, signedBy: 'issuer' });

    const withdrawn = await postJson(runtime, `/admin/issuers/${leaving.id}/withdraw`, admin, {
      reason: '机构撤并',
    });
    expect(withdrawn.status, await withdrawn.text()).toBe(200);
    expect(await verdictOf(issued.credential)).toBe('unknown_issuer');
    expect(await checkPdf(pdf, jws)).toEqual({ valid: false, reason: 'issuer_withdrawn' });
  });

  it('is not signed any more once the licence’s issuer is withdrawn, for the holder or the issuer; the PDF stays a record', async () => {
    const admin = await adminToken(runtime);
    const leaving = await onboardIssuer(runtime, admin, { licenceTypes: ['driving-licence'] });
    const leavingToken = await clientCredentialsToken(runtime, leaving, 'licences:issue');
    const { citizen } = runtime.credentials;
    const issued = await issueDrivingLicence(runtime, leavingToken, {
      holder: { idNumber: citizen.idNumber },
      holderName: citizen.name,
    });
    // Signed once while the issuer stood, so the cache holds that signature when it is withdrawn.
    await signedPdf((file) => mePdf(issued.id, file), citizenToken);
    // The wallet offers the signature while the issuer stands, with no notice.
    const ua = new UserAgent(runtime.baseUrl);
    await runFlow(ua, '/wallet/login', citizenAnswers(runtime));
    const walletPage = async (lang = 'zh') => {
      const response = await ua.request(`/wallet/licences/${encodeURIComponent(issued.id)}?lang=${lang}`);
      expect(response.status).toBe(200);
      return response.text();
    };
    const signatureLink = /href="[^"]*\/pdf\.jws\?layout=(a4|card)"/g;
    const standing = await walletPage();
    expect(standing.match(signatureLink)).toHaveLength(2);
    expect(standing).not.toContain('id="licence-issuer-withdrawn"');
    const withdrawn = await postJson(runtime, `/admin/issuers/${leaving.id}/withdraw`, admin, {
      reason: '机构撤并',
    });
    expect(withdrawn.status, await withdrawn.text()).toBe(200);

    // The holder: the PDF is still served (its record), the signature refused, cached or not.
    await bytesOf(await getWithToken(runtime, mePdf(issued.id, 'pdf'), citizenToken), 'application/pdf');
    for (const layout of ['a4', 'card']) {
      const refused = await getWithToken(runtime, mePdf(issued.id, 'pdf.jws', layout), citizenToken);
      expect(refused.status).toBe(409);
      expect(((await refused.json()) as { code: string }).code).toBe('issuer_withdrawn');
    }
    // The issuer's own client (if it still worked) is refused on every route, signatures included.
    const issuers = await getWithToken(runtime, issuerPdf(issued.id, 'pdf.jws'), leavingToken);
    expect([401, 403]).toContain(issuers.status);

    // The wallet's licence page says it before anyone clicks: no signature link, a notice, the PDFs still.
    // (English first: `?lang=` is remembered, and the steps below read Chinese.)
    for (const [lang, words] of [
      ['en', 'issuing authority has been withdrawn'],
      ['zh', '此证照的发证机关已被撤销'],
    ] as const) {
      const shown = await walletPage(lang);
      expect(shown).not.toMatch(signatureLink);
      expect(shown).not.toContain('.jws');
      expect(shown).toContain('id="licence-issuer-withdrawn"');
      expect(shown).toContain(words);
      expect(shown).toMatch(/href="[^"]*\/pdf\?layout=a4" download/);
      expect(shown).toMatch(/href="[^"]*\/pdf\?layout=card" download/);
      // Showing its QR code is still possible, after a warning that it will not be accepted.
      expect(shown).toContain('id="show-qr-warning"');
      expect(shown).toMatch(/class="secondary" id="show-qr"/);
      expect(shown).not.toContain('the QR code on paper can be scanned to verify it');
    }
    // A licence of an active issuer keeps its signature links.
    const active = await ua.request(`/wallet/licences/${encodeURIComponent(licence.id)}`);
    const activeHtml = await active.text();
    expect(activeHtml.match(signatureLink)).toHaveLength(2);
    expect(activeHtml).not.toContain('id="licence-issuer-withdrawn"');
    expect(activeHtml).not.toContain('id="show-qr-warning"');

    // A link followed all the same (a page shown before the withdrawal): a page saying why, in the
    // person's language, not an empty download.
    const page = await ua.request(`/wallet/licences/${encodeURIComponent(issued.id)}/pdf.jws`);
    expect(page.status).toBe(409);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(await page.text()).toContain('发证机关已被撤销');
    const english = await ua.request(`/wallet/licences/${encodeURIComponent(issued.id)}/pdf.jws?lang=en`);
    expect(await english.text()).toContain('issuing authority has been withdrawn');
  });

  it('no longer vouches once the key that signed its credential is withdrawn, as its QR code no longer does', async () => {
    const admin = await adminToken(runtime);
    const compromised = await onboardIssuer(runtime, admin, { licenceTypes: ['driving-licence'] });
    const compromisedToken = await clientCredentialsToken(runtime, compromised, 'licences:issue');
    const { citizen } = runtime.credentials;
    const issued = await issueDrivingLicence(runtime, compromisedToken, {
      holder: { idNumber: citizen.idNumber },
      holderName: citizen.name,
    });
    // Both copies signed while the key stood (the holder's kept in the signature cache).
    const holders = await signedPdf((file) => mePdf(issued.id, file), citizenToken);
    const issuers = await signedPdf((file) => issuerPdf(issued.id, file), compromisedToken);
    expect(holders.pdf.equals(issuers.pdf)).toBe(true);
    expect(await checkPdf(holders.pdf, holders.jws)).toMatchObject({ valid: true, licenceStatus: 'valid' });
    expect(await checkPdf(issuers.pdf, issuers.jws)).toMatchObject({ valid: true, signedBy: 'issuer' });

    const rotated = await postJson(runtime, `/admin/issuers/${compromised.id}/keys`, admin, {
      previousKey: 'withdraw',
    });
    expect(rotated.status, await rotated.clone().text()).toBe(201);
    expect(await verdictOf(issued.credential)).toBe('unknown_issuer');

    // The holder's copy, signed by the platform: intact, but its QR code no longer verifies.
    expect(await checkPdf(holders.pdf, holders.jws)).toEqual({ valid: false, reason: 'key_withdrawn' });
    // The issuer's copy: the withdrawn key verifies nothing any more.
    expect(await checkPdf(issuers.pdf, issuers.jws)).toEqual({ valid: false, reason: 'bad_signature' });
    // The same bytes signed afresh with the issuer's new key say no more than the QR code either.
    const deps = dependencies();
    const issuer = (await deps.issuers.findById(compromised.id))!;
    const fresh = await signLicencePdf(
      issuers.pdf,
      { licenceId: issued.id, issuer, layout: 'a4' },
      {
        signer: deps.signerFor(issuer.keyId!),
        clock: deps.clock,
        iss: issuerUrl(runtime.baseUrl, issuer.id),
      },
    );
    expect(await checkPdf(issuers.pdf, fresh)).toEqual({ valid: false, reason: 'key_withdrawn' });

    // And no route makes such a signature: the issuer's and the holder's (cached or not) are refused.
    for (const [path, token] of [
      [issuerPdf(issued.id, 'pdf.jws'), compromisedToken],
      [mePdf(issued.id, 'pdf.jws'), citizenToken],
      [mePdf(issued.id, 'pdf.jws', 'card'), citizenToken],
    ] as const) {
      const refused = await getWithToken(runtime, path, token);
      expect(refused.status, path).toBe(409);
      expect(((await refused.json()) as { code: string }).code).toBe('key_withdrawn');
    }
    // The PDF stays the holder's record.
    await bytesOf(await getWithToken(runtime, mePdf(issued.id, 'pdf'), citizenToken), 'application/pdf');
    // The API says it of the licence (and not of one whose key stands), so the pages need not ask.
    const read = async (id: string) =>
      (await (
        await getWithToken(runtime, `/licences/${encodeURIComponent(id)}`, compromisedToken)
      ).json()) as {
        keyWithdrawn?: boolean;
      };
    expect((await read(issued.id)).keyWithdrawn).toBe(true);
    // The wallet: a notice, no signature link; and a page saying why when an old link is followed.
    const ua = new UserAgent(runtime.baseUrl);
    await runFlow(ua, '/wallet/login', citizenAnswers(runtime));
    const walletPage = await (
      await ua.request(`/wallet/licences/${encodeURIComponent(issued.id)}?lang=en`)
    ).text();
    expect(walletPage).toContain('id="licence-key-withdrawn"');
    expect(walletPage).toContain('Ask the issuing authority to issue it again');
    expect(walletPage).not.toContain('.jws');
    expect(walletPage).toContain('id="show-qr-warning"');
    const page = await ua.request(`/wallet/licences/${encodeURIComponent(issued.id)}/pdf.jws?lang=en`);
    expect(page.status).toBe(409);
    expect(await page.text()).toContain('key that signed this licence has been withdrawn');
    // The console: the PDFs and a notice to issue it again, no signature link.
    const desk = new UserAgent(runtime.baseUrl);
    const login = { clientId: compromised.clientId, clientSecret: compromised.clientSecret };
    expect((await desk.request('/console/login', { form: login })).status).toBe(303);
    const consolePage = await (
      await desk.request(`/console/licences/${encodeURIComponent(issued.id)}?lang=en`)
    ).text();
    expect(consolePage).toContain('id="licence-key-withdrawn"');
    expect(consolePage).toContain(`/console/licences/${encodeURIComponent(issued.id)}/pdf?layout=a4`);
    expect(consolePage).not.toContain('.jws');

    // A licence issued with the new key verifies, file and QR code alike.
    const again = await issueDrivingLicence(runtime, compromisedToken);
    const copy = await signedPdf((file) => issuerPdf(again.id, file), compromisedToken);
    expect(await checkPdf(copy.pdf, copy.jws)).toMatchObject({ valid: true, licenceStatus: 'valid' });
    expect(await verdictOf(again.credential)).toBe('valid');
    expect((await read(again.id)).keyWithdrawn).toBeUndefined();
    const fine = await (await desk.request(`/console/licences/${encodeURIComponent(again.id)}`)).text();
    expect(fine).not.toContain('id="licence-key-withdrawn"');
    expect(fine).toContain('.jws');
  });

  it('is recorded as a verification: in the holder’s usage record, anonymous or by the verifier app that asked', async () => {
    const { pdf, jws } = await signedPdf((file) => mePdf(licence.id, file), citizenToken);
    const admin = await adminToken(runtime);
    const verifierToken = await clientCredentialsToken(
      runtime,
      runtime.credentials.verifier,
      'licences:verify',
    );
    const usage = async () =>
      (
        (await (await getWithToken(runtime, '/me/usage?limit=100', citizenToken)).json()) as {
          items: { action: string; licenceId: string; client?: { id: string }; verdict?: string }[];
        }
      ).items.filter((item) => item.action === 'verified' && item.licenceId === licence.id);
    const audit = async () =>
      (
        (await (
          await getWithToken(runtime, `/admin/audit?licence=${encodeURIComponent(licence.id)}`, admin)
        ).json()) as { items: Record<string, unknown>[] }
      ).items.filter((entry) => entry.action === 'licence.verified');
    const before = { usage: (await usage()).length, audit: (await audit()).length };

    expect(await checkPdf(pdf, jws)).toMatchObject({ valid: true, licenceStatus: 'valid' });
    const named = await postJson(runtime, '/verify/pdf', verifierToken, { pdf: pdf.toString('base64'), jws });
    expect(named.status).toBe(200);
    // A file altered by one byte names nobody's licence: recorded, but in no usage record.
    const altered = Buffer.from(pdf);
    altered[altered.length - 20]! ^= 1;
    expect(await checkPdf(altered, jws)).toEqual({ valid: false, reason: 'not_this_file' });

    const items = await usage();
    expect(items).toHaveLength(before.usage + 2);
    // Newest first: the verifier app's check, then the anonymous one.
    expect(items[0]).toEqual({
      at: expect.any(String),
      action: 'verified',
      licenceId: licence.id,
      licenceType: 'driving-licence',
      client: { id: runtime.credentials.verifier.clientId, name: expect.any(String) },
      verdict: 'valid',
      format: 'pdf',
    });
    expect(items[1]).toMatchObject({ action: 'verified', verdict: 'valid', format: 'pdf' });
    expect(items[1]!.client).toBeUndefined();
    // The record by kind (its own index, gsi3) has them too, newest first.
    const byKind = (await (
      await getWithToken(runtime, '/me/usage?action=verified&limit=2', citizenToken)
    ).json()) as { items: unknown[] };
    expect(byKind.items).toEqual(items.slice(0, 2));
    // The trail says they were checks of the file (format pdf), and never answers the lookup key.
    const entries = (await audit()).slice(before.audit);
    expect(entries).toEqual([
      expect.objectContaining({ actor: 'anonymous', format: 'pdf', verdict: 'valid', reason: 'ok' }),
      expect.objectContaining({
        actor: runtime.credentials.verifier.clientId,
        format: 'pdf',
        verdict: 'valid',
      }),
    ]);
    expect(JSON.stringify(entries)).not.toContain('holderKey');

    // A token that is sent must be good, as for POST /verify: never silently anonymous.
    const bad = await postJson(runtime, '/verify/pdf', 'not-a-token', { pdf: pdf.toString('base64'), jws });
    expect(bad.status).toBe(401);
    const wrongScope = await postJson(runtime, '/verify/pdf', issuerToken, {
      pdf: pdf.toString('base64'),
      jws,
    });
    expect(wrongScope.status).toBe(403);
    expect(await usage()).toHaveLength(before.usage + 2);
  });

  it('refuses a body that is not a PDF and a signature, naming the field', async () => {
    const response = await postJson(runtime, '/verify/pdf', undefined, { pdf: 'not base64!', jws: 'x' });
    expect(response.status).toBe(400);
    const problem = (await response.json()) as { errors: { path: string }[] };
    expect(problem.errors.map((error) => error.path)).toContain('pdf');
  });
});

describe('its signature, kept per container while the file and the key stay the same', () => {
  it('two requests for one file cost one KMS Sign; another layout or a status change signs anew, and verifies', async () => {
    const issued = await issueDrivingLicence(runtime, issuerToken);
    const signed = (layout = 'a4') => signedPdf((file) => issuerPdf(issued.id, file, layout), issuerToken);
    const signs = () => runtime.kms!.stats().Sign ?? 0;

    runtime.kms!.resetStats();
    const first = await signed();
    const again = await signed();
    expect(signs()).toBe(1);
    expect(again.jws).toBe(first.jws);
    expect(again.pdf.equals(first.pdf)).toBe(true);
    expect(await checkPdf(first.pdf, again.jws)).toMatchObject({ valid: true, licenceStatus: 'valid' });

    // Another layout is other bytes: its own signature.
    runtime.kms!.resetStats();
    const card = await signed('card');
    expect(signs()).toBe(1);
    expect(card.jws).not.toBe(first.jws);
    expect(await checkPdf(card.pdf, card.jws)).toMatchObject({ valid: true, claims: { layout: 'card' } });

    // A status change prints a band across the page: new bytes, a new signature, the new status.
    await changeStatus(issued.id, 'suspended', '测试暂扣');
    runtime.kms!.resetStats();
    const after = await signed();
    expect(signs()).toBe(1);
    expect(after.jws).not.toBe(first.jws);
    expect(after.pdf.equals(first.pdf)).toBe(false);
    expect(await checkPdf(after.pdf, after.jws)).toMatchObject({
      valid: true,
      signedBy: 'issuer',
      licenceStatus: 'suspended',
    });
    expect(await checkPdf(first.pdf, after.jws)).toEqual({ valid: false, reason: 'not_this_file' });
  });

  it('the holder’s copy, signed by the platform’s presentation key, is kept apart from the issuer’s', async () => {
    runtime.kms!.resetStats();
    const holders = await signedPdf((file) => mePdf(licence.id, file), citizenToken);
    const again = await signedPdf((file) => mePdf(licence.id, file), citizenToken);
    // At most one: the earlier tests may have had it signed already.
    expect(runtime.kms!.stats().Sign ?? 0).toBeLessThanOrEqual(1);
    expect(again.jws).toBe(holders.jws);
    const issuers = await signedPdf((file) => issuerPdf(licence.id, file), issuerToken);
    expect(issuers.pdf.equals(holders.pdf)).toBe(true);
    expect(await checkPdf(holders.pdf, holders.jws)).toMatchObject({ valid: true, signedBy: 'platform' });
    expect(await checkPdf(issuers.pdf, issuers.jws)).toMatchObject({ valid: true, signedBy: 'issuer' });
  });
});

describe('who may print a licence', () => {
  it('its holder and its issuer only: another person and another issuer find nothing', async () => {
    const stranger = runtime.credentials.people[0]!;
    const password = 'Printable-Licence-2026';
    const registered = await postJson(runtime, '/accounts', undefined, {
      consent: true,
      idNumber: stranger.idNumber,
      name: stranger.name,
      password,
    });
    expect(registered.status).toBe(201);
    // Proven in person (level 3), so that what answers is whose licence it is, not the level.
    await proveAccountInPerson(runtime, stranger.idNumber);
    const strangerToken = await tokenOf(stranger.idNumber, password);
    for (const file of ['pdf', 'pdf.jws'] as const) {
      expect((await getWithToken(runtime, mePdf(licence.id, file), strangerToken)).status).toBe(404);
    }

    const other = await onboardIssuer(runtime, await adminToken(runtime), {
      licenceTypes: ['driving-licence'],
    });
    const otherToken = await clientCredentialsToken(runtime, other, 'licences:issue');
    for (const file of ['pdf', 'pdf.jws'] as const) {
      expect((await getWithToken(runtime, issuerPdf(licence.id, file), otherToken)).status).toBe(404);
    }
    // Without a token: sign in first.
    expect((await fetch(`${runtime.baseUrl}${mePdf(licence.id, 'pdf')}`)).status).toBe(401);
  });

  it('a platform other than the wallet is refused, for the PDF and for its signature', async () => {
    // A platform reads licences only through a share (授权用证), never the holder API's PDF (privacy
    // review R9 H1): its sign-in token is refused here.
    const platform = await registerPlatform(runtime, await adminToken(runtime), {
      name: '打印平台',
      redirectUris: ['https://print.example/cb'],
      scopes: ['openid', 'profile'],
    });
    const { tokens } = await signIn(platform, new UserAgent(runtime.baseUrl), citizenAnswers(runtime), {
      scope: 'openid profile',
    });
    for (const file of ['pdf', 'pdf.jws'] as const) {
      expect([401, 403]).toContain(
        (await getWithToken(runtime, mePdf(licence.id, file), tokens.access_token)).status,
      );
    }
  });

  it('a revoked licence prints as revoked, across the page, and its QR code verifies revoked', async () => {
    const issued = await issueDrivingLicence(runtime, issuerToken);
    await changeStatus(issued.id, 'revoked', '测试吊销');
    const pdf = await bytesOf(
      await getWithToken(runtime, issuerPdf(issued.id, 'pdf'), issuerToken),
      'application/pdf',
    );
    expect(await textOf(pdf)).toContain('已吊销');
    const { text: qr } = await qrOfPage1(pdf, 200);
    expect(await verdictOf(qr!)).toBe('revoked');
  });
});

describe('the wallet and the console offer it as a download', () => {
  it('the wallet: the holder’s own licence, through their session', async () => {
    const ua = new UserAgent(runtime.baseUrl);
    const outcome = await runFlow(ua, '/wallet/login', citizenAnswers(runtime));
    expect(outcome.page?.url.pathname).toBe('/wallet');
    const page = await ua.request(`/wallet/licences/${encodeURIComponent(licence.id)}`);
    const html = await page.text();
    expect(html).toContain(`/wallet/licences/${encodeURIComponent(licence.id)}/pdf`);
    expect(html).toContain('layout=card');

    const pdf = await bytesOf(
      await ua.request(`/wallet/licences/${encodeURIComponent(licence.id)}/pdf`),
      'application/pdf',
    );
    const jws = await bytesOf(
      await ua.request(`/wallet/licences/${encodeURIComponent(licence.id)}/pdf.jws`),
      'application/jose',
    );
    expect(await checkPdf(pdf, jws.toString())).toMatchObject({ valid: true });
  });

  it('refuses another site’s fetch, embed or frame of it, and serves a navigation or our own download', async () => {
    // node:http, which sends Sec-Fetch-Mode as given (fetch sets its own, `cors`).
    const wallet = new UserAgent(runtime.baseUrl, [], fetchFrom('127.0.0.1'));
    await runFlow(wallet, '/wallet/login', citizenAnswers(runtime));
    const desk = new UserAgent(runtime.baseUrl, [], fetchFrom('127.0.0.1'));
    const { clientId, clientSecret } = runtime.credentials.issuer;
    expect((await desk.request('/console/login', { form: { clientId, clientSecret } })).status).toBe(303);
    const id = encodeURIComponent(licence.id);
    const fetchMetadata = (site: string, mode: string, dest: string) => ({
      'sec-fetch-site': site,
      'sec-fetch-mode': mode,
      'sec-fetch-dest': dest,
    });
    // What a page elsewhere (another site, or a sibling host: same-site) can make the visitor's browser
    // fetch with their cookies, without their asking: each would render, and sign with a KMS key, a file
    // for a page the visitor never opened.
    const refused = [
      fetchMetadata('cross-site', 'no-cors', 'embed'),
      fetchMetadata('cross-site', 'no-cors', 'object'),
      fetchMetadata('cross-site', 'cors', 'empty'),
      fetchMetadata('cross-site', 'no-cors', 'empty'),
      fetchMetadata('cross-site', 'navigate', 'iframe'),
      fetchMetadata('same-site', 'no-cors', 'empty'),
      fetchMetadata('same-site', 'no-cors', 'embed'),
    ];
    // The visitor's own: a link or download on our pages, a typed URL, a top-level navigation.
    const served = [
      fetchMetadata('same-origin', 'navigate', 'document'),
      fetchMetadata('same-origin', 'no-cors', 'empty'),
      fetchMetadata('none', 'navigate', 'document'),
      fetchMetadata('cross-site', 'navigate', 'document'),
    ];
    for (const [ua, base] of [
      [wallet, `/wallet/licences/${id}`],
      [desk, `/console/licences/${id}`],
    ] as const) {
      for (const file of ['pdf', 'pdf.jws']) {
        for (const headers of refused) {
          const answer = await ua.request(`${base}/${file}`, { headers });
          expect(answer.status, `${base}/${file} ${JSON.stringify(headers)}`).toBe(403);
          expect(answer.headers.get('content-type')).not.toMatch(/pdf|jose/);
          expect(answer.headers.get('content-disposition')).toBeNull();
        }
        for (const headers of served) {
          const answer = await ua.request(`${base}/${file}`, { headers });
          expect(answer.status, `${base}/${file} ${JSON.stringify(headers)}`).toBe(200);
          expect(answer.headers.get('content-type')).toMatch(file === 'pdf' ? /application\/pdf/ : /jose/);
          await answer.arrayBuffer();
        }
      }
    }
  });

  it('the console: its issuer’s licences only', async () => {
    const ua = new UserAgent(runtime.baseUrl);
    const { clientId, clientSecret } = runtime.credentials.issuer;
    expect((await ua.request('/console/login', { form: { clientId, clientSecret } })).status).toBe(303);
    const page = await (await ua.request(`/console/licences/${encodeURIComponent(licence.id)}`)).text();
    expect(page).toContain(`/console/licences/${encodeURIComponent(licence.id)}/pdf`);
    const card = await bytesOf(
      await ua.request(`/console/licences/${encodeURIComponent(licence.id)}/pdf?layout=card`),
      'application/pdf',
    );
    expect(await verdictOf((await qrOfPage1(card, 300)).text!)).toBe('valid');
    // The issuer's console gets the issuer's signature (its key, as the trust list publishes it); the
    // bytes are the holder's too, so either signature checks either copy.
    const issuerJws = await bytesOf(
      await ua.request(`/console/licences/${encodeURIComponent(licence.id)}/pdf.jws?layout=card`),
      'application/jose',
    );
    expect(await checkPdf(card, issuerJws.toString())).toMatchObject({
      valid: true,
      signedBy: 'issuer',
      claims: { iss: `${runtime.baseUrl}/issuers/${licence.issuer.id}`, layout: 'card' },
    });
    const holders = await bytesOf(
      await getWithToken(runtime, mePdf(licence.id, 'pdf', 'card'), citizenToken),
      'application/pdf',
    );
    expect(await checkPdf(holders, issuerJws.toString())).toMatchObject({ valid: true });

    const other = await onboardIssuer(runtime, await adminToken(runtime), {
      licenceTypes: ['driving-licence'],
    });
    const elsewhere = new UserAgent(runtime.baseUrl);
    const login = await elsewhere.request('/console/login', {
      form: { clientId: other.clientId, clientSecret: other.clientSecret },
    });
    expect(login.status).toBe(303);
    expect((await elsewhere.request(`/console/licences/${encodeURIComponent(licence.id)}/pdf`)).status).toBe(
      404,
    );
  });
});
