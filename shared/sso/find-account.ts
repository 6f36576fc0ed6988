import { sectorOf } from './pairwise.js';
import type { Account, FindAccount, KoaContextWithOIDC } from 'oidc-provider';
import { parseAccountId, standsOn } from '../identifiers/account-id.js';
import type { IdentityDirectory } from '../identity/identity-directory.js';
import { levelOfAcr } from '../identity/assurance.js';
import type { AuditTrail } from '../audit/audit-trail.js';
import type { Clock } from '../clock.js';
import { signInEndedBy, type SignInsEnded } from '../identity/person-account.js';
import { logger } from '../logger.js';
import { forgetResumedSignIn, signInOf } from './sign-in-results.js';

/** The mark of each account the lookup answered (the person's, an entity's acting person's too). */
const marks = new WeakMap<object, SignInsEnded>();

/**
 * When a takeover or a reset last ended the sign-ins of the person behind `account` (an account the
 * lookup below answered: `ctx.oidc.account`), as that lookup read it: no read more. The provider's grant
 * loading continues no grant made before it (provider.ts, `existingOrFirstPartyGrant`, review R54-2).
 */
export function signInsEndedOf(account: object | undefined): SignInsEnded | undefined {
  return account === undefined ? undefined : marks.get(account);
}

/**
 * The provider's account lookup. A person's account answers `name` and, under scope `idcard` (granted
 * only when the person ticked it on the consent page) and at the userinfo endpoint only, `id_number`
 * (decrypted then, never stored in clear; each release audited). The ID token never carries
 * it, whatever the provider's `conformIdTokenClaims` would put there (with an API scope the access token
 * has an audience and the provider puts every scope's claims in the ID token anyway): a platform's ID
 * token travels in URLs (RP-initiated logout's `id_token_hint`), and what it carries is logged. An entity session answers the entity's `name`,
 * `subject_type: 'legal_person'`, `credit_code` and `act: { sub }`, the acting person's pairwise subject
 * for the same platform. The right to sign in as the entity at this client is checked at every lookup,
 * which the provider makes at every token issuance and userinfo answer: a withdrawn agent, or one whose
 * appointment does not cover signing in at a platform (`sign-in`), gets no new token.
 *
 * The token endpoint's lookup (the code exchange) reads the account again although authorize read it
 * moments before (in the same round trip as the code's session and grant: oidc-adapter.ts, readAheadForCode). Taking the claims authorize saw instead would be safe against a takeover or a password
 * reset: those end the grant and every code of it (`SignInRevocation.endAll`), so the code redeems nothing
 * whatever this lookup answers (test/integration/sso/step-up.test.ts, "a code the squatter got before the
 * owner's reset"; without the revocation that code redeems, this read does not stop it). It is kept for now
 * because the provider's code has no field for claims (a snapshot would mean putting the person's name in
 * the code item), and because an entity account's right to act must be checked at every issuance.
 *
 * Every lookup also refuses a sign-in made before a takeover or a reset ended the account's sign-ins
 * (`PersonAccount.signInsEnded`, review R44), from the same read: a step's result resumed only now (which
 * the clean-up cannot reach: it lives in the browser's interaction cookie) by the account version its check
 * read, a session, code or token by its sign-in time (sign-in-results.ts, `signInOf`).
 */
