import { describe, expect, it } from 'vitest';
import { ServiceError } from '../../../shared/errors.js';
import { httpStatusOf } from '../../../shared/http/error-mapping.js';
import { decodeFormBody } from '../../../shared/http/form-body.js';

const form = 'application/x-www-form-urlencoded';
const decode = (body: string | Buffer, contentType = form, strictEscapes = false) =>
  decodeFormBody(Buffer.isBuffer(body) ? body : Buffer.from(body, 'latin1'), contentType, { strictEscapes });

function refusal(run: () => unknown): ServiceError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ServiceError);
    return error as ServiceError;
  }
  throw new Error('expected a refusal');
}

describe('decoding a form body (session 27)', () => {
  it('reads UTF-8 fields as a browser posts them: escapes, + as space, order and repeats kept', () => {
    const body = new URLSearchParams([
      ['reason', '记满 12 分'],
      ['name', '𠀋李'],
      ['tag', 'a'],
      ['tag', 'b'],
    ]).toString();
    expect(decode(body)).toEqual({
      pairs: [
        ['reason', '记满 12 分'],
        ['name', '𠀋李'],
        ['tag', 'a'],
        ['tag', 'b'],
      ],
      unreadable: [],
    });
    expect(decode('a=1&&b&=x', `${form}; charset=UTF-8`).pairs).toEqual([
      ['a', '1'],
      ['b', ''],
      ['', 'x'],
    ]);
  });

  it('names a field sent in GBK (percent-escaped or raw bytes), or with %FF, keeping the others', () => {
    // 记满12分 in GBK, as a browser set to GBK escapes it, and as a script sends it unescaped.
    for (const reason of [
      '%BC%C7%C2%FA12%B7%D6',
      Buffer.from('BCC7C2FA3132B7D6', 'hex').toString('latin1'),
    ]) {
      expect(decode(`status=suspended&reason=${reason}&reasonCode=other`)).toEqual({
        pairs: [
          ['status', 'suspended'],
          ['reasonCode', 'other'],
        ],
        unreadable: [
          { path: 'reason', message: expect.stringContaining('UTF-8'), code: 'invalid_characters' },
        ],
      });
    }
    expect(decode('name=%FF&name=%FE').unreadable).toEqual([
      expect.objectContaining({ path: 'name', code: 'invalid_characters' }),
    ]);
    // An unreadable name cannot be named: the body is.
    expect(decode('%FF=1').unreadable).toEqual([expect.objectContaining({ path: '(body)' })]);
  });

  it('refuses U+FFFD sent as UTF-8 and an encoded surrogate, which no real text holds', () => {
    expect(decode('reason=%EF%BF%BD').unreadable[0]?.path).toBe('reason');
    expect(decode('reason=%ED%A0%80').unreadable[0]?.path).toBe('reason');
  });

  it('refuses a charset other than UTF-8 with 415 unsupported_charset, naming UTF-8, not it, as the JSON edge does', () => {
    for (const contentType of [`${form}; charset=GBK`, `${form};Charset="gb18030"`]) {
      const error = refusal(() => decode('reason=%BC%C7', contentType));
      expect([httpStatusOf(error), error.code]).toEqual([415, 'unsupported_charset']);
      expect(error.message.toLowerCase()).not.toContain(contentType.includes('GBK') ? 'gbk' : 'gb18030');
      expect(error.message).toContain('UTF-8');
    }
  });

  it('keeps a % that is no escape as a browser does, or refuses it when strict', () => {
    expect(decode('q=100%25&r=%zz&s=%').pairs).toEqual([
      ['q', '100%'],
      ['r', '%zz'],
      ['s', '%'],
    ]);
    const error = refusal(() => decode('r=%zz', form, true));
    expect([httpStatusOf(error), error.errors[0]?.path]).toEqual([400, '(body)']);
  });
});
