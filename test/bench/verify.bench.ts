import { createPublicKey, randomBytes, verify as cryptoVerify } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { compactVerify, importJWK } from 'jose';
import QRCode from 'qrcode';
import { signCompactJws } from '../../shared/crypto/compact-jws.js';
import { formatLicenceId } from '../../shared/identifiers/licence-id.js';
import { createStatusBytes, encodeStatusList } from '../../packages/verifier/src/status-list.js';
import { webCryptoEs256, type PublicJwk } from '../../packages/verifier/src/crypto.js';
import { verificationUrl } from '../../packages/verifier/src/input.js';
import { createNodeVerifier, nodeEs256, zlibCompression } from '../../packages/verifier/src/node.js';
import { OfflineTrustStore } from '../../packages/verifier/src/offline-store.js';
import {
  readPresentationEnvelope,
  signPresentation,
  type PresentationClaims,
} from '../../packages/verifier/src/presentation-format.js';
import { createVerifier } from '../../packages/verifier/src/verifier.js';
import { LocalSigner } from '../support/local-signer.js';
import type { GoalRow } from './goals.js';

const OFFLINE_VERIFICATIONS = 20_000;
const BATCHES = 100;
const BASE = 'https://elicence.example.gov.cn';
const ISSUER_ID = 'iss_Ds7nNYcR1LTVcPDd';
const LICENCE_ID = formatLicenceId({
  typeCode: '003',
  issuerCreditCode: '11110000000013223T',
  serial: 12345,
  version: 1,
});
const BUSINESS_LICENCE_ID = formatLicenceId({
  typeCode: '001',
  issuerCreditCode: '11110000000013223T',
  serial: 12346,
  version: 1,
});

/**
 * Operations per second of CPU of each task, one call after another, measured in `batches` short
 * interleaved batches of `n` calls: each task's median batch rate, and its median ratio to `baseline`
 * within the same batch. Timed by this process's CPU time and interleaved, so the ratio holds on a busy
 * machine too.
 */
