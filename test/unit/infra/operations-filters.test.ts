import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { serverErrorFilterPattern } from '../../../infra/constructs/http-api.js';
import { operationsFilterPatterns } from '../../../infra/constructs/operations-alarms.js';
import { checkSmsCode, smsCodePolicy } from '../../../shared/identity/sms-codes.js';
import {
  creditCodeCheckCharacter,
  organisationCodeCheckCharacter,
} from '../../../shared/identifiers/credit-code.js';
import {
  peersRefreshedLine,
  refreshAllPeers,
  registerPeer,
  removePeer,
  stalePeers,
} from '../../../shared/issuers/peers.js';
import { trustListOverPeerLimitLine } from '../../../shared/licence/trust-list-token.js';
import { alarmedLines, logger } from '../../../shared/logger.js';
import { InMemoryAudit } from '../../support/in-memory-identity.js';
import { InMemoryPeerStore } from '../../support/in-memory-peers.js';
import { smsJobDependencies } from '../../support/in-memory-sms.js';
import { filterPatternMatches as matches, loggedLines } from '../../support/logged-lines.js';

/**
 * The metric filters of the on-call's alarms (infra/constructs/operations-alarms.ts, http-api.ts),
 * evaluated against the lines the code really logs, so that a reworded message cannot silence an alarm
 * (the abandoned notices' in test/unit/sharing/withdrawal-notices.test.ts, the audit check's in
 * test/integration/supervision/audit-check.test.ts).
 */
