import { phoneNumber } from '../../shared/identifiers/phone.js';
import { comparableName } from '../../shared/identity/person-account.js';
import type { CarrierStore, CarrierSubscriber } from '../../shared/identity/registry.js';

/** The carriers' real-name check in memory: (lookup key, number) → name. Counts the questions asked. */
export class InMemoryCarrierRegistry implements CarrierStore {
  readonly subscribers = new Map<string, string>();
  readonly queries: Array<{ lookupKey: string; name: string; phone: string; idNumber?: string }> = [];

  async confirms(query: {
    lookupKey: string;
    name: string;
    phone: string;
    idNumber?: string;
  }): Promise<boolean> {
    this.queries.push(query);
    const phone = phoneNumber.safeParse(query.phone);
    if (!phone.success) return false;
    const name = this.subscribers.get(`${query.lookupKey}#${phone.data}`);
    return name !== undefined && comparableName(name) === comparableName(query.name);
  }

  async putSubscriber(subscriber: CarrierSubscriber): Promise<void> {
    this.subscribers.set(`${subscriber.lookupKey}#${phoneNumber.parse(subscriber.phone)}`, subscriber.name);
  }
}
