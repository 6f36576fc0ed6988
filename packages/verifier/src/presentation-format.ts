/**
 * The presentation (亮证) format, `EL1`: a CWT (RFC 8392) in a COSE_Sign1 (RFC 9052) signed ES256 by the
 * platform's presentation key (the trust list's `presentationKeys`), in base45 (RFC 9285) after the prefix `EL1:`, so that the whole QR code is in the
 * alphanumeric mode. This is the EU Digital COVID Certificate's recipe without its DEFLATE step.
 *
 * Why this and not a compact JWS: the JWS signature alone is 86 characters in byte mode, and a JWS
 * presentation with the same content needs QR version 19 at level M (605 characters). Measured (npm run
 * bench): a driving licence showing two fields is about 265 bytes of COSE, 402 characters, version 12;
 * with no field, 337 characters, version 11. Why no DEFLATE: measured on our presentations it saved at most 2 bytes and
 * usually added 2 to 6 (the key id, nonce and signature are random, and the text is short), while it
 * would add a zip-bomb bound, an asynchronous decompressor in browsers, and malleability (the ZLIB
 * header level bits and the final block's padding bits can change without changing the output).
 *
 * Layout (integers keep it small; every member is checked strictly on reading):
 *
 * ```
 * EL1:<base45( 18([ h'{1: -7, 4: kid, 16: 61}', {}, payload, signature ]) )>
 *   kid: the first 8 bytes of the presentation key's RFC 7638 thumbprint (as the EU certificate does); the
 *        trust list names the key under the full thumbprint, which these bytes begin
 *        ({@link presentationJwksKid} is their base64url)
 *   16 (typ, RFC 9596): 61, the CoAP content format of application/cwt
 * payload = {
 *   2 (sub): licence id without the GB/T 36904 root "1.2.156.3005.2." (its credit code names the issuer),
 *   4 (exp), 6 (iat): seconds; 30 s ≤ exp − iat ≤ 600 s,
 *   7 (cti): 12 random bytes, the presentation's unique id,
 *   -65537 (private claim): {
 *     1: licence type code, 2: [holder kind "p" | "e", holder name, masked number],
 *     3: status when presented (Token Status List values: 0 valid, 1 revoked, 2 suspended),
 *     4: licence valid from (s), 5?: licence valid until (s), 6?: the fields the holder chose,
 *     7?: [list number, index]: the licence's entry in its issuer's status list `<issuer id>.<list number>`,
 *         so that a verifier holding that list sees a change made after the presentation was shown
 *   }
 * }
 * ```
 *
 * @packageDocumentation
 */
import { base45Decode, base45Encode } from './base45.js';
import { base64urlDecode, base64urlEncode } from './base64url.js';
import {
  CborCursor,
  cborToJson,
  decodeCborSharing,
  encodeCbor,
  type CborInput,
  type CborValue,
} from './cbor.js';
import { CoseHeader, coseEs256, coseSigStructure, decodeCoseSign1, encodeCoseSign1 } from './cose.js';
import { FormatError } from './errors.js';
import { licenceIdRoot, licenceIdSuffixPattern } from './licence-id.js';
import type { LicenceStatusValue } from './verdict.js';

/** Starts every presentation; the `1` versions the layout. */
export const presentationPrefix = 'EL1:';
/** CoAP content format 61, `application/cwt`, as the protected header's `typ` (RFC 9596). */
export const cwtContentFormat = 61;
/** The private-use CWT claim (below −65536, RFC 8392 §9.1) holding the licence. */
export const licenceClaim = -65537;
/** Bytes of the presentation key's thumbprint that name it in a presentation. */
export const presentationKidLength = 8;
/** Bytes of the unique id. */
export const presentationIdLength = 12;
/** A presentation lives 30 s to 10 min (DESIGN.md): long enough to scan, too short to reuse a screenshot. */
export const presentationLifetime = { min: 30, max: 600 } as const;

const Claim = { sub: 2, exp: 4, iat: 6, cti: 7 } as const;
const LicenceMember = {
  type: 1,
  holder: 2,
  status: 3,
  validFrom: 4,
  validUntil: 5,
  fields: 6,
  statusList: 7,
} as const;
const statusCodes: Record<LicenceStatusValue, number> = { valid: 0, revoked: 1, suspended: 2 };
const statusOfCode: readonly LicenceStatusValue[] = ['valid', 'revoked', 'suspended'];

