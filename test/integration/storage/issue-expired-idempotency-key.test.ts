import { randomUUID } from 'node:crypto';
import { decodeJwt } from 'jose';
import { describe, expect, it } from 'vitest';
import { DynamoIdempotencyStore } from '../../../shared/adapters/dynamo/idempotency-store.js';
import { issueLicence, issueLicenceInput } from '../../../shared/licence/issue-licence.js';
import { useDynamo } from '../../contract/subject.js';
import { licenceWorld } from '../../support/licence-world.js';
import { drivingLicenceBody, newIdNumber } from '../../support/licences.js';

const dynamo = useDynamo();

/**
 * Review R61 F1: an `Idempotency-Key` whose record has expired (10 days) starts over, and two requests
 * reusing it at once, with different bodies, both took it: the same serial, so the same licence id, and a
 * stored licence naming one holder while carrying the other's credential. Only one may hold the key.
 */
describe('two issuances under one expired Idempotency-Key at once (review R61 F1)', () => {
  it('issues to one of them, whose licence and credential name the same holder; the other waits', async () => {
    const { doc, tableName } = await dynamo.newTable();
    for (let round = 0; round < 5; round++) {
      const world = licenceWorld();
      const issuer = await world.addIssuer();
      const deps = {
        ...world.issueDeps,
        idempotency: new DynamoIdempotencyStore(doc, tableName, world.clock),
      };
      // One request's licence write a little slower than the other's (network jitter).
      const create = world.licences.create.bind(world.licences);
      world.licences.create = async (licence) => {
        if (licence.holder.name === '王甲') await new Promise((resolve) => setTimeout(resolve, 30));
        return create(licence);
      };
      const context = { issuerId: issuer.id, clientId: 'cl_issuer', idempotencyKey: randomUUID() };
      await issueLicence(issueLicenceInput.parse(drivingLicenceBody(newIdNumber())), context, deps);
      world.clock.advanceSeconds(10 * 86_400 + 1);
      const bodies = ['王甲', '张乙'].map((holderName) =>
        issueLicenceInput.parse(drivingLicenceBody(newIdNumber(), { holderName })),
      );
      const outcomes = await Promise.allSettled(bodies.map((body) => issueLicence(body, context, deps)));
      const issued = outcomes.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : []));
      const refused = outcomes.flatMap((outcome) =>
        outcome.status === 'rejected' ? [(outcome.reason as { code?: string }).code] : [],
      );
      expect(issued).toHaveLength(1);
      expect(refused).toEqual(['idempotency_key_in_use']);
      const stored = (await world.licences.get(issued[0]!.licence.id))!;
      const signed = (decodeJwt(stored.credential) as { hol: { n: string; m: string } }).hol;
      expect(signed).toEqual({ k: 'p', n: stored.holder.name, m: stored.holder.masked });
    }
  });
});
