import { ServiceError } from '../../errors.js';
import type { HttpResult } from '../../http/types.js';
import { httpStatusOf } from '../../http/error-mapping.js';
import { logger } from '../../logger.js';
import { html, htmlPage, notice, renderPage } from '../kit/layout.js';
import type { Translate } from '../kit/i18n.js';
import type { PageContext } from '../web-handler.js';

/** The wallet's own refusals, in words a holder understands; others go to the shared error page. */
const messages: Partial<Record<string, (t: Translate) => string>> = {
  licence_not_found: (t) =>
    t(
      '没有找到这张证照，或它不属于当前登录的身份。',
      'There is no such licence, or it does not belong to the identity you signed in with.',
    ),
  invalid_disclose: (t) =>
    t(
      '所选的出示项目无效。请回到证照页面重新选择。',
      'The choice of what to show is not valid. Go back to the licence and choose again.',
    ),
  field_not_disclosable: (t) =>
    t(
      '所选的出示项目无效。请回到证照页面重新选择。',
      'The choice of what to show is not valid. Go back to the licence and choose again.',
    ),
  login_refused: (t) =>
    t('登录未完成（已取消或被拒绝）。', 'The sign-in was not completed (cancelled or refused).'),
  login_expired: (t) =>
    t(
      '登录已过期或已在其他窗口完成，请重新登录。',
      'The sign-in expired or finished in another window: please sign in again.',
    ),
  not_a_person: (t) => t('当前登录身份不能查看证照。', 'This sign-in cannot see licences.'),
  account_not_found: (t) => t('当前登录的账号已不存在。', 'The account you signed in with no longer exists.'),
  issuer_withdrawn: (t) =>
    t(
      '此证照的发证机关已被撤销，平台不再为其版式文件签名（核验也不会通过）。PDF 仍可下载，作为记录保存。',
      'This licence’s issuing authority has been withdrawn, so its PDF is no longer signed (a signature would not verify). The PDF can still be downloaded as a record.',
    ),
  key_withdrawn: (t) =>
    t(
      '签发此证照所用的发证机关密钥已被撤回，证照上的二维码核验不再通过，平台也不再为其版式文件签名。请联系发证机关重新签发。PDF 仍可下载，作为记录保存。',
      'The issuing authority’s key that signed this licence has been withdrawn: its QR code no longer verifies and its PDF is no longer signed. Ask the issuing authority to issue it again. The PDF can still be downloaded as a record.',
    ),
  holder_api_unavailable: (t) =>
    t(
      '暂时无法读取您的证照，请稍后再试。',
      'Your licences cannot be read just now. Please try again shortly.',
    ),
};

/**
 * The wallet's error page for the refusals it knows (a licence that is not yours, a bad `disclose`
 * choice, a cancelled sign-in, a withdrawn issuer's PDF signature, the holder API unreachable): the status of the error and a way back.
 * Anything else is rethrown to `webHandler`, which logs it and shows its generic page.
 *
 * @example
 * ```ts
 * try { return await route(event, context); } catch (error) { return walletErrorPage(error, context); }
 * ```
 */
export function walletErrorPage(error: unknown, context: PageContext, back = '/wallet'): HttpResult {
  const words = error instanceof ServiceError ? messages[error.code] : undefined;
  if (!words || !(error instanceof ServiceError)) throw error;
  const { t } = context;
  const status = httpStatusOf(error);
  if (status >= 500) logger.error('wallet page failed', error);
  else logger.info('wallet request refused', { code: error.code, status });
  const title = t('无法完成请求', 'The request could not be completed');
  return htmlPage(
    status,
    renderPage({
      ...context,
      section: 'wallet',
      title,
      body: html`<h1>${title}</h1>
        ${notice('error', words(t), 'wallet-error')}
        <p><a href="${back}">${t('返回', 'Go back')}</a></p>`,
    }),
  );
}