/** What a presentation says, in seconds since the epoch. */
export interface PresentationClaims {
  /** The unique id (`cti`), base64url. */
  id: string;
  issuedAt: number;
  expiresAt: number;
  licence: {
    id: string;
    type: string;
    holder: { kind: 'person' | 'entity'; name: string; masked: string };
    /** The licence's stored status when the presentation was made. */
    status: LicenceStatusValue;
    validFrom: number;
    validUntil?: number;
    /** Only the fields the holder chose to disclose. */
    fields: Record<string, unknown>;
    /** The licence's entry in its issuer's status list `/status-lists/<issuer id>.<list>`, at `idx`. */
    statusList?: { list: number; idx: number };
  };
}

/** A presentation's envelope, read without a key: what its signature covers and which key made it. */
export interface PresentationEnvelope {
  /** The protected header's `alg` (the verifier accepts ES256, -7, only) and `typ`. */
  alg: CborValue | undefined;
  typ: CborValue | undefined;
  /** The protected header's key id: a prefix of the signing key's thumbprint. */
  kid: Uint8Array;
  /** The COSE `Sig_structure` the signature covers. */
  signedBytes: Uint8Array;
  signature: Uint8Array;
  /** The CWT claims, still encoded: read them with {@link readPresentationClaims} once the signature verified. */
  payload: Uint8Array;
}

/**
 * The key id bytes of a key whose JWK `kid` is `kid`: the first 8 bytes of the thumbprint it encodes
 * (or of its UTF-8 text, for a kid that is not base64url).
 *
 * @example
 * ```ts
 * presentationKeyId(await presentationSigner.kid()); // Uint8Array(8)
 * ```
 */
export function presentationKeyId(kid: string): Uint8Array {
  let bytes: Uint8Array;
  try {
    bytes = base64urlDecode(kid);
  } catch {
    bytes = new TextEncoder().encode(kid);
  }
  return bytes.slice(0, presentationKidLength);
}

/**
 * The base64url of the COSE key id a presentation signed by the key `kid` carries, {@link presentationKeyId}
 * (11 characters): the trust list's `presentationKeys` name each key by its full RFC 7638 thumbprint, which
 * would make every presentation 24 bytes (36 QR characters) longer, past version 12, so a verifier finds
 * the key whose thumbprint kid gives this. (Until the presentation key, `/.well-known/jwks.json` also
 * listed each platform key under this short kid: it no longer does.)
 *
 * @example
 * ```ts
 * presentationJwksKid(await presentationSigner.kid()); // 'q1w2e3r4t5y'
 * ```
 */
export function presentationJwksKid(kid: string): string {
  return base64urlEncode(presentationKeyId(kid));
}

function payloadOf(claims: PresentationClaims): Uint8Array {
  const { licence } = claims;
  const root = `${licenceIdRoot}.`;
  if (!licence.id.startsWith(root)) throw new RangeError(`A licence id starts with ${root}`);
  const inner = new Map<number, CborInput>([
    [LicenceMember.type, licence.type],
    [
      LicenceMember.holder,
      [licence.holder.kind === 'person' ? 'p' : 'e', licence.holder.name, licence.holder.masked],
    ],
    [LicenceMember.status, statusCodes[licence.status]],
    [LicenceMember.validFrom, licence.validFrom],
  ]);
  if (licence.validUntil !== undefined) inner.set(LicenceMember.validUntil, licence.validUntil);
  if (Object.keys(licence.fields).length > 0) {
    inner.set(LicenceMember.fields, licence.fields as { [key: string]: CborInput });
  }
  if (licence.statusList) {
    inner.set(LicenceMember.statusList, [licence.statusList.list, licence.statusList.idx]);
  }
  return encodeCbor(
    new Map<number, CborInput>([
      [Claim.sub, licence.id.slice(root.length)],
      [Claim.exp, claims.expiresAt],
      [Claim.iat, claims.issuedAt],
      [Claim.cti, base64urlDecode(claims.id)],
      [licenceClaim, inner],
    ]),
  );
}

