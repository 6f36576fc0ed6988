import { randomUUID } from 'node:crypto';
import { ConflictError } from '../../shared/errors.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type {
  EntityRegistry,
  ExpectedRepresentative,
  PopulationRegistry,
  RegisteredEntity,
  RegisteredEntityRecord,
  RegisteredPerson,
} from '../../shared/identity/registry.js';
import { newCreditCode } from '../support/in-memory-identity.js';
import type { Make } from './subject.js';

/** A registry and how the seed fills it (not part of the port: the national databases are read-only). */
export interface SeededRegistry {
  registry: PopulationRegistry & EntityRegistry;
  putPerson(person: RegisteredPerson): Promise<void>;
  putEntity(entity: RegisteredEntityRecord, expected?: ExpectedRepresentative): Promise<RegisteredEntity>;
  /** Records `entity` as it was stored before representative terms: with none. */
  putEntityBeforeTerms(entity: RegisteredEntityRecord): Promise<void>;
}

/**
 * The {@link PopulationRegistry} and {@link EntityRegistry} contract: people by lookup key, entities by
 * credit code and by their representative of today.
 */
export function registryContract(name: string, make: Make<SeededRegistry>): void {
  describe(`PopulationRegistry and EntityRegistry contract: ${name}`, () => {
    let subject: Awaited<ReturnType<typeof make>>;
    beforeEach(async () => {
      subject = await make();
    });
    afterEach(async () => {
      await subject.cleanup();
    });

    it('finds a recorded person by lookup key, and nobody else', async () => {
      const person = { lookupKey: `lk-${randomUUID()}`, name: '张测试', masked: '310104********0248' };
      await subject.putPerson(person);
      expect(await subject.registry.findPerson(person.lookupKey)).toEqual(person);
      expect(await subject.registry.findPerson(`lk-${randomUUID()}`)).toBeUndefined();
    });

    it('finds entities by credit code and by representative, and not once the representative changed', async () => {
      const representative = `lk-${randomUUID()}`;
      const entity = (creditCode: string): RegisteredEntityRecord => ({
        creditCode,
        name: '北京测试科技有限公司',
        representativeLookupKey: representative,
        representativeMasked: '110105********1234',
      });
      const a = await subject.putEntity(entity(newCreditCode()));
      const b = await subject.putEntity(entity(newCreditCode()));
      expect(await subject.registry.findEntity(a.creditCode)).toEqual(a);
      expect(await subject.registry.findEntity(newCreditCode())).toBeUndefined();
      const byCode = (x: RegisteredEntity, y: RegisteredEntity) => x.creditCode.localeCompare(y.creditCode);
      expect((await subject.registry.entitiesRepresentedBy(representative)).sort(byCode)).toEqual(
        [a, b].sort(byCode),
      );

      const successor = await subject.putEntity({ ...b, representativeLookupKey: `lk-${randomUUID()}` });
      expect(await subject.registry.entitiesRepresentedBy(representative)).toEqual([a]);
      expect(await subject.registry.entitiesRepresentedBy(successor.representativeLookupKey)).toEqual([
        successor,
      ]);
      expect(await subject.registry.entitiesRepresentedBy(`lk-${randomUUID()}`)).toEqual([]);
    });

    it('starts a new representative term at each new representative, the former one named again included', async () => {
      const [first, second] = [`lk-${randomUUID()}`, `lk-${randomUUID()}`];
      const record = (representativeLookupKey: string): RegisteredEntityRecord => ({
        creditCode,
        name: '北京测试科技有限公司',
        representativeLookupKey,
        representativeMasked: '110105********1234',
      });
      const creditCode = newCreditCode();
      const named = await subject.putEntity(record(first));
      expect(named.representativeTerm).not.toBe('');
      // The same representative recorded again (a renamed entity, the seed run again): the same term.
      const renamed = await subject.putEntity({ ...record(first), name: '北京测试科技股份有限公司' });
      expect(renamed.representativeTerm).toBe(named.representativeTerm);
      expect(await subject.registry.findEntity(creditCode)).toEqual(renamed);
      const changed = await subject.putEntity(record(second));
      const back = await subject.putEntity(record(first));
      const terms = new Set([named, changed, back].map((entity) => entity.representativeTerm));
      expect(terms.size).toBe(3);
      expect(await subject.registry.findEntity(creditCode)).toEqual(back);
    });

    it('keeps a record written before terms without one while its representative stays, not after a change', async () => {
      const [first, second] = [`lk-${randomUUID()}`, `lk-${randomUUID()}`];
      const creditCode = newCreditCode();
      const record = (representativeLookupKey: string): RegisteredEntityRecord => ({
        creditCode,
        name: '北京测试科技有限公司',
        representativeLookupKey,
        representativeMasked: '110105********1234',
      });
      await subject.putEntityBeforeTerms(record(first));
      expect((await subject.registry.findEntity(creditCode))?.representativeTerm).toBe('');
      // Written again with the same representative (the seed run again): still none, so what its
      // representative did before terms (bare `rep` sessions, appointments) stands on.
      const again = await subject.putEntity({ ...record(first), name: '北京测试科技股份有限公司' });
      expect(again.representativeTerm).toBe('');
      expect(await subject.registry.findEntity(creditCode)).toEqual(again);
      // A change gives it a term for good: the former representative named again is in another one.
      const changed = await subject.putEntity(record(second));
      const back = await subject.putEntity(record(first));
      expect(changed.representativeTerm).not.toBe('');
      expect(back.representativeTerm).not.toBe('');
      expect(back.representativeTerm).not.toBe(changed.representativeTerm);
      expect(await subject.registry.findEntity(creditCode)).toEqual(back);
    });
    it('refuses a write expecting a representative the entity no longer names, writing nothing (review R56-2)', async () => {
      const [first, second] = [`lk-${randomUUID()}`, `lk-${randomUUID()}`];
      const creditCode = newCreditCode();
      const record = (representativeLookupKey: string): RegisteredEntityRecord => ({
        creditCode,
        name: '北京测试科技有限公司',
        representativeLookupKey,
        representativeMasked: '110105********1234',
      });
      // Two first records racing: the second finds the first's, not the nothing it read.
      const named = await subject.putEntity(record(first), { representativeLookupKey: undefined });
      await expect(
        subject.putEntity(record(second), { representativeLookupKey: undefined }),
      ).rejects.toSatisfy((error) => error instanceof ConflictError && error.code === 'registry_conflict');
      // A rewrite of `second` read as unchanged, the entity naming `first` by its write: no term drawn.
      await expect(subject.putEntity(record(second), { representativeLookupKey: second })).rejects.toSatisfy(
        (error) => error instanceof ConflictError && error.code === 'registry_conflict',
      );
      expect(await subject.registry.findEntity(creditCode)).toEqual(named);
      // Still as read: written, its term kept.
      const renamed = await subject.putEntity(
        { ...record(first), name: '北京测试科技股份有限公司' },
        { representativeLookupKey: first },
      );
      expect(renamed.representativeTerm).toBe(named.representativeTerm);
    });
  });
}
