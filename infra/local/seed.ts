import { ConflictError, NotFoundError } from '../../shared/errors.js';
import type { Dependencies } from '../../functions/composition/dependencies.js';
import { parseCreditCode } from '../../shared/identifiers/credit-code.js';
import { maskIdNumber, parseIdNumber } from '../../shared/identifiers/id-number.js';
import { personLookupKey } from '../../shared/identifiers/lookup-key.js';
import { createIssuer } from '../../shared/issuers/create-issuer.js';
import type { Issuer } from '../../shared/issuers/issuer.js';
import { entityLookupKey } from '../../shared/identifiers/lookup-key.js';
import { proveInPerson } from '../../shared/identity/prove-in-person.js';
import { registerPerson } from '../../shared/identity/register-person.js';
import { issueLicence, issueLicenceInput } from '../../shared/licence/issue-licence.js';
import type { ClientMetadata } from 'oidc-provider';
import { clientMetadata, registerClientInput } from '../../shared/clients/register-client.js';
import {
  onClientSecretKey,
  secretMarkersOf,
  type ClientSecretMarkers,
} from '../../shared/clients/client-secrets.js';
import {
  agencyHead,
  demo,
  demoClerk,
  demoIssuerFor,
  registryPeople,
  syntheticPeople,
  type SyntheticPerson,
} from './demo-data.js';
import { counterProofScope } from '../../shared/identity/counter-proof.js';
import { appointWithTrace, ensureEntityAccount, saveAgentChange } from '../../shared/identity/entities.js';
import { appointedInTerm, appointmentInForce } from '../../shared/identity/entity-account.js';
import { recordRegisteredEntity } from '../../shared/identity/representative-change.js';
import { randomId } from '../../shared/random-id.js';

/** What `credentials.json` holds: how to act as each demo party (API.md, "Local runtime"). */
export interface DemoCredentials {
  baseUrl: string;
  admin: { clientId: string; clientSecret: string };
  issuer: { id: string; clientId: string; clientSecret: string; creditCode: string };
  /**
   * The demo agency's counter clerk (经办人), appointed by the agency's head (a synthetic person without an
   * account, `headIdNumber`): signs in to /console with this password, acting for `creditCode`.
   */
  clerk: { idNumber: string; name: string; password: string; creditCode: string; headIdNumber: string };
  verifier: { clientId: string; clientSecret: string };
  /** The supervising office (电子监察): a client with scope `supervision`. */
  supervisor: { clientId: string; clientSecret: string };
  platform: { clientId: string; clientSecret: string; redirectUri: string };
  citizen: { idNumber: string; name: string; password: string; phone: string };
  entity: { creditCode: string; name: string; representativeIdNumber: string };
  /** Synthetic people both registries know (the carrier by their phone) who have no account yet. */
  people: SyntheticPerson[];
}

/**
 * Puts the demo in place through the same use cases the API runs, idempotently: a second start finds
 * what the first made and changes nothing but what depends on the base URL.
 */
