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

  it('stands only on the same appointment, or on the representative’s role for a representative’s session', () => {
    expect(standsOn(agentSession, { role: 'agent', agentId: 'agt_A' })).toBe(true);
    // The same person appointed again: a new appointment.
    expect(standsOn(agentSession, { role: 'agent', agentId: 'agt_B' })).toBe(false);
    expect(standsOn(agentSession, { role: 'legal_representative' })).toBe(false);

    const repSession = { ...agentSession, basis: basisOf({ role: 'legal_representative' }) };
    expect(repSession.basis).toBe(representativeBasis);
    expect(standsOn(repSession, { role: 'legal_representative' })).toBe(true);
    // A former representative, appointed agent by the new one after a registry change.
    expect(standsOn(repSession, { role: 'agent', agentId: 'agt_C' })).toBe(false);

    // A session written before R42 stands on nothing: it signs in again.
    const unbound = { kind: 'entity', entityId: 'ent_1', personId: 'acc_1' } as const;
    expect(standsOn(unbound, { role: 'agent', agentId: 'agt_A' })).toBe(false);
  });
});
