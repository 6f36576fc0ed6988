import { randomUUID } from 'node:crypto';
import { link, open, readFile, rename, rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import * as z from 'zod';

const holderSchema = z.object({ pid: z.number().int().positive(), owner: z.string(), since: z.string() });

/** Who holds a store's lock: the process, what it is (`npm start`, `npm run local:kms`), since when. */
export type StoreLockHolder = z.infer<typeof holderSchema>;

/**
 * A local store is in use by another running process (or another emulator of this one): two writers of
 * the same file would each overwrite the other's changes (review R53 F2).
 */
export class StoreInUseError extends Error {
  readonly code = 'store_in_use';
  constructor(
    readonly lockFile: string,
    readonly holder: StoreLockHolder,
  ) {
    super(
      `The local KMS keys in ${lockFile.replace(/\/[^/]+$/, '')} are in use by process ${holder.pid} ` +
        `(${holder.owner}, since ${holder.since}): stop it first (Ctrl+C where it runs), ` +
        `or, if no such process is running, delete ${lockFile}`,
    );
  }
}

/**
 * Lock files this process holds or is taking, so that a second emulator of the same process is refused
 * too: reserved before the first `await` of {@link acquireStoreLock}, so two opens in this process never
 * both get it whatever their interleaving (review R57 F5).
 */
const held = new Map<string, StoreLockHolder>();

const sameHolder = (a: StoreLockHolder | undefined, b: StoreLockHolder | undefined) =>
  JSON.stringify(a) === JSON.stringify(b);

/** Whether a process of this id runs (on this machine: the store is a local directory). */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function readHolder(file: string): Promise<StoreLockHolder | undefined> {
  try {
    const parsed = holderSchema.safeParse(JSON.parse(await readFile(file, 'utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Takes the lock file `file` for this process, or throws {@link StoreInUseError} naming the process
 * that holds it. The file is written whole under another name and hard-linked into place, so that it
 * appears at once with its content and only one of two processes racing for it gets it. A lock whose
 * process is gone (killed, crashed) is stale and taken over; so is one naming this process's own id that
 * this process does not hold (a container restarted under the same pid). A stale lock is renamed aside
 * and checked to be the one read before it is removed (review R57 F5): removing it by name could remove
 * the lock another opener had just taken over, and both would hold it; a lock renamed aside that is not
 * the stale one is linked back and refuses this opener.
 *
 * @returns the release, which removes the file while it is still this lock's; calling it again does
 *   nothing.
 */
export async function acquireStoreLock(path: string, owner: string): Promise<() => Promise<void>> {
  const file = resolve(path);
  const me: StoreLockHolder = { pid: process.pid, owner, since: new Date().toISOString() };
  const holding = held.get(file);
  if (holding) throw new StoreInUseError(file, holding);
  held.set(file, me);
  try {
    await takeLock(file, me);
  } catch (error) {
    held.delete(file);
    throw error;
  }
  let released = false;
  return async () => {
    if (released) return;
    released = true;
    held.delete(file);
    await releaseLock(file, me);
  };
}

/**
 * Removes the lock file only while it is still `me`'s (review R59 L3): a lock taken over meanwhile (this
 * process paused past another's stale check, or the file deleted by hand and taken by another process) is
 * that process's, and removing it by name would let a third in beside it. Renamed aside first and checked
 * there, as a stale takeover does: a lock not ours is linked back.
 */
async function releaseLock(file: string, me: StoreLockHolder): Promise<void> {
  if (!sameHolder(await readHolder(file), me)) return;
  const aside = `${file}.${process.pid}.${randomUUID()}.released`;
  try {
    await rename(file, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  if (!sameHolder(await readHolder(aside), me)) await link(aside, file).catch(() => undefined);
  await rm(aside, { force: true });
}

async function takeLock(file: string, me: StoreLockHolder): Promise<void> {
  const temp = `${file}.${process.pid}.${randomUUID()}.tmp`;
  const handle = await open(temp, 'w', 0o600);
  try {
    await handle.writeFile(JSON.stringify(me), 'utf8');
  } finally {
    await handle.close();
  }
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await link(temp, file);
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const holder = await readHolder(file);
      // This process's own pid: not held here (reserved above), so a lock left under a reused pid.
      if (holder && holder.pid !== process.pid && isRunning(holder.pid)) {
        throw new StoreInUseError(file, holder);
      }
      // Stale, or unreadable: a writer links the file whole, so an unreadable one is no live lock.
      if (attempt >= 2) throw new Error(`Cannot take the lock ${file}: delete it if no process uses it`);
      const aside = `${file}.${process.pid}.${randomUUID()}.stale`;
      try {
        await rename(file, aside);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw error;
      }
      const moved = await readHolder(aside);
      if (!sameHolder(moved, holder)) {
        // Another opener took the stale lock over meanwhile: put its lock back, and refuse.
        await link(aside, file).catch(() => undefined);
        await rm(aside, { force: true });
        if (moved) throw new StoreInUseError(file, moved);
        continue;
      }
      await rm(aside, { force: true });
    }
  } finally {
    await rm(temp, { force: true });
  }
}
