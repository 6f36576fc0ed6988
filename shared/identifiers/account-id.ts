/**
 * The provider's `accountId` names who a session is for: a person (`acc_…`), or a person acting for an
 * entity, written `<entity account id>~<person account id>`. Both parts are opaque internal ids, never an
 * ID number or credit code (the provider stores `accountId` in sessions, grants and tokens).
 *
 * Acting for an entity is a sign-in of its own: choosing an entity, or returning to personal use, starts
 * a new session (the provider ends the previous one), so no platform keeps a personal session while the
 * person acts for an enterprise elsewhere.
 */
export type SessionSubject =
  { kind: 'person'; personId: string } | { kind: 'entity'; entityId: string; personId: string };

const separator = '~';

export function formatAccountId(subject: SessionSubject): string {
  return subject.kind === 'person' ? subject.personId : `${subject.entityId}${separator}${subject.personId}`;
}

export function parseAccountId(accountId: string): SessionSubject {
  const [first, second, ...rest] = accountId.split(separator);
  if (second !== undefined && rest.length === 0 && first) {
    return { kind: 'entity', entityId: first, personId: second };
  }
  return { kind: 'person', personId: accountId };
}
