import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { AsyncSlot } from '../../shared/async-context.js';

const root = join(import.meta.dirname, '../..');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : sourceFiles(path);
    return /\.(ts|mts|mjs)$/.test(entry.name) && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

describe('async slots (shared/async-context.ts)', () => {
  it('follow their call chain through awaits and timers, and are unset outside it', async () => {
    const slot = new AsyncSlot<string>('test');
    expect(slot.getStore()).toBeUndefined();
    const seen = await slot.run('a', async () => {
      await sleep(1);
      const later = await new Promise<string | undefined>((resolve) =>
        setTimeout(() => resolve(slot.getStore()), 1),
      );
      return [slot.getStore(), later];
    });
    expect(seen).toEqual(['a', 'a']);
    expect(slot.getStore()).toBeUndefined();
  });

  it('keep concurrent chains apart', async () => {
    const slot = new AsyncSlot<number>('test');
    const read = (n: number) =>
      slot.run(n, async () => {
        await sleep(3 - n);
        return slot.getStore();
      });
    expect(await Promise.all([read(1), read(2), read(3)])).toEqual([1, 2, 3]);
  });

  it('set one slot without touching another, and a nested run ends with its callback', async () => {
    const outer = new AsyncSlot<string>('outer');
    const inner = new AsyncSlot<string>('inner');
    await outer.run('o', async () => {
      await inner.run('i', async () => {
        await sleep(1);
        expect([outer.getStore(), inner.getStore()]).toEqual(['o', 'i']);
        await outer.run('o2', async () => {
          await sleep(1);
          expect([outer.getStore(), inner.getStore()]).toEqual(['o2', 'i']);
        });
        expect([outer.getStore(), inner.getStore()]).toEqual(['o', 'i']);
      });
      expect([outer.getStore(), inner.getStore()]).toEqual(['o', undefined]);
    });
  });

  it('return what the callback returns, synchronously too', () => {
    expect(new AsyncSlot<number>('test').run(1, () => 'done')).toBe('done');
  });

  // Each AsyncLocalStorage that has run costs every promise of the process a step on Node 20 (issue 16):
  // the service's own code shares the one in shared/async-context.ts.
  it('are the only AsyncLocalStorage the service code makes', () => {
    const makers = ['shared', 'functions', 'infra', 'packages']
      .flatMap((dir) => sourceFiles(join(root, dir)))
      .filter((file) => /new AsyncLocalStorage\b/.test(readFileSync(file, 'utf8')))
      .map((file) => relative(root, file));
    expect(makers).toEqual(['shared/async-context.ts']);
  });
});
