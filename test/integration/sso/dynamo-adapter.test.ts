import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  ScanCommand,
  TransactWriteCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { createHash, createHmac, generateKeyPairSync, randomBytes } from 'node:crypto';
import Provider, { errors, type Adapter, type AdapterConstructor, type AdapterPayload } from 'oidc-provider';
import providerContext from 'oidc-provider/lib/helpers/als.js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { startTestTable, type TestTable } from '../../support/dynamo-table.js';
import type { Clock } from '../../../shared/clock.js';
import {
  clientStillRegistered,
  createDynamoAdapter,
  findAccessToken,
  oidcItemKey,
  withRequestReads,
  type DynamoAdapterDeps,
} from '../../../shared/adapters/dynamo/oidc-adapter.js';
import { ConflictError } from '../../../shared/errors.js';
import { ClientSecrets } from '../../../shared/clients/client-secrets.js';
import { providerAdapter } from '../../../shared/sso/provider.js';
import { AesGcmPayloadSealer } from '../../../shared/sso/sealed-payloads.js';
import { destroyedWithTrace, savedWithTrace } from '../../../shared/sso/traced-grant.js';
import { traceFor } from '../../support/traces.js';
import { InMemoryAudit } from '../../support/in-memory-identity.js';
import { DynamoPendingWork } from '../../../shared/adapters/dynamo/pending-work.js';

const tableName = 'oidc-adapter';

const BEARER_MODELS = [
  'AccessToken',
  'AuthorizationCode',
  'RefreshToken',
  'ClientCredentials',
  'BackchannelAuthenticationRequest',
  'RegistrationAccessToken',
  'InitialAccessToken',
  'PushedAuthorizationRequest',
  'PreAuthorizedCode',
];

class TestClock implements Clock {
  constructor(private ms: number) {}
  now(): number {
    return this.ms;
  }
  advanceSeconds(seconds: number): void {
    this.ms += seconds * 1000;
  }
}

/** The payload key, as the functions derive it from the web key (here a fixed test key). */
const sealer = new AesGcmPayloadSealer(async () => randomBytes(32));

const tokenId = () => randomBytes(32).toString('base64url');

