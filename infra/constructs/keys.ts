import { RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { encryptionKey } from './encryption-key.js';
import { Construct } from 'constructs';
import { idNumberEncryptionContext, phoneEncryptionContext } from '../../shared/identity/person-account.js';
import { batchItemsContext } from '../../shared/licence/batch-store.js';
import { smsJobContext } from '../../shared/identity/sms-jobs.js';
import type { KeyRole } from '../../functions/grants.js';

/** The aliases the service's configuration names by default (see `shared/config.ts`). */
export const platformKeyAlias = 'alias/elicence-platform';
export const platformRsaKeyAlias = 'alias/elicence-platform-rsa';
export const auditKeyAlias = 'alias/elicence-audit';
export const presentationKeyAlias = 'alias/elicence-presentation';
export const noticeKeyAlias = 'alias/elicence-notice';
export const lookupMacKeyAlias = 'alias/elicence-lookup-mac';
export const piiKeyAlias = 'alias/elicence-pii';
export const webKeyAlias = 'alias/elicence-web';
export const interactionKeyAlias = 'alias/elicence-interaction-mac';
export const clientSecretKeyAlias = 'alias/elicence-client-secret';
export const cursorKeyAlias = 'alias/elicence-cursor-mac';
export const auditTableKeyAlias = 'alias/elicence-audit-table';

/**
 * The only uses of the PII key: an ID number or a confirmed phone number bound to its account, under the
 * encryption contexts `idNumberEncryptionContext` and `phoneEncryptionContext`
 * (`shared/identity/person-account.ts`) build, `{ purpose: 'id-number' | 'phone', account: <id> }`.
 * Every grant on the key requires one of those purposes and an account, so the key can neither encrypt
 * nor decrypt anything else, nor a ciphertext bound to no account.
 */
const idNumberContext = {
  StringEquals: {
    'kms:EncryptionContext:purpose': [
      idNumberEncryptionContext('').purpose,
      phoneEncryptionContext('').purpose,
    ],
  },
  Null: { 'kms:EncryptionContext:account': 'false' },
};

/** A batch's items: the PII key's data keys, only under the batch-items context (a batch and a chunk named). */
const batchItemsKeyContext = {
  StringEquals: {
    'kms:EncryptionContext:purpose': batchItemsContext({ batchId: '', requestHash: '', n: 0 }).purpose,
  },
  Null: { 'kms:EncryptionContext:batch': 'false', 'kms:EncryptionContext:chunk': 'false' },
};

/** A requested SMS code's phone and ID number: the PII key's data keys, only under the `sms-job` context. */
const smsJobKeyContext = {
  StringEquals: { 'kms:EncryptionContext:purpose': smsJobContext('').purpose },
  Null: { 'kms:EncryptionContext:job': 'false' },
};

/**
 * What the account itself may do with a key whose use is reserved to named roles: administer it (describe,
 * enable/disable, update its policy, tag, schedule deletion, CloudFormation's own updates), but no
 * cryptographic operation and no `CreateGrant`. An IAM policy elsewhere in the account therefore cannot
 * make another principal sign or MAC with it; only an audited key policy change could.
 */
const accountAdministration = [
  'kms:CreateAlias',
  'kms:DeleteAlias',
  'kms:Describe*',
  'kms:List*',
  'kms:Get*',
  'kms:Enable*',
  'kms:Disable*',
  'kms:Put*',
  'kms:Update*',
  'kms:TagResource',
  'kms:UntagResource',
  'kms:ScheduleKeyDeletion',
  'kms:CancelKeyDeletion',
  'kms:RevokeGrant',
  // A multi-Region key's replica in the disaster-recovery region (docs/operating.md, "Disaster recovery").
  // Whoever replicates sets the replica's own policy, so this is as strong as `kms:PutKeyPolicy` above
  // (both recorded by CloudTrail); the functions' roles are denied it (`KeyDeletionGuard`).
  'kms:ReplicateKey',
];

/** A key policy that lets the account administer the key but not use it; users are added by name. */
function administrationOnlyPolicy(): iam.PolicyDocument {
  return new iam.PolicyDocument({
    statements: [
      new iam.PolicyStatement({
        sid: 'AccountAdministersButDoesNotUse',
        principals: [new iam.AccountRootPrincipal()],
        actions: accountAdministration,
        resources: ['*'],
      }),
    ],
  });
}

/**
 * The construct ids of the keys whose output is kept in the tables (MACs, ciphertexts, the tables
 * themselves), made multi-Region primary keys like every signing key generation (whose signatures live on
 * in relying parties, verifier apps and printed QR codes), so that a replica in another region (same key
 * material, same key id) can read, look up and verify everything after a region outage
 * (docs/operating.md, "Disaster recovery"), and the DR region signs under the public keys already
 * published. The web and interaction keys are not: they seal sessions and sign-ins under way, which a
 * failover may end (everyone signs in again once), and their material stays in one region.
 *
 * KMS fixes the multi-Region property at creation: CloudFormation refuses to change it on a deployed key
 * (AWS::KMS::Key `MultiRegion`), so a stack deployed before this list names its keys in
 * `singleRegionKeys` and moves to multi-Region keys by new generations.
 */
export const multiRegionKeyNames = ['LookupMac', 'ClientSecret', 'Pii', 'Table', 'AuditTable'] as const;

/** The signing keys rotated by generations, each given as `<kind>Keys` (e.g. `platformKeys: ['2', '1']`). */
type SigningKeyKind = 'platform' | 'platformRsa' | 'audit' | 'presentation' | 'notice';

/** What sets one signing key apart: its construct id (hence its logical ids), spec, description, alias. */
interface SigningKeySpec {
  /** The construct id of generation 1; generation n is `<name><n>`, the alias `<name>Alias`. */
  name: string;
  keySpec: kms.KeySpec;
  purpose: string;
  detail: string;
  aliasName: string;
  /** Checks the generations given (the signing one first), naming `option` in what it refuses. */
  generations: (generations: readonly string[], option: string) => string[];
}

/**
 * The signing keys. A `name` is a construct id and so part of the keys' logical ids: changing one would
 * make CloudFormation replace a deployed key (`test/cdk/stack.test.ts` pins them).
 */
const signingKeys: Record<SigningKeyKind, SigningKeySpec> = {
  platform: {
    name: 'Platform',
    keySpec: kms.KeySpec.ECC_NIST_P256,
    purpose: 'platform signing key',
    detail: 'ID tokens, trust list',
    aliasName: platformKeyAlias,
    generations: platformGenerations,
  },
  platformRsa: {
    name: 'PlatformRsa',
    keySpec: kms.KeySpec.RSA_2048,
    purpose: 'platform RSA signing key',
    detail: 'RS256 ID tokens',
    aliasName: platformRsaKeyAlias,
    generations: platformGenerations,
  },
  audit: {
    name: 'Audit',
    keySpec: kms.KeySpec.ECC_NIST_P256,
    purpose: 'audit-checkpoint signing key',
    detail: 'never deleted',
    aliasName: auditKeyAlias,
    generations: auditGenerations,
  },
  presentation: {
    name: 'Presentation',
    keySpec: kms.KeySpec.ECC_NIST_P256,
    purpose: 'presentation signing key',
    detail: 'presentations, holder PDF signatures; never ID tokens',
    aliasName: presentationKeyAlias,
    generations: platformGenerations,
  },
  notice: {
    name: 'Notice',
    keySpec: kms.KeySpec.ECC_NIST_P256,
    purpose: 'withdrawal notice signing key',
    detail: 'Security Event Tokens to platforms; never ID tokens',
    aliasName: noticeKeyAlias,
    generations: platformGenerations,
  },
};

/** Each signing kind's retiring generations, as {@link ServiceKeys} names them. */
const signingPrevious: Partial<Record<string, `previous${Capitalize<SigningKeyKind>}`>> = {
  platform: 'previousPlatform',
  platformRsa: 'previousPlatformRsa',
  audit: 'previousAudit',
  presentation: 'previousPresentation',
  notice: 'previousNotice',
};

/** The signing key kinds that may retire generations (the audit key never does). */
type RetiringKind = Exclude<SigningKeyKind, 'audit'>;

/** `retiredPlatformKeys`, `retiredPlatformRsaKeys`, `retiredPresentationKeys`, `retiredNoticeKeys`. */
type RetiredOption = `retired${Capitalize<RetiringKind>}Keys`;

const retiredOption = (kind: SigningKeyKind) =>
  `retired${kind[0]!.toUpperCase()}${kind.slice(1)}Keys` as RetiredOption;

export type ServiceKeysProps = { [kind in SigningKeyKind as `${kind}Keys`]?: readonly string[] } & {
  /**
   * Generations taken out of use, each kept in the stack disabled (no alias, no user), so that a
   * generation's logical id never names another key (review M1). A generation below the highest one must
   * be listed in `<kind>Keys` or here.
   */
  [option in RetiredOption]?: readonly string[];
} & {
  /**
   * Construct ids of keys deployed before they were multi-Region (`Platform`, `LookupMac`, `Pii`, …): they
   * stay single-Region, since CloudFormation cannot change a deployed key's `MultiRegion`. Default none.
   */
  singleRegionKeys?: readonly string[];
};

/**
 * The service's own KMS keys:
 *
 * - `platform` (ECC_NIST_P256, SIGN_VERIFY): signs ID tokens and the trust list. Whoever can sign with it
 *   can impersonate anyone to every relying party, so its key policy names its users (the roles of the
 *   functions that sign, and, for `kms:GetPublicKey` alone, of those that only verify) and gives the
 *   account administration only.
 * - `presentation` (ECC_NIST_P256, SIGN_VERIFY, `alias/elicence-presentation`): signs presentations (亮证)
 *   and the holder's printable-licence signatures, and nothing else; only `me` signs with it. Apart from
 *   `platform` so that the internet-facing holder API cannot sign an ID token (review R7 M1); its public
 *   keys are named in the trust list (`presentationKeys`), never in the OpenID JWKS. Same policy shape;
 *   it rotates by generations (`presentationKeys`), a retiring one kept, `kms:GetPublicKey` only, while
 *   what it signed may still be shown.
 * - `notice` (ECC_NIST_P256, SIGN_VERIFY, `alias/elicence-notice`): signs the withdrawal notices
 *   (Security Event Tokens) posted to the platforms' events endpoints, and nothing else; only `notices`
 *   signs with it. Apart from `platform` so that a foothold in `notices` cannot sign an ID token (review
 *   R31 L1); its public keys are published at `/.well-known/notices-jwks.json` (by `trust-list`, which
 *   reads them), never in the OpenID JWKS. Same policy shape; it rotates by generations (`noticeKeys`).
 * - `platformRsa` (RSA_2048, SIGN_VERIFY): signs the ID tokens (and logout tokens) of platforms registered
 *   for RS256, OpenID Connect's mandatory algorithm, and nothing else. Same policy shape as `platform`; it
 *   rotates the same way, by generations (`platformRsaKeys`), its retiring keys published until what they
 *   signed has expired.
 * - `audit` (ECC_NIST_P256, SIGN_VERIFY): signs audit checkpoints and nothing else; only the `audit`
 *   function may use it. Apart from `platform` because the two live differently: ID tokens want a key
 *   rotated often and dropped a week later, a checkpoint must verify for as long as the trail is kept. It
 *   rotates by generations too (`auditKeys`), but a generation is never dropped: every one stays in the
 *   stack, `kms:GetPublicKey` only, and published at `GET /supervision/audit/keys`.
 * - `lookupMac` (HMAC_256): derives lookup keys of personal identifiers, the pairwise salt, and the OAuth
 *   client secrets of clients registered before `clientSecret` existed (until they are rotated onto it).
 *   Same policy shape: named users only.
 * - `web` (HMAC_256): seals the web pages' session cookies and derives the secrets of the service's own
 *   page clients (wallet, demo platform). The page functions hold this key only, never `lookupMac`, so
 *   none of them can derive an operator's, issuer's or platform's client secret. Same policy shape.
 * - `interaction` (HMAC_256): the OpenID provider's own secrets. Derives the keys that seal each sign-in
 *   under way into its cookie (its login result included), MAC the scan-to-login cookie (which code, for
 *   which browser and sign-in) and seal the read hints of authorization codes (an account id, a session
 *   uid). Only the `oidc` function may use it: the lookup key is shared with five other functions, and a
 *   cookie key derived from it would let any of them seal a login result for any account. Same policy
 *   shape.
 * - `clientSecret` (HMAC_256): derives registered OAuth clients' secrets, and nothing else. Only `oidc`
 *   (authenticating clients) and `admin` (showing a secret once) may use it: the lookup key's other
 *   holders (the internet-facing holder, issuer and account APIs) could otherwise compute any client's
 *   secret, an operator's among them. Never rotated (every secret would change). Same policy shape.
 * - `cursor` (HMAC_256): seals the cursors of the audit trail's listings (`GET /supervision/audit`,
 *   `GET /admin/audit`), so that a page starts only where one of the service's pages ended (R14 L2). Only
 *   `audit` and `admin` may use it; it can forge a cursor and nothing else. Replacing it (a new key under
 *   the alias) only sends readers of a long list back to its first page; single-Region like `web` for that
 *   reason. Same policy shape.
 * - `pii` (symmetric ENCRYPT_DECRYPT, rotated yearly): encrypts the ID number of each account, so that it
 *   can be released in the `id_number` claim. Same policy shape, split by direction: registration may
 *   only encrypt and the OpenID provider may only decrypt, both only under the ID-number encryption
 *   context. Rotation keeps the old key material, so earlier ciphertexts still decrypt.
 * - `table` (symmetric, rotated yearly): encrypts the service table. DynamoDB uses it on the callers'
 *   behalf, so it keeps KMS's default policy (IAM decides) and callers get it only via DynamoDB.
 * - `auditTable` (symmetric, rotated yearly, `alias/elicence-audit-table`): encrypts the audit table, and
 *   nothing else. Same shape as `table`, but a key of its own so that key-level controls (its policy,
 *   CloudTrail's record of its use, disabling it) reach the audit trail apart from the service data: only
 *   the roles granted the audit table (or its stream) are given it, through their table grants.
 *
 * Asymmetric and HMAC keys cannot rotate automatically; rotating them means a new key and alias (see
 * DESIGN.md, "Key rotation"). All keys are retained when the stack is deleted: what they signed outlives it.
 */
export class ServiceKeys extends Construct {
  /** The platform key that signs. */
  readonly platform: kms.Key;
  /** Platform keys being retired: still published and trusted, never signing. */
  readonly previousPlatform: kms.Key[];
  /** The RSA platform key that signs RS256 ID tokens. */
  readonly platformRsa: kms.Key;
  /** RSA platform keys being retired: still published, never signing. */
  readonly previousPlatformRsa: kms.Key[];
  /** The audit key that signs checkpoints. */
  readonly audit: kms.Key;
  /** Every earlier audit key: published for ever, never signing. */
  readonly previousAudit: kms.Key[];
  /** The presentation key that signs presentations (and the holder's printable-licence signatures). */
  readonly presentation: kms.Key;
  /** Presentation keys being retired: still named in the trust list, never signing. */
  readonly previousPresentation: kms.Key[];
  /** The notice key that signs withdrawal notices (Security Event Tokens). */
  readonly notice: kms.Key;
  /** Notice keys being retired: still published in the notices JWKS, never signing. */
  readonly previousNotice: kms.Key[];
  readonly lookupMac: kms.Key;
  readonly web: kms.Key;
  /** The OpenID provider's HMAC key for the sign-ins under way; its only user is the `oidc` function. */
  readonly interaction: kms.Key;
  /** The HMAC key of registered clients' secrets; its only users are `oidc` and `admin`. */
  readonly clientSecret: kms.Key;
  /** The HMAC key of the audit trail's listings' cursors; its only users are `audit` and `admin`. */
  readonly cursor: kms.Key;
  readonly pii: kms.Key;
  readonly table: kms.Key;
  /** The audit table's encryption key: the service table's key never encrypts the audit trail. */
  readonly auditTable: kms.Key;

  constructor(scope: Construct, id: string, props: ServiceKeysProps = {}) {
    super(scope, id);
    // Keys deployed before they were multi-Region stay as they are (CloudFormation cannot change it).
    const singleRegion = new Set(props.singleRegionKeys ?? []);
    const multiRegionNames: string[] = [];
    // Spread into a key's props: absent rather than `false` for a single-Region key, as it was deployed,
    // so that its template does not change at all.
    const multiRegion = (name: string): { multiRegion?: true } => {
      multiRegionNames.push(name);
      return singleRegion.has(name) ? {} : { multiRegion: true };
    };
    // The other keys: multi-Region when their output is kept (`multiRegionKeyNames`).
    const kept = (name: string) =>
      (multiRegionKeyNames as readonly string[]).includes(name) ? multiRegion(name) : {};
    // The signing keys, each by generations: a generation's construct id (generation 1 keeps the bare
    // name, so the first deployment's keys are never replaced), retained, administered only by the
    // account; the signing generation first, under an alias of its own (`<name>Alias`), so that a rotation
    // moves it (an update in place) rather than creating it anew on the new key while the old key still
    // holds the name. A retired generation stays in the template, disabled, with no alias and no user
    // (review M1): dropping it would orphan the key, and listing it again later would create a new key,
    // other key material, under the old logical id.
    const keyGenerations = (kind: SigningKeyKind, spec: SigningKeySpec): [kms.Key, kms.Key[]] => {
      const option = `${kind}Keys` as const;
      const listed = spec.generations(props[option] ?? ['1'], option);
      const retired = kind === 'audit' ? [] : retiredGenerations(listed, props[retiredOption(kind)], kind);
      const [current, ...previous] = listed;
      const key = (generation: string, enabled = true) => {
        const name = generation === '1' ? spec.name : `${spec.name}${generation}`;
        return new kms.Key(this, name, {
          description: `elicence ${spec.purpose}, generation ${generation} (${spec.detail})`,
          keySpec: spec.keySpec,
          keyUsage: kms.KeyUsage.SIGN_VERIFY,
          policy: administrationOnlyPolicy(),
          removalPolicy: RemovalPolicy.RETAIN,
          ...multiRegion(name),
          ...(!enabled && { enabled: false }),
        });
      };
      const signing = key(current!);
      const retiring = previous.map((generation) => key(generation));
      for (const generation of retired) key(generation, false);
      new kms.Alias(this, `${spec.name}Alias`, { aliasName: spec.aliasName, targetKey: signing });
      return [signing, retiring];
    };
    [this.platform, this.previousPlatform] = keyGenerations('platform', signingKeys.platform);
    [this.platformRsa, this.previousPlatformRsa] = keyGenerations('platformRsa', signingKeys.platformRsa);
    [this.audit, this.previousAudit] = keyGenerations('audit', signingKeys.audit);
    [this.presentation, this.previousPresentation] = keyGenerations('presentation', signingKeys.presentation);
    [this.notice, this.previousNotice] = keyGenerations('notice', signingKeys.notice);
    // The HMAC keys: one alias each, never rotated (a new key would change every value they derive).
    const macKey = (name: string, description: string, alias: string) =>
      new kms.Key(this, name, {
        description,
        keySpec: kms.KeySpec.HMAC_256,
        keyUsage: kms.KeyUsage.GENERATE_VERIFY_MAC,
        alias,
        policy: administrationOnlyPolicy(),
        removalPolicy: RemovalPolicy.RETAIN,
        ...kept(name),
      });
    this.lookupMac = macKey(
      'LookupMac',
      'elicence HMAC key (identifier lookup keys, pairwise salt, client secrets before rotation)',
      lookupMacKeyAlias,
    );
    this.web = macKey(
      'Web',
      'elicence web pages HMAC key (session cookies, secrets of the page clients)',
      webKeyAlias,
    );
    this.interaction = macKey(
      'Interaction',
      'elicence OpenID provider HMAC key (sign-ins under way: interaction cookies, scan-to-login)',
      interactionKeyAlias,
    );
    this.clientSecret = macKey(
      'ClientSecret',
      'elicence OAuth client secrets HMAC key (registered clients only; never rotated)',
      clientSecretKeyAlias,
    );
    this.cursor = macKey(
      'Cursor',
      'elicence audit trail listing cursors HMAC key (seals the cursors answered; nothing else)',
      cursorKeyAlias,
    );
    this.pii = encryptionKey(this, 'Pii', {
      description: 'elicence personal data encryption key (ID numbers of accounts)',
      keySpec: kms.KeySpec.SYMMETRIC_DEFAULT,
      keyUsage: kms.KeyUsage.ENCRYPT_DECRYPT,
      alias: piiKeyAlias,
      policy: administrationOnlyPolicy(),
      ...kept('Pii'),
    });
    this.table = encryptionKey(this, 'Table', {
      description: 'elicence DynamoDB table encryption key',
      ...kept('Table'),
    });
    this.auditTable = encryptionKey(this, 'AuditTable', {
      description: 'elicence audit table encryption key (the audit trail only)',
      alias: auditTableKeyAlias,
      ...kept('AuditTable'),
    });
    // A misspelt name would leave the key it meant multi-Region, which CloudFormation then refuses to
    // change on the deployed key: refuse it here, naming the keys.
    const unknown = [...singleRegion].filter((name) => !multiRegionNames.includes(name));
    if (unknown.length > 0) {
      throw new Error(
        `singleRegionKeys: ${unknown.join(',')} is no multi-Region key of this stack (keys: ${multiRegionNames.join(',')})`,
      );
    }
  }

  /**
   * Lets `role` take `actions` on one of these keys, as `kmsActions` (functions/grants.ts) says: signing
   * and public-key reads of the platform key, MACs with the lookup, web, interaction or client-secret key, encryption or decryption
   * with the PII key (only under the ID-number encryption context).
   */
  allow(role: iam.IRole, key: Exclude<KeyRole, 'issuer'>, actions: readonly string[]): void {
    // A `previous…` role names every retiring generation; a batch's items are the PII key's.
    const used = key === 'batchItems' || key === 'smsJobs' ? [this.pii] : [this[key]].flat();
    for (const usedKey of used) {
      allowUse(
        usedKey,
        role,
        [...actions],
        key === 'pii'
          ? idNumberContext
          : key === 'batchItems'
            ? batchItemsKeyContext
            : key === 'smsJobs'
              ? smsJobKeyContext
              : undefined,
      );
    } // A rotation's step 1 (`<kind>Keys: "2,1"`): CloudFormation updates the role before the new version
    // is published, and the version still serving (CodeDeploy's canary keeps most calls on it for
    // minutes) signs with generation 1. So a role that signs with a kind's current generation may sign
    // with its first previous one too, while it is listed (R49 F1): nothing more than it could already
    // sign, since that generation is still published and trusted; its retirement (step 2) ends it.
    const previousOf = signingPrevious[key as SigningKeyKind];
    if (previousOf && actions.includes('kms:Sign')) {
      const [first] = this[previousOf];
      if (first) allowUse(first, role, ['kms:Sign', 'kms:GetPublicKey'], undefined, 'Rollout');
    }
  }
}

/**
 * The platform key generations, the signing one first (`['2', '1']` while generation 2 replaces 1). Each
 * generation is a key of its own that keeps its logical id, so a rotation adds a key and retiring one
 * only removes it from the stack (it is retained in the account).
 */
function platformGenerations(generations: readonly string[], option = 'platformKeys'): string[] {
  if (generations.length === 0 || new Set(generations).size !== generations.length) {
    throw new Error(
      `${option}: give distinct generations, the signing one first (got ${generations.join(',')})`,
    );
  }
  for (const generation of generations) {
    if (!/^[1-9]\d{0,3}$/.test(generation)) {
      throw new Error(`${option}: a generation is a number from 1 to 9999 (got "${generation}")`);
    }
  }
  return [...generations];
}

/**
 * The retired generations of `kind`, checked against those `listed` (in use) (review M1): each a
 * generation number, in use or retired but not both, and together every generation from 1 to the highest.
 * A list that leaves one out is refused at synthesis: CloudFormation would orphan its key (retained), and
 * a later list naming it again would create a new key, other key material, under its logical id.
 */
function retiredGenerations(
  listed: readonly string[],
  retired: readonly string[] = [],
  kind: RetiringKind,
): string[] {
  const option = `${kind}Keys`;
  const retiredName = retiredOption(kind);
  if (retired.length > 0) platformGenerations(retired, retiredName);
  const both = retired.filter((generation) => listed.includes(generation));
  if (both.length > 0) {
    throw new Error(
      `${retiredName}: generation ${both.join(',')} is in ${option} too: a generation is in use or retired, not both`,
    );
  }
  const known = new Set([...listed, ...retired].map(Number));
  const highest = Math.max(...known);
  const missing = Array.from({ length: highest }, (_, index) => index + 1).filter((n) => !known.has(n));
  if (missing.length > 0) {
    throw new Error(
      `${option}: generation ${missing.join(',')} (below ${highest}) is neither listed nor retired: dropped from ` +
        `the template its key would be orphaned, and listed again later a new key would take its logical id. ` +
        `Keep it in ${option}, or retire it: ${retiredName}: "${missing.join(',')}" (docs/operating.md, "Key rotation")`,
    );
  }
  return [...retired];
}

/**
 * The audit key generations, the signing one first: exactly `n, n-1, …, 1` (security review L2). A
 * checkpoint must verify for as long as the trail is kept, so no generation is ever dropped: a list that
 * skips one (`3,1`), leaves out 1 (`2`) or is out of order is refused at synthesis, before a deployment
 * could remove a key from the audit function (and its public key from `GET /supervision/audit/keys`).
 */
function auditGenerations(generations: readonly string[], option = 'auditKeys'): string[] {
  const listed = platformGenerations(generations, option);
  const expected = listed.map((_, index) => String(listed.length - index));
  if (listed.join(',') !== expected.join(',')) {
    throw new Error(
      `${option}: a generation is never dropped: give ${expected.join(',')} (the signing one first, down to 1), got ${listed.join(',')}`,
    );
  }
  return listed;
}

/**
 * Grants use of a key in both places that can: the key policy names the role (without it the key would
 * refuse, since the account is not trusted to use it) and the role's own policy names the key (so the
 * role's permissions read as what it does).
 */
function allowUse(
  key: kms.Key,
  role: iam.IRole,
  actions: string[],
  conditions?: Record<string, Record<string, unknown>>,
  /** Told apart from the role's other statement on the same key (a retiring generation's `Rollout`). */
  sidSuffix = '',
): void {
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: `UseBy${role.node.path.replace(/[^A-Za-z0-9]/g, '')}`.slice(0, 100 - sidSuffix.length) + sidSuffix,
      principals: [role],
      actions,
      resources: ['*'],
      ...(conditions && { conditions }),
    }),
  );
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({ actions, resources: [key.keyArn], ...(conditions && { conditions }) }),
  );
}
