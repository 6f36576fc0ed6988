import * as z from 'zod';
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../../shared/errors.js';
import { zodErrors } from '../../../shared/http/request.js';
import { FormRefusal } from '../../../shared/web/kit/form.js';
import { translator } from '../../../shared/web/kit/i18n.js';
import {
  closeAccountForm,
  closeAccountLabels,
  closeConfirmBody,
} from '../../../shared/web/pages/wallet-account-page.js';
import { appointFieldLabels } from '../../../shared/web/pages/wallet-agents-page.js';
import { refusalWords } from '../../../shared/web/web-handler.js';

const zh = translator('zh');
const en = translator('en');

/** What `parseForm` throws for `fields` against `schema`, with the form's labels. */
function refused(schema: z.ZodType, fields: Record<string, unknown>, labels: FormRefusal['labels']) {
  const parsed = schema.safeParse(fields);
  if (parsed.success) throw new Error('expected a refusal');
  return new FormRefusal('Please correct', zodErrors(parsed.error, fields), labels);
}

/**
 * The error page's words for a refusal without words of its own (`refusalWords` in web-handler.ts): each
 * refused field named by the label its form shows, in the page's language, never by the name it posts
 * (`password`, `scope.0`) nor by an API path.
 */
/** The text of the label the rendered form gives its input `name` (`<label for>`, or one around it). */
function labelOf(form: string, name: string): string | undefined {
  const input = new RegExp(`<input\\b[^>]*\\bname="${name}"[^>]*>`).exec(form)?.[0];
  if (!input) return undefined;
  const id = /\bid="([^"]+)"/.exec(input)?.[1];
  const byFor = id ? new RegExp(`<label for="${id}">([^<]*)</label>`).exec(form)?.[1] : undefined;
  const around = new RegExp(`<label>\\s*<input\\b[^>]*\\bname="${name}"[^>]*>([^<]*)</label>`).exec(
    form,
  )?.[1];
  return (byFor ?? around)?.trim();
}

describe('the refusal summary of a page', () => {
  // The real closing form (as `POST /wallet/account/close` parses it), not a copy that cannot drift.
  const closing = closeAccountForm;

  // Review finding: the test used its own schema, so labels drifting from the real form passed.
  it('has a label for every field the closing form posts, the one the form shows', () => {
    const account = {
      ...{ masked: '1101**********0011', name: '王小明', assurance: 'possession-verified' },
      ...{ acr: 'urn:elicence:loa:3', phoneProven: true, passkeys: 0, createdAt: '2026-01-01T00:00:00Z' },
    };
    for (const t of [zh, en]) {
      const form = closeConfirmBody(t, account).toString();
      for (const name of Object.keys(closeAccountForm.shape)) {
        const label = closeAccountLabels[name as keyof typeof closeAccountLabels];
        expect(label, name).toBeDefined();
        expect(labelOf(form, name), name).toBe(label(t));
      }
    }
  });

  it('names a refused field by the label its form shows', () => {
    const error = refused(closing, { password: 'x'.repeat(1100) }, closeAccountLabels);
    const words = refusalWords(zh, error);
    expect(words).toBe(`请求未被接受：${closeAccountLabels.password(zh)}：${'最多 1024 个字符。'}`);
    expect(words).not.toMatch(/password/);
    expect(refusalWords(en, error)).toMatch(/^The request was not accepted: Type your password again/);
  });

  it('names an item of a list field (scope.0) by the list’s label', () => {
    const appoint = z.strictObject({ scope: z.array(z.string().max(40)) });
    const words = refusalWords(zh, refused(appoint, { scope: ['x'.repeat(41)] }, appointFieldLabels));
    expect(words).toContain('委托事项：');
    expect(words).not.toMatch(/scope/);
  });

  it('says only the rule of a path no form labels, never the path itself', () => {
    const api = new InvalidInputError('body.phone is not a phone', 'invalid_request', {
      errors: [{ path: 'body.phone', message: 'Invalid', code: 'invalid_format' }],
    });
    const words = refusalWords(zh, api);
    expect(words).toMatch(/^请求未被接受：/);
    expect(words).not.toMatch(/body|phone/);
    // An unknown field of a strict form (path `(body)`) and a name the labels lack are not shown either.
    const extra = refused(closing, { password: 'p', other: '1' }, closeAccountLabels);
    expect(refusalWords(zh, extra)).not.toMatch(/\(body\)|other/);
    expect(refusalWords(zh, refused(closing, { password: 'x'.repeat(1100) }, {}))).not.toMatch(/password/);
  });
});
