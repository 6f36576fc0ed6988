import { PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Mac } from '../../crypto/mac.js';
import { phoneLookupKey } from '../../identifiers/lookup-key.js';
import { phoneNumber } from '../../identifiers/phone.js';
import { comparableName } from '../../identity/person-account.js';
import type { CarrierStore, CarrierSubscriber } from '../../identity/registry.js';
import { getItem } from './conditional.js';
import { keys } from './keys.js';

/**
 * {@link CarrierStore} on the single table: the local stand-in for the carriers' real-name check, filled by
 * the seed. One item per (person, number) under `registry-carrier#<lookupKey>#<phoneKey>`, where the phone
 * key is a keyed digest (the lookup MAC key, label `phone`): the table holds the subscriber's name and no
 * phone number. A check is one read by key; it confirms only the number, recorded for that person, under
 * that name (compared as registries compare names).
 */
export class DynamoCarrierRegistry implements CarrierStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly mac: Mac,
  ) {}

  async confirms(query: { lookupKey: string; name: string; phone: string }): Promise<boolean> {
    const phone = phoneNumber.safeParse(query.phone);
    if (!phone.success) return false;
    const phoneKey = await phoneLookupKey(this.mac, phone.data);
    const item = await getItem(this.doc, this.tableName, keys.registryCarrier(query.lookupKey, phoneKey), 0);
    return item !== undefined && comparableName(String(item.name)) === comparableName(query.name);
  }

  async putSubscriber(subscriber: CarrierSubscriber): Promise<void> {
    const phoneKey = await phoneLookupKey(this.mac, phoneNumber.parse(subscriber.phone));
    await this.doc.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...keys.registryCarrier(subscriber.lookupKey, phoneKey), name: subscriber.name },
      }),
    );
  }
}
