import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { acquireStoreLock, StoreInUseError } from '../../../infra/local/store-lock.js';

/**
 * A lock file in a fresh directory, optionally left by a process that is gone, or under this process's
 * own pid (a container restarted under the same pid).
 */
async function lockFile(stale: false | 'gone' | 'own pid'): Promise<string> {
  const file = join(await mkdtemp(join(tmpdir(), 'store-lock-')), 'emulator.lock');
  if (stale) {
    const pid = stale === 'gone' ? spawnSync(process.execPath, ['-e', '']).pid : process.pid;
    await writeFile(file, JSON.stringify({ pid, owner: 'crashed', since: new Date(0).toISOString() }));
  }
  return file;
}

describe('review R57 F5: the local store lock', () => {
  for (const stale of [false, 'gone', 'own pid'] as const) {
    it(`lets one of two opens in this process have it (stale lock: ${stale || 'none'})`, async () => {
      const file = await lockFile(stale);
      const results = await Promise.allSettled([acquireStoreLock(file, 'A'), acquireStoreLock(file, 'B')]);
      const taken = results.filter((result) => result.status === 'fulfilled');
      expect(taken).toHaveLength(1);
      const refused = results.find((result) => result.status === 'rejected');
      expect(refused?.reason).toBeInstanceOf(StoreInUseError);
      const holder = JSON.parse(await readFile(file, 'utf8')) as { pid: number; owner: string };
      expect(holder.pid).toBe(process.pid);
      await taken[0]!.value();
      // Released: taken again, and nothing is left beside the lock (no temporary or stale copy).
      const release = await acquireStoreLock(file, 'C');
      expect(await readdir(join(file, '..'))).toEqual(['emulator.lock']);
      await release();
    });
  }

  it('refuses a second open in this process while the first holds it, whatever the file says', async () => {
    const file = await lockFile(false);
    const release = await acquireStoreLock(file, 'A');
    // The file rewritten to name a process that is gone: still held here.
    const gone = spawnSync(process.execPath, ['-e', '']).pid;
    await writeFile(file, JSON.stringify({ pid: gone, owner: 'crashed', since: new Date(0).toISOString() }));
    await expect(acquireStoreLock(file, 'B')).rejects.toBeInstanceOf(StoreInUseError);
    await release();
  });

  it('review R59 L3: a release leaves a lock another process has taken over since', async () => {
    const file = await lockFile(false);
    const release = await acquireStoreLock(file, 'A');
    // Another process's lock in its place (this one paused past that process's stale check).
    const other = { pid: process.ppid, owner: 'npm start', since: new Date().toISOString() };
    await writeFile(file, JSON.stringify(other));
    await release();
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual(other);
    expect(await readdir(join(file, '..'))).toEqual(['emulator.lock']);
  });
});