/** The protected header of a presentation signed by the key with JWK `kid`. */
export function presentationProtectedHeader(kid: string): Uint8Array {
  return encodeCbor(
    new Map<number, CborInput>([
      [CoseHeader.alg, coseEs256],
      [CoseHeader.kid, presentationKeyId(kid)],
      [CoseHeader.typ, cwtContentFormat],
    ]),
  );
}

/**
 * The two byte strings a presentation's signature covers and carries, before signing: pure, so the
 * signature can come from anywhere (KMS in the service, a local key in tests).
 *
 * @example
 * ```ts
 * const { protectedBytes, payload, toBeSigned } = presentationToBeSigned(claims, await signer.kid());
 * const text = presentationText(protectedBytes, payload, await signer.sign(toBeSigned));
 * ```
 */
export function presentationToBeSigned(claims: PresentationClaims, kid: string) {
  const protectedBytes = presentationProtectedHeader(kid);
  const payload = payloadOf(claims);
  return { protectedBytes, payload, toBeSigned: coseSigStructure(protectedBytes, payload) };
}

/** The QR text of a signed presentation: `EL1:` and the base45 of its COSE_Sign1. */
export function presentationText(
  protectedBytes: Uint8Array,
  payload: Uint8Array,
  signature: Uint8Array,
): string {
  if (signature.length !== 64) throw new RangeError('An ES256 signature is 64 bytes');
  return presentationPrefix + base45Encode(encodeCoseSign1(protectedBytes, payload, signature));
}

/**
 * Signs a presentation with any ES256 signer (the presentation key's `KmsSigner` in the service) and answers its
 * QR text.
 *
 * @example
 * ```ts
 * const text = await signPresentation(claims, deps.presentationSigner); // 'EL1:6BFOXN*TS0BI$ZD…'
 * ```
 */
export async function signPresentation(
  claims: PresentationClaims,
  signer: { kid(): Promise<string>; sign(data: Uint8Array): Promise<Uint8Array> },
): Promise<string> {
  const { protectedBytes, payload, toBeSigned } = presentationToBeSigned(claims, await signer.kid());
  return presentationText(protectedBytes, payload, await signer.sign(toBeSigned));
}

const malformed = (message: string) => new FormatError('invalid_claims', message);

function expectKeys(
  map: Map<number | string, CborValue>,
  required: readonly number[],
  optional: readonly number[],
): void {
  for (const key of required) if (!map.has(key)) throw malformed(`Claim ${key} is missing`);
  for (const key of map.keys()) {
    if (typeof key !== 'number' || (!required.includes(key) && !optional.includes(key))) {
      throw malformed(`Unexpected claim ${String(key)}`);
    }
  }
}

function text(value: CborValue | undefined, what: string, max: number): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > max)
    throw malformed(`${what} must be text`);
  return value;
}

/** The members a payload and its licence claim must and may have: made once, not per verification. */
const claimsRequired: readonly number[] = [Claim.sub, Claim.exp, Claim.iat, Claim.cti, licenceClaim];
const noMembers: readonly number[] = [];
const licenceRequired: readonly number[] = [
  LicenceMember.type,
  LicenceMember.holder,
  LicenceMember.status,
  LicenceMember.validFrom,
];
const licenceOptional: readonly number[] = [
  LicenceMember.validUntil,
  LicenceMember.fields,
  LicenceMember.statusList,
];

const isIndex = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;

function seconds(value: CborValue | undefined, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw malformed(`${what} must be seconds since the epoch`);
  }
  return value;
}

/**
 * Reads a presentation's text as far as can be done without a key: prefix, base45, COSE_Sign1 and its
 * protected header (only `alg`, `kid` and `typ` are allowed; the caller checks their values). Throws
 * {@link FormatError}. The claims stay encoded until the signature over `signedBytes` verified.
 *
 * @example
 * ```ts
 * const { kid, signedBytes, signature, payload } = readPresentationEnvelope(scan);
 * ```
 */
