import { createHash } from 'node:crypto';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../../shared/audit/audit-trail.js';
import {
  checkTrail,
  contentDigest,
  contentText,
  entryHash,
  forSupervisor,
  genesisHash,
  holderAttribution,
  holderCommitmentOf,
  link,
} from '../../../shared/supervision/audit-chain.js';
import { unsignedDays } from '../../../shared/supervision/audit-chain-verify.js';
import { checkpointInput, headsDigest, signCheckpoint } from '../../../shared/supervision/checkpoints.js';
import { ConflictError } from '../../../shared/errors.js';
import { rejection } from '../../contract/subject.js';
import { InMemoryAuditChains } from '../../support/in-memory-audit-chain.js';
import { LocalSigner } from '../../support/local-signer.js';

const chain = '2026-12-05.abcdefghijkl';
const entry = (i: number): AuditEntry => ({
  at: `2026-12-05T08:00:0${i}.000Z`,
  actor: 'anonymous',
  action: 'licence.verified',
  licenceId: `lic-${i}`,
  verdict: 'valid',
});
/** A chain of `n` entries, linked as the adapter links them. */
function chainOf(n: number) {
  const entries: Array<ReturnType<typeof link>> = [];
  for (let i = 0; i < n; i += 1) entries.push(link(entry(i), chain, entries.at(-1)));
  return entries;
}

