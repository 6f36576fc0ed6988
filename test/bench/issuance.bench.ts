import { generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { dependencies } from '../../functions/composition/dependencies.js';
import { issueLicence, issueLicenceInput } from '../../shared/licence/issue-licence.js';
import { drivingLicenceBody, issueLicence as issueOverHttp, newIdNumber } from '../support/licences.js';
import { clientCredentialsToken, startTestRuntime } from '../support/runtime.js';
import { header, measure, row } from './measure.js';

const ISSUANCES = 200;
const CONCURRENCY = 8;
const WARM_UP = 20;
const NODE_SIGNATURES = 20_000;

/** Calls per operation, per issuance, e.g. `GenerateMac 1.00, Sign 1.00`. */
function perIssuance(stats: Record<string, number>, n: number): string {
  const entries = Object.entries(stats).sort(([a], [b]) => a.localeCompare(b));
  if (entries.length === 0) return '-';
  return entries.map(([operation, count]) => `${operation} ${(count / n).toFixed(2)}`).join(', ');
}

/**
 * Licence issuance per second through the local runtime over HTTP (token check, validation, KMS
 * GenerateMac for the holder's lookup key, idempotency record, status-list slot, KMS Sign, licence write),
 * with p50/p99 latency and the KMS (emulator statistics) and DynamoDB calls each issuance makes, next to two baselines measured in the same
 * run: the same use case called in process (no HTTP, no token check), and raw `node:crypto` ES256 signing
 * of the same signing input (the physical limit of one signature).
 */
export default async function run(): Promise<void> {
  const runtime = await startTestRuntime();
  try {
    const emulator = runtime.kms;
    if (!emulator) throw new Error('the bench needs the embedded KMS emulator');
    const token = await clientCredentialsToken(runtime, runtime.credentials.issuer, 'licences:issue');
    let credential = '';
    const overHttp = async () => {
      const response = await issueOverHttp(runtime, token, drivingLicenceBody(newIdNumber()));
      const body = (await response.json()) as { credential?: string };
      if (response.status !== 201 || !body.credential) {
        throw new Error(`issuance failed: ${response.status} ${JSON.stringify(body)}`);
      }
      credential = body.credential;
    };
    const deps = { ...dependencies(), issuerUrl: runtime.baseUrl };
    // Counted by the embedded DynamoDB itself: every function's calls, the token check's included.
    const dynamo = runtime.dynamo;
    if (!dynamo) throw new Error('the bench needs the embedded DynamoDB');
    const { issuer } = runtime.credentials;
    const inProcess = () =>
      issueLicence(
        issueLicenceInput.parse(drivingLicenceBody(newIdNumber())),
        { issuerId: issuer.id, clientId: issuer.clientId, idempotencyKey: randomUUID() },
        deps,
      );

    await measure(WARM_UP, CONCURRENCY, overHttp);
    await measure(WARM_UP, CONCURRENCY, inProcess);

    emulator.resetStats();
    dynamo.resetStats();
    const http = await measure(ISSUANCES, CONCURRENCY, overHttp);
    const httpCalls = { kms: emulator.stats(), dynamo: dynamo.stats() };
    emulator.resetStats();
    dynamo.resetStats();
    const direct = await measure(ISSUANCES, CONCURRENCY, inProcess);
    const directCalls = { kms: emulator.stats(), dynamo: dynamo.stats() };

    // The credential's own signing input, signed by a key in this process.
    const signingInput = Buffer.from(credential.slice(0, credential.lastIndexOf('.')));
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const nodeSign = async () => sign('sha256', signingInput, { key: privateKey, dsaEncoding: 'ieee-p1363' });
    await measure(1000, 1, nodeSign);
    const node = await measure(NODE_SIGNATURES, 1, nodeSign);

    console.log(`\nLicence issuance (driving licence, ${signingInput.length}-byte JWS signing input)`);
    console.log(header());
    console.log(row('A  POST /licences, local runtime over HTTP', CONCURRENCY, http));
    console.log(row('B  issueLicence use case in process (baseline)', CONCURRENCY, direct));
    console.log(row('C  node:crypto ES256 sign in process (baseline)', 1, node));
    console.log(
      `ratio A/B ${(http.rate / direct.rate).toFixed(3)}, A/C ${(http.rate / node.rate).toFixed(4)}\n` +
        `calls per issuance  A: KMS ${perIssuance(httpCalls.kms, http.n)}; ` +
        `DynamoDB ${perIssuance(httpCalls.dynamo, http.n)}\n` +
        `                    B: KMS ${perIssuance(directCalls.kms, direct.n)}; ` +
        `DynamoDB ${perIssuance(directCalls.dynamo, direct.n)}`,
    );
  } finally {
    await runtime.close();
    await rm(runtime.dataDir, { recursive: true, force: true });
  }
}

const entry = process.argv[1];
if (entry !== undefined && import.meta.url === pathToFileURL(entry).href) {
  await run();
}