export function readPresentationEnvelope(scan: string): PresentationEnvelope {
  if (!scan.startsWith(presentationPrefix)) throw new FormatError('not_a_credential', 'Not a presentation');
  // The decoded bytes are this function's alone: COSE's byte strings stay views of them, not copies.
  const buffer = base45Decode(scan, presentationPrefix.length, envelopeRoom);
  try {
    return readCanonicalEnvelope(buffer);
  } catch {
    // Anything else, valid or not, is read by the general path, which also names what is wrong.
    return readEnvelope(buffer.subarray(envelopeRoom));
  }
}

/**
 * Bytes before a COSE_Sign1 in {@link readCanonicalEnvelope}'s buffer: with the message's own first two
 * (tag 18, array of 4) they make room for the Sig_structure's first twelve (array of 4, "Signature1").
 */
export const envelopeRoom = 10;
const sigStructureStart = encodeCbor(['Signature1', new Uint8Array(0)]).subarray(1, 12);

/**
 * The fast path of {@link readPresentationEnvelope}: the one layout our signers write, read in place
 * (`d2 84`, the protected header `a3 01 26 04 <kid> 10 18 3d`, `a0`, the payload and the 64-byte
 * signature). It throws on anything else, and what it accepts the general path reads the same.
 * Exported for tests, not by the package.
 *
 * `buffer` holds the message after {@link envelopeRoom} bytes. The signed bytes are made in place, with
 * no copy: `["Signature1", protected, h'', payload]` is the message's own `protected, {}, payload` (their
 * heads are the shortest, as in any Sig_structure) behind the array head and "Signature1" written into
 * the room and over the message's first two bytes, and with `{}` (`a0`) turned into `h''` (`40`). The
 * buffer is changed only once everything was read, and no view handed out covers a changed byte.
 *
 * @internal
 */
export function readCanonicalEnvelope(buffer: Uint8Array): PresentationEnvelope {
  const c = new CborCursor(buffer, envelopeRoom);
  c.expect(0xd2); // tag 18
  c.expect(0x84);
  const protectedBytes = c.bytes();
  const unprotectedAt = c.offset;
  c.expect(0xa0); // an empty unprotected header
  const payload = c.bytes();
  const signedEnd = c.offset;
  const signature = c.bytes();
  c.end();
  if (signature.length !== 64) throw malformed('signature');
  const header = new CborCursor(protectedBytes);
  header.expect(0xa3);
  header.expect(CoseHeader.alg);
  header.expect(0x26); // -7, ES256
  header.expect(CoseHeader.kid);
  const kid = header.bytes();
  header.expect(CoseHeader.typ);
  header.expect(0x18);
  header.expect(cwtContentFormat);
  header.end();
  if (kid.length < 1 || kid.length > 32) throw malformed('kid');
  buffer[0] = 0x84; // array of 4
  buffer.set(sigStructureStart, 1); // "Signature1", over the room and the message's `d2 84`
  buffer[unprotectedAt] = 0x40; // h'' (no external data) where the message has {}
  return {
    alg: coseEs256,
    typ: cwtContentFormat,
    kid,
    signedBytes: buffer.subarray(0, signedEnd),
    signature,
    payload,
  };
}

/** The general path of {@link readPresentationEnvelope}, for any COSE_Sign1 (exported for tests). @internal */
export function readEnvelope(bytes: Uint8Array): PresentationEnvelope {
  const cose = decodeCoseSign1(bytes, true);
  const header = cose.protectedHeader;
  for (const label of header.keys()) {
    if (label !== CoseHeader.alg && label !== CoseHeader.kid && label !== CoseHeader.typ) {
      // `crit` (2) and anything else we would not understand.
      throw new FormatError('invalid_cose', `Unexpected protected header ${String(label)}`);
    }
  }
  const kid = header.get(CoseHeader.kid);
  if (!(kid instanceof Uint8Array) || kid.length < 1 || kid.length > 32) {
    throw new FormatError('invalid_cose', 'The protected header names no key');
  }
  return {
    alg: header.get(CoseHeader.alg),
    typ: header.get(CoseHeader.typ),
    kid,
    signedBytes: coseSigStructure(cose.protectedBytes, cose.payload),
    signature: cose.signature,
    payload: cose.payload,
  };
}

