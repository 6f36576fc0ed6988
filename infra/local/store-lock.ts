import { link, open, readFile, rm } from 'node:fs/promises';
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

/** Lock files this process holds, so that a second emulator of the same process is refused too. */
const held = new Set<string>();

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
 * this process does not hold (a container restarted under the same pid).
 *
 * @returns the release, which removes the file; calling it again does nothing.
 */
export async function acquireStoreLock(path: string, owner: string): Promise<() => Promise<void>> {
  const file = resolve(path);
  const me: StoreLockHolder = { pid: process.pid, owner, since: new Date().toISOString() };
  const temp = `${file}.${process.pid}.${Date.now()}.tmp`;
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
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const holder = await readHolder(file);
      const ours = holder?.pid === process.pid;
      if (holder && (ours ? held.has(file) : isRunning(holder.pid))) throw new StoreInUseError(file, holder);
      // Stale, or unreadable: a writer links the file whole, so an unreadable one is no live lock.
      if (attempt >= 2) throw new Error(`Cannot take the lock ${file}: delete it if no process uses it`);
      await rm(file, { force: true });
    }
  } finally {
    await rm(temp, { force: true });
  }
  held.add(file);
  let released = false;
  return async () => {
    if (released) return;
    released = true;
    held.delete(file);
    await rm(file, { force: true });
  };
}
