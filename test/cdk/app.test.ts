import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { stackPropsFromContext } from '../../infra/context.js';

const cdkJson = JSON.parse(readFileSync('cdk.json', 'utf8')) as { context?: Record<string, unknown> };

/**
 * Runs the CDK app as `cdk synth` would, with `context` as the CLI's merged context (no bundling), and
 * gives `inspect` the cloud assembly's directory before it is removed. `committed`, when given, is the
 * context of the cdk.json the app holds `-c` to (else the repository's).
 */
function runApp(
  context: Record<string, unknown>,
  inspect?: (outdir: string) => void,
  committed?: Record<string, unknown>,
) {
  const outdir = mkdtempSync(join(tmpdir(), 'elicence-cdk-'));
  const cdkJsonPath = join(outdir, 'committed-cdk.json');
  if (committed) writeFileSync(cdkJsonPath, JSON.stringify({ context: committed }));
  try {
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'infra/app.ts'], {
      encoding: 'utf8',
      env: {
        ...process.env,
        CDK_OUTDIR: outdir,
        CDK_CONTEXT_JSON: JSON.stringify({ 'aws:cdk:bundling-stacks': [], ...context }),
        ...(committed && { ELICENCE_CDK_JSON: cdkJsonPath }),
      },
      timeout: 120_000,
    });
    inspect?.(outdir);
    return run;
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

describe('the CDK app reads the audit key generations from cdk.json (security review M3)', () => {
  it('refuses to synthesise without auditKeys in the context, rather than falling back to generation 1', () => {
    const run = runApp({});
    expect(run.status, run.stdout).not.toBe(0);
    expect(run.stderr).toMatch(/auditKeys: no audit key generations in the CDK context/);
    expect(() => stackPropsFromContext(new App({ context: {} }))).toThrow(/auditKeys.*cdk\.json/);
    expect(() => stackPropsFromContext(new App({ context: { auditKeys: '' } }))).toThrow(/auditKeys/);
  });

  it('commits the generations in cdk.json, and -c still overrides them', () => {
    expect(cdkJson.context?.auditKeys).toBe('1');
    expect(stackPropsFromContext(new App({ context: cdkJson.context })).auditKeys).toEqual(['1']);
    const overridden = new App({ context: { ...cdkJson.context, auditKeys: '2,1' } });
    expect(stackPropsFromContext(overridden).auditKeys).toEqual(['2', '1']);
  });

  it('documents a rotation as an edit of cdk.json that is committed', () => {
    const operating = readFileSync('docs/operating.md', 'utf8');
    const section = operating.slice(operating.indexOf('- **The audit key**'));
    expect(section.slice(0, 1500)).toMatch(/cdk\.json[^]*"auditKeys": "2,1"[^]*commit/);
  });
});

describe('the CDK app reads the platform key generations from cdk.json (infrastructure review 24)', () => {
  it('refuses to synthesise without platformKeys or platformRsaKeys, saying what to set', () => {
    for (const name of ['platformKeys', 'platformRsaKeys']) {
      const context = { ...cdkJson.context, [name]: undefined };
      expect(() => stackPropsFromContext(new App({ context })), name).toThrow(
        new RegExp(`${name}: no platform key generations in the CDK context: cdk\\.json carries them`),
      );
      expect(() => stackPropsFromContext(new App({ context: { ...context, [name]: ' ' } })), name).toThrow(
        new RegExp(name),
      );
    }
  });

  it('commits the generations in cdk.json, and -c still overrides them', () => {
    expect(cdkJson.context).toMatchObject({ platformKeys: '1', platformRsaKeys: '1' });
    const props = stackPropsFromContext(new App({ context: cdkJson.context }));
    expect([props.platformKeys, props.platformRsaKeys]).toEqual([['1'], ['1']]);
    const rotating = new App({ context: { ...cdkJson.context, platformKeys: '2,1' } });
    expect(stackPropsFromContext(rotating).platformKeys).toEqual(['2', '1']);
  });

  it('reads reserved concurrency and the SMS spend threshold from the context', () => {
    const app = new App({
      context: { ...cdkJson.context, reservedConcurrency: '{"oidc":200}', smsSpendAlarmUsd: '400' },
    });
    expect(stackPropsFromContext(app)).toMatchObject({
      reservedConcurrency: { oidc: 200 },
      smsSpendAlarmUsd: 400,
    });
  });

  it('skips the canary only when told so in the context, refusing what is not a yes or no', () => {
    const props = (skipCanary?: unknown) =>
      stackPropsFromContext(new App({ context: { ...cdkJson.context, skipCanary } }));
    expect(cdkJson.context).not.toHaveProperty('skipCanary');
    expect(props()).not.toHaveProperty('skipCanary');
    expect(props('false')).not.toHaveProperty('skipCanary');
    expect(props('true')).toMatchObject({ skipCanary: true });
    expect(props(true)).toMatchObject({ skipCanary: true });
    expect(() => props('yes')).toThrow(/skipCanary: true or false/);
  });

  it('documents a platform key rotation as an edit of cdk.json that is committed', () => {
    const operating = readFileSync('docs/operating.md', 'utf8');
    const section = operating.slice(operating.indexOf('- **The platform signing key'));
    expect(section.slice(0, 2000)).toMatch(/cdk\.json[^]*"platformKeys": "2,1"[^]*commit/);
  });
});