export async function seedDemo(deps: Dependencies, baseUrl: string): Promise<DemoCredentials> {
  const { clients, secrets } = deps;
  // A fresh data folder registers the demo clients on the client-secret key; one seeded before that key
  // keeps each client's secret where it was (a legacy client: its record has no marker), so that what an
  // earlier start printed still works, until an operator rotates it (POST /admin/clients/{id}/secret).
  const markers = new Map<string, ClientSecretMarkers>();
  const save = async (metadata: ClientMetadata & { client_id: string }) => {
    const existing = await clients.find(metadata.client_id);
    const kept = existing ? secretMarkersOf(existing) : onClientSecretKey();
    markers.set(metadata.client_id, kept);
    await clients.save({ ...metadata, ...kept });
  };
  const secretOf = async (clientId: string) =>
    secrets.secretFor(
      clientId,
      markers.get(clientId) ?? secretMarkersOf((await clients.find(clientId)) ?? {}),
    );
  await save({
    client_id: demo.clients.admin,
    client_name: 'Demo operator',
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    scope: 'admin',
    token_endpoint_auth_method: 'client_secret_basic',
  });
  await save(
    clientMetadata(
      demo.clients.verifier,
      registerClientInput.parse({ name: 'Demo verifier app', scopes: ['licences:verify'] }),
    ),
  );
  await save(
    clientMetadata(
      demo.clients.supervisor,
      registerClientInput.parse({ name: 'Demo supervising office', scopes: ['supervision'] }),
    ),
  );
  const redirectUri = `${baseUrl}/demo/callback`;
  await save(
    clientMetadata(
      demo.clients.platform,
      registerClientInput.parse({
        name: 'Demo government platform',
        redirectUris: [redirectUri],
        postLogoutRedirectUris: [`${baseUrl}/demo`],
        // No `licences` (every licence held, first-party apps only): the demo's 办理业务 example asks to
        // read a driving licence as any platform does, with a share (授权用证, licence_access).
        scopes: ['openid', 'profile', 'idcard', 'entity', 'offline_access'],
        authorizationDetailsTypes: ['licence_access'],
      }),
    ),
  );

  // Named after the platform's region, so that local peer platforms (docs/peers.md) differ.
  const demoIssuer = demoIssuerFor(deps.config.platformRegion);
  const issuer =
    (await deps.issuers.findByCreditCode(demoIssuer.creditCode)) ??
    (
      await createIssuer(
        {
          ...demoIssuer,
          creditCode: parseCreditCode(demoIssuer.creditCode),
          licenceTypes: [...demoIssuer.licenceTypes],
        },
        { clientId: 'seed' },
        deps,
      )
    ).issuer;
  if (!issuer.clientId) throw new NotFoundError(`The demo issuer ${issuer.id} has no OAuth client`);

  const today = new Date(deps.clock.now());
  const citizenId = parseIdNumber(demo.citizen.idNumber, today);
  const citizenKey = await personLookupKey(deps.lookupMac, citizenId);
  await deps.registry.putPerson({
    lookupKey: citizenKey,
    name: demo.citizen.name,
    masked: maskIdNumber(citizenId),
  });
  await recordRegisteredEntity(
    {
      creditCode: parseCreditCode(demo.entity.creditCode),
      name: demo.entity.name,
      representativeLookupKey: citizenKey,
      representativeMasked: maskIdNumber(citizenId),
    },
    deps,
    'seed',
  );
  await seedPopulation(deps);
  await ensureCitizenAccount(deps, citizenKey);
  await ensureDemoClerk(deps, issuer);

  await issueDemoLicences(deps, issuer, baseUrl);

  return {
    baseUrl,
    admin: { clientId: demo.clients.admin, clientSecret: await secretOf(demo.clients.admin) },
    issuer: {
      id: issuer.id,
      clientId: issuer.clientId,
      clientSecret: await secretOf(issuer.clientId),
      creditCode: issuer.creditCode,
    },
    clerk: {
      idNumber: demoClerk.idNumber,
      name: demoClerk.name,
      password: demoClerk.password,
      creditCode: issuer.creditCode,
      headIdNumber: agencyHead.idNumber,
    },
    verifier: {
      clientId: demo.clients.verifier,
      clientSecret: await secretOf(demo.clients.verifier),
    },
    supervisor: {
      clientId: demo.clients.supervisor,
      clientSecret: await secretOf(demo.clients.supervisor),
    },
    platform: {
      clientId: demo.clients.platform,
      clientSecret: await secretOf(demo.clients.platform),
      redirectUri,
    },
    citizen: {
      idNumber: demo.citizen.idNumber,
      name: demo.citizen.name,
      password: demo.citizen.password,
      phone: demo.citizen.phone,
    },
    entity: { ...demo.entity, representativeIdNumber: demo.citizen.idNumber },
    people: await peopleWithoutAccounts(deps),
  };
}

/**
 * The demo citizen's driving licence and the demo entity's business licence (naming the citizen as legal
 * representative), issued through the same use case as the API, once: a holder who has a licence of the
 * type from the demo issuer gets no second one.
 */