/**
 * Reads the CWT claims of a presentation, strictly: exactly the members of the layout above, each of its
 * type and bounded. Throws {@link FormatError} `invalid_claims` (or `invalid_cbor`).
 *
 * @example
 * ```ts
 * const { claims, issuerCreditCode } = readPresentationClaims(envelope.payload);
 * ```
 */
export function readPresentationClaims(bytes: Uint8Array): ReadClaims {
  try {
    return readCanonicalClaims(bytes);
  } catch {
    // Anything else, valid or not, is read by the general path, which also names what is wrong.
    return readClaims(bytes);
  }
}

interface ReadClaims {
  claims: PresentationClaims;
  /** The issuer's credit code, from the licence id. */
  issuerCreditCode: string;
}

const licenceClaimKey = [0x3a, 0x00, 0x01, 0x00, 0x00] as const; // -65537
/** The licence members every presentation has, as bits of their keys. */
const requiredMembers =
  (1 << LicenceMember.type) |
  (1 << LicenceMember.holder) |
  (1 << LicenceMember.status) |
  (1 << LicenceMember.validFrom);

/**
 * The fast path of {@link readPresentationClaims}: the layout above as our signers write it (keys in
 * their deterministic order, each value of its expected CBOR type), read straight into the claims without
 * maps in between. It throws on anything else, and what it accepts the general path reads the same (a
 * test holds them equal on valid and on mutated payloads). Exported for tests, not by the package.
 *
 * @internal
 */
export function readCanonicalClaims(bytes: Uint8Array): ReadClaims {
  const c = new CborCursor(bytes);
  c.expect(0xa5);
  c.expect(Claim.sub);
  const sub = c.text();
  c.expect(Claim.exp);
  const expiresAt = c.uint();
  c.expect(Claim.iat);
  const issuedAt = c.uint();
  c.expect(Claim.cti);
  const cti = c.bytes();
  for (const byte of licenceClaimKey) c.expect(byte);
  const members = c.head(5);
  let type: string | undefined;
  let kind: 'person' | 'entity' | undefined;
  let name = '';
  let masked = '';
  let status: LicenceStatusValue | undefined;
  let validFrom = 0;
  let validUntil: number | undefined;
  let fields: Record<string, unknown> = {};
  let statusList: { list: number; idx: number } | undefined;
  let seen = 0;
  let previous = 0;
  for (let i = 0; i < members; i++) {
    const key = c.byte();
    if (key <= previous || key > LicenceMember.statusList) throw malformed('licence member');
    previous = key;
    seen |= 1 << key;
    switch (key) {
      case LicenceMember.type:
        type = c.text();
        break;
      case LicenceMember.holder: {
        c.expect(0x83);
        const k = c.text();
        if (k !== 'p' && k !== 'e') throw malformed('holder');
        kind = k === 'p' ? 'person' : 'entity';
        name = c.text();
        masked = c.text();
        break;
      }
      case LicenceMember.status:
        status = statusOfCode[c.uint()];
        break;
      case LicenceMember.validFrom:
        validFrom = c.uint();
        break;
      case LicenceMember.validUntil:
        validUntil = c.uint();
        break;
      case LicenceMember.fields: {
        const value = c.item(2);
        if (!(value instanceof Map) || value.size === 0) throw malformed('fields');
        fields = cborToJson(value) as Record<string, unknown>;
        break;
      }
      default: {
        c.expect(0x82);
        statusList = { list: c.uint(), idx: c.uint() };
      }
    }
  }
  c.end();
  if ((seen & requiredMembers) !== requiredMembers || kind === undefined || status === undefined) {
    throw malformed('licence members');
  }
  if (cti.length < 8 || cti.length > 32) throw malformed('cti');
  const parts = licenceIdSuffixPattern.exec(sub);
  if (!parts || sub.length > 64) throw malformed('sub');
  const licenceType = text(type, 'type', 64);
  const licence: Omit<PresentationClaims['licence'], 'fields'> & { fields?: Record<string, unknown> } = {
    id: `${licenceIdRoot}.${sub}`,
    type: licenceType,
    holder: { kind, name: text(name, 'holder name', 200), masked: text(masked, 'masked number', 64) },
    status,
    validFrom,
  };
  if (validUntil !== undefined) licence.validUntil = validUntil;
  licence.fields = fields;
  if (statusList) licence.statusList = statusList;
  return {
    claims: {
      id: base64urlEncode(cti),
      issuedAt,
      expiresAt,
      licence: licence as PresentationClaims['licence'],
    },
    issuerCreditCode: parts[2] as string,
  };
}