describe('oidc-provider DynamoDB adapter', () => {
  let table: TestTable;
  let doc: DynamoDBDocumentClient;
  let clock: TestClock;
  let deps: DynamoAdapterDeps;
  let Adapter: AdapterConstructor;
  const adapter = (model: string): Adapter => new Adapter(model);

  beforeAll(async () => {
    table = await startTestTable(tableName);
    doc = table.doc;
  });

  beforeEach(() => {
    clock = new TestClock(Date.now());
    deps = { doc, tableName, clock, sealer };
    Adapter = createDynamoAdapter(deps);
  });

  afterAll(async () => {
    await table?.close();
  });

  async function scanAll(): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await doc.send(new ScanCommand({ TableName: tableName, ExclusiveStartKey }));
      items.push(...(page.Items ?? []));
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    return items;
  }

  describe('upsert and find', () => {
    it('seals authorization requests at rest: the hint reads back, the item holds no trace of it', async () => {
      const id = tokenId();
      const hint = '11010519491231002X';
      const payload: AdapterPayload = {
        jti: id,
        kind: 'DeviceCode',
        params: { client_id: 'rp', login_hint: hint },
        login_hint: hint,
      };
      await adapter('DeviceCode').upsert(id, payload, 60);
      expect(await adapter('DeviceCode').find(id)).toEqual(payload);
      const stored = (await scanAll()).filter((item) => String(item.pk).startsWith('oidc#DeviceCode#'));
      expect(stored).toHaveLength(1);
      expect(JSON.stringify(stored)).not.toContain(hint);
      expect(JSON.stringify(stored)).not.toContain('login_hint');

      // Pushed requests are consumed once, outside the seal; a payload moved to another item does not open.
      const request = tokenId();
      await adapter('PushedAuthorizationRequest').upsert(
        request,
        {
          jti: request,
          kind: 'PushedAuthorizationRequest',
          request: `e30.${Buffer.from(hint).toString('base64url')}.`,
        },
        60,
      );
      await adapter('PushedAuthorizationRequest').consume(request);
      expect(await adapter('PushedAuthorizationRequest').find(request)).toMatchObject({
        consumed: expect.any(Number),
        request: expect.stringContaining('e30.'),
      });
      const other = tokenId();
      await adapter('DeviceCode').upsert(other, { jti: other, kind: 'DeviceCode' }, 60);
      const moved = stored[0]!.payload;
      await doc.send(
        new PutCommand({
          TableName: tableName,
          Item: { pk: `oidc#DeviceCode#${other}`, sk: stored[0]!.sk, payload: moved },
        }),
      );
      await expect(adapter('DeviceCode').find(other)).rejects.toThrow();

      // Without its key, the adapter refuses to write such a model rather than store it in clear.
      const unsealed = new (createDynamoAdapter({ doc, tableName, clock }))('DeviceCode');
      await expect(unsealed.upsert(tokenId(), payload, 60)).rejects.toThrow(/sealed/);
    });

    it("keeps no Interaction in the table: outside a request with the browser's cookies, none is found or saved", async () => {
      const id = tokenId();
      // One stored before interactions moved to the browser's sealed cookies (it would open anywhere).
      await doc.send(
        new PutCommand({
          TableName: tableName,
          Item: { pk: `oidc#Interaction#${id}`, sk: 'oidc', payload: { jti: id, kind: 'Interaction' } },
        }),
      );
      expect(await adapter('Interaction').find(id)).toBeUndefined();
      await expect(adapter('Interaction').upsert(id, { jti: id, kind: 'Interaction' }, 60)).rejects.toThrow(
        /cookie/,
      );
      await expect(adapter('Interaction').destroy(id)).rejects.toThrow(/cookie/);
      // Nor within a request whose scope has no cookies of the browser.
      expect(await withRequestReads(() => adapter('Interaction').find(id))).toBeUndefined();
      await expect(
        withRequestReads(() => adapter('Interaction').upsert(id, { jti: id, kind: 'Interaction' }, 60)),
      ).rejects.toThrow(/cookie/);
    });

    it('round-trips a payload for a plain model', async () => {
      const id = tokenId();
      const payload: AdapterPayload = { jti: id, kind: 'Grant', accountId: 'acc-1', clientId: 'rp', exp: 1 };
      await adapter('Grant').upsert(id, payload, 3600);
      expect(await adapter('Grant').find(id)).toEqual(payload);
      expect(await adapter('Session').find(id)).toBeUndefined();
    });

    it('round-trips a bearer model, giving back the jti it did not store', async () => {
      const id = tokenId();
      const payload: AdapterPayload = {
        jti: id,
        kind: 'AccessToken',
        grantId: 'g',
        scope: 'openid',
        extra: {},
      };
      await adapter('AccessToken').upsert(id, payload, 3600);
      expect(await adapter('AccessToken').find(id)).toEqual(payload);
    });

    it('replaces the item on a second upsert', async () => {
      const id = tokenId();
      await adapter('Grant').upsert(id, { jti: id, kind: 'Grant', returnTo: '/a' }, 60);
      await adapter('Grant').upsert(id, { jti: id, kind: 'Grant', returnTo: '/b' }, 60);
      expect(await adapter('Grant').find(id)).toMatchObject({ returnTo: '/b' });
    });

    it('reads items past their lifetime as absent, by the injected clock', async () => {
      const id = tokenId();
      await adapter('AuthorizationCode').upsert(id, { jti: id, kind: 'AuthorizationCode' }, 60);
      clock.advanceSeconds(59);
      expect(await adapter('AuthorizationCode').find(id)).toBeDefined();
      clock.advanceSeconds(1);
      expect(await adapter('AuthorizationCode').find(id)).toBeUndefined();
    });

    it('keeps items upserted without expiresIn', async () => {
      const id = tokenId();
      await adapter('Client').upsert(id, { client_id: id }, undefined);
      clock.advanceSeconds(10 * 365 * 24 * 3600);
      expect(await adapter('Client').find(id)).toEqual({ client_id: id });
    });

    it('finds nothing for unknown or absurdly long ids instead of failing', async () => {
      expect(await adapter('Session').find(tokenId())).toBeUndefined();
      expect(await adapter('Client').find('x'.repeat(5000))).toBeUndefined();
      expect(await adapter('Session').findByUid('x'.repeat(5000))).toBeUndefined();
    });
  });

  describe('a grant saved with its trace (a consent to share)', () => {
    const grantOf = (id: string): AdapterPayload => ({
      jti: id,
      kind: 'Grant',
      accountId: 'acc_traced',
      clientId: 'rp',
    });
    const pointers = async () =>
      (await scanAll()).filter((item) => String(item.pk).startsWith('pending-provider-audit#'));

    it('writes the grant and the pointer carrying its entry together, already claimed', async () => {
      const id = tokenId();
      const trace = traceFor(`authorization-granted#${id}`, 'authorization.granted', new Date(clock.now()));
      await savedWithTrace('Grant', id, trace, () => adapter('Grant').upsert(id, grantOf(id), 60));
      expect(await adapter('Grant').find(id)).toMatchObject({ accountId: 'acc_traced' });
      expect(await pointers()).toEqual([
        expect.objectContaining({
          pk: 'pending-provider-audit#0',
          sk: `authorization-granted#${id}`,
          claim: trace.claim,
        }),
      ]);
      await doc.send(
        new DeleteCommand({
          TableName: tableName,
          Key: { pk: 'pending-provider-audit#0', sk: `authorization-granted#${id}` },
        }),
      );
    });

    it('writes neither when the pointer cannot be put: no grant without its entry', async () => {
      const id = tokenId();
      const key = `authorization-granted#${id}`;
      // A pointer already there under the key (no change's own): the transaction refuses it all.
      await doc.send(
        new PutCommand({ TableName: tableName, Item: { pk: 'pending-provider-audit#0', sk: key } }),
      );
      const trace = traceFor(key, 'authorization.granted', new Date(clock.now()));
      await expect(
        savedWithTrace('Grant', id, trace, () => adapter('Grant').upsert(id, grantOf(id), 60)),
      ).rejects.toThrow('exists');
      expect(await adapter('Grant').find(id)).toBeUndefined();
      await doc.send(
        new DeleteCommand({ TableName: tableName, Key: { pk: 'pending-provider-audit#0', sk: key } }),
      );
    });

    it('refuses a save whose storage wrote no trace (another model, another id)', async () => {
      const id = tokenId();
      const trace = traceFor(`authorization-granted#${id}`, 'authorization.granted', new Date(clock.now()));
      await expect(
        savedWithTrace('Grant', 'another', trace, () => adapter('Grant').upsert(id, grantOf(id), 60)),
      ).rejects.toThrow('without its trace');
      expect(await pointers()).toEqual([]);
    });
  });

  describe('a grant the provider ends itself, deleted with its trace (review R34 L1)', () => {
    const grantOf = (id: string): AdapterPayload => ({
      jti: id,
      kind: 'Grant',
      accountId: 'acc_ended',
      clientId: 'rp',
    });
    const pointerKey = (id: string) => ({ pk: 'pending-provider-audit#0', sk: `authorization-ended#${id}` });
    const pointers = async () =>
      (await scanAll()).filter((item) => String(item.pk).startsWith('pending-provider-audit#'));

    it('deletes the grant and puts the pointer carrying its entry together, already claimed', async () => {
      const id = tokenId();
      await adapter('Grant').upsert(id, grantOf(id), 60);
      const trace = traceFor(`authorization-ended#${id}`, 'authorization.ended', new Date(clock.now()));
      await destroyedWithTrace('Grant', id, trace, () => adapter('Grant').destroy(id));
      expect(await adapter('Grant').find(id)).toBeUndefined();
      expect(await pointers()).toEqual([expect.objectContaining({ ...pointerKey(id), claim: trace.claim })]);
      await doc.send(new DeleteCommand({ TableName: tableName, Key: pointerKey(id) }));
    });

    it('deletes nothing when the pointer cannot be put: no grant ended untraced', async () => {
      const id = tokenId();
      await adapter('Grant').upsert(id, grantOf(id), 60);
      await doc.send(new PutCommand({ TableName: tableName, Item: pointerKey(id) }));
      const trace = traceFor(`authorization-ended#${id}`, 'authorization.ended', new Date(clock.now()));
      await expect(
        destroyedWithTrace('Grant', id, trace, () => adapter('Grant').destroy(id)),
      ).rejects.toThrow('exists');
      expect(await adapter('Grant').find(id)).toMatchObject({ accountId: 'acc_ended' });
      await doc.send(new DeleteCommand({ TableName: tableName, Key: pointerKey(id) }));
    });

    it('writes no pointer for a grant gone already (another end traced it): ended_already', async () => {
      const id = tokenId();
      const trace = traceFor(`authorization-ended#${id}`, 'authorization.ended', new Date(clock.now()));
      await expect(
        destroyedWithTrace('Grant', id, trace, () => adapter('Grant').destroy(id)),
      ).rejects.toMatchObject({ code: 'ended_already' });
      expect(await pointers()).toEqual([]);
    });
  });

  describe('a grant two requests end at once: the transaction contended (review R37 L1)', () => {
    const grantOf = (id: string): AdapterPayload => ({
      jti: id,
      kind: 'Grant',
      accountId: 'acc_raced',
      clientId: 'rp',
    });
    const pointerKey = (id: string) => ({ pk: 'pending-provider-audit#0', sk: `authorization-ended#${id}` });
    const pointers = async (id: string) =>
      (await scanAll()).filter((item) => item.sk === `authorization-ended#${id}`);
    /** As DynamoDB cancels a transaction another one was writing an item of at that moment. */
    const conflict = () =>
      Object.assign(
        new Error('Transaction cancelled, please refer cancellation reasons for specific reasons'),
        {
          name: 'TransactionCanceledException',
          CancellationReasons: [{ Code: 'TransactionConflict' }, { Code: 'None' }],
        },
      );
    /**
     * The storage over a table whose next `times` transactions are cancelled as contended; `first`, the
     * other request's own transaction, runs before the first cancellation (its end committed meanwhile).
     */
    function contendedStorage(times: number, first?: () => Promise<void>): AdapterConstructor {
      let left = times;
      const contended = new Proxy(doc, {
        get(target, name, receiver) {
          if (name !== 'send') return Reflect.get(target, name, receiver) as unknown;
          return async (command: unknown) => {
            if (command instanceof TransactWriteCommand && left > 0) {
              left -= 1;
              if (left === times - 1) await first?.();
              throw conflict();
            }
            return target.send(command as never);
          };
        },
      });
      return createDynamoAdapter({ ...deps, doc: contended });
    }
    const end = (storage: AdapterConstructor, id: string, claim = 'this request') => {
      const trace = traceFor(`authorization-ended#${id}`, 'authorization.ended', new Date(clock.now()));
      trace.claim = claim;
      return destroyedWithTrace('Grant', id, trace, () => new storage('Grant').destroy(id));
    };

    it('the other request ended it meanwhile: ended_already (its trace, not an error), one pointer', async () => {
      const id = tokenId();
      await adapter('Grant').upsert(id, grantOf(id), 60);
      const storage = contendedStorage(1, () => end(Adapter, id, 'the other request'));
      await expect(end(storage, id)).rejects.toMatchObject({ code: 'ended_already' });
      expect(await adapter('Grant').find(id)).toBeUndefined();
      expect(await pointers(id)).toEqual([expect.objectContaining({ claim: 'the other request' })]);
      await doc.send(new DeleteCommand({ TableName: tableName, Key: pointerKey(id) }));
    });

    it('both cancelled, the grant still there: ended on the second attempt, with its trace', async () => {
      const id = tokenId();
      await adapter('Grant').upsert(id, grantOf(id), 60);
      await end(contendedStorage(1), id);
      expect(await adapter('Grant').find(id)).toBeUndefined();
      expect(await pointers(id)).toEqual([expect.objectContaining({ claim: 'this request' })]);
      await doc.send(new DeleteCommand({ TableName: tableName, Key: pointerKey(id) }));
    });

    it('contended twice: end_contended, nothing written, the grant kept (the person may withdraw it)', async () => {
      const id = tokenId();
      await adapter('Grant').upsert(id, grantOf(id), 60);
      await expect(end(contendedStorage(2), id)).rejects.toMatchObject({ code: 'end_contended' });
      expect(await adapter('Grant').find(id)).toMatchObject({ accountId: 'acc_raced' });
      expect(await pointers(id)).toEqual([]);
    });

    describe('as oidc-provider meets it (its revoke(), the token and revocation endpoints)', () => {
      const secrets = new ClientSecrets({
        clientSecret: { mac: async (data) => createHmac('sha256', 'test').update(data).digest() },
      });
      let audit: InMemoryAudit;
      /** The OpenID function's storage over `storage`, ending grants with their trace (provider.ts). */
      const providerStorage = (storage: AdapterConstructor) => {
        return providerAdapter(storage, secrets, 'http://localhost:3000', {
          audit,
          clock,
          pendingAudit: new DynamoPendingWork(doc, tableName, 'provider'),
        });
      };
      beforeEach(() => {
        audit = new InMemoryAudit();
      });
      /** `destroy` run as oidc-provider runs it while serving a request (`Provider.ctx`). */
      const during = (oidc: object, destroy: () => Promise<void>) => providerContext.run({ oidc }, destroy);
      const reusedRefreshToken = { route: 'token', params: { grant_type: 'refresh_token' } };
      const endsOf = (id: string) =>
        audit.entries.filter(
          (entry) => entry.action === 'authorization.ended' && String(entry.reason).includes(id),
        );

      it('a refresh token used twice at once: the request that lost the race ends with no error, one entry', async () => {
        const id = tokenId();
        await adapter('Grant').upsert(id, grantOf(id), 60);
        const other = () => new (providerStorage(Adapter))('Grant').destroy(id);
        const raced = providerStorage(contendedStorage(1, other));
        // Was a ConflictError with no code, into revoke()'s Promise.all: a server_error (500).
        await during(reusedRefreshToken, () => new raced('Grant').destroy(id));
        expect(await adapter('Grant').find(id)).toBeUndefined();
        expect(endsOf(id)).toEqual([expect.objectContaining({ reasonCode: 'refresh_token_reused' })]);
        expect(await pointers(id)).toEqual([]);
      });

      it('contended twice: invalid_grant (400), never a server error; its tokens revoked, the grant kept', async () => {
        const id = tokenId();
        await adapter('Grant').upsert(id, grantOf(id), 60);
        const refreshToken = tokenId();
        await adapter('RefreshToken').upsert(
          refreshToken,
          { jti: refreshToken, kind: 'RefreshToken', grantId: id, accountId: 'acc_raced', clientId: 'rp' },
          60,
        );
        const raced = providerStorage(contendedStorage(2));
        const ended = during(reusedRefreshToken, () => new raced('Grant').destroy(id));
        await expect(ended).rejects.toBeInstanceOf(errors.InvalidGrant);
        await expect(ended).rejects.toMatchObject({ error: 'invalid_grant', status: 400 });
        // Fails closed: every token of the grant revoked before the answer.
        expect(await adapter('RefreshToken').find(refreshToken)).toBeUndefined();
        expect(await adapter('Grant').find(id)).toMatchObject({ accountId: 'acc_raced' });
        expect(endsOf(id)).toEqual([]);
      });

      it('contended twice at the revocation endpoint: temporarily_unavailable, for the platform to ask again', async () => {
        const id = tokenId();
        await adapter('Grant').upsert(id, grantOf(id), 60);
        const raced = providerStorage(contendedStorage(2));
        await expect(
          during({ route: 'revocation' }, () => new raced('Grant').destroy(id)),
        ).rejects.toMatchObject({ error: 'temporarily_unavailable', status: 400 });
        expect(await adapter('Grant').find(id)).toMatchObject({ accountId: 'acc_raced' });
      });
    });
  });

  describe('secondary lookups', () => {
    it('finds a Session by uid, and stops once it is destroyed or expired', async () => {
      const id = tokenId();
      const uid = tokenId();
      const payload: AdapterPayload = { jti: id, kind: 'Session', uid, accountId: 'acc-1' };
      await adapter('Session').upsert(id, payload, 600);
      expect(await adapter('Session').findByUid(uid)).toEqual(payload);

      clock.advanceSeconds(600);
      expect(await adapter('Session').findByUid(uid)).toBeUndefined();

      const other = tokenId();
      await adapter('Session').upsert(other, { ...payload, jti: other }, 600);
      expect(await adapter('Session').findByUid(uid)).toMatchObject({ jti: other });
      await adapter('Session').destroy(other);
      expect(await adapter('Session').findByUid(uid)).toBeUndefined();
    });

    it('never writes back a session deleted after it was read (review R66-1): the save ends quietly', async () => {
      const id = tokenId();
      const payload: AdapterPayload = { jti: id, kind: 'Session', uid: tokenId(), accountId: 'acc-r66' };
      await adapter('Session').upsert(id, payload, 600);
      expect(await adapter('Session').find(id)).toEqual(payload);
      // The reconciler ends the session while a request that loaded it is under way.
      await doc.send(new DeleteCommand({ TableName: tableName, Key: oidcItemKey('Session', id) }));
      // The request ends and the provider saves the session it loaded: not written, not failed.
      await expect(
        adapter('Session').upsert(id, { ...payload, authorizations: { rp: { sid: 'x' } } }, 600),
      ).resolves.toBeUndefined();
      expect(await adapter('Session').find(id)).toBeUndefined();
    });

    it('finds a DeviceCode by user code, with the jti the provider needs to save it again', async () => {
      const id = tokenId();
      const payload: AdapterPayload = { jti: id, kind: 'DeviceCode', userCode: 'BCDFGHJK', clientId: 'tv' };
      await adapter('DeviceCode').upsert(id, payload, 600);
      expect(await adapter('DeviceCode').findByUserCode('BCDFGHJK')).toEqual(payload);
      expect(await adapter('DeviceCode').findByUserCode('BCDFGHJL')).toBeUndefined();
      clock.advanceSeconds(600);
      expect(await adapter('DeviceCode').findByUserCode('BCDFGHJK')).toBeUndefined();
    });

    it('does not index uid or userCode of other models', async () => {
      const id = tokenId();
      await adapter('Grant').upsert(id, { jti: id, kind: 'Grant', uid: 'shared-uid' }, 60);
      expect(await adapter('Session').findByUid('shared-uid')).toBeUndefined();
    });
  });

  describe('consume', () => {
    it('sets consumed once; a second find shows it', async () => {
      const id = tokenId();
      await adapter('AuthorizationCode').upsert(id, { jti: id, kind: 'AuthorizationCode', grantId: 'g' }, 60);
      clock.advanceSeconds(5);
      await adapter('AuthorizationCode').consume(id);
      expect(await adapter('AuthorizationCode').find(id)).toMatchObject({
        jti: id,
        consumed: Math.floor(clock.now() / 1000),
      });
    });

    it('refuses a second consume as already_consumed and keeps the first timestamp', async () => {
      const id = tokenId();
      await adapter('RefreshToken').upsert(id, { jti: id, kind: 'RefreshToken' }, 60);
      await adapter('RefreshToken').consume(id);
      const { consumed } = (await adapter('RefreshToken').find(id)) as AdapterPayload;
      clock.advanceSeconds(10);
      const second = adapter('RefreshToken').consume(id);
      await expect(second).rejects.toBeInstanceOf(ConflictError);
      await expect(second).rejects.toMatchObject({ code: 'already_consumed' });
      expect(await adapter('RefreshToken').find(id)).toMatchObject({ consumed });
    });

    it('lets exactly one of concurrent redemptions consume a code', async () => {
      const id = tokenId();
      await adapter('AuthorizationCode').upsert(id, { jti: id, kind: 'AuthorizationCode' }, 60);
      const results = await Promise.allSettled(
        Array.from({ length: 10 }, () => adapter('AuthorizationCode').consume(id)),
      );
      expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
    });

    it('refuses a reused pushed authorization request', async () => {
      const id = tokenId();
      await adapter('PushedAuthorizationRequest').upsert(
        id,
        { jti: id, kind: 'PushedAuthorizationRequest' },
        60,
      );
      await adapter('PushedAuthorizationRequest').consume(id);
      await expect(adapter('PushedAuthorizationRequest').consume(id)).rejects.toBeInstanceOf(ConflictError);
    });

    it('does not create an item when consuming an unknown id', async () => {
      const id = tokenId();
      await expect(adapter('AuthorizationCode').consume(id)).rejects.toBeInstanceOf(ConflictError);
      expect(await adapter('AuthorizationCode').find(id)).toBeUndefined();
    });
  });

  describe('destroy and revokeByGrantId', () => {
    it('destroys one item', async () => {
      const id = tokenId();
      await adapter('AccessToken').upsert(id, { jti: id, kind: 'AccessToken' }, 60);
      await adapter('AccessToken').destroy(id);
      expect(await adapter('AccessToken').find(id)).toBeUndefined();
      await adapter('AccessToken').destroy(id);
    });

    it('removes every token and code of the grant (more than one batch) and nothing else', async () => {
      const grantId = tokenId();
      const otherGrant = tokenId();
      const ofGrant: Array<[string, string]> = [
        ...Array.from({ length: 30 }, (): [string, string] => ['AccessToken', tokenId()]),
        ...Array.from({ length: 3 }, (): [string, string] => ['RefreshToken', tokenId()]),
        ['AuthorizationCode', tokenId()],
        ['DeviceCode', tokenId()],
      ];
      const kept: Array<[string, string]> = [
        ['AccessToken', tokenId()],
        ['RefreshToken', tokenId()],
      ];
      const upsert = ([model, id]: [string, string], grant: string) =>
        adapter(model).upsert(id, { jti: id, kind: model, grantId: grant }, 3600);
      await Promise.all([
        ...ofGrant.map((entry) => upsert(entry, grantId)),
        ...kept.map((entry) => upsert(entry, otherGrant)),
      ]);
      const pushed = tokenId();
      await adapter('PushedAuthorizationRequest').upsert(
        pushed,
        { jti: pushed, kind: 'PushedAuthorizationRequest', grantId },
        3600,
      );
      await adapter('Grant').upsert(grantId, { jti: grantId, kind: 'Grant', accountId: 'acc' }, 3600);

      await adapter('RefreshToken').revokeByGrantId(grantId);

      for (const [model, id] of ofGrant) expect(await adapter(model).find(id)).toBeUndefined();
      for (const [model, id] of kept) expect(await adapter(model).find(id)).toBeDefined();
      expect(await adapter('PushedAuthorizationRequest').find(pushed)).toBeDefined();
      expect(await adapter('Grant').find(grantId)).toBeDefined();
    });

    it('is a no-op for a grant without tokens', async () => {
      await adapter('AccessToken').revokeByGrantId(tokenId());
    });
  });

  it('stores bearer models so that the table holds no usable token', async () => {
    const ids = BEARER_MODELS.map((model) => [model, tokenId()] as const);
    for (const [model, id] of ids) {
      await adapter(model).upsert(
        id,
        { jti: id, kind: model, grantId: 'grant-for-hash-test', accountId: 'acc-1', clientId: 'rp' },
        600,
      );
      await adapter(model).consume(id);
    }

    const dump = JSON.stringify(await scanAll());
    for (const [model, id] of ids) {
      expect(dump, model).not.toContain(id);
      expect(await adapter(model).find(id)).toMatchObject({ jti: id, kind: model });
    }
  });

  describe('client metadata kept per container (clientCacheSeconds)', () => {
    const client = (id: string) => ({ client_id: id, redirect_uris: ['https://rp.example/cb'] });

    it('answers from the container for its lifetime, then reads the table again', async () => {
      const cached = createDynamoAdapter({ ...deps, clientCacheSeconds: 30 });
      const id = `cl_${tokenId().slice(0, 12)}`;
      await new cached('Client').upsert(id, client(id), 0);
      expect(await new cached('Client').find(id)).toMatchObject({ client_id: id });
      // Deleted by another container (its own client and cache; here the table written directly).
      await doc.send(
        new DeleteCommand({ TableName: tableName, Key: { pk: `oidc#Client#${id}`, sk: 'oidc' } }),
      );
      expect(await new cached('Client').find(id)).toMatchObject({ client_id: id });
      expect(await clientStillRegistered({ ...deps, clientCacheSeconds: 30 }, id)).toBe(true);
      clock.advanceSeconds(30);
      expect(await new cached('Client').find(id)).toBeUndefined();
      expect(await clientStillRegistered({ ...deps, clientCacheSeconds: 30 }, id)).toBe(false);
    });

    it('forgets at once a client this container saves or deletes, and never keeps an unknown one', async () => {
      const cached = createDynamoAdapter({ ...deps, clientCacheSeconds: 30 });
      const id = `cl_${tokenId().slice(0, 12)}`;
      expect(await new cached('Client').find(id)).toBeUndefined();
      await adapter('Client').upsert(id, client(id), 0);
      expect(await new cached('Client').find(id)).toMatchObject({ client_id: id });
      await new cached('Client').upsert(id, { ...client(id), client_name: 'renamed' }, 0);
      expect(await new cached('Client').find(id)).toMatchObject({ client_name: 'renamed' });
      await new cached('Client').destroy(id);
      expect(await new cached('Client').find(id)).toBeUndefined();
    });

    it('hands out copies: a caller changing what it got changes nothing for the next', async () => {
      const cached = createDynamoAdapter({ ...deps, clientCacheSeconds: 30 });
      const id = `cl_${tokenId().slice(0, 12)}`;
      await adapter('Client').upsert(id, client(id), 0);
      const first = (await new cached('Client').find(id)) as { redirect_uris: string[] };
      first.redirect_uris.push('https://evil.example/cb');
      expect(await new cached('Client').find(id)).toMatchObject({ redirect_uris: ['https://rp.example/cb'] });
    });

    it('reads the table every time without a lifetime', async () => {
      const id = `cl_${tokenId().slice(0, 12)}`;
      await adapter('Client').upsert(id, client(id), 0);
      expect(await adapter('Client').find(id)).toBeDefined();
      await doc.send(
        new DeleteCommand({ TableName: tableName, Key: { pk: `oidc#Client#${id}`, sk: 'oidc' } }),
      );
      expect(await adapter('Client').find(id)).toBeUndefined();
    });
  });

  describe('sessions keyed by the uid their id names', () => {
    const uid = () => tokenId().slice(0, 21);

    it('one item found by id and by uid; a renewed id leaves the old one opening nothing', async () => {
      const sessionUid = uid();
      const id = `${sessionUid}.${tokenId()}`;
      await adapter('Session').upsert(
        id,
        { jti: id, uid: sessionUid, kind: 'Session', accountId: 'acc_1' },
        600,
      );
      expect(await adapter('Session').find(id)).toMatchObject({ uid: sessionUid });
      expect(await adapter('Session').findByUid!(sessionUid)).toMatchObject({ jti: id });
      const renewed = `${sessionUid}.${tokenId()}`;
      await adapter('Session').destroy(id);
      await adapter('Session').upsert(renewed, { jti: renewed, uid: sessionUid, kind: 'Session' }, 600);
      expect(await adapter('Session').find(id)).toBeUndefined();
      expect(await adapter('Session').find(`${sessionUid}.${tokenId()}`)).toBeUndefined();
      // A stale cookie cannot end the renewed session.
      await adapter('Session').destroy(id);
      expect(await adapter('Session').find(renewed)).toMatchObject({ jti: renewed });
      expect(await adapter('Session').findByUid!(sessionUid)).toMatchObject({ jti: renewed });
    });

    it('a session renewed at sign-in after it was ended is not written back under its new id (review R66-1)', async () => {
      const sessionUid = uid();
      const id = `${sessionUid}.${tokenId()}`;
      await adapter('Session').upsert(id, { jti: id, uid: sessionUid, kind: 'Session' }, 600);
      expect(await adapter('Session').find(id)).toMatchObject({ uid: sessionUid });
      await doc.send(new DeleteCommand({ TableName: tableName, Key: oidcItemKey('Session', id) }));
      // The provider's resetIdentifier at resume: the old id destroyed, the session saved under a new one.
      const renewed = `${sessionUid}.${tokenId()}`;
      await adapter('Session').destroy(id);
      await adapter('Session').upsert(renewed, { jti: renewed, uid: sessionUid, kind: 'Session' }, 600);
      expect(await adapter('Session').find(renewed)).toBeUndefined();
      expect(await adapter('Session').findByUid!(sessionUid)).toBeUndefined();
    });

    it('at resume, a session ended meanwhile is not written back with the grant and code (review R66-1)', async () => {
      const sessionUid = uid();
      const id = `${sessionUid}.${tokenId()}`;
      await adapter('Session').upsert(id, { jti: id, uid: sessionUid, kind: 'Session' }, 600);
      await adapter('Session').find(id);
      await doc.send(new DeleteCommand({ TableName: tableName, Key: oidcItemKey('Session', id) }));
      const renewed = `${sessionUid}.${tokenId()}`;
      const grant = tokenId();
      // The end of a sign-in: the puts held and written together as the request ends; not failed.
      await withRequestReads(() =>
        providerContext.run({ oidc: { route: 'resume' } }, async () => {
          await adapter('Session').destroy(id);
          await adapter('Grant').upsert(grant, { jti: grant, kind: 'Grant', accountId: 'acc_r66' }, 600);
          await adapter('Session').upsert(renewed, { jti: renewed, uid: sessionUid, kind: 'Session' }, 600);
        }),
      );
      expect(await adapter('Session').findByUid!(sessionUid)).toBeUndefined();
      // Nothing of that sign-in was written: its grant (and code) make no tokens.
      expect(await adapter('Grant').find(grant)).toBeUndefined();
    });

    it("a session stored under the provider's own id (before ids named the uid) is still found both ways", async () => {
      const sessionUid = uid();
      const id = tokenId();
      await adapter('Session').upsert(id, { jti: id, uid: sessionUid, kind: 'Session' }, 600);
      expect(await adapter('Session').find(id)).toMatchObject({ uid: sessionUid });
      expect(await adapter('Session').findByUid!(sessionUid)).toMatchObject({ jti: id });
    });

    it('skips re-saving a session it has just read unchanged, but writes any change', async () => {
      const sessionUid = uid();
      const id = `${sessionUid}.${tokenId()}`;
      const stored = { jti: id, uid: sessionUid, kind: 'Session', accountId: 'acc_1' };
      await adapter('Session').upsert(id, { ...stored, exp: 1 }, 3600);
      await adapter('Session').find(id);
      // Deleted meanwhile elsewhere (a logout): an unchanged re-save must not bring it back.
      await doc.send(
        new DeleteCommand({ TableName: tableName, Key: { pk: `oidc#Session#${sessionUid}`, sk: 'oidc' } }),
      );
      clock.advanceSeconds(60);
      await adapter('Session').upsert(id, { ...stored, exp: 2 }, 3600);
      expect(await adapter('Session').find(id)).toBeUndefined();
      // Nor does a change (review R66-1): a session read from the store is saved only while it is there.
      await adapter('Session').upsert(id, { ...stored, accountId: 'acc_2' }, 3600);
      expect(await adapter('Session').find(id)).toBeUndefined();
      // A change to a session still there is written.
      await adapter('Session').upsert(id, stored, 3600);
      expect(await adapter('Session').find(id)).toMatchObject({ accountId: 'acc_1' });
      await adapter('Session').upsert(id, { ...stored, accountId: 'acc_2' }, 3600);
      expect(await adapter('Session').find(id)).toMatchObject({ accountId: 'acc_2' });
      // Unchanged but a tenth of its lifetime older: written again, so a used session stays alive.
      const key = { pk: `oidc#Session#${sessionUid}`, sk: 'oidc' };
      const before = (await doc.send(new GetCommand({ TableName: tableName, Key: key }))).Item?.expiresAt;
      clock.advanceSeconds(400);
      await adapter('Session').upsert(id, { ...stored, accountId: 'acc_2' }, 3600);
      const after = (await doc.send(new GetCommand({ TableName: tableName, Key: key }))).Item?.expiresAt;
      expect(after).toBe((before as number) + 400);
    });
  });

  describe('access tokens of both kinds under one key', () => {
    it('one read finds either kind; each model finds only its own', async () => {
      const access = tokenId();
      await adapter('AccessToken').upsert(access, { jti: access, kind: 'AccessToken' }, 60);
      expect(await adapter('ClientCredentials').find(access)).toBeUndefined();
      expect(await adapter('AccessToken').find(access)).toMatchObject({ jti: access });
      const items = (await scanAll()).filter((item) => String(item['pk']).startsWith('oidc#Bearer#'));
      expect(items.some((item) => item['model'] === 'AccessToken')).toBe(true);
    });

    it("a token stored under its model's own key (before the shared key) still works, and is revoked", async () => {
      const legacy = tokenId();
      const hash = createHash('sha256').update(legacy).digest('base64url');
      await doc.send(
        new PutCommand({
          TableName: tableName,
          Item: { pk: `oidc#AccessToken#${hash}`, sk: 'oidc', payload: { kind: 'AccessToken', scope: 'x' } },
        }),
      );
      expect(await findAccessToken(deps, legacy)).toMatchObject({ jti: legacy, scope: 'x' });
      expect(await adapter('AccessToken').find(legacy)).toMatchObject({ jti: legacy });
      await adapter('AccessToken').destroy(legacy);
      expect(await findAccessToken(deps, legacy)).toBeUndefined();
    });
  });

  describe('findAccessToken', () => {
    it('finds access tokens and client credentials tokens by value and respects expiry', async () => {
      const access = tokenId();
      const credentials = tokenId();
      await adapter('AccessToken').upsert(
        access,
        { jti: access, kind: 'AccessToken', scope: 'licence:read' },
        60,
      );
      await adapter('ClientCredentials').upsert(
        credentials,
        { jti: credentials, kind: 'ClientCredentials' },
        120,
      );

      expect(await findAccessToken(deps, access)).toMatchObject({ jti: access, scope: 'licence:read' });
      expect(await findAccessToken(deps, credentials)).toMatchObject({
        jti: credentials,
        kind: 'ClientCredentials',
      });
      expect(await findAccessToken(deps, credentials, ['AccessToken'])).toBeUndefined();

      clock.advanceSeconds(60);
      expect(await findAccessToken(deps, access)).toBeUndefined();
      expect(await findAccessToken(deps, credentials)).toBeDefined();
    });

    it('rejects a token whose payload exp has passed even if the item lives longer', async () => {
      const access = tokenId();
      const exp = Math.floor(clock.now() / 1000) + 10;
      await adapter('AccessToken').upsert(access, { jti: access, kind: 'AccessToken', exp }, 3600);
      clock.advanceSeconds(10);
      expect(await findAccessToken(deps, access)).toBeUndefined();
    });

    it('does not accept other bearer credentials or unknown values', async () => {
      const refresh = tokenId();
      await adapter('RefreshToken').upsert(refresh, { jti: refresh, kind: 'RefreshToken' }, 60);
      expect(await findAccessToken(deps, refresh)).toBeUndefined();
      expect(await findAccessToken(deps, tokenId())).toBeUndefined();
      expect(await findAccessToken(deps, '')).toBeUndefined();
    });
  });

  describe('through oidc-provider models', () => {
    let provider: Provider;
    const rp = async () => {
      const client = await provider.Client.find('rp');
      if (!client) throw new Error('static client rp is missing');
      return client;
    };

    const secrets = new ClientSecrets({
      clientSecret: { mac: async (data) => createHmac('sha256', 'test').update(data).digest() },
    });

    beforeAll(() => {
      provider = new Provider('http://localhost:3000', {
        // As the OpenID function wires it: the provider's own errors for lost consume races.
        adapter: providerAdapter(
          createDynamoAdapter({ doc, tableName, clock: { now: () => Date.now() }, sealer }),
          secrets,
          'http://localhost:3000',
        ),
        clients: [
          {
            client_id: 'rp',
            client_secret: 'a-secret-that-is-long-enough-for-tests',
            redirect_uris: ['https://rp.example/cb'],
            id_token_signed_response_alg: 'ES256',
            grant_types: [
              'authorization_code',
              'refresh_token',
              'urn:ietf:params:oauth:grant-type:device_code',
            ],
          },
        ],
        features: { deviceFlow: { enabled: true }, devInteractions: { enabled: false } },
        jwks: {
          keys: [generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' })],
        },
        ttl: { AccessToken: 3600, AuthorizationCode: 60, DeviceCode: 600 },
      });
    });

    it('saves and finds an access token under its opaque value', async () => {
      const client = await rp();
      const token = new provider.AccessToken({
        accountId: 'acc-1',
        client,
        grantId: 'g-1',
        gty: 'authorization_code',
        scope: 'openid',
      });
      const value = await token.save();
      const found = await provider.AccessToken.find(value);
      expect(found).toMatchObject({ jti: value, accountId: 'acc-1', scope: 'openid', clientId: 'rp' });
      expect(
        await findAccessToken({ doc, tableName, clock: { now: () => Date.now() } }, value),
      ).toMatchObject({
        jti: value,
      });
    });

    it('detects authorization code reuse after consume', async () => {
      const client = await rp();
      const code = new provider.AuthorizationCode({
        accountId: 'acc-1',
        client,
        grantId: 'g-2',
        gty: 'authorization_code',
        redirectUri: 'https://rp.example/cb',
        scope: 'openid',
      });
      const value = await code.save();
      const first = await provider.AuthorizationCode.find(value);
      await first?.consume();
      const second = await provider.AuthorizationCode.find(value);
      expect(second).toMatchObject({ consumed: expect.any(Number) });
      await expect(first?.consume()).rejects.toBeInstanceOf(errors.InvalidGrant);
    });

    it('updates the same device code after finding it by user code', async () => {
      const client = await rp();
      const deviceCode = new provider.DeviceCode({
        client,
        grantId: 'g-3',
        params: {},
        userCode: 'WXYZBCDF',
        deviceInfo: {},
      });
      const value = await deviceCode.save();

      const byUserCode = await provider.DeviceCode.findByUserCode('WXYZBCDF');
      if (!byUserCode) throw new Error('device code not found by user code');
      expect(byUserCode.jti).toBe(value);
      byUserCode.accountId = 'acc-1';
      await byUserCode.save();

      const polled = await provider.DeviceCode.find(value);
      expect(polled?.accountId).toBe('acc-1');
    });
  });
});
