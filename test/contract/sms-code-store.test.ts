import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { keys } from '../../shared/adapters/dynamo/keys.js';
import { DynamoSmsCodeStore } from '../../shared/adapters/dynamo/sms-code-store.js';
import { InMemorySmsCodeStore } from '../support/in-memory-sms.js';
import { smsCodeStoreContract } from './sms-code-store.contract.js';
import { nothingToClean, useDynamo } from './subject.js';

const dynamo = useDynamo();

smsCodeStoreContract('InMemorySmsCodeStore', async () => ({
  store: new InMemorySmsCodeStore(),
  cleanup: nothingToClean,
}));

smsCodeStoreContract('DynamoSmsCodeStore on dynalite', async () => {
  const { doc, tableName } = await dynamo.newTable();
  return { store: new DynamoSmsCodeStore(doc, tableName), cleanup: nothingToClean };
});

describe('DynamoSmsCodeStore’s items', () => {
  const now = 1_772_352_000;

  it('counts tries on an item apart, expiring with the code, and never writes the code’s item to count', async () => {
    const { doc, tableName } = await dynamo.newTable();
    const store = new DynamoSmsCodeStore(doc, tableName);
    await store.put('k', { codeMac: 'mac-1', expiresAt: now + 300, requestedAt: now });
    const before = (await doc.send(new GetCommand({ TableName: tableName, Key: keys.smsCode('k') }))).Item!;
    expect(before).toEqual({
      ...keys.smsCode('k'),
      codeMac: 'mac-1',
      expiresAt: now + 300,
      requestedAt: now,
      codeId: expect.stringMatching(/^[\w-]{22}$/),
    });
    await store.countTry('k', 5, now);
    await store.countTry('k', 5, now);
    const after = await doc.send(new GetCommand({ TableName: tableName, Key: keys.smsCode('k') }));
    expect(after.Item).toEqual(before);
    const counter = await doc.send(
      new GetCommand({ TableName: tableName, Key: keys.smsTry('k', String(before.codeId)) }),
    );
    expect(counter.Item).toEqual({
      ...keys.smsTry('k', String(before.codeId)),
      tries: 2,
      expiresAt: now + 300,
    });
    // Used: the code's item gone, its request time kept on a marker with no code (the request roles write
    // it, so it must hold nothing that passes a proof).
    expect(await store.consume('k', { codeMac: 'mac-1', expiresAt: now + 300, requestedAt: now }, now)).toBe(
      true,
    );
    expect(
      (await doc.send(new GetCommand({ TableName: tableName, Key: keys.smsCode('k') }))).Item,
    ).toBeUndefined();
    const marker = await doc.send(new GetCommand({ TableName: tableName, Key: keys.smsUsed('k') }));
    expect(marker.Item).toEqual({ ...keys.smsUsed('k'), requestedAt: now, expiresAt: now + 300 });
  });

  it('still counts the tries of a code stored with them on its item (before they moved)', async () => {
    const { doc, tableName } = await dynamo.newTable();
    const store = new DynamoSmsCodeStore(doc, tableName);
    await doc.send(
      new PutCommand({
        TableName: tableName,
        Item: { ...keys.smsCode('old'), codeMac: 'mac-0', expiresAt: now + 300, tries: 3 },
      }),
    );
    const old = { codeMac: 'mac-0', expiresAt: now + 300, requestedAt: 0 };
    expect(await store.countTry('old', 5, now)).toEqual({ ...old, tries: 4 });
    expect(await store.countTry('old', 5, now)).toEqual({ ...old, tries: 5 });
    expect(await store.countTry('old', 5, now)).toBeUndefined();
    // Replaced by a code of the new layout: its own tries.
    await store.put('old', { codeMac: 'mac-1', expiresAt: now + 300, requestedAt: now });
    expect(await store.countTry('old', 5, now)).toMatchObject({ codeMac: 'mac-1', tries: 1 });
  });
});

describe('DynamoSmsCodeStore’s used-code markers as a stolen request role could write them (review R19 L1)', () => {
  const now = 1_772_352_000;

  it('ignores a marker no use writes, and honours a plausible one only for the requests before it', async () => {
    const { doc, tableName } = await dynamo.newTable();
    const store = new DynamoSmsCodeStore(doc, tableName);
    const code = { codeMac: 'mac-1', expiresAt: now + 300, requestedAt: now };
    const plant = (marker: Record<string, unknown>) =>
      doc.send(new PutCommand({ TableName: tableName, Item: { ...keys.smsUsed('k'), ...marker } }));
    for (const forged of [
      { requestedAt: 9_000_000_000 },
      { requestedAt: 9_000_000_000, expiresAt: 9_000_000_300 },
      { requestedAt: 9_000_000_000, expiresAt: now + 300 },
      { requestedAt: '9000000000', expiresAt: now + 300 },
      { requestedAt: now + 100, expiresAt: '9000000000' },
    ]) {
      await plant(forged);
      expect(await store.put('k', code), JSON.stringify(forged)).toBe(true);
    }
    // At most a code's lifetime (and a minute) ahead: the requests before it only.
    await plant({ requestedAt: now + 350, expiresAt: now + 360 });
    expect(await store.put('k', { ...code, requestedAt: now + 350 })).toBe(false);
    expect(await store.put('k', { ...code, requestedAt: now + 351 })).toBe(true);
  });
});

describe('DynamoSmsCodeStore’s placeholder counter (review R18 H1)', () => {
  const now = 1_772_352_000;

  it('counts a try with no code on `sms-try#<digest>#none`, as a code’s try, with the same calls', async () => {
    const { doc, tableName } = await dynamo.newTable();
    const store = new DynamoSmsCodeStore(doc, tableName);
    const sent: string[] = [];
    const send = doc.send.bind(doc);
    doc.send = ((command: { constructor: { name: string } }) => {
      sent.push(command.constructor.name);
      return send(command as never);
    }) as typeof doc.send;
    await store.countTry('k', 5, now, { expiresAt: now + 300 });
    const withNone = sent.splice(0);
    const counter = await doc.send(new GetCommand({ TableName: tableName, Key: keys.smsTry('k', 'none') }));
    expect(counter.Item).toEqual({ ...keys.smsTry('k', 'none'), tries: 1, expiresAt: now + 300 });
    expect(
      (await doc.send(new GetCommand({ TableName: tableName, Key: keys.smsCode('k') }))).Item,
    ).toBeUndefined();
    await store.put('k', { codeMac: 'mac-1', expiresAt: now + 300, requestedAt: now });
    sent.splice(0);
    await store.countTry('k', 5, now, { expiresAt: now + 300 });
    expect(sent).toEqual(withNone);
    expect(withNone).toEqual(['GetCommand', 'UpdateCommand']);
    // Without `whenNone`, as before: a read alone.
    sent.splice(0);
    await store.countTry('none-here', 5, now);
    expect(sent).toEqual(['GetCommand']);
  });
});
