import type { ScanLoginProblem } from '../../identity/scan-login.js';
import { dateTime } from '../kit/china-time.js';
import type { FieldLabels } from '../kit/form.js';
import type { Translate } from '../kit/i18n.js';
import type { SafeHtml } from '../kit/layout.js';
import { html, notice } from '../kit/layout.js';
import { page, type PageView } from './interaction-html.js';

/*
 * The pages of scan-to-login (扫码登录): on the sign-in page, the QR code, its link and a way on; the
 * waiting page, whose request the server holds open for the wallet's answer (a long poll, no script) and
 * which offers to wait again; and in the wallet, the request to confirm, naming the platform and the
 * browser that asks. No page reloads itself: an automatic refresh takes the page away from people who
 * read it with a screen reader or slowly (WCAG 2.2.1), and axe refuses `<meta http-equiv="refresh">`.
 */

/**
 * The code as the sign-in page shows it: the link, where its QR code comes from (a `data:` SVG for a code
 * stored already; for a new code `/interaction/{uid}/qr`, whose fetch stores it), and the seconds it has
 * left.
 */
export interface ShownScanCode {
  uid: string;
  url: string;
  qrSrc: string;
  expiresIn: number;
  /** How long a code lives (`SCAN_LOGIN_SECONDS`), as the page says it. */
  lifetimeSeconds: number;
}

/** The browser script of the pages that show a code: its countdown and, at its end, 刷新二维码 (R62-4). */
export const scanLoginTimerScripts = ['scan-login-timer.js'] as const;

/**
 * The code's QR image and link, and how long it lasts. The box carries the seconds left and the words of
 * its countdown (`shared/web/browser/scan-login-timer.ts`), which at the end replaces the code with
 * 二维码已过期 and 刷新二维码 (a GET of the sign-in step, which shows a new code).
 */
function qrImage(t: Translate, code: ShownScanCode): SafeHtml {
  const src = code.qrSrc;
  return html`<div
    id="scan-login-code-box"
    data-expires-in="${code.expiresIn}"
    data-timer-label="${t('二维码剩余 {s} 秒', 'The code expires in {s} s')}"
    data-soon-announce="${t('二维码将在 {s} 秒后过期。', 'The code expires in {s} seconds.')}"
    data-expired-text="${t('二维码已过期', 'The code has expired')}"
    data-expired-announce="${t(
      '二维码已过期。请点“刷新二维码”获取新的二维码。',
      'The code has expired. Choose “Refresh the code” for a new one.',
    )}"
    data-refresh-label="${t('刷新二维码', 'Refresh the code')}"
    data-refresh-href="/interaction/${code.uid}"
  >
    <div id="scan-login-code">
      <img
        class="qr"
        id="scan-login-qr"
        src="${src}"
        width="220"
        height="220"
        alt="${t('扫码登录二维码', 'Scan-to-login QR code')}"
      />
      <p>
        <small
          >${t('或在已登录的设备上打开：', 'Or open on a signed-in device:')}
          <a id="scan-login-link" class="mono" href="${code.url}">${code.url}</a></small
        >
      </p>
    </div>
    <p id="scan-login-life">
      <small
        >${t(
          `二维码有效期 ${code.lifetimeSeconds} 秒，只能使用一次。`,
          `The code is valid for ${code.lifetimeSeconds} seconds, once.`,
        )}</small
      >
    </p>
  </div>`;
}

/** The sign-in page's scan-to-login section: after the password form, so that form stays the first. */
export function scanLoginSection(view: PageView, code: ShownScanCode): SafeHtml {
  const { t } = view;
  return html`<section class="card" aria-labelledby="scan-login-heading" id="scan-login">
    <h2 id="scan-login-heading">${t('扫码登录', 'Sign in with the wallet')}</h2>
    <p>
      ${t(
        '用已达到三级身份认证的“我的证照”扫描二维码，核对平台名称后点“确认登录”。',
        'Scan the code with “My licences” signed in at assurance level 3, check the platform’s name, and confirm.',
      )}
      ${t('然后点“已扫码，继续”。', 'Then choose “Scanned: continue”.')}
    </p>
    ${qrImage(t, code)}
    <p>
      <a class="button secondary" id="scan-login-continue" href="/interaction/${code.uid}/scan"
        >${t('已扫码，继续', 'Scanned: continue')}</a
      >
    </p>
  </section>`;
}