async function pairedRates<K extends string>(
  batches: number,
  n: number,
  baseline: NoInfer<K>,
  tasks: Record<K, () => unknown>,
): Promise<Record<K, { rate: number; ratio: number }>> {
  const names = Object.keys(tasks) as K[];
  const rates = new Map<K, number[]>(names.map((name) => [name, []]));
  const ratios = new Map<K, number[]>(names.map((name) => [name, []]));
  for (const name of names) for (let i = 0; i < 1000; i++) await tasks[name]();
  for (let batch = 0; batch < batches; batch++) {
    const batchRates = new Map<K, number>();
    for (const name of names) {
      const task = tasks[name];
      // CPU time of this process, not the wall clock: the tasks are CPU-bound and run one after another,
      // so other processes on a busy machine do not count against one task more than another.
      const begin = process.cpuUsage();
      for (let i = 0; i < n; i++) await task();
      const used = process.cpuUsage(begin);
      batchRates.set(name, (n / ((used.user + used.system) / 1000)) * 1000);
    }
    const base = batchRates.get(baseline) ?? Number.NaN;
    for (const name of names) {
      const rate = batchRates.get(name) ?? Number.NaN;
      rates.get(name)?.push(rate);
      ratios.get(name)?.push(rate / base);
    }
  }
  const median = (values: number[]) =>
    [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;
  return Object.fromEntries(
    names.map((name) => [
      name,
      { rate: median(rates.get(name) ?? []), ratio: median(ratios.get(name) ?? []) },
    ]),
  ) as Record<K, { rate: number; ratio: number }>;
}

const qrVersion = (text: string) => QRCode.create(text, { errorCorrectionLevel: 'M' }).version;

/** A licence credential as issuance signs it: a typical driving licence. */
function credentialClaims(now: number) {
  return {
    iss: ISSUER_ID,
    jti: LICENCE_ID,
    iat: now,
    nbf: now,
    exp: now + 6 * 365 * 86_400,
    lt: 'driving-licence',
    hol: { k: 'p', n: '王小明', m: '110105********1239' },
    f: { vehicleClass: 'C1', firstIssuedOn: '2012-05-04', archiveNumber: '110100123456' },
    status: { status_list: { idx: 12345, uri: `${BASE}/status-lists/${ISSUER_ID}.0` } },
  };
}

function presentationClaims(
  now: number,
  fields: Record<string, unknown>,
  licence: Partial<PresentationClaims['licence']> = {},
): PresentationClaims {
  return {
    id: Buffer.from(randomBytes(12)).toString('base64url'),
    issuedAt: now,
    expiresAt: now + 300,
    licence: {
      id: LICENCE_ID,
      type: 'driving-licence',
      holder: { kind: 'person', name: '王小明', masked: '110105********1239' },
      status: 'valid',
      validFrom: now - 365 * 86_400,
      validUntil: now + 5 * 365 * 86_400,
      fields,
      // As real presentations carry it (shared/licence/presentation.ts): the offline verifier checks it.
      statusList: { list: 0, idx: 12345 },
      ...licence,
    },
  };
}

/** Offline verifications/s of the library next to raw `crypto.verify` on the same signing input. */
async function offline(): Promise<GoalRow[]> {
  const now = Math.floor(Date.now() / 1000);
  const issuerSigner = new LocalSigner();
  const platformSigner = new LocalSigner();
  // Presentations have a key of their own, named in the trust list (never the platform key).
  const presentationSigner = new LocalSigner();
  const issuerJwk = (await issuerSigner.publicJwk()) as PublicJwk;
  const credential = await signCompactJws({ typ: 'licence+jwt' }, credentialClaims(now), issuerSigner);
  const presentation = await signPresentation(
    presentationClaims(now, { vehicleClass: 'C1', firstIssuedOn: '2012-05-04' }),
    presentationSigner,
  );

  // The verifier's data as an app holds it after a sync: a signed trust list and a signed status list.
  const documents = new Map<string, string>([
    ['/.well-known/jwks.json', JSON.stringify({ keys: [await platformSigner.publicJwk()] })],
    [
      '/trust-list',
      await signCompactJws(
        { typ: 'trust-list+jwt' },
        {
          iss: BASE,
          iat: now,
          exp: now + 7 * 86_400,
          ttl: 3600,
          issuers: [
            {
              id: ISSUER_ID,
              name: '北京市政务服务管理局',
              creditCode: '11110000000013223T',
              region: '110000',
              status: 'active',
              jwks: { keys: [issuerJwk] },
              licenceTypes: [
                { code: 'business-licence', typeCode: '001' },
                { code: 'driving-licence', typeCode: '003' },
              ],
            },
          ],
          presentationKeys: { keys: [await presentationSigner.publicJwk()] },
        },
        platformSigner,
      ),
    ],
    [
      `/status-lists/${ISSUER_ID}.0`,
      await signCompactJws(
        { typ: 'statuslist+jwt' },
        {
          iss: ISSUER_ID,
          sub: `${BASE}/status-lists/${ISSUER_ID}.0`,
          iat: now,
          exp: now + 2 * 86_400,
          ttl: 300,
          status_list: await encodeStatusList(createStatusBytes(131_072), zlibCompression),
        },
        issuerSigner,
      ),
    ],
  ]);
  const fetchDocument = async (url: string | URL | Request) => {
    const body = documents.get(String(url).slice(BASE.length));
    return new Response(body ?? 'not found', { status: body ? 200 : 404 });
  };
  const store = new OfflineTrustStore({
    baseUrl: BASE,
    crypto: nodeEs256,
    compression: zlibCompression,
    fetch: fetchDocument,
  });
  await store.sync();
  const verifier = createNodeVerifier({ trust: store, status: store });
  const portableVerifier = createVerifier({ crypto: nodeEs256, trust: store, status: store });
  const webVerifier = createVerifier({ crypto: webCryptoEs256(), trust: store, status: store });
  for (const [name, v] of [
    ['node', verifier],
    ['portable', portableVerifier],
    ['web', webVerifier],
  ] as const) {
    const check = await v.verify(credential);
    if (check.verdict !== 'valid' || check.status.source !== 'status-list')
      throw new Error(`${name}: ${JSON.stringify(check)}`);
    if ((await v.verify(presentation)).verdict !== 'valid')
      throw new Error(`${name}: presentation not valid`);
  }

  // Baseline: exactly the signature check the library must do, with the key already imported.
  const dot = credential.lastIndexOf('.');
  const signingInput = Buffer.from(credential.slice(0, dot));
  const signature = Buffer.from(credential.slice(dot + 1), 'base64url');
  const keyObject = createPublicKey({
    key: { kty: 'EC', crv: 'P-256', x: issuerJwk.x, y: issuerJwk.y },
    format: 'jwk',
  });
  const josePublic = await importJWK(issuerJwk, 'ES256');
  const envelope = readPresentationEnvelope(presentation);
  const presentationJwk = (await presentationSigner.publicJwk()) as PublicJwk;
  const presentationKey = createPublicKey({
    key: { kty: 'EC', crv: 'P-256', x: presentationJwk.x, y: presentationJwk.y },
    format: 'jwk',
  });
  const best = await pairedRates(BATCHES, OFFLINE_VERIFICATIONS / BATCHES, 'raw', {
    raw: () => {
      if (!cryptoVerify('sha256', signingInput, { key: keyObject, dsaEncoding: 'ieee-p1363' }, signature))
        throw new Error();
    },
    rawPresentation: () => {
      if (
        !cryptoVerify(
          'sha256',
          envelope.signedBytes,
          { key: presentationKey, dsaEncoding: 'ieee-p1363' },
          envelope.signature,
        )
      ) {
        throw new Error();
      }
    },
    ours: () => verifier.verify(credential),
    portable: () => portableVerifier.verify(credential),
    presentation: () => verifier.verify(presentation),
    web: () => webVerifier.verify(credential),
    jose: () => compactVerify(credential, josePublic, { algorithms: ['ES256'] }),
  });

  const row = (name: string, measured: { rate: number; ratio: number }, ratio = measured.ratio) =>
    `${name.padEnd(72)} ${measured.rate.toFixed(0).padStart(8)} ${(1e6 / measured.rate).toFixed(1).padStart(8)} ${ratio.toFixed(2).padStart(7)}`;
  console.log(
    `\nOffline verification (one call after another, ${BATCHES} interleaved batches of ${OFFLINE_VERIFICATIONS / BATCHES}: medians; ${signingInput.length}-byte signing input)`,
  );
  console.log(`${'path'.padEnd(72)} ${'ops/s'.padStart(8)} ${'µs/op'.padStart(8)} ${'× raw'.padStart(7)}`);
  console.log(row('raw crypto.verify ES256 on the credential’s signing input (baseline)', best.raw));
  console.log(
    row('library (Node: nodeEs256 + nodeCodec): licence credential, trust + status list', best.ours),
  );
  console.log(row('library, portable code (nodeEs256, JavaScript base64url): credential', best.portable));
  console.log(row('library, WebCrypto + portable code (the browser path): credential', best.web));
  console.log(row('jose compactVerify alone (signature only: no trust, no status)', best.jose));
  console.log(row('raw crypto.verify ES256 on a presentation’s Sig_structure', best.rawPresentation));
  console.log(
    row('library (Node): presentation (EL1, COSE_Sign1)', best.presentation) +
      `  (${(best.presentation.ratio / best.rawPresentation.ratio).toFixed(2)} × its own raw)`,
  );
  const presentationRatio = best.presentation.ratio / best.rawPresentation.ratio;
  return [
    {
      what: 'offline presentation verifications/s ÷ raw crypto.verify ES256 (its Sig_structure)',
      measured: `${presentationRatio.toFixed(2)} (credentials ${best.ours.ratio.toFixed(2)})`,
      goal: '≥ 0.85',
      met: presentationRatio >= 0.85,
    },
  ];
}

/** Bytes and QR versions (level M) of typical presentations and a typical licence credential. */
async function sizes(): Promise<void> {
  const now = Math.floor(Date.now() / 1000);
  const signer = new LocalSigner();
  const credential = await signCompactJws({ typ: 'licence+jwt' }, credentialClaims(now), new LocalSigner());
  const typicalFields = { vehicleClass: 'C1', firstIssuedOn: '2012-05-04' };
  const rows: Array<Record<string, string | number>> = [];
  const add = (what: string, text: string, mode: string) =>
    rows.push({
      what,
      chars: text.length,
      'bytes (UTF-8)': Buffer.byteLength(text),
      mode,
      'QR version (M)': qrVersion(text),
    });

  const typical = await signPresentation(presentationClaims(now, typicalFields), signer);
  add(
    'presentation, driving licence, no field shown',
    await signPresentation(presentationClaims(now, {}), signer),
    'alphanumeric',
  );
  add('presentation, driving licence, 2 fields (typical)', typical, 'alphanumeric');
  add(
    'presentation, driving licence, all 3 fields',
    await signPresentation(
      presentationClaims(now, { ...typicalFields, archiveNumber: '110100123456' }),
      signer,
    ),
    'alphanumeric',
  );
  add(
    'presentation, business licence, 2 fields',
    await signPresentation(
      presentationClaims(
        now,
        { entityType: '有限责任公司(自然人投资或控股)', legalRepresentativeName: '王小明' },
        {
          id: BUSINESS_LICENCE_ID,
          type: 'business-licence',
          holder: { kind: 'entity', name: '北京示范科技有限公司', masked: '91110105MA01DEM078' },
          validUntil: undefined,
        },
      ),
      signer,
    ),
    'alphanumeric',
  );
  add(
    'presentation, typical, as a verification link',
    verificationUrl('https://elicence.example.gov.cn/verify', typical),
    'byte + alphanumeric',
  );
  // The alternative measured and rejected: the same presentation as a compact JWS.
  const claims = presentationClaims(now, typicalFields);
  add(
    'the same presentation as a compact JWS (rejected)',
    await signCompactJws(
      { typ: 'presentation+jwt' },
      {
        jti: claims.id,
        iat: claims.issuedAt,
        exp: claims.expiresAt,
        sub: LICENCE_ID,
        lt: 'driving-licence',
        hol: { k: 'p', n: '王小明', m: '110105********1239' },
        st: 0,
        nbf: claims.licence.validFrom,
        lexp: claims.licence.validUntil,
        f: typicalFields,
      },
      signer,
    ),
    'byte',
  );
  add('licence credential, driving licence (static QR, compact JWS)', credential, 'byte');
  console.log(
    '\nQR sizes at error correction M (EU Digital COVID Certificate for comparison: ~580 chars, versions 15–19)',
  );
  console.table(rows);
}

/** The verifier offline: speed next to raw crypto.verify, and QR sizes (`POST /verify` is in http.bench.ts). */
export default async function run(): Promise<GoalRow[]> {
  const goals = await offline();
  await sizes();
  return goals;
}

const entry = process.argv[1];
if (entry !== undefined && import.meta.url === pathToFileURL(entry).href) {
  await run();
}