describe('the on-call alarms’ metric filters', () => {
  it('count the peers whose copy is past the stale age, whatever their status, on every round', async () => {
    const config = {
      platformRegion: '110000',
      peers: { staleSeconds: 86_400, maxAgeSeconds: 604_800, fetchTimeoutMs: 5000 },
    };
    const now = Date.parse('2026-12-06T12:00:00Z');
    const peers = [
      { id: 'peer_fresh', status: 'ok', fetchedAt: '2026-12-06T11:45:00Z' },
      // Untrusted since its last fetch, and its good copy two days old: past the stale age all the same.
      { id: 'peer_old', status: 'untrusted', fetchedAt: '2026-12-04T11:00:00Z' },
      { id: 'peer_down', status: 'failed', fetchedAt: '2026-12-05T11:59:59Z' },
    ];
    const stale = stalePeers(peers, now, config);
    expect(stale).toEqual(['peer_old', 'peer_down']);
    const lines = await loggedLines(async () =>
      logger.info(peersRefreshedLine, { peers, stalePeers: stale.length }),
    );
    expect(lines).toHaveLength(1);
    expect(matches(operationsFilterPatterns.peersRefreshed.logPatternString, lines[0]!)).toBe(true);
    // The metric's value is the line's `stalePeers` (MetricValue `$.stalePeers`).
    expect((JSON.parse(lines[0]!) as { stalePeers: number }).stalePeers).toBe(2);
  });

  it('count two peers’ issuers colliding, at the registration that brings it and at each round while both list it', async () => {
    const now = Date.parse('2026-12-07T10:00:00Z');
    /** A valid government-agency credit code registered in `region` (GB 32100). */
    const code = (region: string, n: number) => {
      const body = String(n).padStart(8, '0');
      const first17 = `11${region}${body}${organisationCodeCheckCharacter(body)}`;
      return `${first17}${creditCodeCheckCharacter(first17)}`;
    };
    const { publicKey: issuerKey } = await generateKeyPair('ES256');
    const issuerJwk = { ...(await exportJWK(issuerKey)), kid: 'k1' };
    const entry = (id: string, creditCode: string, region: string) => ({
      id,
      name: id,
      creditCode,
      region,
      status: 'active',
      jwks: { keys: [issuerJwk] },
    });
    /** A peer platform whose trust list its own key signs. */
    const platform = async (baseUrl: string, issuers: unknown[]) => {
      const { privateKey, publicKey } = await generateKeyPair('ES256');
      const iat = Math.floor(now / 1000) - 60;
      const jws = await new SignJWT({ issuers, ttl: 3600 })
        .setProtectedHeader({ alg: 'ES256', typ: 'trust-list+jwt', kid: 'p1' })
        .setIssuer(baseUrl)
        .setIssuedAt(iat)
        .setExpirationTime(iat + 604_800)
        .sign(privateKey);
      return { baseUrl, jws, jwks: { keys: [{ ...(await exportJWK(publicKey)), kid: 'p1' }] } };
    };
    // Both name the issuer id `iss_Shared`, each with a credit code of its own region.
    const jiangsu = await platform('https://js.example.gov.cn', [
      entry('iss_Shared', code('320000', 1), '320000'),
      entry('iss_JiangsuOwn', code('320000', 2), '320000'),
    ]);
    const zhejiang = await platform('https://zj.example.gov.cn', [
      entry('iss_Shared', code('330000', 3), '330000'),
    ]);
    const served = [jiangsu, zhejiang];
    const fetch = (async (url: string | URL) => {
      const found = served.find((peer) => String(url) === `${peer.baseUrl}/trust-list`);
      return new Response(found?.jws ?? 'not found', { status: found ? 200 : 404 });
    }) as typeof globalThis.fetch;
    const peers = new InMemoryPeerStore();
    const deps = {
      peers,
      operatorAudit: peers.pendingAudit,
      issuers: { listAll: async () => [] },
      audit: new InMemoryAudit(),
      clock: { now: () => now },
      config: {
        issuerUrl: 'https://elicence.example.gov.cn',
        platformRegion: '110000',
        peers: { staleSeconds: 86_400, maxAgeSeconds: 604_800, fetchTimeoutMs: 5000 },
      },
      fetch,
    };
    const operator = { clientId: 'cl_operator' };
    const register = (peer: typeof jiangsu, region: string) =>
      registerPeer({ name: region, region, baseUrl: peer.baseUrl, jwks: peer.jwks as never }, operator, deps);
    const counted = (lines: string[]) =>
      lines
        .filter((line) => matches(operationsFilterPatterns.peerCollisions.logPatternString, line))
        .map((line) => JSON.parse(line) as { level: string; peer: string; collisions: unknown[] });

    // The first peer alone: nothing to count.
    let js = '';
    expect(counted(await loggedLines(async () => ({ id: js } = await register(jiangsu, '320000'))))).toEqual(
      [],
    );
    let zj = '';
    const registered = counted(
      await loggedLines(async () => ({ id: zj } = await register(zhejiang, '330000'))),
    );
    expect(registered).toEqual([
      expect.objectContaining({
        level: 'ERROR',
        peer: zj,
        collisions: [{ id: 'iss_Shared', creditCode: code('330000', 3), with: js }],
      }),
    ]);
    // The schedule's round accepts each peer's issuers again: the clash is counted at each round (at
    // both peers) for as long as both list it, so the alarm holds.
    const round = counted(await loggedLines(() => refreshAllPeers(deps)));
    expect(round.map((line) => line.peer).sort()).toEqual([js, zj].sort());
    // The peer at fault removed: the next round counts nothing.
    await removePeer(zj, operator, deps);
    expect(counted(await loggedLines(() => refreshAllPeers(deps)))).toEqual([]);
  });

  it('count each signature of a trust list our own issuers make too large for a peer (R40 L1), and nothing else', async () => {
    const lines = await loggedLines(async () => {
      alarmedLines.warn(trustListOverPeerLimitLine, {
        ownChars: 140_000,
        peerLimitBytes: 131_072,
        issuers: 12,
        batchKeys: 104,
      });
      logger.error('trust list full: peers left out', { leftOut: [] });
    });
    const counted = lines.filter((line) =>
      matches(operationsFilterPatterns.trustListOverPeerLimit.logPatternString, line),
    );
    expect(counted).toHaveLength(1);
    expect(JSON.parse(counted[0]!)).toMatchObject({ level: 'WARN', batchKeys: 104 });
  });

  it('count the SMS code check that fills the daily ceiling and each it refuses, from a line with the purpose and no phone or person', async () => {
    const deps = smsJobDependencies();
    const subject = {
      purpose: 'reset' as const,
      lookupKey: 'lookup-key-of-the-person',
      phone: '+8613800138000',
    };
    const checks = smsCodePolicy.personDailyFailureCap + 2;
    const lines = await loggedLines(async () => {
      for (let i = 0; i < checks; i++) await checkSmsCode(subject, '000000', deps);
    });
    // The check that fills the ceiling is counted (a lock is seen even if its maker stops there), and the
    // two past it, one line each; the 19 before it are not.
    const counted = lines.filter((line) =>
      matches(operationsFilterPatterns.smsCheckCeiling.logPatternString, line),
    );
    expect(counted.map((line) => (JSON.parse(line) as { outcome: string }).outcome)).toEqual([
      'filled',
      'refused',
      'refused',
    ]);
    for (const line of counted) {
      expect(JSON.parse(line)).toMatchObject({ purpose: 'reset' });
      expect(line).not.toContain('13800138000');
      expect(line).not.toContain(subject.lookupKey);
    }
  });

  it('count an access-log line answered 5xx, by its route, and not a 4xx', () => {
    const line = (status: string) =>
      JSON.stringify({ requestId: 'r', routeKey: 'POST /licences', status, integrationStatus: '200' });
    const pattern = serverErrorFilterPattern.logPatternString;
    expect(matches(pattern, line('500'))).toBe(true);
    expect(matches(pattern, line('503'))).toBe(true);
    expect(matches(pattern, line('404'))).toBe(false);
    expect(matches(pattern, line('200'))).toBe(false);
  });
});