/** The waiting page: the wallet has not answered yet; the same code, and a way to wait again. */
export function scanWaitingPage(view: PageView, code: ShownScanCode): string {
  const { t } = view;
  return page(
    view,
    t('扫码登录', 'Sign in with the wallet'),
    html`<h1>${t('扫码登录', 'Sign in with the wallet')}</h1>
      <p class="lead" role="status" id="scan-login-waiting">
        ${t(
          '尚未收到“我的证照”中的确认。确认后点“继续等待”。',
          'No confirmation from “My licences” yet. Confirm there, then choose “Keep waiting”.',
        )}
      </p>
      ${qrImage(t, code)}
      <p>
        <a class="button" id="scan-login-wait-again" href="/interaction/${code.uid}/scan"
          >${t('继续等待', 'Keep waiting')}</a
        >
        <a class="button secondary" href="/interaction/${code.uid}"
          >${t('改用密码登录', 'Sign in with a password instead')}</a
        >
        <a class="button secondary" href="/interaction/${code.uid}/abort">${t('取消', 'Cancel')}</a>
      </p>`,
    scanLoginTimerScripts,
  );
}

/** Each problem, in words a person understands. */
export function scanProblemMessage(t: Translate, problem: ScanLoginProblem): string {
  switch (problem) {
    case 'unknown':
      return t(
        '这个扫码登录二维码无效，或已被新的二维码取代：请扫描登录页上现在显示的二维码。',
        'This scan-to-login code is not valid, or a newer code replaced it: scan the code the sign-in page shows now.',
      );
    case 'expired':
      return t(
        '这个扫码登录二维码已过期，请刷新登录页获取新的二维码。',
        'This scan-to-login code has expired: reload the sign-in page for a new one.',
      );
    case 'used':
      return t(
        '这个扫码登录二维码已经使用过，不能再次使用。',
        'This scan-to-login code has already been used and cannot be used again.',
      );
    case 'taken':
      return t(
        '这个二维码已被另一个“我的证照”钱包确认，不是您的。请不要在显示它的浏览器上继续：那里会显示将以谁的身份登录，请点“不是我”，或关闭页面。',
        'This code was confirmed by another “My licences” wallet, not yours. Do not go on in the browser that shows it: it names whom it would sign in as; choose “Not me” there, or close the page.',
      );
    case 'cancelled':
      return t('登录已在“我的证照”中被取消。', 'The sign-in was refused in “My licences”.');
    case 'stale':
      return t(
        '此平台要求最近登录过。确认登录的“我的证照”登录时间早于平台允许的时间：请在手机上重新登录“我的证照”后扫描新的二维码，或改用密码登录。',
        'This platform asks for a recent sign-in, and “My licences” that confirmed signed in longer ago than it accepts: sign in to “My licences” again on your phone and scan a new code, or sign in with a password.',
      );
    case 'disowned':
      return t(
        '已放弃这次扫码登录，没有登录任何人。请重新登录。',
        'This scan-to-login was abandoned; no one was signed in. Sign in again.',
      );
    case 'other_browser':
      return t(
        '这个二维码是在另一个浏览器中显示的，只有显示它的浏览器才能完成登录。',
        'This code was shown in another browser: only the browser that showed it can complete the sign-in.',
      );
  }
}

/** A code that cannot complete the sign-in here, and the way back to a fresh sign-in page. */
export function scanProblemPage(view: PageView, uid: string, problem: ScanLoginProblem): string {
  const { t } = view;
  return page(
    view,
    t('扫码登录失败', 'Scan-to-login failed'),
    html`<h1>${t('扫码登录失败', 'Scan-to-login failed')}</h1>
      ${notice('error', scanProblemMessage(t, problem), 'scan-login-problem')}
      <p>
        <a class="button" href="/interaction/${uid}">${t('重新登录', 'Sign in again')}</a>
      </p>`,
  );
}

