import type { HttpEvent } from '../../http/types.js';
import { readCookie, serializeCookie } from './cookies.js';

/** Pages speak Simplified Chinese unless the visitor chose English (`?lang=en`, remembered in a cookie). */
export type Lang = 'zh' | 'en';

/** Picks the words of the page's language: `t('电子证照', 'E-licences')`. */
export type Translate = (zh: string, en: string) => string;

export const langCookie = 'lang';

/** The language asked for by `?lang=`, else the remembered choice, else Simplified Chinese. */
export function langOf(event: HttpEvent): Lang {
  const asked = event.queryStringParameters?.lang ?? readCookie(event, langCookie);
  return asked === 'en' ? 'en' : 'zh';
}

/**
 * The `Set-Cookie` value remembering a language choice for a year. Readable by scripts on purpose: it
 * holds nothing but `zh` or `en`.
 */
export function langCookieHeader(lang: Lang, secure: boolean): string {
  return serializeCookie(langCookie, lang, { maxAge: 365 * 86_400, secure, httpOnly: false });
}

/** Whether this request changes the remembered language (so the answer sets the cookie). */
export function langChosen(event: HttpEvent): Lang | undefined {
  const asked = event.queryStringParameters?.lang;
  return asked === 'en' || asked === 'zh' ? asked : undefined;
}

export function translator(lang: Lang): Translate {
  return (zh, en) => (lang === 'en' ? en : zh);
}

/** The `Accept-Language` of the request is deliberately not consulted: the service is Chinese-first. */
export const htmlLang = (lang: Lang) => (lang === 'en' ? 'en' : 'zh-CN');
