import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler as audit } from '../../../functions/audit.js';
import { handler as peers } from '../../../functions/peers.js';
import { operationsFilterPatterns } from '../../../infra/constructs/operations-alarms.js';
import { logger } from '../../../shared/logger.js';
import { postJson } from '../../support/http-api.js';
import { filterPatternMatches, loggedLines } from '../../support/logged-lines.js';
import { clientCredentialsToken, startTestRuntime, type TestRuntime } from '../../support/runtime.js';

/**
 * SRE review R31 M2: the stack's alarms count log lines, and a deployment at `logLevel` WARN (documented,
 * docs/operating.md "Configuration") must still print them: without `audit checkpoint signed` and `audit
 * chains intact` their alarms (missing data breaches) fire for ever; without `peers refreshed` stale
 * peers never page. The runtime here runs at LOG_LEVEL=WARN, as such a deployment's functions do.
 */
let runtime: TestRuntime;

beforeAll(async () => {
  runtime = await startTestRuntime(undefined, { LOG_LEVEL: 'WARN', AUDIT_CHECKPOINT_INTERVAL_SECONDS: '0' });
  const admin = await clientCredentialsToken(runtime, runtime.credentials.admin, 'admin');
  const registered = await postJson(runtime, '/admin/clients', admin, {
    name: '电子监察 log level',
    scopes: ['supervision'],
  });
  const supervisor = (await registered.json()) as { clientId: string; clientSecret: string };
  const token = await clientCredentialsToken(runtime, supervisor, 'supervision');
  expect((await postJson(runtime, '/supervision/audit/checkpoints', token, {})).status).toBe(201);
}, 120_000);
afterAll(() => runtime?.close());

const counted = (lines: string[], name: keyof typeof operationsFilterPatterns) =>
  lines.filter((line) => filterPatternMatches(operationsFilterPatterns[name].logPatternString, line));

describe('at LOG_LEVEL=WARN, the lines the alarms count are still printed', () => {
  it('the daily checkpoint logs `audit checkpoint signed`', async () => {
    const lines = await loggedLines(() => audit({ 'detail-type': 'Scheduled Event' }));
    expect(logger.getLevelName()).toBe('WARN');
    expect(counted(lines, 'auditCheckpointSigned')).toHaveLength(1);
  });

  it('the daily check logs `audit chains intact`', async () => {
    const lines = await loggedLines(() => runtime.runSchedule('audit-check'));
    expect(counted(lines, 'auditChainsIntact')).toHaveLength(1);
  });

  it('the peers refresh logs `peers refreshed` with its count of stale peers', async () => {
    const lines = await loggedLines(() => peers());
    const refreshed = counted(lines, 'peersRefreshed');
    expect(refreshed).toHaveLength(1);
    expect(JSON.parse(refreshed[0]!)).toMatchObject({ stalePeers: 0 });
  });

  it('prints nothing else below WARN', async () => {
    const lines = await loggedLines(async () => {
      logger.info('an info line of no alarm');
      logger.debug('a debug line of no alarm');
    });
    expect(lines).toEqual([]);
  });
});
