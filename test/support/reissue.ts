import { expect } from 'vitest';
import { licences as licenceStoreFactory } from '../../functions/composition/factories.js';
import type { LicenceRecord } from '../../shared/licence/licence.js';
import type { LicenceStore } from '../../shared/licence/licence-store.js';
import { issueDrivingLicence, verified } from '../integration/verify/helpers.js';
import { onboardIssuer, postJson } from './http-api.js';
import { expectJson, getWithToken, licencePath, listAll, type LicenceJson } from './licences.js';
import { clientCredentialsToken, startTestRuntime, type TestRuntime } from './runtime.js';

/** Failures to inject once into the licence store every function of a re-issue runtime uses. */
export interface ReissueFaults {
  /** Die between writing the replacement and revoking the old licence (as a crash would). */
  failRevokeOfReissued: boolean;
  /** Die before writing the replacement. */
  failCreateOfReplacement: boolean;
  /** Run once right after a replacement is written: a clerk's change between the claim and the revocation. */
  afterReplacementWritten?: (replacement: LicenceRecord) => Promise<unknown>;
  /** Run once right after the `nth` read of licence `id` answers (the read answers what it read before). */
  afterRead?: { id: string; nth: number; run: () => Promise<void> };
}

/** The licence as the issuer API answers it, with the re-issue's members. */
export interface ReissuedLicence extends LicenceJson {
  keyWithdrawn?: true;
  replaces?: string;
  replacedBy?: string;
  statusReason?: string;
  validFrom: string;
  validUntil?: string;
  history?: Array<{ action: string; reasonCode?: string; replaces?: string; replacedBy?: string }>;
}

/** `store` failing as `faults` asks, once each: the request dies there, as a crash would. */
function faultyLicences(store: LicenceStore, faults: ReissueFaults): LicenceStore {
  return {
    create: async (licence) => {
      if (faults.failCreateOfReplacement && licence.replaces) {
        faults.failCreateOfReplacement = false;
        throw new Error('injected: died before writing the new licence');
      }
      const created = await store.create(licence);
      const hook = licence.replaces ? faults.afterReplacementWritten : undefined;
      if (hook) faults.afterReplacementWritten = undefined;
      await hook?.(created);
      return created;
    },
    get: async (id) => {
      const got = await store.get(id);
      const hook = faults.afterRead?.id === id ? faults.afterRead : undefined;
      if (hook && --hook.nth === 0) {
        faults.afterRead = undefined;
        await hook.run();
      }
      return got;
    },
    save: async (licence) => {
      if (faults.failRevokeOfReissued && licence.status === 'revoked' && licence.replacedBy) {
        faults.failRevokeOfReissued = false;
        throw new Error('injected: died between writing the new licence and revoking the old');
      }
      return store.save(licence);
    },
    clearPending: (id, version) => store.clearPending(id, version),
    listByIssuer: (issuerId, query) => store.listByIssuer(issuerId, query),
    countByIssuer: (issuerId, filter, cap) => store.countByIssuer(issuerId, filter, cap),
    listByHolder: (key) => store.listByHolder(key),
  };
}

/** A runtime for re-issues: its licence store fails on request, one issuer of driving licences onboarded. */
export interface ReissueWorld {
  runtime: TestRuntime;
  faults: ReissueFaults;
  admin: string;
  issuer: Awaited<ReturnType<typeof onboardIssuer>>;
  /** The issuer's `licences:issue` token. */
  token: string;
  /** `POST /licences/{id}/reissue` (with the issuer's token, unless another is given). */
  reissue(id: string, bearer?: string): Promise<Response>;
  /** `GET /licences/{id}`, which must answer 200. */
  read(id: string): Promise<ReissuedLicence>;
  /** The issuer's licences that replace `id`. */
  replacementsOf(id: string): Promise<ReissuedLicence[]>;
  /** What `/verify` answers of licence `id`'s credential as it reads now. */
  verdictOf(id: string): Promise<string>;
  /** A re-issue of a fresh licence that dies after writing its replacement (a 500): the two licences. */
  halfDoneReissue(): Promise<{ oldId: string; newId: string }>;
  close(): Promise<void>;
}

/**
 * Starts a {@link ReissueWorld}.
 *
 * @example
 * ```ts
 * const world = await startReissueWorld();
 * const { oldId, newId } = await world.halfDoneReissue();
 * ```
 */
export async function startReissueWorld(): Promise<ReissueWorld> {
  const faults: ReissueFaults = { failRevokeOfReissued: false, failCreateOfReplacement: false };
  const runtime = await startTestRuntime(
    undefined,
    {},
    { licences: (operator) => faultyLicences(licenceStoreFactory(operator), faults) },
  );
  const admin = await clientCredentialsToken(runtime, runtime.credentials.admin, 'admin');
  const issuer = await onboardIssuer(runtime, admin, { licenceTypes: ['driving-licence'] });
  const token = await clientCredentialsToken(runtime, issuer, 'licences:issue');
  const reissue = (id: string, bearer = token) =>
    postJson(runtime, `${licencePath(id)}/reissue`, bearer, undefined);
  const read = async (id: string) =>
    expectJson<ReissuedLicence>(await getWithToken(runtime, licencePath(id), token), 200);
  const replacementsOf = async (id: string) =>
    ((await listAll(runtime, token)) as ReissuedLicence[]).filter((licence) => licence.replaces === id);
  const verdictOf = async (id: string) => (await verified(runtime, (await read(id)).credential)).verdict;
  return {
    runtime,
    faults,
    admin,
    issuer,
    token,
    reissue,
    read,
    replacementsOf,
    verdictOf,
    async halfDoneReissue() {
      const old = await issueDrivingLicence(runtime, token);
      faults.failRevokeOfReissued = true;
      expect((await reissue(old.id)).status).toBe(500);
      const [replacement] = await replacementsOf(old.id);
      return { oldId: old.id, newId: replacement!.id };
    },
    close: () => runtime.close(),
  };
}
