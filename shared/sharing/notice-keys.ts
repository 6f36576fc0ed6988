import * as z from 'zod';
import { es256PublicJwkSchema, signingKeySet, type PublishedKey } from '../crypto/key-set.js';

/**
 * Where the notice keys are published: the JWK Set platforms verify withdrawal notices against
 * (docs/integrating.md). Apart from the OpenID JWKS (`/.well-known/jwks.json`, discovery's `jwks_uri`), so
 * that a relying party that trusts every key of that JWKS for ID tokens never trusts a notice key for one
 * (review R31 L1).
 */
export const noticeKeysPath = '/.well-known/notices-jwks.json';

const noticeKeySchema = es256PublicJwkSchema(
  'NoticeKey',
  'The RFC 7638 thumbprint of the key: a notice header’s `kid`',
);

/** `GET /.well-known/notices-jwks.json`: the notice key, and those being retired during a rotation. */
export const noticeKeySetSchema = z.object({ keys: z.array(noticeKeySchema) }).meta({
  title: 'NoticeKeys',
  description:
    'A JWK Set of the keys that sign withdrawal notices (Security Event Tokens, `typ: secevent+jwt`), the ' +
    'signing one first and, during a rotation, the one being retired. Never a key of ' +
    '`/.well-known/jwks.json`: verify notices against this set only, and ID tokens never against it.',
});

/**
 * The notice key set: the public key of the signing notice key and of the generations being retired. The
 * signing key unreadable is an `UnavailableError` (`temporarily_unavailable`), never a set without it; a
 * retiring one unreadable is left out and logged, and `complete` is false (the answer is then not cached).
 *
 * @example
 * ```ts
 * const { set, complete } = await noticeKeySet({ noticeSigner, noticePreviousSigners });
 * ```
 */
export async function noticeKeySet(deps: {
  noticeSigner: PublishedKey;
  noticePreviousSigners: ReadonlyArray<PublishedKey>;
}): Promise<{ set: z.output<typeof noticeKeySetSchema>; complete: boolean }> {
  const { keys, complete } = await signingKeySet(deps.noticeSigner, deps.noticePreviousSigners, {
    unavailable: 'The notice signing key cannot be read now; retry later',
    leftOut: 'a retiring notice key cannot be read: left out of the notice key set',
  });
  return { set: { keys: keys.map((jwk) => noticeKeySchema.parse(jwk)) }, complete };
}
