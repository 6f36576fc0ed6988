import { ProvisionedThroughputExceededException } from '@aws-sdk/client-dynamodb';
import { PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamoAdapter, withRequestReads } from '../../../shared/adapters/dynamo/oidc-adapter.js';
import { keys } from '../../../shared/adapters/dynamo/keys.js';
import { systemClock } from '../../../shared/clock.js';
import { ConflictError } from '../../../shared/errors.js';
import { InteractionCookies } from '../../../shared/sso/interaction-cookies.js';
import { startTestTable, type TestTable } from '../../support/dynamo-table.js';

/**
 * The end of a sign-in kept in the browser's cookie (the provider's `destroy` of its interaction at
 * resume, shared/adapters/dynamo/oidc-adapter.ts): the cookie is cleared only once the table has marked
 * the interaction used (or it was marked already). A mark that could not be written (throttling, the
 * network) makes no code and leaves the cookie, so the person can resume again.
 */

let table: TestTable;
const cookies = new InteractionCookies(randomBytes(32), {
  secure: false,
  paths: (uid) => [`/interaction/${uid}`, `/authorize/${uid}`],
});
const now = () => Math.floor(Date.now() / 1000);

beforeAll(async () => {
  table = await startTestTable('interaction-end');
});
afterAll(() => table?.close());

/**
 * A document client that refuses the put of `uid`'s used mark as DynamoDB does when throttled, `failures`
 * times, and passes everything else (and later puts) to the table.
 */
function throttledMarks(uid: string, failures: number): DynamoDBDocumentClient {
  const mark = keys.oidc('InteractionUsed', uid).pk;
  let left = failures;
  return {
    send: (command: unknown) => {
      if (command instanceof PutCommand && command.input.Item?.pk === mark && left-- > 0) {
        return Promise.reject(
          new ProvisionedThroughputExceededException({ message: 'Rate exceeded', $metadata: {} }),
        );
      }
      return table.doc.send(command as PutCommand);
    },
  } as unknown as DynamoDBDocumentClient;
}

/** The browser's binding value (shared/sso/interaction-cookies.ts), the one its interactions are sealed for. */
const browser = randomBytes(32).toString('base64url');

/** The browser's cookie for `uid`, as the sign-in page set it: `name=value`. */
function browserHolding(uid: string): string {
  const sealed = cookies.seal(uid, { returnTo: 'https://rp.example/cb' }, now() + 600, browser);
  return `${cookies.nameOf(uid)}=${sealed}`;
}

/** One resume of `uid` with the browser's `cookie`: what the adapter did, and the answer's Set-Cookie. */
async function resume(doc: DynamoDBDocumentClient, uid: string, cookie: string) {
  const Adapter = createDynamoAdapter({ doc, tableName: table.tableName, clock: systemClock });
  const jar = cookies.jar([cookie, `${cookies.browserCookieName()}=${browser}`], now);
  const outcome = await withRequestReads(() => new Adapter('Interaction').destroy(uid), {
    interactions: jar,
  }).then(
    () => 'marked' as const,
    (error: unknown) => error,
  );
  return { outcome, setCookies: jar.setCookies(), stillOpen: (await jar.read(uid)) !== undefined };
}

const clearing = (setCookies: string[], uid: string) =>
  setCookies.filter((line) => line.startsWith(`${cookies.nameOf(uid)}=;`));

describe('the end of a sign-in kept in a cookie', () => {
  it('keeps the cookie when the mark could not be written, so the person can resume again', async () => {
    const uid = `retry${randomBytes(8).toString('hex')}`;
    const cookie = browserHolding(uid);

    const failed = await resume(throttledMarks(uid, 1), uid, cookie);
    expect(failed.outcome).toBeInstanceOf(ProvisionedThroughputExceededException);
    expect(clearing(failed.setCookies, uid)).toEqual([]);
    expect(failed.stillOpen).toBe(true);

    // The retry (the same cookie, the table answering again) marks it and clears the cookie.
    const retried = await resume(table.doc, uid, cookie);
    expect(retried.outcome).toBe('marked');
    expect(clearing(retried.setCookies, uid)).toHaveLength(2);
    expect(retried.stillOpen).toBe(false);
  });

  it('clears the cookie of an interaction already used, and refuses it (fail closed)', async () => {
    const uid = `twice${randomBytes(8).toString('hex')}`;
    const cookie = browserHolding(uid);
    expect((await resume(table.doc, uid, cookie)).outcome).toBe('marked');

    const again = await resume(table.doc, uid, cookie);
    expect(again.outcome).toBeInstanceOf(ConflictError);
    expect(clearing(again.setCookies, uid)).toHaveLength(2);
    expect(again.stillOpen).toBe(false);
  });
});
