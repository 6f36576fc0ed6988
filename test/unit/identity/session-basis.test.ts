import { describe, expect, it } from 'vitest';
import {
  basisOf,
  formatAccountId,
  parseAccountId,
  representativeBasis,
  standsOn,
} from '../../../shared/identifiers/account-id.js';

describe('the entity session’s account id and what it stands on (review R42)', () => {
  const agentSession = { kind: 'entity', entityId: 'ent_1', personId: 'acc_1', basis: 'agt_A' } as const;

  it('round-trips the basis, and keeps the person’s and the entity’s ids', () => {
    expect(formatAccountId(agentSession)).toBe('ent_1~acc_1~agt_A');
    expect(parseAccountId('ent_1~acc_1~agt_A')).toEqual(agentSession);
    expect(parseAccountId('ent_1~acc_1')).toEqual({ kind: 'entity', entityId: 'ent_1', personId: 'acc_1' });
    expect(parseAccountId('acc_1')).toEqual({ kind: 'person', personId: 'acc_1' });
  });

  it('stands only on the same appointment, or on the same representation term for a representative’s session', () => {
    expect(standsOn(agentSession, { role: 'agent', agentId: 'agt_A' })).toBe(true);
    // The same person appointed again: a new appointment.
    expect(standsOn(agentSession, { role: 'agent', agentId: 'agt_B' })).toBe(false);
    expect(standsOn(agentSession, { role: 'legal_representative' })).toBe(false);

    const term = { role: 'legal_representative', term: 'rt_1' } as const;
    const repSession = { ...agentSession, basis: basisOf(term) };
    expect(repSession.basis).toBe(representativeBasis('rt_1'));
    expect(formatAccountId(repSession)).toBe('ent_1~acc_1~rep.rt_1');
    expect(standsOn(repSession, term)).toBe(true);
    // The same person named representative again, after a change: a new term.
    expect(standsOn(repSession, { role: 'legal_representative', term: 'rt_2' })).toBe(false);
    // A former representative, appointed agent by the new one after a registry change.
    expect(standsOn(repSession, { role: 'agent', agentId: 'agt_C' })).toBe(false);
    // A registry record written before terms (`''`): its representative's sessions are bare `rep` and
    // stand while it has no term; once a change of representative gives it one, they do not.
    const untermed = { ...agentSession, basis: 'rep' };
    expect(basisOf({ role: 'legal_representative', term: '' })).toBe('rep');
    expect(standsOn(untermed, { role: 'legal_representative', term: '' })).toBe(true);
    expect(standsOn(untermed, { role: 'legal_representative', term: 'rt_1' })).toBe(false);
    expect(standsOn(repSession, { role: 'legal_representative', term: '' })).toBe(false);
    // No term at all, or one that cannot be written in an account id: nothing stands (fail closed).
    expect(standsOn(untermed, { role: 'legal_representative' })).toBe(false);
    expect(standsOn({ ...agentSession, basis: '' }, { role: 'legal_representative' })).toBe(false);
    expect(
      standsOn({ ...agentSession, basis: 'rep.a~b' }, { role: 'legal_representative', term: 'a~b' }),
    ).toBe(false);

    // A session written before R42 stands on nothing: it signs in again.
    const unbound = { kind: 'entity', entityId: 'ent_1', personId: 'acc_1' } as const;
    expect(standsOn(unbound, { role: 'agent', agentId: 'agt_A' })).toBe(false);
  });
});
