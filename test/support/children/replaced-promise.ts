/**
 * Run as a child process (`node --import tsx`) by test/security/21-thenable-ports.test.ts: replaces the
 * global `Promise` with another class before anything loads, as zone.js (every Angular app) or
 * bluebird-as-global do, so that the promises native `async` functions return are not `instanceof
 * Promise`. Then verifies, with both ES256 implementations, a credential signed by a stranger under the
 * issuer's kid, and a revoked licence through an async status source; prints the verdicts as JSON.
 */
class ReplacedPromise<T> extends Promise<T> {}
globalThis.Promise = ReplacedPromise as PromiseConstructor;

const { createWorld, FakeStatus } = await import('../verifier-world.js');
const { LocalSigner } = await import('../local-signer.js');
const { createVerifier } = await import('../../../packages/verifier/src/verifier.js');
const { nodeEs256, webCryptoEs256 } = await import('../../../packages/verifier/src/node.js');

const world = await createWorld();
const jti = world.credentialClaims().jti;
const replaced = (async () => undefined)() instanceof globalThis.Promise === false;
// Signed by a key of the attacker's, under the issuer's kid.
const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const input = `${encode({ typ: 'licence+jwt', alg: 'ES256', kid: world.issuer.keys[0]!.kid })}.${encode(
  world.credentialClaims({ hol: { k: 'p', n: '冒名者', m: '110105********0000' } }),
)}`;
const signature = await new LocalSigner().sign(new TextEncoder().encode(input));
const forged = `${input}.${Buffer.from(signature).toString('base64url')}`;
const out: Record<string, unknown> = { replaced };
for (const [name, crypto] of [
  ['node', nodeEs256],
  ['web', webCryptoEs256()],
] as const) {
  const valid = new FakeStatus();
  valid.statuses.set(jti, 'valid');
  const forgedResult = await createVerifier({
    crypto,
    trust: world.trust,
    status: valid,
    clock: world.clock,
  }).verify(forged);
  const revoked = new FakeStatus();
  revoked.statuses.set(jti, 'revoked');
  const asyncStatus = {
    status: async (query: Parameters<typeof revoked.status>[0]) => revoked.status(query),
  };
  const revokedResult = await createVerifier({
    crypto,
    trust: world.trust,
    status: asyncStatus,
    clock: world.clock,
  }).verify(await world.credential());
  out[name] = { forged: forgedResult.verdict, revoked: revokedResult.verdict };
}
process.stdout.write(JSON.stringify(out));