describe('the chain arithmetic (docs/supervision.md)', () => {
  it('starts from the SHA-256 of the chain id and hashes the canonical JSON without hash, holderKey and its salt', () => {
    expect(genesisHash(chain)).toBe(createHash('sha256').update(chain).digest('hex'));
    const [first] = chainOf(1);
    expect(first).toMatchObject({ chain, seq: 1, prevHash: genesisHash(chain) });
    const content =
      '{"action":"licence.verified","actor":"anonymous","at":"2026-12-05T08:00:00.000Z",' +
      '"holderCommitment":"none","licenceId":"lic-0","verdict":"valid"}';
    const digest = createHash('sha256').update(content, 'utf8').digest('hex');
    const text = `{"chain":"${chain}","contentDigest":"${digest}","prevHash":"${genesisHash(chain)}","seq":1}`;
    expect(first!.hash).toBe(createHash('sha256').update(text, 'utf8').digest('hex'));
    expect(entryHash({ ...first!, holderKey: 'hk', holderSalt: 's' })).toBe(first!.hash);
    // The holder's commitment: salted, documented (docs/supervision.md).
    expect(holderCommitmentOf('hk_example', 'AAAAAAAAAAAAAAAAAAAAAA')).toBe(
      '1907f297a40254738af013856f3224e51bb72ddfbccdeab519888aee51ea88b2',
    );
    const held = link({ ...entry(1), holderKey: 'hk_example' }, chain);
    expect(held.holderSalt).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(held.holderCommitment).toBe(holderCommitmentOf('hk_example', held.holderSalt!));
    expect(contentText(held)).toContain(`"holderCommitment":"${held.holderCommitment}"`);
    expect(contentText(held)).not.toContain('hk_example');
    expect(contentText(held)).not.toContain(held.holderSalt);
    // The documented examples (docs/supervision.md).
    expect(genesisHash(chain)).toBe('9b5efe1e2b404d28db8c782d357919feb681509e684da6f7ccb2a0918fe9ba55');
    const documented = link(
      {
        at: '2026-12-05T08:00:00.000Z',
        actor: 'anonymous',
        action: 'licence.verified',
        holderMasked: '110105********002X',
        licenceId: '1.2.156.3005.2.003.11110000000021135M.0001.1.3',
        verdict: 'valid',
      },
      '2026-12-05.abcdefghijkl',
    );
    expect(contentDigest(documented)).toBe(
      'cd4062e84daf325e1337b58230efdd730c6343f0ab5be343678a7026f8906171',
    );
    expect(documented.hash).toBe('a8b047f41770d176ab3640bff3b43da64836df9d2787af9245bf78e8e0f6d191');
  });

  it('verifies an intact chain in any order, and names the first bad entry otherwise', () => {
    const entries = chainOf(5);
    expect(checkTrail([...entries].reverse()).faults).toEqual([]);
    expect(checkTrail([...entries].reverse()).chains).toEqual([{ chain, seq: 5, hash: entries[4]!.hash }]);
    const edited = entries.map((e, i) => (i === 2 ? { ...e, verdict: 'revoked' } : e));
    expect(checkTrail(edited).faults).toEqual([{ chain, seq: 3, problem: expect.stringContaining('hash') }]);
    const forked = [...entries, { ...entries[3]!, actor: 'other' }];
    expect(checkTrail(forked).faults[0]).toMatchObject({
      chain,
      seq: 4,
      problem: expect.stringContaining('two entries'),
    });
    const gap = entries.filter((e) => e.seq !== 2);
    expect(checkTrail(gap).faults[0]).toMatchObject({
      chain,
      seq: 2,
      problem: expect.stringContaining('missing'),
    });
    // Relinked after an edit (hash recomputed): the next link breaks.
    const relinked = entries.map((e, i) =>
      i === 1 ? link({ ...entry(1), verdict: 'x' }, chain, entries[0]) : e,
    );
    expect(checkTrail(relinked).faults[0]).toMatchObject({
      seq: 3,
      problem: expect.stringContaining('prevHash'),
    });
  });

  it('still verifies entries written before holder commitments, by the rule they were written under', () => {
    // Old format: no `holderCommitment` in the content, the hash over the same four members.
    const old = {
      at: '2026-12-05T08:00:00.000Z',
      actor: 'anonymous',
      action: 'licence.verified',
      holderMasked: '110105********002X',
      licenceId: '1.2.156.3005.2.003.11110000000021135M.0001.1.3',
      verdict: 'valid',
      holderKey: 'hk_old',
      chain,
      seq: 1,
      prevHash: genesisHash(chain),
      // The example docs/supervision.md gave before commitments, as written then.
      hash: '33684038b770183979b8ef2273068e2fb78cbd7eff293f5bd5eb61aa50d60ff2',
    };
    expect(contentDigest(old)).toBe('af06f85579f773e7b03498061b9102652c4df37a302c10e948c111af0fcc9982');
    expect(entryHash(old)).toBe(old.hash);
    // A new entry linked after an old one: a chain may hold both (a writer deployed mid-chain).
    const next = link({ ...entry(1), holderKey: 'hk_new' }, chain, old);
    const answered = [old, next].map((one) => forSupervisor(one));
    expect(checkTrail(answered)).toMatchObject({ faults: [], chains: [{ chain, seq: 2 }] });
    expect(holderAttribution(old)).toBe('uncommitted');
    // Once the operator says from when every entry has one (AUDIT_HOLDER_COMMITMENTS_SINCE), an entry of
    // that day or later without one (by its date or its chain's day, whichever is later) is not genuine.
    expect(holderAttribution(old, { commitmentsSince: '2026-12-06' })).toBe('uncommitted');
    expect(holderAttribution(old, { commitmentsSince: '2026-12-05' })).toBe('mismatch');
    expect(
      holderAttribution({ ...old, chain: '2026-12-07.abcdefghijkl' }, { commitmentsSince: '2026-12-06' }),
    ).toBe('mismatch');
    expect(holderAttribution(next, { commitmentsSince: '2026-12-05' })).toBe('committed');
    expect(holderAttribution(next)).toBe('committed');
    // Stripping a new entry's commitment to pass it off as old changes its content: its hash breaks.
    const { holderCommitment: _c, holderSalt: _s, ...stripped } = next;
    expect(checkTrail([old, stripped].map((one) => forSupervisor(one))).faults[0]).toMatchObject({
      seq: 2,
      problem: expect.stringContaining('hash does not match'),
    });
  });

  it('finds an entry re-attributed, hidden or filed under somebody, and audit verification names it', () => {
    const mine = link({ ...entry(1), holderKey: 'hk_victim' }, chain);
    const nobodys = link({ ...entry(2), verdict: 'not_found' }, chain, mine);
    expect([mine, nobodys].map((one) => holderAttribution(one))).toEqual(['committed', 'committed']);
    for (const [name, tampered] of [
      ['re-attributed', { ...mine, holderKey: 'hk_attacker' }],
      ['hidden', { ...mine, holderKey: undefined }],
      ['filed under somebody', { ...nobodys, holderKey: 'hk_attacker' }],
      ['salt swapped', { ...mine, holderSalt: 'AAAAAAAAAAAAAAAAAAAAAA' }],
    ] as const) {
      expect(holderAttribution(tampered), name).toBe('mismatch');
      const answered = forSupervisor(tampered);
      expect(answered, name).toMatchObject({ holderAttribution: 'mismatch' });
      expect(JSON.stringify(answered), name).not.toMatch(/hk_|holderSalt|holderKey/);
      const report = checkTrail(
        name === 'filed under somebody'
          ? [forSupervisor(mine), answered]
          : [answered, forSupervisor(nobodys)],
      );
      expect(report.faults[0], name).toMatchObject({
        chain,
        seq: name === 'filed under somebody' ? 2 : 1,
        problem: expect.stringContaining('does not match its holderCommitment'),
      });
    }
    // A finding stored in the table is not the service's: replaced by its own.
    expect(forSupervisor({ ...mine, holderAttribution: 'mismatch' } as AuditEntry)).not.toHaveProperty(
      'holderAttribution',
    );
    // Redacted entries carry the finding too (an account entry filed under somebody).
    const account = link({ at: entry(3).at, actor: 'acc_1', action: 'account.registered' }, chain);
    expect(forSupervisor({ ...account, holderKey: 'hk_attacker' })).toMatchObject({
      redacted: true,
      holderAttribution: 'mismatch',
    });
  });

  it('does not take a commitment recomputed with the stored salt: the entry’s own hash must hold (security review M2a)', () => {
    const mine = link({ ...entry(1), holderKey: 'hk_victim' }, chain);
    // Whoever can write the table re-files the entry under another holder with a matching commitment,
    // from the salt stored beside it: the commitment alone then proves nothing.
    const refiled = {
      ...mine,
      holderKey: 'hk_attacker',
      holderCommitment: holderCommitmentOf('hk_attacker', mine.holderSalt!),
    };
    expect(holderAttribution(refiled)).toBe('mismatch');
    expect(forSupervisor(refiled)).toMatchObject({ holderAttribution: 'mismatch' });
    // A stored `redacted` flag and the original digest do not vouch for the edited content, nor pass
    // into the answer (where a verifier would hash the digest instead of the content).
    const disguised = { ...refiled, redacted: true, contentDigest: contentDigest(mine) };
    expect(holderAttribution(disguised)).toBe('mismatch');
    const answered = forSupervisor(disguised as AuditEntry);
    expect(answered).not.toHaveProperty('redacted');
    expect(answered).not.toHaveProperty('contentDigest');
    expect(checkTrail([answered]).faults[0]).toMatchObject({ seq: 1 });
    // Its chain fields stripped instead: a committed entry is always on a chain.
    const { chain: _c, seq: _s, prevHash: _p, hash: _h, ...unchained } = refiled;
    expect(holderAttribution(unchained)).toBe('mismatch');
    expect(holderAttribution({ ...mine, hash: undefined })).toBe('mismatch');
    // Rewriting the hash too passes this check: the next entry's prevHash (audit:verify) gives it away.
    const rehashed = { ...refiled, hash: entryHash(refiled) };
    expect(holderAttribution(rehashed)).toBe('committed');
    const next = link(entry(2), chain, mine);
    expect(checkTrail([rehashed, next].map((one) => forSupervisor(one))).faults[0]).toMatchObject({
      seq: 2,
      problem: expect.stringContaining('prevHash'),
    });
    // The genuine entry, and one written before chains (no link, no commitment), still read as before.
    expect(holderAttribution(mine)).toBe('committed');
    expect(holderAttribution({ ...entry(3), holderKey: 'hk_victim' })).toBe('uncommitted');
  });

  it('answers a supervisor nothing that links two entries of one holder', () => {
    // Two uses of two licences of one holder, and the same of another holder: the supervisor's answers
    // must share exactly what the unrelated pair shares (the action, the verifier, the masked number, which
    // many people share and the trail has always answered), nothing more.
    const use = (holderKey: string, i: number, licence: string) =>
      forSupervisor(
        link(
          { ...entry(i), licenceId: `lic-${licence}`, holderMasked: '110105********002X', holderKey },
          chain,
        ),
      ) as Record<string, unknown>;
    const shared = (a: Record<string, unknown>, b: Record<string, unknown>) =>
      Object.keys(a)
        .filter((key) => key !== 'at' && JSON.stringify(a[key]) === JSON.stringify(b[key]))
        .sort();
    const [first, second] = [use('hk_same', 1, 'a'), use('hk_same', 2, 'b')];
    const other = use('hk_other', 2, 'c');
    expect(shared(first!, second!)).toEqual(shared(first!, other));
    for (const answer of [first, second]) {
      expect(answer).not.toHaveProperty('holderKey');
      expect(answer).not.toHaveProperty('holderSalt');
      expect(JSON.stringify(answer)).not.toContain('hk_same');
      expect(answer!.holderCommitment).toMatch(/^[0-9a-f]{64}$/);
    }
    expect(first!.holderCommitment).not.toBe(second!.holderCommitment);
  });

  it('holds the entries to a checkpoint’s head: a cut tail and a missing chain are named', () => {
    const entries = chainOf(4);
    const head = { chain, seq: 4, hash: entries[3]!.hash };
    expect(checkTrail(entries, [head]).faults).toEqual([]);
    expect(checkTrail(entries.slice(0, 3), [head]).faults[0]).toMatchObject({ chain, seq: 4 });
    expect(checkTrail([], [head]).faults[0]).toMatchObject({ chain, seq: 1 });
    // Outside the days asked for: not expected.
    expect(checkTrail([], [head], { from: '2026-12-06', to: '2026-12-06' }).faults).toEqual([]);
    // Unchained entries are counted, not checked.
    expect(checkTrail([entry(9)]).unchained).toBe(1);
  });

  it('holds a closed day to its closing checkpoint: a chain it does not name is a fault (review 22b M1)', () => {
    const entries = chainOf(2);
    const other = '2026-12-05.zzzzzzzzzzzz';
    const added = link(entry(7), other);
    const head = { chain, seq: 2, hash: entries[1]!.hash };
    // Signed 5 minutes after the day ended (closingMarginMs: writes begun before midnight have landed).
    const closing = { iat: Date.parse('2026-12-06T00:05:00Z') / 1000, days: ['2026-12-05'], chains: [head] };
    expect(checkTrail([...entries, added], [head], undefined, { closing: [closing] }).faults).toEqual([
      { chain: other, seq: 1, problem: expect.stringContaining("chain not in the day's closing checkpoint") },
    ]);
    // One second before the margin ended does not close it; a day outside those asked is not checked.
    const during = { ...closing, iat: closing.iat - 1 };
    expect(checkTrail([...entries, added], [head], undefined, { closing: [during] }).faults).toEqual([]);
    const range = { from: '2026-12-06', to: '2026-12-06' };
    expect(checkTrail([...entries, added], [head], range, { closing: [closing] }).faults).toEqual([]);
  });

  it('holds a closed day’s chains to the heads its closing checkpoint signs: an entry past them was appended afterwards (R24 H1)', () => {
    const entries = chainOf(3);
    const signedAt = (iso: string, seq: number) => ({
      iat: Date.parse(iso) / 1000,
      days: ['2026-12-05'],
      chains: [{ chain, seq, hash: entries[seq - 1]!.hash }],
    });
    const closing = signedAt('2026-12-06T00:15:00Z', 2);
    const appended = checkTrail(entries, closing.chains, undefined, { closing: [closing] });
    expect(appended.faults).toEqual([
      { chain, seq: 3, problem: expect.stringContaining("appended after the day's closing checkpoint") },
    ]);
    expect(appended.faults[0]!.problem).toContain('up to seq 2');
    // Ending at the closing head: intact. Signed during the day, or within the margin, the same
    // checkpoint closes nothing: the tail after it is the unsigned tail of an open day.
    expect(checkTrail(entries.slice(0, 2), closing.chains, undefined, { closing: [closing] }).faults).toEqual(
      [],
    );
    for (const open of [signedAt('2026-12-05T12:00:00Z', 2), signedAt('2026-12-06T00:04:59Z', 2)]) {
      expect(checkTrail(entries, open.chains, undefined, { closing: [open] }).faults).toEqual([]);
    }
    // A later checkpoint signing more (the forgery re-signed) does not move the day's end: the earliest
    // closing checkpoint's head holds, whichever order they come in.
    const resigned = signedAt('2026-12-07T09:00:00Z', 3);
    const both = checkTrail(entries, [...closing.chains, ...resigned.chains], undefined, {
      closing: [resigned, closing],
    });
    expect(both.faults).toEqual([{ chain, seq: 3, problem: expect.stringContaining('appended after') }]);
  });

  it('answers entries not about a licence redacted, still verifiable; licence entries whole', () => {
    const account = link(
      { at: '2026-12-05T08:00:00.000Z', actor: 'acc_1', action: 'authorization.granted', purpose: 'loan' },
      chain,
    );
    const licence = link(entry(1), chain, account);
    const answered = [account, licence].map((one) => forSupervisor(one));
    expect(answered[0]).toEqual({
      at: account.at,
      action: 'authorization.granted',
      chain,
      seq: 1,
      prevHash: account.prevHash,
      hash: account.hash,
      contentDigest: expect.stringMatching(/^[0-9a-f]{64}$/),
      redacted: true,
    });
    expect(JSON.stringify(answered[0])).not.toContain('acc_1');
    expect(answered[1]).toEqual(licence);
    expect(checkTrail(answered)).toMatchObject({ faults: [], chains: [{ chain, seq: 2 }] });
    // A digest changed, or a licence entry hidden behind one: named.
    const forged = [{ ...answered[0]!, contentDigest: '0'.repeat(64) }, answered[1]!];
    expect(checkTrail(forged).faults[0]).toMatchObject({
      chain,
      seq: 1,
      problem: expect.stringContaining('hash'),
    });
    const hidden = [
      answered[0]!,
      { ...forSupervisor({ ...licence, action: 'account.x' }), action: licence.action },
    ];
    expect(checkTrail(hidden).faults[0]).toMatchObject({
      chain,
      seq: 2,
      problem: expect.stringContaining('redacted'),
    });
  });

  it('counts an entry without chain fields as older only when dated before chains began', () => {
    const entries = chainOf(2);
    // Dated on the chain's own day: its chain fields were stripped (how an edit would hide).
    const stripped = entry(7);
    const check = checkTrail([...entries, stripped]);
    expect(check.faults).toEqual([
      {
        chain: '-',
        seq: 0,
        problem: expect.stringContaining('has no chain fields, yet chains began on 2026-12-05'),
      },
    ]);
    expect(check.unchained).toBe(0);
    const older = { ...entry(8), at: '2026-12-04T23:59:59.999Z' };
    expect(checkTrail([...entries, older])).toMatchObject({ faults: [], unchained: 1 });
    // A configured cutover wins over the earliest chain listed.
    expect(checkTrail([stripped], [], undefined, { chainsSince: '2026-12-01' }).faults).toHaveLength(1);
    expect(checkTrail([...entries, stripped], [], undefined, { chainsSince: '2026-12-06' })).toMatchObject({
      faults: [],
      unchained: 1,
    });
  });
});