async function issueDemoLicences(deps: Dependencies, issuer: Issuer, baseUrl: string): Promise<void> {
  const today = new Date(deps.clock.now());
  const citizenKey = await personLookupKey(deps.lookupMac, parseIdNumber(demo.citizen.idNumber, today));
  const entityKey = await entityLookupKey(deps.lookupMac, parseCreditCode(demo.entity.creditCode));
  const wanted = [
    {
      holderKey: citizenKey,
      idempotencyKey: '6f1c0d2e-0000-4000-8000-000000000001',
      input: {
        type: 'driving-licence',
        holder: { idNumber: demo.citizen.idNumber },
        holderName: demo.citizen.name,
        fields: { vehicleClass: 'C1', firstIssuedOn: '2012-05-04', archiveNumber: '110100123456' },
      },
    },
    {
      holderKey: entityKey,
      idempotencyKey: '6f1c0d2e-0000-4000-8000-000000000002',
      input: {
        type: 'business-licence',
        holder: { creditCode: demo.entity.creditCode },
        holderName: demo.entity.name,
        fields: {
          entityType: '有限责任公司(自然人投资或控股)',
          legalRepresentativeName: demo.citizen.name,
          legalRepresentativeIdNumber: demo.citizen.idNumber,
          registeredCapital: { amount: 1_000_000, currency: 'CNY' },
          establishedOn: '2018-03-15',
          businessScope: '技术开发、技术咨询、技术服务;软件开发;数据处理。',
          address: '北京市朝阳区示范路1号',
        },
      },
    },
  ];
  for (const { holderKey, idempotencyKey, input } of wanted) {
    // The demo entity is in Beijing: an issuer of another region may not issue its business licence.
    if (input.type === 'business-licence' && issuer.region !== demo.issuer.region) continue;
    const held = await deps.licences.listByHolder(holderKey);
    if (held.some((licence) => licence.type === input.type && licence.issuerId === issuer.id)) continue;
    await issueLicence(
      issueLicenceInput.parse(input),
      { issuerId: issuer.id, clientId: issuer.clientId ?? 'seed', idempotencyKey },
      { ...deps, issuerUrl: baseUrl },
    );
  }
}

/**
 * The synthetic population and carrier registries, both from the same people (the demo citizen
 * included): rewriting a person or a subscriber writes the same item again.
 */
async function seedPopulation(deps: Dependencies): Promise<void> {
  const today = new Date(deps.clock.now());
  await Promise.all(
    syntheticPeople.map(async (person) => {
      const id = parseIdNumber(person.idNumber, today);
      const lookupKey = await personLookupKey(deps.lookupMac, id);
      await deps.registry.putPerson({ lookupKey, name: person.name, masked: maskIdNumber(id) });
      await deps.carrier.putSubscriber({ lookupKey, name: person.name, phone: person.phone });
    }),
  );
}

/** The synthetic people (not the citizen) who have no account at this start, for `credentials.json`. */
async function peopleWithoutAccounts(deps: Dependencies): Promise<SyntheticPerson[]> {
  const today = new Date(deps.clock.now());
  const held = await Promise.all(
    registryPeople.map(async (person) =>
      deps.accounts.findByLookupKey(
        await personLookupKey(deps.lookupMac, parseIdNumber(person.idNumber, today)),
      ),
    ),
  );
  return registryPeople.filter((_, index) => held[index] === undefined).map((person) => ({ ...person }));
}

/**
 * The demo citizen's account, registered once through the same use case as `POST /accounts` (so it is
 * registry-verified, with the phone the carrier registry confirms), then proven in person (level 3, as if checked at a service counter), which reading
 * licences needs; a later start finds it and leaves its password alone. An account seeded before levels
 * existed is raised to level 3 too.
 */
async function ensureCitizenAccount(deps: Dependencies, citizenKey: string): Promise<void> {
  await ensureProvenAccount(deps, demo.citizen, citizenKey);
}

