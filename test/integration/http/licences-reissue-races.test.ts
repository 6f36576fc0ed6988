import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onboardIssuer, postJson } from '../../support/http-api.js';
import { licencePath, listAll, type LicenceJson } from '../../support/licences.js';
import { clientCredentialsToken, startTestRuntime, type TestRuntime } from '../../support/runtime.js';
import { issueDrivingLicence, verified } from '../verify/helpers.js';

/**
 * Re-issues racing status changes, through HTTP only (security review R38): whatever wins, a licence and
 * its replacements never hold more than one live licence, and every record's status is the verdict its
 * status list gives.
 */

let runtime: TestRuntime;
let token: string;
beforeAll(async () => {
  runtime = await startTestRuntime();
  const admin = await clientCredentialsToken(runtime, runtime.credentials.admin, 'admin');
  const issuer = await onboardIssuer(runtime, admin, { licenceTypes: ['driving-licence'] });
  token = await clientCredentialsToken(runtime, issuer, 'licences:issue');
});
afterAll(() => runtime?.close());

describe('re-issues racing status changes', () => {
  it(
    'two re-issues against a revocation, a re-issue against suspend, reinstate and re-issue: one live licence at most',
    { timeout: 120_000 },
    async () => {
      const olds = [];
      for (let i = 0; i < 12; i++) olds.push(await issueDrivingLicence(runtime, token));
      const status = (id: string, to: string) =>
        postJson(runtime, `${licencePath(id)}/status`, token, { status: to, reason: 'race' }).then(
          (r) => r.status,
        );
      const reissue = (id: string) =>
        postJson(runtime, `${licencePath(id)}/reissue`, token, undefined).then((r) => r.status);
      await Promise.all(
        olds.map((old, i) =>
          Promise.all(
            i % 2
              ? [reissue(old.id), reissue(old.id), status(old.id, 'revoked')]
              : [reissue(old.id), status(old.id, 'suspended'), status(old.id, 'valid'), reissue(old.id)],
          ),
        ),
      );
      const all = (await listAll(runtime, token)) as Array<
        LicenceJson & { replaces?: string; status: string }
      >;
      const wrong: string[] = [];
      for (const old of olds) {
        const family = all.filter((licence) => licence.id === old.id || licence.replaces === old.id);
        const verdicts = await Promise.all(
          family.map(async (licence) => (await verified(runtime, licence.credential)).verdict),
        );
        const live = verdicts.filter((verdict) => verdict === 'valid').length;
        const disagree = family.some(
          (licence, k) => (licence.status === 'valid') !== (verdicts[k] === 'valid'),
        );
        if (live > 1 || disagree)
          wrong.push(`${old.id}: ${family.map((l) => l.status).join(',')} / ${verdicts.join(',')}`);
      }
      expect(wrong).toEqual([]);
    },
  );
});
