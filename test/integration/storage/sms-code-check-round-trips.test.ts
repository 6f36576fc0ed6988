import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoLoginAttemptStore } from '../../../shared/adapters/dynamo/login-attempt-store.js';
import { DynamoSmsCodeStore } from '../../../shared/adapters/dynamo/sms-code-store.js';
import { checkSmsCode, prepareSmsCode, type SmsCodeSubject } from '../../../shared/identity/sms-codes.js';
import { epochSeconds } from '../../../shared/clock.js';
import { TestClock } from '../../support/in-memory-identity.js';
import { fakeMac } from '../../support/in-memory.js';
import { startTestTable, type TestTable } from '../../support/dynamo-table.js';

/**
 * DynamoDB calls per SMS code check (shared/identity/sms-codes.ts `checkSmsCode`) on the real adapters,
 * counted as the client sends them: each is a round trip a person typing a code waits for in AWS. The
 * code's item is only read and deleted on this path (the tries are on a counter apart, so the request
 * functions never hold a write on a code): one read more than counting on the code itself did.
 */
let data: TestTable;
const sent: string[] = [];

beforeAll(async () => {
  data = await startTestTable('sms-code-round-trips');
  data.doc.middlewareStack.add(
    (next, context) => (args) => {
      sent.push(context.commandName ?? 'unknown');
      return next(args);
    },
    { step: 'initialize', name: 'countCalls' },
  );
});
afterAll(() => data?.close());

/** The calls of a check not accepted, a code stored or not (sorted). */
const notAccepted = [
  'GetItemCommand',
  'GetItemCommand',
  'PutItemCommand',
  'UpdateItemCommand',
  'UpdateItemCommand',
];

describe('DynamoDB calls per SMS code check', () => {
  let n = 0;
  async function checked(typed: (code: string) => string, stored = true) {
    const clock = new TestClock();
    const deps = {
      smsCodes: new DynamoSmsCodeStore(data.doc, data.tableName),
      loginAttempts: new DynamoLoginAttemptStore(data.doc, data.tableName),
      lookupMac: fakeMac,
      clock,
    };
    const subject: SmsCodeSubject = { purpose: 'step-up', lookupKey: `lk-${++n}`, phone: '+8613800138000' };
    const prepared = await prepareSmsCode(subject, deps);
    const now = epochSeconds(clock);
    if (stored)
      await deps.smsCodes.put(prepared.key, {
        codeMac: prepared.codeMac,
        expiresAt: now + 300,
        requestedAt: now,
      });
    sent.length = 0;
    const result = await checkSmsCode(subject, typed(prepared.code), deps);
    return { result, calls: [...sent].sort() };
  }

  // A right code, 7: the code read and its try counted (GetItem, UpdateItem of `sms-try#`); the daily
  // ceiling read and counted (GetItem, PutItem); the person's wrong guesses at live codes added to (0 here:
  // an UpdateItem with no condition); the code used up (its conditional delete and the put of
  // its request time on `sms-used#`, one TransactWriteItems); its try on the ceiling given back (a
  // conditional DeleteItem of a ceiling at one).
  it('a right code makes 7', async () => {
    const { result, calls } = await checked((code) => code);
    expect(result).toEqual({ ok: true });
    expect(calls).toEqual([
      'DeleteItemCommand',
      'GetItemCommand',
      'GetItemCommand',
      'PutItemCommand',
      'TransactWriteItemsCommand',
      'UpdateItemCommand',
      'UpdateItemCommand',
    ]);
  });

  // A wrong code, 5: the code read and its try counted; the daily ceiling read and counted; the person's
  // wrong guesses at live codes added to (1 here).
  it('a wrong code makes 5', async () => {
    const { result, calls } = await checked((code) => (code === '000000' ? '000001' : '000000'));
    expect(result).toEqual({ ok: false, reason: 'wrong_or_expired_code' });
    expect(calls).toEqual(notAccepted);
  });

  // No code stored, the same 5 (review R18 H1): the code read, the try counted on the placeholder counter
  // (`sms-try#<digest>#none`), the daily ceiling read and counted, the person's counter added to (0 here,
  // the same write: review R19 M1). A guess cannot tell by its wait.
  it('a guess with no code stored makes the same 5', async () => {
    const { result, calls } = await checked(() => '000000', false);
    expect(result).toEqual({ ok: false, reason: 'wrong_or_expired_code' });
    expect(calls).toEqual(notAccepted);
  });
});