describe('the CDK app reads the presentation key generations from cdk.json (review R7 M1)', () => {
  it('refuses to synthesise without presentationKeys, saying what to set', () => {
    const context = { ...cdkJson.context, presentationKeys: undefined };
    expect(() => stackPropsFromContext(new App({ context }))).toThrow(
      /presentationKeys: no presentation key generations in the CDK context: cdk\.json carries them/,
    );
    expect(() => stackPropsFromContext(new App({ context: { ...context, presentationKeys: ' ' } }))).toThrow(
      /presentationKeys/,
    );
  });

  it('commits the generations in cdk.json, and -c still overrides them', () => {
    expect(cdkJson.context).toMatchObject({ presentationKeys: '1' });
    expect(stackPropsFromContext(new App({ context: cdkJson.context })).presentationKeys).toEqual(['1']);
    const rotating = new App({ context: { ...cdkJson.context, presentationKeys: '2,1' } });
    expect(stackPropsFromContext(rotating).presentationKeys).toEqual(['2', '1']);
  });

  it('documents a presentation key rotation as an edit of cdk.json that is committed', () => {
    const operating = readFileSync('docs/operating.md', 'utf8');
    const section = operating.slice(operating.indexOf('- **The presentation key'));
    expect(section.slice(0, 2000)).toMatch(/cdk\.json[^]*"presentationKeys": "2,1"[^]*commit/);
  });
});

describe('the CDK app reads the notice key generations from cdk.json (review R31 L1)', () => {
  it('refuses to synthesise without noticeKeys, saying what to set', () => {
    const context = { ...cdkJson.context, noticeKeys: undefined };
    expect(() => stackPropsFromContext(new App({ context }))).toThrow(
      /noticeKeys: no notice key generations in the CDK context: cdk\.json carries them/,
    );
  });

  it('commits the generations in cdk.json, and -c still overrides them', () => {
    expect(cdkJson.context).toMatchObject({ noticeKeys: '1' });
    expect(stackPropsFromContext(new App({ context: cdkJson.context })).noticeKeys).toEqual(['1']);
    const rotating = new App({ context: { ...cdkJson.context, noticeKeys: '2, 1', retiredNoticeKeys: '' } });
    expect(stackPropsFromContext(rotating).noticeKeys).toEqual(['2', '1']);
    const retired = new App({ context: { ...cdkJson.context, noticeKeys: '2', retiredNoticeKeys: '1' } });
    expect(stackPropsFromContext(retired).retiredNoticeKeys).toEqual(['1']);
  });

  it('documents a notice key rotation as an edit of cdk.json that is committed', () => {
    const operating = readFileSync('docs/operating.md', 'utf8');
    const section = operating.slice(operating.indexOf('- **The notice key'));
    expect(section.slice(0, 2000)).toMatch(/cdk\.json[^]*"noticeKeys": "2,1"[^]*commit/);
  });
});

