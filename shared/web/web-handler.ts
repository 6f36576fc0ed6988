import { ServiceError } from '../errors.js';
import { checkRequestLine, withEdgeHeaders, type Edge } from '../http/edge.js';
import { httpStatusOf } from '../http/error-mapping.js';
import type { HttpEvent, HttpHandler, HttpResult } from '../http/types.js';
import { logger, withRequestLogKeys } from '../logger.js';
import { fieldErrorText, labelledFieldError } from './kit/field-messages.js';
import { fieldLabelOf, FormRefusal } from './kit/form.js';
import { html } from './kit/html.js';
import { langChosen, langCookieHeader, langOf, translator, type Lang, type Translate } from './kit/i18n.js';
import { htmlPage, notice, renderPage, type Section } from './kit/layout.js';

/** What a page handler gets besides the event: the visitor's language and its translator. */
export interface PageContext {
  lang: Lang;
  t: Translate;
  /** The request path, for links back to this page. */
  path: string;
}

/**
 * The boundary of the web pages, like `apiHandler` for the API: an exposed {@link ServiceError} (below
 * 500) becomes a page saying what went wrong in the visitor's language; anything else is logged and
 * shown as a generic failure with the request id, so no internals reach the browser. A `?lang=` choice
 * is remembered in a cookie (`Secure` when `edge.secure()`). The request line is bounded first, by the
 * route's parameter kinds that `edge` gives, and every answer gets the edge's headers.
 *
 * @example
 * ```ts
 * export const handler = webHandler('wallet', async (event, { t }) => htmlPage(200, …), served.edge);
 * ```
 */
export function webHandler(
  section: Section,
  handle: (event: HttpEvent, context: PageContext) => Promise<HttpResult>,
  edge: Edge,
): HttpHandler {
  return (event, lambdaContext) =>
    withRequestLogKeys(event, lambdaContext, async () => {
      const requestId = event.requestContext?.requestId;
      const lang = langOf(event);
      const context: PageContext = { lang, t: translator(lang), path: event.rawPath };
      const result = await Promise.resolve()
        .then(() => {
          checkRequestLine(event, edge.parametersOf(event.routeKey));
          return handle(event, context);
        })
        .catch((error: unknown) => errorPage(error, section, context, requestId));
      const chosen = langChosen(event);
      const secure = edge.secure();
      if (!chosen) return withEdgeHeaders(result, secure);
      const cookie = langCookieHeader(chosen, secure);
      return withEdgeHeaders({ ...result, cookies: [...(result.cookies ?? []), cookie] }, secure);
    });
}

function errorPage(
  error: unknown,
  section: Section,
  { lang, t, path }: PageContext,
  requestId: string | undefined,
): HttpResult {
  const exposed = error instanceof ServiceError && error.expose;
  const status = error instanceof ServiceError ? httpStatusOf(error) : 500;
  if (exposed) logger.info('page request refused', { code: error.code, status });
  else logger.error('page request failed', error instanceof Error ? error : String(error));
  const title = exposed
    ? t('无法完成请求', 'The request could not be completed')
    : t('出错了', 'Something went wrong');
  const message = exposed
    ? (pageMessages[error.code]?.(t) ?? refusalWords(t, error))
    : t(
        `服务暂时无法完成请求。如需报告，请提供请求编号 ${requestId ?? ''}。`,
        `The service could not complete the request. Quote request id ${requestId ?? ''} when reporting it.`,
      );
  return htmlPage(
    status,
    renderPage({
      lang,
      path,
      section,
      title,
      body: html`<h1>${title}</h1>
        ${notice('error', message)}
        <p><a href="${sectionHome[section]}">${t('返回', 'Go back')}</a></p>`,
    }),
  );
}

const sectionHome: Record<Section, string> = {
  home: '/',
  wallet: '/wallet',
  verifier: '/verifier',
  demo: '/demo',
  console: '/console',
  supervision: '/supervision',
};

/**
 * A refusal without words of its own, in the page's language: each failing input named by the label its
 * form shows ({@link FormRefusal}), its rule said from its code. A path no form labels (a query
 * parameter, an API's body path) is never shown: only its rule is. The English message is for
 * developers, and stays off a Chinese page.
 *
 * @example
 * ```ts
 * refusalWords(t, new FormRefusal('…', [{ path: 'password', message: '…', code: 'too_long', params: { maximum: 1024 } }], { password: (t) => t('登录密码', 'Password') }));
 * // '请求未被接受：登录密码：最多 1024 个字符。'
 * ```
 */
export function refusalWords(t: Translate, error: ServiceError): string {
  const labels = error instanceof FormRefusal ? error.labels : {};
  const inputs = error.errors.map((e) => {
    const label = fieldLabelOf(labels, e.path, t);
    return label ? labelledFieldError(t, label, e) : fieldErrorText(t, e);
  });
  if (inputs.length === 0) return t('请求未被接受，请返回上一页检查后重试。', error.message);
  return `${t('请求未被接受：', 'The request was not accepted: ')}${inputs.join(t('；', '; '))}`;
}

/** Words for the refusals a visitor is likely to meet, by stable code; others show their own message. */
const pageMessages: Partial<Record<string, (t: Translate) => string>> = {
  cross_site_request: (t) => t('请从本站页面提交表单。', 'Please submit the form from this site’s own page.'),
  login_expired: (t) =>
    t(
      '登录已过期或已在其他窗口完成，请重新登录。',
      'The sign-in expired or finished in another window: please sign in again.',
    ),
  route_not_found: (t) => t('页面不存在。', 'There is no such page.'),
  licence_not_found: (t) => t('没有找到这张证照。', 'There is no such licence.'),
  uri_too_long: (t) => t('网址过长。', 'The address is too long.'),
  // A form declared in another charset than UTF-8 (a script posting GBK): our pages post UTF-8.
  unsupported_charset: (t) =>
    t(
      '表单须以 UTF-8 编码提交（请从本站页面提交，或将 charset 改为 UTF-8）。',
      'The form must be sent as UTF-8: submit it from this site’s page, or send charset=UTF-8.',
    ),
};