/** The showing browser's last step: whom the wallet's confirmation signs it in as, its decision's labels. */
export const scanCompleteLabels = {
  decision: (t: Translate) => `${t('继续登录', 'Continue')} / ${t('不是我', 'Not me')}`,
} satisfies FieldLabels;

/** What "sign in as 王*明?" shows, and the tag that binds its answer to it. */
export interface ScanWhoView {
  uid: string;
  /** The name of whom the browser would be signed in as, masked (`王*明`). */
  maskedName: string;
  clientName: string;
  /** Which code and person this page names (an opaque tag), posted back with the answer (review R41 L1). */
  shown: string;
  /** Asked again: the answer came from a page that named another code or person. */
  changed?: boolean;
}

/**
 * Before the showing browser is signed in: whom as (the name masked, `王*明`, never the ID number), with
 * 继续登录 and 不是我, a form post to `/interaction/{uid}/scan` (review R39 L1: someone else's wallet may
 * have confirmed the code first, and the browser must not be signed in as them without a word). The form
 * carries `shown`, so that its answer completes only what it named (review R41 L1); asked again
 * (`changed`), the page says the confirmation it showed before is no longer the one at hand.
 */
export function scanWhoPage(view: PageView, who: ScanWhoView): string {
  const { t } = view;
  const { uid, maskedName, clientName } = who;
  return page(
    view,
    t('扫码登录', 'Sign in with the wallet'),
    html`<h1>${t('扫码登录', 'Sign in with the wallet')}</h1>
      ${
        who.changed
          ? notice(
              'warn',
              t(
                '二维码已更新，确认登录的可能已不是刚才显示的人。请核对下面的姓名后再继续。',
                'The code has changed since this page was shown, and the person who confirmed it may not be the one shown before. Check the name below before you continue.',
              ),
              'scan-login-who-changed',
            )
          : ''
      }
      <p class="lead" id="scan-login-who">
        ${t(
          `“我的证照”已确认。将以 ${maskedName} 的身份登录 ${clientName}。`,
          `“My licences” confirmed. You will be signed in to ${clientName} as ${maskedName}.`,
        )}
      </p>
      ${notice(
        'info',
        t(
          '如果这不是您本人的姓名，请点“不是我”：可能有别人先扫描并确认了这个二维码。',
          'If this is not your name, choose “Not me”: someone else may have scanned and confirmed this code first.',
        ),
      )}
      <form method="post" action="/interaction/${uid}/scan">
        <input type="hidden" name="shown" value="${who.shown}" />
        <button type="submit" name="decision" value="continue" id="scan-login-continue-as">
          ${t('继续登录', 'Continue')}
        </button>
        <button type="submit" name="decision" value="not_me" class="secondary" id="scan-login-not-me">
          ${t('不是我', 'Not me')}
        </button>
      </form>`,
  );
}

/** What the wallet shows of a request to sign in. */
export interface ScanRequestView {
  code: string;
  clientName: string;
  userAgent: string;
  address?: string;
  /** ISO 8601. */
  shownAt: string;
}

const confirmWords = (t: Translate) => t('确认登录', 'Confirm sign-in');
const cancelWords = (t: Translate) => t('取消', 'Cancel');

/** The confirmation form's one field, `decision`: its two buttons, as a refusal names it. */
export const scanDecisionLabels = {
  decision: (t: Translate) => `${confirmWords(t)} / ${cancelWords(t)}`,
} satisfies FieldLabels;

