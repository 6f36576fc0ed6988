import { generateKeyPairSync, sign } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CreateKeyCommand } from '@aws-sdk/client-kms';
import { startKmsEmulator } from '../../infra/local/kms-emulator.js';
import { createKmsClient } from '../../shared/adapters/kms/client.js';
import { KmsSigner } from '../../shared/adapters/kms/signer.js';

const KMS_SIGNATURES = 2000;
const CONCURRENCY = 8;
const NODE_SIGNATURES = 20_000;

/** Runs `task` `total` times with at most `concurrency` in flight; returns operations per second. */
async function throughput(total: number, concurrency: number, task: () => Promise<unknown>): Promise<number> {
  let started = 0;
  const worker = async () => {
    while (started < total) {
      started++;
      await task();
    }
  };
  const begin = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  return (total / (performance.now() - begin)) * 1000;
}

/**
 * ES256 signatures per second through KmsSigner → SDK (SigV4, retries) → HTTP → local KMS emulator,
 * next to raw `node:crypto` ES256 signing of the same bytes in the same process (the physical limit).
 */
export default async function run(): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'kms-bench-'));
  const emulator = await startKmsEmulator({ dataDir });
  try {
    const kms = createKmsClient({
      region: 'cn-north-1',
      endpoint: emulator.endpoint,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    const { KeyMetadata } = await kms.send(
      new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' }),
    );
    const signer = new KmsSigner(kms, KeyMetadata?.KeyId ?? '');
    const kid = await signer.kid();
    // A JWS signing input of typical size: header and a licence credential's claims.
    const data = new TextEncoder().encode(
      `${Buffer.from(JSON.stringify({ alg: 'ES256', kid, typ: 'JWT' })).toString('base64url')}.${'x'.repeat(400)}`,
    );
    await throughput(100, CONCURRENCY, () => signer.sign(data));
    const kmsRate = await throughput(KMS_SIGNATURES, CONCURRENCY, () => signer.sign(data));
    kms.destroy();

    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const nodeSign = async () => sign('sha256', data, { key: privateKey, dsaEncoding: 'ieee-p1363' });
    await throughput(1000, 1, nodeSign);
    const nodeRate = await throughput(NODE_SIGNATURES, 1, nodeSign);

    const row = (name: string, n: number, rate: number) =>
      `${name.padEnd(46)} ${String(n).padStart(7)} ${rate.toFixed(0).padStart(10)} ${(1e6 / rate).toFixed(1).padStart(9)}`;
    console.log(`\nES256 signing (${data.length}-byte signing input)`);
    console.log(`${'path'.padEnd(46)} ${'n'.padStart(7)} ${'ops/s'.padStart(10)} ${'µs/op'.padStart(9)}`);
    console.log(row(`KmsSigner → local KMS emulator (concurrency ${CONCURRENCY})`, KMS_SIGNATURES, kmsRate));
    console.log(row('node:crypto sign, in process (baseline)', NODE_SIGNATURES, nodeRate));
    console.log(`ratio KmsSigner / baseline: ${(kmsRate / nodeRate).toFixed(3)} (1 KMS call per signature)`);
  } finally {
    await emulator.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

const entry = process.argv[1];
if (entry !== undefined && import.meta.url === pathToFileURL(entry).href) {
  await run();
}