/** The general path of {@link readPresentationClaims}: decode, then check member by member (exported for tests). @internal */
export function readClaims(bytes: Uint8Array): ReadClaims {
  // Byte strings as views: none outlives this function (cti is returned as base64url text).
  const payload = decodeCborSharing(bytes);
  if (!(payload instanceof Map)) throw malformed('The CWT claims must be a map');
  expectKeys(payload, claimsRequired, noMembers);
  const cti = payload.get(Claim.cti);
  if (!(cti instanceof Uint8Array) || cti.length < 8 || cti.length > 32)
    throw malformed('cti must be 8 to 32 bytes');
  const sub = text(payload.get(Claim.sub), 'sub', 64);
  // The platform signed it, so its shape is checked, not its check character (that was done at issuance).
  const parts = licenceIdSuffixPattern.exec(sub);
  if (!parts) throw malformed('sub is not a licence id');
  const licenceId = `${licenceIdRoot}.${sub}`;
  const issuerCreditCode = parts[2] as string;

  const licence = payload.get(licenceClaim);
  if (!(licence instanceof Map)) throw malformed('The licence claim must be a map');
  expectKeys(licence, licenceRequired, licenceOptional);
  const holder = licence.get(LicenceMember.holder);
  if (!Array.isArray(holder) || holder.length !== 3 || (holder[0] !== 'p' && holder[0] !== 'e')) {
    throw malformed('holder must be [kind, name, masked number]');
  }
  const statusCode = licence.get(LicenceMember.status);
  const status = typeof statusCode === 'number' ? statusOfCode[statusCode] : undefined;
  if (!status) throw malformed('status must be 0, 1 or 2');
  const fieldsValue = licence.get(LicenceMember.fields);
  let fields: Record<string, unknown> = {};
  if (fieldsValue !== undefined) {
    if (!(fieldsValue instanceof Map) || fieldsValue.size === 0)
      throw malformed('fields must be a non-empty map');
    fields = cborToJson(fieldsValue) as Record<string, unknown>;
  }
  const validUntilValue = licence.get(LicenceMember.validUntil);
  const statusListValue = licence.get(LicenceMember.statusList);
  let statusList: { list: number; idx: number } | undefined;
  if (statusListValue !== undefined) {
    const [list, idx] = Array.isArray(statusListValue) ? statusListValue : [];
    if (!Array.isArray(statusListValue) || statusListValue.length !== 2 || !isIndex(list) || !isIndex(idx)) {
      throw malformed('the status list entry must be [list number, index]');
    }
    statusList = { list, idx };
  }

  // Built by assignment in the order of the type, not by spreading fresh objects: this runs on every
  // verification. The checks run in the same order as ever, so the same input fails the same way.
  const id = base64urlEncode(cti);
  const issuedAt = seconds(payload.get(Claim.iat), 'iat');
  const expiresAt = seconds(payload.get(Claim.exp), 'exp');
  // `fields` comes after `validUntil`, as it always has (a serialisation shows the same order).
  const licenceClaims: Omit<PresentationClaims['licence'], 'fields'> & { fields?: Record<string, unknown> } =
    {
      id: licenceId,
      type: text(licence.get(LicenceMember.type), 'type', 64),
      holder: {
        kind: holder[0] === 'p' ? 'person' : 'entity',
        name: text(holder[1], 'holder name', 200),
        masked: text(holder[2], 'masked number', 64),
      },
      status,
      validFrom: seconds(licence.get(LicenceMember.validFrom), 'valid from'),
    };
  if (validUntilValue !== undefined) licenceClaims.validUntil = seconds(validUntilValue, 'valid until');
  licenceClaims.fields = fields;
  if (statusList) licenceClaims.statusList = statusList;
  return {
    claims: { id, issuedAt, expiresAt, licence: licenceClaims as PresentationClaims['licence'] },
    issuerCreditCode,
  };
}