describe('signCheckpoint', () => {
  it('signs every chain head of yesterday and today with the audit signer, typ audit-checkpoint+jwt, and stores it', async () => {
    const chains = new InMemoryAuditChains();
    // Each entry written at its own time.
    let now = 0;
    const writing = { now: () => now };
    const [a, b] = [chains.writer(writing), chains.writer(writing)];
    const record = (trail: typeof a, one: AuditEntry) => {
      now = Date.parse(one.at);
      return trail.record(one);
    };
    await record(b, { ...entry(4), at: '2026-12-01T00:00:00.000Z' });
    await record(a, { ...entry(0), at: '2026-12-04T23:00:00.000Z' });
    await record(a, entry(1));
    await record(b, entry(2));
    await record(b, entry(3));
    const signer = new LocalSigner();
    const clock = { now: () => Date.parse('2026-12-05T09:00:00.000Z') };
    const signed = await signCheckpoint(
      {},
      { auditChains: chains, auditSigner: signer, clock, iss: 'https://x' },
    );
    const { payload, protectedHeader } = await jwtVerify(
      signed.jws,
      createLocalJWKSet({ keys: [await signer.publicJwk()] }),
      { typ: 'audit-checkpoint+jwt', issuer: 'https://x' },
    );
    expect(protectedHeader.kid).toBe(await signer.kid());
    expect(payload.days).toEqual(['2026-12-04', '2026-12-05']);
    expect(signed.chains.map((c) => c.seq).sort()).toEqual([1, 1, 2]);
    // The payload signs the heads' count and digest, not the heads (security review M4).
    expect(payload).toMatchObject({ jti: signed.id, headCount: 3, headsDigest: headsDigest(signed.chains) });
    expect(payload.chains).toBeUndefined();
    const text = `[${signed.chains.map((h) => `{"chain":"${h.chain}","hash":"${h.hash}","seq":${h.seq}}`).join(',')}]`;
    expect(payload.headsDigest).toBe(createHash('sha256').update(text, 'utf8').digest('hex'));
    expect(await chains.checkpoints(5)).toEqual({ items: [{ at: signed.at, jws: signed.jws }] });
    expect(await chains.checkpointHeads(signed.id)).toEqual({ items: signed.chains });
  });

  it('signs a closed day again only with the heads its closing checkpoint signed: else 409 audit_day_closed, nothing signed (R24 H1)', async () => {
    const chains = new InMemoryAuditChains();
    let now = Date.parse('2026-12-05T10:00:00.000Z');
    const clock = { now: () => now };
    const trail = chains.writer(clock);
    await trail.record(entry(1));
    const deps = { auditChains: chains, auditSigner: new LocalSigner(), clock, iss: 'https://x' };
    now = Date.parse('2026-12-06T00:15:00.000Z');
    const closing = await signCheckpoint({}, deps);
    // The same heads: signed again (a supervisor's `--checkpoint --from 2026-12-05` days later).
    now = Date.parse('2026-12-08T09:00:00.000Z');
    const again = await signCheckpoint({ from: '2026-12-05', to: '2026-12-05' }, deps);
    expect(again.chains).toEqual(closing.chains);
    // An entry appended to the closed day's chain since (whoever can put audit# items, with its head).
    const [head] = closing.chains;
    chains.written.push(link({ ...entry(2), at: '2026-12-05T11:00:00.000Z' }, head!.chain, head));
    const error = await rejection(signCheckpoint({ from: '2026-12-05', to: '2026-12-05' }, deps));
    expect(error).toBeInstanceOf(ConflictError);
    expect(error).toMatchObject({ code: 'audit_day_closed', message: expect.stringContaining(head!.chain) });
    expect((await chains.checkpoints(10)).items).toHaveLength(2);
    // A day not yet closed, and today, are signed as they are.
    now = Date.parse('2026-12-09T00:15:00.000Z');
    expect((await signCheckpoint({}, deps)).chains).toEqual([]);
  });

  it('reads only the earliest closing checkpoint’s heads, and refuses when they do not match its digest', async () => {
    const chains = new InMemoryAuditChains();
    let now = Date.parse('2026-12-05T10:00:00.000Z');
    const clock = { now: () => now };
    await chains.writer(clock).record(entry(1));
    const deps = { auditChains: chains, auditSigner: new LocalSigner(), clock, iss: 'https://x' };
    const closings = [];
    for (const at of ['2026-12-06T00:15:00.000Z', '2026-12-06T09:00:00.000Z', '2026-12-06T10:00:00.000Z']) {
      now = Date.parse(at);
      closings.push(await signCheckpoint({}, deps));
    }
    const read: string[] = [];
    const heads = chains.checkpointHeads.bind(chains);
    chains.checkpointHeads = (id, cursor) => {
      read.push(id);
      return heads(id, cursor);
    };
    now = Date.parse('2026-12-06T11:00:00.000Z');
    await signCheckpoint({}, deps);
    expect(read).toEqual([closings[0]!.id]);
    // The earliest's heads page altered: not compared with anything, so not signed over (fail closed).
    chains.heads.set(closings[0]!.id, [[{ ...closings[0]!.chains[0]!, seq: 9 }]]);
    now = Date.parse('2026-12-06T12:00:00.000Z');
    const error = await rejection(signCheckpoint({}, deps));
    expect(error).toMatchObject({ code: 'audit_day_closed', message: expect.stringContaining('digest') });
  });

  it('takes both days or neither, at most 31 days', () => {
    expect(checkpointInput.safeParse({ from: '2026-12-01' }).success).toBe(false);
    expect(checkpointInput.safeParse({ from: '2026-12-01', to: '2026-11-30' }).success).toBe(false);
    expect(checkpointInput.safeParse({ from: '2026-11-01', to: '2026-12-05' }).success).toBe(false);
    expect(checkpointInput.safeParse({ from: '2026-12-01', to: '2026-12-05' }).success).toBe(true);
  });
});

