import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CarrierRegistry, CarrierSubscriber } from '../../shared/identity/registry.js';
import type { Make } from './subject.js';

/** A carrier registry and how the seed fills it (not part of the port: the carriers are read-only). */
export interface SeededCarrierRegistry {
  carrier: CarrierRegistry;
  putSubscriber(subscriber: CarrierSubscriber): Promise<void>;
  /** Every stored value, as text, to show that no phone number is kept in clear (empty for a fake). */
  storedText(): Promise<string>;
}

/**
 * The {@link CarrierRegistry} contract (三要素核验): yes only for a number recorded for that person under
 * that name; no for another person's number, another name, an unknown number or a malformed one.
 */
export function carrierRegistryContract(name: string, make: Make<SeededCarrierRegistry>): void {
  describe(`CarrierRegistry contract: ${name}`, () => {
    let subject: Awaited<ReturnType<typeof make>>;
    beforeEach(async () => {
      subject = await make();
    });
    afterEach(async () => {
      await subject.cleanup();
    });

    const person = () => ({ lookupKey: `lk-${randomUUID()}`, name: '阿依古丽·买买提' });

    it('confirms a recorded number for its person and name, in any accepted spelling of either', async () => {
      const who = person();
      await subject.putSubscriber({ ...who, phone: '+8613912345678' });
      expect(await subject.carrier.confirms({ ...who, phone: '+8613912345678' })).toBe(true);
      expect(await subject.carrier.confirms({ ...who, phone: '+86 139-1234-5678' })).toBe(true);
      expect(
        await subject.carrier.confirms({ ...who, name: ' 阿依古丽・买买提 ', phone: '+8613912345678' }),
      ).toBe(true);
    });

    it('says no for another name, another person, another number, or a malformed number', async () => {
      const who = person();
      const other = person();
      await subject.putSubscriber({ ...who, phone: '+8613912345678' });
      await subject.putSubscriber({ ...other, phone: '+8615800001111' });
      expect(await subject.carrier.confirms({ ...who, name: '张三', phone: '+8613912345678' })).toBe(false);
      expect(await subject.carrier.confirms({ ...other, phone: '+8613912345678' })).toBe(false);
      expect(await subject.carrier.confirms({ ...who, phone: '+8615800001111' })).toBe(false);
      expect(await subject.carrier.confirms({ ...who, phone: '+8613912345679' })).toBe(false);
      expect(await subject.carrier.confirms({ ...who, phone: '13912345678' })).toBe(false);
      expect(await subject.carrier.confirms({ ...who, phone: '' })).toBe(false);
    });

    it('knows several numbers of one person, and keeps none of them in clear', async () => {
      const who = person();
      await subject.putSubscriber({ ...who, phone: '+8613912345678' });
      await subject.putSubscriber({ ...who, phone: '+8618600002222' });
      expect(await subject.carrier.confirms({ ...who, phone: '+8613912345678' })).toBe(true);
      expect(await subject.carrier.confirms({ ...who, phone: '+8618600002222' })).toBe(true);
      const stored = await subject.storedText();
      expect(stored).not.toMatch(/13912345678|18600002222/);
    });
  });
}
