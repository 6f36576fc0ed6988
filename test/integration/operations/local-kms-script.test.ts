import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateAliasCommand, DisabledException, GetPublicKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { startKmsEmulator } from '../../../infra/local/kms-emulator.js';
import type { KeyRecord } from '../../../infra/local/kms-store.js';
import { StoreInUseError } from '../../../infra/local/store-lock.js';
import { runLocalKms } from '../../../scripts/local-kms.js';

/*
 * `npm run local:kms`: the operator's KMS calls of a rotation on the local runtime's emulator, with the
 * runtime stopped (docs/operating.md, "Rehearsing a rotation locally").
 */

let dataDir: string;
beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'local-kms-'));
});
afterAll(() => rm(dataDir, { recursive: true, force: true }));

/** The script's run: its exit code and what it printed on stdout. */
async function run(...argv: string[]): Promise<{ code: number; lines: string[] }> {
  const lines: string[] = [];
  const code = await runLocalKms(argv, { DATA_DIR: dataDir }, (line) => lines.push(line));
  return { code, lines };
}

/** What the runtime's next start reads: the emulator on the same data directory. */
async function publicKeyRead(keyId: string): Promise<unknown> {
  const emulator = await startKmsEmulator({ dataDir });
  const kms = new KMSClient({
    region: 'cn-north-1',
    endpoint: emulator.endpoint,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
  try {
    return await kms.send(new GetPublicKeyCommand({ KeyId: keyId })).then(
      () => 'read',
      (error: unknown) => error,
    );
  } finally {
    kms.destroy();
    await emulator.close();
  }
}

it('creates a generation, disables and enables it by alias, and the next start of the emulator sees it', async () => {
  const created = await run('create-key');
  expect(created.code).toBe(0);
  const [keyId, state] = created.lines[0]!.split(' ');
  expect(state).toBe('Enabled');
  // The alias the runtime's first start makes (alias/elicence-platform), here by hand.
  const emulator = await startKmsEmulator({ dataDir });
  const kms = new KMSClient({
    region: 'cn-north-1',
    endpoint: emulator.endpoint,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  await kms.send(new CreateAliasCommand({ AliasName: 'alias/generation-1', TargetKeyId: keyId }));
  kms.destroy();
  await emulator.close();

  expect(await run('disable', 'alias/generation-1')).toEqual({ code: 0, lines: [`${keyId} Disabled`] });
  expect(await publicKeyRead('alias/generation-1')).toBeInstanceOf(DisabledException);
  expect(await run('describe', keyId!)).toEqual({ code: 0, lines: [`${keyId} Disabled`] });
  expect(await run('enable', 'alias/generation-1')).toEqual({ code: 0, lines: [`${keyId} Enabled`] });
  expect(await publicKeyRead(keyId!)).toBe('read');
  expect((await run('create-key', 'RSA_2048')).lines[0]).toMatch(/ Enabled$/);
});

it('exits 1 for an unknown key, and 2 for a usage error or an external KMS', async () => {
  const errors = vi.spyOn(console, 'error').mockImplementation(() => undefined);
  expect((await run('disable', 'alias/none')).code).toBe(1);
  expect(errors).toHaveBeenLastCalledWith(expect.stringMatching(/^local-kms: NotFoundException/));
  expect((await run('disable')).code).toBe(2);
  expect((await run('create-key', 'HMAC_256')).code).toBe(2);
  expect(
    await runLocalKms(['describe', 'alias/x'], {
      DATA_DIR: dataDir,
      AWS_ENDPOINT_URL_KMS: 'http://kms.example',
    }),
  ).toBe(2);
  expect(errors).toHaveBeenLastCalledWith(expect.stringContaining('external KMS'));
  errors.mockRestore();
});

/** The state of a key in the keys file, as the next start reads it. */
const onDisk = async (keyId: string) =>
  (JSON.parse(await readFile(join(dataDir, 'kms', 'keys.json'), 'utf8')) as { keys: KeyRecord[] }).keys.find(
    (key) => key.keyId === keyId,
  )?.keyState;

it('refuses with 2 while a running runtime holds the keys, naming its process; runs once it stopped (review R53 F2)', async () => {
  const created = await run('create-key');
  const [keyId] = created.lines[0]!.split(' ');
  const errors = vi.spyOn(console, 'error').mockImplementation(() => undefined);
  // `npm start`'s emulator on the same DATA_DIR (here in this process: the lock names its pid).
  const runtime = await startKmsEmulator({ dataDir, owner: 'npm start' });
  try {
    expect(await run('disable', keyId!)).toEqual({ code: 2, lines: [] });
    expect(errors).toHaveBeenLastCalledWith(
      expect.stringContaining(`in use by process ${process.pid} (npm start, since `),
    );
    expect(await run('create-key')).toEqual({ code: 2, lines: [] });
    // A second runtime on the same keys is refused the same way.
    await expect(startKmsEmulator({ dataDir, owner: 'npm start' })).rejects.toThrow(StoreInUseError);
  } finally {
    await runtime.close();
  }
  expect(await onDisk(keyId!)).toBe('Enabled');
  expect(await run('disable', keyId!)).toEqual({ code: 0, lines: [`${keyId} Disabled`] });
  expect(await onDisk(keyId!)).toBe('Disabled');
  errors.mockRestore();
});

it('takes over the lock of a process that is gone, or of its own pid it does not hold (review R53 F2)', async () => {
  const lock = join(dataDir, 'kms', 'emulator.lock');
  const gone = spawnSync(process.execPath, ['-e', '']).pid;
  for (const pid of [gone, process.pid]) {
    await writeFile(lock, JSON.stringify({ pid, owner: 'npm start', since: new Date(0).toISOString() }));
    expect((await run('describe', 'alias/generation-1')).code, String(pid)).toBe(0);
    await expect(readFile(lock)).rejects.toMatchObject({ code: 'ENOENT' });
  }
});