describe('the CDK app reads retired generations, single-Region keys and the DR region (operator review M1, H3)', () => {
  it('reads each as a comma-separated list, and none by default', () => {
    const props = stackPropsFromContext(
      new App({
        context: {
          ...cdkJson.context,
          platformKeys: '2',
          retiredPlatformKeys: '1',
          retiredPlatformRsaKeys: '1, 2',
          retiredPresentationKeys: '1',
          singleRegionKeys: 'Platform,LookupMac',
          drRegion: 'cn-northwest-1',
        },
      }),
    );
    expect(props).toMatchObject({
      platformKeys: ['2'],
      retiredPlatformKeys: ['1'],
      retiredPlatformRsaKeys: ['1', '2'],
      retiredPresentationKeys: ['1'],
      singleRegionKeys: ['Platform', 'LookupMac'],
      drRegion: 'cn-northwest-1',
    });
    const defaults = stackPropsFromContext(new App({ context: cdkJson.context }));
    for (const name of ['retiredPlatformKeys', 'singleRegionKeys', 'drRegion']) {
      expect(defaults, name).not.toHaveProperty(name);
    }
  });

  it('reads every list the same way, spaces around an item dropped, the required generations too', () => {
    const props = stackPropsFromContext(
      new App({
        context: {
          ...cdkJson.context,
          auditKeys: '2, 1',
          platformKeys: ' 2 ,1',
          platformRsaKeys: '2,  1',
          presentationKeys: '2 , 1 ',
          retiredPlatformRsaKeys: ' 3',
        },
      }),
    );
    expect(props).toMatchObject({
      auditKeys: ['2', '1'],
      platformKeys: ['2', '1'],
      platformRsaKeys: ['2', '1'],
      presentationKeys: ['2', '1'],
      retiredPlatformRsaKeys: ['3'],
    });
  });

  it('refuses, at synthesis, a platform key list that drops generation 1 without retiring it', () => {
    const run = runApp({ ...cdkJson.context, platformKeys: '2' });
    expect(run.status, run.stdout).not.toBe(0);
    expect(run.stderr).toMatch(/platformKeys: generation 1 \(below 2\) is neither listed nor retired/);
  });

  it('adds the ElicenceDr stack in the DR region when one is given', () => {
    let templates: string[] = [];
    const context = { ...cdkJson.context, drRegion: 'cn-northwest-1' };
    const run = runApp(
      context,
      (outdir) => {
        templates = readdirSync(outdir).filter((file) => file.endsWith('.template.json'));
        const manifest = JSON.parse(readFileSync(join(outdir, 'manifest.json'), 'utf8')) as {
          artifacts: Record<string, { environment?: string }>;
        };
        expect(manifest.artifacts.ElicenceDr?.environment).toBe('aws://unknown-account/cn-northwest-1');
      },
      // Committed in cdk.json, as the runbook says ("drRegion" given with -c alone is refused).
      context,
    );
    expect(run.status, run.stderr).toBe(0);
    // With Elicence's two nested stacks: the gradual deploys' (infra/constructs/gradual-deploys.ts) and the
    // alarms' (infra/constructs/operations-alarms.ts).
    expect(templates.filter((file) => !file.endsWith('.nested.template.json')).sort()).toEqual([
      'Elicence.template.json',
      'ElicenceDr.template.json',
    ]);
    expect(
      templates
        .filter((file) => file.endsWith('.nested.template.json'))
        .map((file) => file.replace(/[0-9A-F]{8}\.nested\.template\.json$/, ''))
        .sort(),
    ).toEqual(['ElicenceDeploys', 'ElicenceOperations']);
  }, 180_000);
});

describe('the CDK app refuses a lasting setting given with -c only (SRE review R31 M3)', () => {
  it('fails synthesis naming the setting and cdk.json, as `npx cdk synth -c alarmEmail=…` would', () => {
    const run = runApp({ ...cdkJson.context, alarmEmail: 'ops@example.gov.cn', drRegion: 'cn-northwest-1' });
    expect(run.status, run.stdout).not.toBe(0);
    expect(run.stderr).toMatch(
      /alarmEmail, drRegion: given with -c but not so in cdk\.json: the next plain `npx cdk deploy Elicence`/,
    );
  }, 180_000);
});
