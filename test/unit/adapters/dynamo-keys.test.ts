import { describe, expect, it } from 'vitest';
import { stringLike } from '../../../infra/local/grant-guard.js';
import {
  carriedEntryKey,
  grantAuditPrefix,
  grantEndAuditPrefix,
  phoneProofAuditPrefix,
} from '../../../shared/pending-work/pending-work.js';
import {
  fixedPartitions,
  indexKeys,
  keys,
  leadingKeys,
  prefixes,
  sortKeys,
  sortPrefixes,
} from '../../../shared/adapters/dynamo/keys.js';

/*
 * The key strings are the stored data's contract: an item written under a prefix is found again only under
 * that exact prefix, and IAM grants name them. These expectations are spelled out by hand on purpose; a
 * change here means every stored item of that kind needs migrating, not just this test updating.
 */
describe('the table’s keys, as stored', () => {
  it('keeps every partition-key prefix, fixed partition and sort key as written today', () => {
    expect(prefixes).toEqual({
      oidc: 'oidc#',
      oidcUid: 'oidc-uid#',
      oidcUserCode: 'oidc-user-code#',
      oidcGrant: 'oidc-grant#',
      issuer: 'issuer#',
      issuerId: 'issuer-id#',
      licence: 'licence#',
      holder: 'holder#',
      issuerLicences: 'issuer-licences#',
      idempotency: 'idempotency#',
      audit: 'audit#',
      auditLicence: 'audit-licence#',
      auditHolder: 'audit-holder#',
      auditHolderAction: 'audit-holder-action#',
      auditChain: 'audit-chain#',
      auditOnce: 'audit-once#',
      auditCheckpointHeads: 'audit-checkpoint-heads#',
      statusListCounter: 'status-list-counter#',
      statusList: 'status-list#',
      registryPerson: 'registry-person#',
      registryEntity: 'registry-entity#',
      registryRepresentative: 'registry-representative#',
      account: 'account#',
      accountId: 'account-id#',
      entityAccount: 'entity-account#',
      entityAccountId: 'entity-account-id#',
      entityAgents: 'entity-agents#',
      agentPerson: 'agent-person#',
      loginAttempts: 'login-attempts#',
      webSession: 'web-session#',
      scanLogin: 'scan-login#',
      interactionState: 'interaction-state#',
      dpopProof: 'dpop-proof#',
      passkey: 'passkey#',
      passkeysOf: 'passkeys-of#',
      passkeyChallenge: 'passkey-challenge#',
      smsCode: 'sms-code#',
      smsTry: 'sms-try#',
      smsUsed: 'sms-used#',
      oidcAccount: 'oidc-account#',
      registryCarrier: 'registry-carrier#',
      statistics: 'stats#',
      statisticsCounted: 'stats-counted#',
      statisticsMonth: 'stats-month#',
      alertWindow: 'alert-window#',
      alert: 'alert#',
      alertsMonth: 'alerts#',
      batch: 'batch#',
      batchItems: 'batch-items#',
      batchSlots: 'batch-slots#',
      smsJob: 'sms-job#',
      pendingWork: 'pending-work#',
      pendingAudit: 'pending-audit#',
      pendingIssuerAudit: 'pending-issuer-audit#',
      pendingProviderAudit: 'pending-provider-audit#',
      pendingAccountAudit: 'pending-account-audit#',
    });
    expect(fixedPartitions).toEqual({
      trustList: 'trust-list',
      issuers: 'issuers',
      auditCheckpoints: 'audit-checkpoint',
      auditCheckpointLimit: 'audit-checkpoint-limit',
      peers: 'peers',
      notices: 'notices',
      auditUsageIndex: 'audit-usage-index',
    });
    expect(sortKeys).toEqual({
      oidc: 'oidc',
      issuer: 'issuer',
      licence: 'licence',
      idempotency: 'idempotency',
      statusListCounter: 'status-list-counter',
      statusList: 'status-list',
      trustList: 'trust-list',
      person: 'person',
      account: 'account',
      entity: 'entity',
      loginAttempts: 'login-attempts',
      webSession: 'web-session',
      scanLogin: 'scan-login',
      interactionState: 'interaction-state',
      dpopProof: 'dpop-proof',
      passkey: 'passkey',
      passkeyChallenge: 'passkey-challenge',
      smsCode: 'sms-code',
      smsTry: 'sms-try',
      smsUsed: 'sms-used',
      subscriber: 'subscriber',
      statistics: 'stats',
      alertWindow: 'alert-window',
      alert: 'alert',
      batch: 'batch',
      batchSlots: 'batch-slots',
      smsJob: 'sms-job',
      auditOnce: 'audit-once',
    });
    expect(sortPrefixes).toEqual({ holderLicence: 'licence#', agent: 'person#', auditChain: 'chain#' });
  });

  it('builds each item’s primary key as stored', () => {
    expect(keys.oidc('AccessToken', 'h4sh')).toEqual({ pk: 'oidc#AccessToken#h4sh', sk: 'oidc' });
    expect(keys.issuer('91350100M000100Y43')).toEqual({ pk: 'issuer#91350100M000100Y43', sk: 'issuer' });
    expect(keys.licence('lic_1')).toEqual({ pk: 'licence#lic_1', sk: 'licence' });
    expect(keys.idempotency('iss_1', 'k-1')).toEqual({ pk: 'idempotency#iss_1#k-1', sk: 'idempotency' });
    expect(keys.audit('2026-11-22T08:00:00.000Z', 7, 'audit_x')).toEqual({
      pk: 'audit#2026-11-22#7',
      sk: '2026-11-22T08:00:00.000Z#audit_x',
    });
    expect(keys.statusListCounter('iss_1')).toEqual({
      pk: 'status-list-counter#iss_1',
      sk: 'status-list-counter',
    });
    expect(keys.statusList('iss_1.0')).toEqual({ pk: 'status-list#iss_1.0', sk: 'status-list' });
    expect(keys.trustList()).toEqual({ pk: 'trust-list', sk: 'trust-list' });
    expect(keys.peer('peer_1')).toEqual({ pk: 'peers', sk: 'peer_1' });
    expect(keys.notice('2026-12-06T08:00:00.000Z', 'evt_1')).toEqual({
      pk: 'notices',
      sk: '2026-12-06T08:00:00.000Z#evt_1',
    });
    expect(keys.abandonedNotice('evt_1')).toEqual({ pk: 'notices', sk: 'abandoned#evt_1' });
    // A licence's pending work, and a withdrawal's audit entry saved under its key in a partition apart.
    expect(keys.pendingWork(3, 'lic_1')).toEqual({ pk: 'pending-work#3', sk: 'lic_1' });
    expect(keys.pendingAudit(3, 'authorization-withdrawn#g_1#w_1')).toEqual({
      pk: 'pending-audit#3',
      sk: 'authorization-withdrawn#g_1#w_1',
    });
    // An operator's change (of an issuer, a client, a peer), its audit entry saved under its key in a
    // partition of its own.
    expect(keys.pendingIssuerAudit(3, 'issuer-changed#iss_1#7')).toEqual({
      pk: 'pending-issuer-audit#3',
      sk: 'issuer-changed#iss_1#7',
    });
    // The accounts function's changes (a registration, an agent appointed or withdrawn): one shard.
    expect(keys.pendingAccountAudit(0, 'agent-changed#agt_1#2')).toEqual({
      pk: 'pending-account-audit#0',
      sk: 'agent-changed#agt_1#2',
    });
    // The OpenID provider's changes (a takeover or a reset by a phone code): one shard.
    expect(keys.pendingProviderAudit(0, 'phone-proof#acc_1#4')).toEqual({
      pk: 'pending-provider-audit#0',
      sk: 'phone-proof#acc_1#4',
    });
    expect(keys.registryPerson('lk')).toEqual({ pk: 'registry-person#lk', sk: 'person' });
    expect(keys.registryEntity('cc')).toEqual({ pk: 'registry-entity#cc', sk: 'entity' });
    expect(keys.registryCarrier('lk', 'pk')).toEqual({ pk: 'registry-carrier#lk#pk', sk: 'subscriber' });
    expect(keys.statistics('2026-03-01', 'iss_1', 'driving-licence', 3)).toEqual({
      pk: 'stats#2026-03-01#iss_1#driving-licence#3',
      sk: 'stats',
    });
    expect(keys.alert('bulk-status-change#iss_1#2026-03-01T09:00:00.000Z')).toEqual({
      pk: 'alert#bulk-status-change#iss_1#2026-03-01T09:00:00.000Z',
      sk: 'alert',
    });
    expect(keys.batch('bat_1')).toEqual({ pk: 'batch#bat_1', sk: 'batch' });
    expect(keys.batchChunk('bat_1', 'h4sh', 3)).toEqual({ pk: 'batch-items#bat_1', sk: 'h4sh#0003' });
    expect(keys.batchSlots('iss_1')).toEqual({ pk: 'batch-slots#iss_1', sk: 'batch-slots' });
    expect(keys.smsJob('j1')).toEqual({ pk: 'sms-job#j1', sk: 'sms-job' });
    expect(keys.account('lk')).toEqual({ pk: 'account#lk', sk: 'person' });
    expect(keys.accountById('acc_1')).toEqual({ pk: 'account#acc_1', sk: 'account' });
    expect(keys.entityAccount('cc')).toEqual({ pk: 'entity-account#cc', sk: 'entity' });
    expect(keys.entityAgent('cc', 'lk')).toEqual({ pk: 'entity-agents#cc', sk: 'person#lk' });
    expect(keys.loginAttempts('pair#lk.src')).toEqual({
      pk: 'login-attempts#pair#lk.src',
      sk: 'login-attempts',
    });
    expect(keys.webSession('digest')).toEqual({ pk: 'web-session#digest', sk: 'web-session' });
    expect(keys.scanLogin('digest')).toEqual({ pk: 'scan-login#digest', sk: 'scan-login' });
    expect(keys.interactionState('Vx3kq9ZyT1aB2cD3eF4gH')).toEqual({
      pk: 'interaction-state#Vx3kq9ZyT1aB2cD3eF4gH',
      sk: 'interaction-state',
    });
    expect(keys.dpopProof('digest')).toEqual({ pk: 'dpop-proof#digest', sk: 'dpop-proof' });
    expect(keys.passkey('cred')).toEqual({ pk: 'passkey#cred', sk: 'passkey' });
    expect(keys.passkeyChallenge('ch')).toEqual({ pk: 'passkey-challenge#ch', sk: 'passkey-challenge' });
    expect(indexKeys.passkeysOf('acc_1')).toBe('passkeys-of#acc_1');
    expect(indexKeys.passkeyOf('2026-01-01T00:00:00Z', 'cred')).toBe('2026-01-01T00:00:00Z#cred');
    expect(keys.smsCode('digest')).toEqual({ pk: 'sms-code#digest', sk: 'sms-code' });
    expect(keys.smsTry('digest', 'c1')).toEqual({ pk: 'sms-try#digest#c1', sk: 'sms-try' });
    expect(indexKeys.oidcAccount('acc_1')).toBe('oidc-account#acc_1');
  });

  it('builds the index keys as stored', () => {
    expect(indexKeys.oidcUid('u')).toBe('oidc-uid#u');
    expect(indexKeys.oidcUserCode('ABCD')).toBe('oidc-user-code#ABCD');
    expect(indexKeys.oidcGrant('g')).toBe('oidc-grant#g');
    expect(indexKeys.oidcGrantMember('RefreshToken', 'h')).toBe('RefreshToken#h');
    expect(indexKeys.issuerId('iss_1')).toBe('issuer-id#iss_1');
    expect(indexKeys.holder('lk')).toBe('holder#lk');
    expect(indexKeys.holderLicence('2026-01-01T00:00:00Z', 'lic_1')).toBe(
      'licence#2026-01-01T00:00:00Z#lic_1',
    );
    expect(indexKeys.issuerLicences('iss_1')).toBe('issuer-licences#iss_1');
    expect(indexKeys.issuerLicence('2026-01-01T00:00:00Z', 'lic_1')).toBe('2026-01-01T00:00:00Z#lic_1');
    expect(indexKeys.auditLicence('lic_1')).toBe('audit-licence#lic_1');
    expect(indexKeys.auditHolder('hk_1')).toBe('audit-holder#hk_1');
    expect(indexKeys.auditHolderAction('hk_1', 'licence.shared')).toBe(
      'audit-holder-action#hk_1#licence.shared',
    );
    expect(keys.auditOnce('lic_1#2#0')).toEqual({ pk: 'audit-once#lic_1#2#0', sk: 'audit-once' });
    expect(keys.auditUsageIndex()).toEqual({ pk: 'audit-usage-index', sk: 'audit-usage-index' });
    expect(indexKeys.registryRepresentative('lk')).toBe('registry-representative#lk');
    expect(indexKeys.accountId('acc_1')).toBe('account-id#acc_1');
    expect(indexKeys.entityAccountId('ent_1')).toBe('entity-account-id#ent_1');
    expect(indexKeys.agentPerson('lk')).toBe('agent-person#lk');
    expect(indexKeys.entityAgents('cc')).toBe('entity-agents#cc');
  });
});

