import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SessionRegistry } from '../../shared/web/session-registry.js';
import { ConflictError } from '../../shared/errors.js';
import { rejection, type Make } from './subject.js';

const now = 1_700_000_000;

/** The {@link SessionRegistry} contract: open until closed or expired; an id is opened once. */
export function sessionRegistryContract(name: string, make: Make<{ sessions: SessionRegistry }>): void {
  describe(`SessionRegistry contract: ${name}`, () => {
    let subject: Awaited<ReturnType<typeof make>>;
    let sessions: SessionRegistry;
    beforeEach(async () => {
      subject = await make();
      sessions = subject.sessions;
    });
    afterEach(async () => {
      await subject.cleanup();
    });

    it('is open from open() until close(), and never again after', async () => {
      const id = `session-${randomUUID()}`;
      expect(await sessions.isOpen(id, now)).toBe(false);
      await sessions.open(id, now + 600);
      expect(await sessions.isOpen(id, now)).toBe(true);
      expect(await sessions.isOpen(`session-${randomUUID()}`, now)).toBe(false);
      await sessions.close(id);
      expect(await sessions.isOpen(id, now)).toBe(false);
      await sessions.close(id);
    });

    it('is closed once its expiry has passed', async () => {
      const id = `session-${randomUUID()}`;
      await sessions.open(id, now + 600);
      expect(await sessions.isOpen(id, now + 599)).toBe(true);
      expect(await sessions.isOpen(id, now + 600)).toBe(false);
    });

    it('refuses to open an id twice with ConflictError', async () => {
      const id = `session-${randomUUID()}`;
      await sessions.open(id, now + 600);
      expect(await rejection(sessions.open(id, now + 1200))).toBeInstanceOf(ConflictError);
      expect(await sessions.isOpen(id, now + 900)).toBe(false);
    });
  });
}
