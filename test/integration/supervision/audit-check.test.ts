import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dependencies } from '../../../functions/composition/dependencies.js';
import { operationsFilterPatterns } from '../../../infra/constructs/operations-alarms.js';
import { logger, setServiceLogLevel } from '../../../shared/logger.js';
import type { AuditCheckResult } from '../../../shared/supervision/audit-chain-check.js';
import { postJson, scanItems } from '../../support/http-api.js';
import { filterPatternMatches, loggedLines } from '../../support/logged-lines.js';
import { clientCredentialsToken, startTestRuntime, type TestRuntime } from '../../support/runtime.js';
import { demoTokens, issueDrivingLicence } from '../verify/helpers.js';

/**
 * The daily audit-chain check (functions/audit-check.ts, SRE review M3) through the local runtime's
 * schedule, under the audit-check function's own grants (read-only; the grant guard refuses the rest):
 * an intact trail checks intact, and an entry edited in the table behind the service's back makes the
 * run report the chain and seq, and log the line the stack's alarm counts.
 */
let runtime: TestRuntime;
const today = new Date().toISOString().slice(0, 10);

/** Runs the scheduled check with its log lines captured (the runtime's tests log nothing otherwise). */
async function scheduledCheck(): Promise<{ result: AuditCheckResult; lines: string[] }> {
  const level = logger.getLevelName();
  setServiceLogLevel('INFO');
  let result: AuditCheckResult | undefined;
  try {
    const lines = await loggedLines(async () => {
      result = (await runtime.runSchedule('audit-check')) as AuditCheckResult;
    });
    return { result: result!, lines: lines.filter((line) => line.includes('audit chains')) };
  } finally {
    setServiceLogLevel(level);
  }
}

beforeAll(async () => {
  runtime = await startTestRuntime(undefined, { AUDIT_CHECKPOINT_INTERVAL_SECONDS: '0' });
  const tokens = await demoTokens(runtime);
  for (let i = 0; i < 3; i += 1) await issueDrivingLicence(runtime, tokens.issuer);
  const admin = await clientCredentialsToken(runtime, runtime.credentials.admin, 'admin');
  const registered = await postJson(runtime, '/admin/clients', admin, {
    name: '电子监察 supervising office',
    scopes: ['supervision'],
  });
  const supervisor = (await registered.json()) as { clientId: string; clientSecret: string };
  const token = await clientCredentialsToken(runtime, supervisor, 'supervision');
  // Yesterday's and today's chains signed, as the daily 00:15 checkpoint signs them before the check.
  expect((await postJson(runtime, '/supervision/audit/checkpoints', token, {})).status).toBe(201);
  // A first run builds the function's composition, which sets the runtime's log level (silent in tests).
  await runtime.runSchedule('audit-check');
}, 120_000);
afterAll(() => runtime?.close());

describe('the scheduled audit-chain check', () => {
  it('finds the trail of yesterday and today intact, and logs the line the stack counts as intact', async () => {
    const { result, lines } = await scheduledCheck();
    expect(result).toMatchObject({ ok: true, to: today, faults: [] });
    expect(result.entries).toBeGreaterThanOrEqual(3);
    expect(result.checkpoints).toBeGreaterThanOrEqual(1);
    expect(lines).toHaveLength(1);
    const pattern = (name: keyof typeof operationsFilterPatterns) =>
      operationsFilterPatterns[name].logPatternString;
    expect(filterPatternMatches(pattern('auditChainsIntact'), lines[0]!)).toBe(true);
    expect(filterPatternMatches(pattern('auditChainsBroken'), lines[0]!)).toBe(false);
  });

  it('reports an entry edited in the table, naming its chain and seq, and logs the broken line', async () => {
    const issued = (await scanItems(`audit#${today}#`)).find((item) => item.action === 'licence.issued');
    expect(issued).toBeDefined();
    const deps = dependencies();
    await deps.doc.send(
      new PutCommand({
        TableName: deps.config.auditTableName,
        Item: { ...issued, actor: 'someone-else' },
      }),
    );
    const { result, lines } = await scheduledCheck();
    expect(result.ok).toBe(false);
    expect(result.faults[0]).toMatchObject({
      chain: issued!.chain,
      seq: issued!.seq,
      problem: expect.stringContaining('hash'),
    });
    expect(lines).toHaveLength(1);
    expect(filterPatternMatches(operationsFilterPatterns.auditChainsBroken.logPatternString, lines[0]!)).toBe(
      true,
    );
    // Chain ids and seqs only: nothing of the entry's content reaches the log.
    expect(lines[0]).not.toContain('someone-else');
    await deps.doc.send(new PutCommand({ TableName: deps.config.auditTableName, Item: issued }));
  });

  it('reports a licence entry taken off its licence’s list (its index keys removed), its chain intact', async () => {
    const issued = (await scanItems(`audit#${today}#`)).find((item) => item.action === 'licence.issued')!;
    const deps = dependencies();
    const { gsi1pk: _pk, gsi1sk: _sk, ...offTheList } = issued;
    await deps.doc.send(new PutCommand({ TableName: deps.config.auditTableName, Item: offTheList }));
    try {
      const { result, lines } = await scheduledCheck();
      expect(result.ok).toBe(false);
      expect(result.faults).toEqual([
        {
          chain: issued.chain,
          seq: issued.seq,
          problem: expect.stringContaining("missing from the licence's list (the stored item shows"),
        },
      ]);
      expect(
        filterPatternMatches(operationsFilterPatterns.auditChainsBroken.logPatternString, lines[0]!),
      ).toBe(true);
    } finally {
      await deps.doc.send(new PutCommand({ TableName: deps.config.auditTableName, Item: issued }));
    }
    expect((await scheduledCheck()).result.ok).toBe(true);
  });
});