describe('the IAM LeadingKeys patterns, from the same prefixes', () => {
  it('grants each prefix as `<prefix>*`, the trust list exactly, and one OIDC model or counter kind', () => {
    for (const [name, prefix] of Object.entries(prefixes)) {
      expect(leadingKeys[name as keyof typeof prefixes]).toBe(`${prefix}*`);
    }
    expect(leadingKeys.trustList).toBe('trust-list');
    expect(leadingKeys.peers).toBe('peers');
    expect(leadingKeys.oidcModel('AccessToken')).toBe('oidc#AccessToken#*');
    expect(leadingKeys.loginAttemptsOf('registration')).toBe('login-attempts#registration#*');
  });

  it('matches the keys the builders make, and not the neighbouring kinds', () => {
    expect(stringLike(leadingKeys.licence, keys.licence('lic_1').pk)).toBe(true);
    expect(stringLike(leadingKeys.issuer, keys.issuer('cc').pk)).toBe(true);
    // `issuer#*` must not reach the issuer-id or issuer-licences partitions, nor `status-list#*` the counters.
    expect(stringLike(leadingKeys.issuer, indexKeys.issuerId('x'))).toBe(false);
    expect(stringLike(leadingKeys.statusList, keys.statusListCounter('iss_1').pk)).toBe(false);
    // The five kinds of pending work: no grant of one reaches another's (admin's, me's, accounts', oidc's,
    // the licences').
    const pendingKinds = [
      leadingKeys.pendingWork,
      leadingKeys.pendingAudit,
      leadingKeys.pendingIssuerAudit,
      leadingKeys.pendingAccountAudit,
      leadingKeys.pendingProviderAudit,
    ];
    const pendingItems = [
      keys.pendingWork(0, 'l'),
      keys.pendingAudit(0, 'w'),
      keys.pendingIssuerAudit(0, 'i'),
      keys.pendingAccountAudit(0, 'a'),
      keys.pendingProviderAudit(0, 'p'),
    ];
    pendingKinds.forEach((pattern, i) =>
      pendingItems.forEach((item, j) => expect(stringLike(pattern, item.pk)).toBe(i === j)),
    );
    expect(stringLike(leadingKeys.issuer, keys.pendingIssuerAudit(0, 'i').pk)).toBe(false);
    expect(stringLike(leadingKeys.account, keys.pendingAccountAudit(0, 'a').pk)).toBe(false);
    expect(stringLike(leadingKeys.trustList, keys.trustList().pk)).toBe(true);
    // The provider's once-marks: a phone proof's entries (both keys of one), no other change's (R26).
    expect(leadingKeys.phoneProofOnce).toBe(`audit-once#${phoneProofAuditPrefix}*`);
    for (const own of ['phone-proof#acc_1#4', carriedEntryKey('phone-proof#acc_1#4', 1)]) {
      expect(stringLike(leadingKeys.phoneProofOnce, keys.auditOnce(own).pk), own).toBe(true);
    }
    for (const other of ['account-closed#acc_1', 'issuer-changed#iss_1#2', 'lic_1#2#0', 'phone-proof']) {
      expect(stringLike(leadingKeys.phoneProofOnce, keys.auditOnce(other).pk), other).toBe(false);
    }
    // And a consent's to share (its grant's key), no withdrawal's nor any other change's.
    expect(leadingKeys.grantOnce).toBe(`audit-once#${grantAuditPrefix}*`);
    expect(stringLike(leadingKeys.grantOnce, keys.auditOnce(`${grantAuditPrefix}g_1`).pk)).toBe(true);
    for (const other of ['authorization-withdrawn#g_1#1', 'phone-proof#acc_1#4', 'authorization-granted']) {
      expect(stringLike(leadingKeys.grantOnce, keys.auditOnce(other).pk), other).toBe(false);
    }
    // And a grant's end by the provider itself (review R34 L1), no other change's.
    expect(leadingKeys.grantEndOnce).toBe(`audit-once#${grantEndAuditPrefix}*`);
    expect(stringLike(leadingKeys.grantEndOnce, keys.auditOnce(`${grantEndAuditPrefix}g_1`).pk)).toBe(true);
    for (const other of ['authorization-withdrawn#g_1#1', `${grantAuditPrefix}g_1`, 'authorization-ended']) {
      expect(stringLike(leadingKeys.grantEndOnce, keys.auditOnce(other).pk), other).toBe(false);
    }
    // Licences' marks (review R52): under the licence id's root, every key of a licence change and no other
    // change's; a group's marks its own alone.
    expect(leadingKeys.licenceOnce).toBe('audit-once#1.2.156.3005.2.*');
    const licence = '1.2.156.3005.2.001.91330100716105852F.42.001.D';
    for (const own of [`${licence}#2#0`, `${licence}#licence.revoked#2026-03-01T00:00:00.000Z`]) {
      expect(stringLike(leadingKeys.licenceOnce, keys.auditOnce(own).pk), own).toBe(true);
    }
    for (const other of [
      'account-closed#acc_1',
      'issuer-changed#iss_1#2',
      'lic_1#2#0',
      'phone-proof#acc_1#4',
    ]) {
      expect(stringLike(leadingKeys.licenceOnce, keys.auditOnce(other).pk), other).toBe(false);
    }
    // An issuance's alone, for `batches` (review R57 F1): version 1's entry, no later change's.
    expect(leadingKeys.licenceIssuedOnce).toBe('audit-once#1.2.156.3005.2.*#1#0');
    expect(stringLike(leadingKeys.licenceIssuedOnce, keys.auditOnce(`${licence}#1#0`).pk)).toBe(true);
    for (const other of [
      `${licence}#2#0`,
      `${licence}#11#0`,
      `${licence}#1#1`,
      `${licence}#21#0`,
      `${licence}#licence.revoked#2026-03-01T00:00:00.000Z`,
      'lic_1#1#0',
      'account-closed#acc_1#1#0',
    ]) {
      expect(stringLike(leadingKeys.licenceIssuedOnce, keys.auditOnce(other).pk), other).toBe(false);
    }
    expect(leadingKeys.onceOf('account-closed#')).toBe('audit-once#account-closed#*');
    expect(stringLike(leadingKeys.onceOf('account-closed#'), keys.auditOnce('account-closed#acc_1').pk)).toBe(
      true,
    );
    expect(stringLike(leadingKeys.onceOf('account-closed#'), keys.auditOnce(`${licence}#2#0`).pk)).toBe(
      false,
    );
    expect(stringLike(leadingKeys.oidcModel('AccessToken'), keys.oidc('AccessToken', 'h').pk)).toBe(true);
    expect(stringLike(leadingKeys.oidcModel('Client'), keys.oidc('ClientCredentials', 'h').pk)).toBe(false);
    // A spilled interaction's state is apart from every `oidc#` grant (`oidc#*` included), and they from it.
    expect(stringLike(leadingKeys.interactionState, keys.interactionState('u').pk)).toBe(true);
    expect(stringLike(leadingKeys.oidc, keys.interactionState('u').pk)).toBe(false);
    expect(stringLike(leadingKeys.interactionState, keys.oidc('Interaction', 'u').pk)).toBe(false);
    expect(
      stringLike(leadingKeys.loginAttemptsOf('registration'), keys.loginAttempts('registration#d').pk),
    ).toBe(true);
    expect(stringLike(leadingKeys.loginAttemptsOf('registration'), keys.loginAttempts('pair#d').pk)).toBe(
      false,
    );
  });
});