export function accountFinder(
  directory: IdentityDirectory,
  pairwise: (internalId: string, sectorIdentifier: string) => string,
  deps: { audit: AuditTrail; clock: Clock },
): FindAccount {
  /**
   * The ID number for `clientId`, its release recorded first (`identity.released`: the platform, the
   * holder's lookup key and the account's opaque id, never the number), so that the person finds it in their usage record (用证记录)
   * and a release that could not be recorded is not made (privacy review R9 M2). Recorded at every
   * userinfo answer that carries it: each is a release, and recording once per access token would need
   * a conditional write or a read per call all the same, to save nothing but completeness.
   */
  const release = async (personId: string, clientId: string): Promise<string | undefined> => {
    const found = await directory.personIdNumber(personId);
    if (!found) return undefined;
    await deps.audit.record({
      at: new Date(deps.clock.now()).toISOString(),
      action: 'identity.released',
      actor: clientId,
      holderKey: found.lookupKey,
      // Whose account released it (review R45 F1): the usage record shows it to that account only (and to
      // a level-3 account of the number), never to whoever registers the number after a closure.
      accountId: personId,
    });
    return found.idNumber;
  };
  return async (ctx, accountId, token): Promise<Account | undefined> => {
    const subject = parseAccountId(accountId);
    const person = await directory.findPerson(subject.personId);
    if (!person) return undefined;
    // A sign-in made before a takeover or a reset ended the account's sign-ins counts for nothing (review
    // R44): above all a step's result resumed only now (the clean-up ends sessions, grants and tokens, but
    // cannot reach a result kept in a browser's interaction cookie), and any session, code or token that
    // outlived the clean-up. Read from the account this lookup reads anyway: no call more. The provider then
    // asks for a sign-in again (`account_unavailable`, provider.ts), or refuses the code or token.
    if (signInEndedBy(signInOf(ctx, accountId, token), person.signInsEnded)) {
      logger.info('sign-in made before the account’s sign-ins were ended: refused', {
        route: ctx.oidc.route,
        clientId: ctx.oidc.client?.clientId,
      });
      forgetResumedSignIn(ctx, accountId);
      return undefined;
    }

    const marked = <T extends Account>(account: T): T => {
      if (person.signInsEnded) marks.set(account, person.signInsEnded);
      return account;
    };
    if (subject.kind === 'person') {
      return marked({
        accountId,
        claims: async (use, scope) => ({
          sub: accountId,
          // A platform's ID token never carries the name (privacy review L3): `conformIdTokenClaims` keeps
          // it at userinfo for a token without an audience, and this for one with ours (a share), which
          // the provider would otherwise put in the ID token. The service's own apps (the wallet) still
          // read it there: they never put an ID token in a URL (logout by `client_id`).
          ...(use === 'id_token' && ctx.oidc.client?.['first_party'] !== true ? {} : { name: person.name }),
          // Userinfo only, never the ID token: platforms put their ID token in URLs (`id_token_hint`
          // at logout), which browsers' histories and proxies keep.
          // Only a number the population registry (or a counter) bound to this person: a self-asserted
          // account (level 1) only claims its number, and anyone may claim any number under any name
          // (registration answers a wrong name as an unknown number, review R9 M6), so a platform must
          // not receive it as this person's (review R10).
          ...(use === 'userinfo' &&
          scope.split(' ').includes('idcard') &&
          (levelOfAcr(person.accountAcr ?? person.acr) ?? 1) >= 2
            ? { id_number: await release(subject.personId, ctx.oidc.client?.clientId ?? 'unknown') }
            : {}),
        }),
      });
    }

    const entity = await directory.findEntity(subject.entityId);
    // Whether the person may still sign in as the entity at this client, with this sign-in: an appointment
    // withdrawn, one that does not cover a platform (`sign-in`), or a sign-in below level 3 gets no token
    // and no userinfo answer (review R22). Without a client the answer is a platform's. The authority must
    // be the one the session was made under (review R42): an agent withdrawn and appointed again (a new
    // appointment), or a former representative now an agent, does not revive the old grants and tokens.
    const at = { firstParty: ctx.oidc.client?.['first_party'] === true, acr: signInAcr(ctx, token) };
    const right = entity && (await directory.signInAs(subject.personId, entity.creditCode, at));
    if (!entity || !right || right.stepUp || !standsOn(subject, right)) return undefined;
    const sector = ctx.oidc.client ? sectorOf(ctx.oidc.client) : undefined;
    return marked({
      accountId,
      claims: async () => ({
        sub: accountId,
        name: entity.name,
        subject_type: 'legal_person',
        credit_code: entity.creditCode,
        ...(sector ? { act: { sub: pairwise(subject.personId, sector) } } : {}),
      }),
    });
  };
}

/**
 * The `acr` of the sign-in behind a lookup: the code's or the refresh token's own at the token endpoint,
 * the access token's (recorded by `extraTokenClaims`, provider.ts) at userinfo, the session's at the
 * authorization endpoint. None counts as level 1.
 */
function signInAcr(ctx: KoaContextWithOIDC, token: Parameters<FindAccount>[2]): string | undefined {
  const acr = token
    ? ((token as { acr?: unknown }).acr ?? (token as { extra?: { acr?: unknown } }).extra?.acr)
    : ctx.oidc.session?.acr;
  return typeof acr === 'string' ? acr : undefined;
}