/** The wallet's request to confirm: which platform, which browser, when; 确认登录 or 取消. */
export function scanConfirmBody(t: Translate, request: ScanRequestView, personName?: string): SafeHtml {
  return html`<h1>${t('扫码登录确认', 'Confirm the sign-in')}</h1>
    <p class="lead">
      ${t(
        `${request.clientName} 请求以${personName ? ` ${personName} 的` : '您的'}身份登录（三级身份认证）。`,
        `${request.clientName} asks to sign you in (assurance level 3).`,
      )}
    </p>
    <dl class="card" id="scan-login-request">
      <dt>${t('平台', 'Platform')}</dt>
      <dd id="scan-login-client">${request.clientName}</dd>
      <dt>${t('浏览器', 'Browser')}</dt>
      <dd>${request.userAgent || t('未知', 'unknown')}</dd>
      <dt>${t('网络地址（大致）', 'Network (approximate)')}</dt>
      <dd>${request.address ?? t('未知', 'unknown')}</dd>
      <dt>${t('二维码显示时间', 'Code shown at')}</dt>
      <dd>${dateTime(request.shownAt)}</dd>
    </dl>
    ${notice(
      'info',
      t(
        '只有当这是您本人刚刚在上述浏览器中打开的登录页面时才确认。如果二维码是别人发给您的，请点“取消”。',
        'Confirm only if you just opened this sign-in yourself, in that browser. If someone sent you this code, cancel.',
      ),
    )}
    <form method="post" action="/scan-login/${request.code}">
      <button type="submit" name="decision" value="confirm" id="scan-login-confirm">
        ${confirmWords(t)}
      </button>
      <button type="submit" name="decision" value="cancel" class="secondary" id="scan-login-cancel">
        ${cancelWords(t)}
      </button>
    </form>`;
}

/** After the wallet's answer. */
export function scanAnsweredBody(t: Translate, decision: 'confirm' | 'cancel', clientName: string): SafeHtml {
  return decision === 'confirm'
    ? html`<h1>${t('已确认登录', 'Sign-in confirmed')}</h1>
        ${notice(
          'success',
          t(
            `已确认登录 ${clientName}。请回到显示二维码的浏览器继续。`,
            `You confirmed the sign-in to ${clientName}. Go back to the browser that showed the code.`,
          ),
          'scan-login-done',
        )}
        <p><a href="/wallet">${t('返回我的证照', 'Back to my licences')}</a></p>`
    : html`<h1>${t('已取消登录', 'Sign-in refused')}</h1>
        ${notice(
          'info',
          t(`已拒绝 ${clientName} 的登录请求。`, `You refused the sign-in to ${clientName}.`),
          'scan-login-done',
        )}
        <p><a href="/wallet">${t('返回我的证照', 'Back to my licences')}</a></p>`;
}

/** The wallet is signed in below level 3: step up first (not a silent refusal). */
export function scanStepUpBody(t: Translate, stepUpHref: string): SafeHtml {
  return html`<h1>${t('扫码登录确认', 'Confirm the sign-in')}</h1>
    ${notice(
      'error',
      t(
        '扫码登录需要“我的证照”以三级身份认证登录。请先提升认证等级（例如短信验证码、通行密钥或到政务服务窗口当面核验），再重新扫码。',
        'Scan-to-login needs “My licences” signed in at assurance level 3. Raise your level first (an SMS code, a passkey, or a check in person at a service counter), then scan again.',
      ),
      'scan-login-step-up',
    )}
    <p>
      <a class="button" id="scan-login-step-up-link" href="${stepUpHref}"
        >${t('提升认证等级', 'Raise your level')}</a
      >
    </p>`;
}

/**
 * The platform asked for a more recent sign-in than the wallet's (`max_age`, `prompt=login`): sign in to
 * the wallet again (a sign-in made now), and come back to this code (review R39 M1).
 */
export function scanSignInAgainBody(t: Translate, signInAgainHref: string): SafeHtml {
  return html`<h1>${t('扫码登录确认', 'Confirm the sign-in')}</h1>
    ${notice('error', scanProblemMessage(t, 'stale'), 'scan-login-sign-in-again')}
    <p>
      <a class="button" id="scan-login-sign-in-again-link" href="${signInAgainHref}"
        >${t('重新登录“我的证照”', 'Sign in to “My licences” again')}</a
      >
    </p>`;
}

/** A code the wallet cannot confirm (expired, used, refused, unknown). */
export function scanWalletProblemBody(t: Translate, problem: ScanLoginProblem): SafeHtml {
  return html`<h1>${t('扫码登录确认', 'Confirm the sign-in')}</h1>
    ${notice('error', scanProblemMessage(t, problem), 'scan-login-problem')}
    <p><a href="/wallet">${t('返回我的证照', 'Back to my licences')}</a></p>`;
}