/** A demo person's account, registered once (`POST /accounts`'s use case), then proven in person (level 3). */
async function ensureProvenAccount(
  deps: Dependencies,
  person: { idNumber: string; name: string; password: string; phone: string },
  lookupKey: string,
): Promise<void> {
  if (!(await deps.accounts.findByLookupKey(lookupKey))) {
    try {
      const { idNumber, name, password, phone } = person;
      await registerPerson({ consent: true, idNumber, name, password, phone }, deps);
    } catch (error) {
      if (!(error instanceof ConflictError)) throw error;
    }
  }
  await proveInPerson(lookupKey, { actor: 'seed' }, deps);
}

/**
 * The demo agency as the business registry (法人库) knows it, its head ({@link agencyHead}) its
 * representative, and {@link demoClerk} (an account proven in person, level 3) appointed its counter clerk
 * (经办人, `licences:issue` and `accounts:prove-in-person`, {@link demoClerkScope}) for a year in that head's
 * name, as `POST /me/entities/{creditCode}/agents` would (written here: the head has no account), with its
 * audit entry as that route writes one (actor `seed`): `npm start` then signs the clerk in to /console,
 * where they issue licences and prove people at the counter (当面核验, `/console/counter`). An appointment
 * in force, made in the head's term (`appointedInTerm`), is left alone, but for the scope: one made by an earlier start without the counter's is
 * given it, traced the same way; one withdrawn in the demo is made again at the next start, as the rest
 * of the demo is put back.
 */
/**
 * What the demo clerk is appointed for: issuing licences (the console) and proving people in person at
 * the counter ({@link counterProofScope}, 当面核验), so that a newcomer can try both.
 */
const demoClerkScope = ['licences:issue', counterProofScope] as const;

async function ensureDemoClerk(deps: Dependencies, issuer: Issuer): Promise<void> {
  const today = new Date(deps.clock.now());
  const head = parseIdNumber(agencyHead.idNumber, today);
  const headKey = await personLookupKey(deps.lookupMac, head);
  const clerk = parseIdNumber(demoClerk.idNumber, today);
  const clerkKey = await personLookupKey(deps.lookupMac, clerk);
  await ensureProvenAccount(deps, demoClerk, clerkKey);
  const creditCode = parseCreditCode(issuer.creditCode);
  const registered = await recordRegisteredEntity(
    {
      creditCode,
      name: issuer.name,
      representativeLookupKey: headKey,
      representativeMasked: maskIdNumber(head),
    },
    deps,
    'seed',
  );
  const appointer = { lookupKey: headKey, term: registered.representativeTerm };
  await ensureEntityAccount({ creditCode, name: issuer.name }, deps);
  const standing = await deps.entities.findAppointment(creditCode, clerkKey);
  if (standing && appointmentInForce(standing, today) && appointedInTerm(standing, appointer)) {
    if (demoClerkScope.every((scope) => standing.scope.includes(scope))) return;
    // Appointed by an earlier start without the counter's scope (before the demo clerk had it): given it.
    const widened = { ...standing, scope: [...new Set([...standing.scope, ...demoClerkScope])] };
    await saveAgentChange(
      widened,
      {
        at: today.toISOString(),
        actor: 'seed',
        action: 'agent.appointed',
        holderMasked: standing.masked,
        reason: `${creditCode} ${widened.scope.join(' ')} until ${standing.validUntil}`,
      },
      (trace) => deps.entities.saveAppointment(widened, trace),
      deps,
    );
    return;
  }
  // Saved with its audit entry `agent.appointed` (actor `seed`), as a real appointment is: a clerk's right
  // to issue is never in force untraced, the demo's included.
  await appointWithTrace(
    {
      agentId: randomId('agt'),
      creditCode,
      personLookupKey: clerkKey,
      masked: maskIdNumber(clerk),
      scope: [...demoClerkScope],
      validUntil: new Date(today.getTime() + 365 * 86_400_000).toISOString(),
      status: 'active',
      appointedAt: today.toISOString(),
      appointedBy: 'seed',
      appointedByLookupKey: headKey,
      ...(appointer.term ? { appointerTerm: appointer.term } : {}),
      version: 0,
    },
    { actor: 'seed' },
    deps,
  );
}