describe('unsignedDays: a past day needs its closing checkpoint (R24 M1)', () => {
  const checkpoint = (iso: string, days: string[]) => ({
    iat: Date.parse(iso) / 1000,
    kid: 'k',
    days,
    chains: [],
  });
  const entries = chainOf(2);
  const problems = (checkpoints: ReturnType<typeof checkpoint>[], now: string, listed: object[] = entries) =>
    unsignedDays(listed as Record<string, unknown>[], checkpoints, {
      now: Date.parse(now),
      days: ['2026-12-05', '2026-12-06'],
    }).map((fault) => fault.problem);

  it('faults a past day covered only by a checkpoint signed during it, with entries or not', () => {
    // The 00:15 run of 12-05 signs 12-04 and 12-05; the one of 12-06 never ran.
    const during = checkpoint('2026-12-05T00:15:00Z', ['2026-12-04', '2026-12-05']);
    expect(problems([during], '2026-12-06T00:45:00Z')).toEqual([
      expect.stringContaining('no closing checkpoint for 2026-12-05'),
    ]);
    // Its chains all removed since: the checkpoint that covered it still says it had to be closed.
    expect(problems([during], '2026-12-06T00:45:00Z', [])).toEqual([
      expect.stringContaining('no closing checkpoint for 2026-12-05'),
    ]);
    // Within the margin after midnight the day is not past yet: covered is enough.
    expect(problems([during], '2026-12-06T00:04:00Z')).toEqual([]);
  });

  it('takes a checkpoint signed from 5 minutes after the day ended as closing it, and needs today covered only', () => {
    const closing = checkpoint('2026-12-06T00:15:00Z', ['2026-12-05', '2026-12-06']);
    expect(problems([closing], '2026-12-06T00:45:00Z')).toEqual([]);
    const early = checkpoint('2026-12-06T00:04:59Z', ['2026-12-05', '2026-12-06']);
    expect(problems([early], '2026-12-06T00:45:00Z')).toEqual([
      expect.stringContaining('no closing checkpoint for 2026-12-05'),
    ]);
    // Today's entries with no checkpoint at all: unsigned, as before.
    expect(problems([], '2026-12-05T12:00:00Z')).toEqual([
      expect.stringContaining('no verified checkpoint covers 2026-12-05'),
    ]);
  });
});
