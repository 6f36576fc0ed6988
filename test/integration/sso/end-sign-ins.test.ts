import { randomBytes } from 'node:crypto';
import type { AdapterConstructor } from 'oidc-provider';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createDynamoAdapter,
  endSignInsOf,
  type DynamoAdapterDeps,
} from '../../../shared/adapters/dynamo/oidc-adapter.js';
import { formatAccountId } from '../../../shared/identifiers/account-id.js';
import { AesGcmPayloadSealer } from '../../../shared/sso/sealed-payloads.js';
import { startTestTable, type TestTable } from '../../support/dynamo-table.js';

const id = () => randomBytes(24).toString('base64url');

/**
 * Ending every sign-in of a person in the provider's storage: their grants (personal and acting for an
 * entity) with each grant's codes and tokens, and their sessions but the one spared; nobody else's.
 */
describe('endSignInsOf', () => {
  let table: TestTable;
  let deps: DynamoAdapterDeps;
  let Adapter: AdapterConstructor;

  beforeAll(async () => {
    table = await startTestTable('end-sign-ins');
    deps = {
      doc: table.doc,
      tableName: 'end-sign-ins',
      clock: { now: () => Date.now() },
      sealer: new AesGcmPayloadSealer(async () => randomBytes(32)),
    };
    Adapter = createDynamoAdapter(deps);
  });
  afterAll(() => table?.close());

  /** A grant of `accountId` with an access token, a refresh token and a code; its ids. */
  async function grantOf(accountId: string) {
    const grantId = id();
    await new Adapter('Grant').upsert(
      grantId,
      { jti: grantId, kind: 'Grant', accountId, clientId: 'rp' },
      3600,
    );
    const tokens = { AccessToken: id(), RefreshToken: id(), AuthorizationCode: id() };
    for (const [model, token] of Object.entries(tokens)) {
      await new Adapter(model).upsert(token, { jti: token, kind: model, grantId, accountId }, 3600);
    }
    return { grantId, tokens };
  }

  async function sessionOf(accountId: string) {
    const sessionId = id();
    await new Adapter('Session').upsert(
      sessionId,
      { jti: sessionId, uid: id(), kind: 'Session', accountId },
      3600,
    );
    return sessionId;
  }

  const gone = async (model: string, itemId: string) => (await new Adapter(model).find(itemId)) === undefined;

  it('ends the person’s grants, tokens and sessions, spares one session, and leaves others alone', async () => {
    const person = `acc_${id()}`;
    const other = `acc_${id()}`;
    const personal = await grantOf(person);
    const acting = await grantOf(
      formatAccountId({ kind: 'entity', entityId: `ent_${id()}`, personId: person }),
    );
    const theirs = await grantOf(other);
    const [first, second, kept] = [await sessionOf(person), await sessionOf(person), await sessionOf(person)];
    const otherSession = await sessionOf(other);

    await endSignInsOf(deps, person, { keepSession: kept });

    for (const grant of [personal, acting]) {
      expect(await gone('Grant', grant.grantId)).toBe(true);
      for (const [model, token] of Object.entries(grant.tokens))
        expect(await gone(model, token), model).toBe(true);
    }
    expect(await gone('Session', first)).toBe(true);
    expect(await gone('Session', second)).toBe(true);
    expect(await gone('Session', kept)).toBe(false);
    expect(await gone('Grant', theirs.grantId)).toBe(false);
    for (const [model, token] of Object.entries(theirs.tokens))
      expect(await gone(model, token), model).toBe(false);
    expect(await gone('Session', otherSession)).toBe(false);
  });

  it('follows a session that signs in as someone else', async () => {
    const person = `acc_${id()}`;
    const sessionId = await sessionOf(person);
    await new Adapter('Session').upsert(
      sessionId,
      { jti: sessionId, uid: id(), kind: 'Session', accountId: `acc_${id()}` },
      3600,
    );
    await endSignInsOf(deps, person);
    expect(await gone('Session', sessionId)).toBe(false);
  });

  it('is a no-op for a person with no sign-in', async () => {
    await endSignInsOf(deps, `acc_${id()}`);
  });
});
