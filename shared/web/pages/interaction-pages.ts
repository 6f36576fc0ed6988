import type { Translate } from '../kit/i18n.js';
import { attr } from '../kit/html.js';
import { html, page, registerLink, SafeHtml, type PageView } from './interaction-html.js';
import { passkeySection, passkeySignInScripts } from './passkey-sign-in-page.js';
import { scanLoginTimerScripts } from './scan-login-pages.js';
import { idNumberChoice, idNumberScope, scopeDescriptions } from './consent-words.js';

function errorBox(message: string | undefined) {
  return message ? html`<div class="notice error" role="alert" id="form-error">${message}</div>` : html``;
}

/** The sign-in form of API.md: inputs `username` (ID number) and `password`. */
export function loginPage(
  view: PageView,
  input: {
    uid: string;
    clientName: string;
    username?: string;
    error?: string;
    /** The scan-to-login section (QR code and link), after the form (`sso/scan-login.ts`). */
    scan?: SafeHtml;
  },
): string {
  const { t } = view;
  const describedBy = input.error ? 'form-error' : undefined;
  // After a refusal with the ID number kept, the password is what to type again: the focus goes there.
  const refocusPassword = Boolean(input.error && input.username);
  return page(
    view,
    t('登录', 'Sign in'),
    html`<h1>${t('登录', 'Sign in')}</h1>
      <p class="lead">${t(`继续前往 ${input.clientName}`, `to continue to ${input.clientName}`)}</p>
      ${errorBox(input.error)}
      <form class="card" method="post" action="/interaction/${input.uid}/login" novalidate>
        <label for="username">${t('身份证号', 'Resident ID number')}</label>
        <input
          type="text"
          id="username"
          name="username"
          autocomplete="username"
          inputmode="text"
          maxlength="18"
          required
          ${attr('autofocus', refocusPassword ? undefined : '')}
          value="${input.username ?? ''}"
          aria-describedby="${describedBy ?? ''}"
        />
        <label for="password">${t('密码', 'Password')}</label>
        <input
          type="password"
          id="password"
          name="password"
          autocomplete="current-password"
          maxlength="128"
          required
          ${attr('autofocus', refocusPassword ? '' : undefined)}
          ${attr('aria-describedby', refocusPassword ? describedBy : undefined)}
        />
        <button type="submit">${t('登录', 'Sign in')}</button>
        <a class="button secondary" href="/interaction/${input.uid}/abort">${t('取消', 'Cancel')}</a>
      </form>
      <p id="login-valid">
        <small
          >${t(
            `此登录页面 ${interactionLifeSeconds / 60} 分钟内有效，过期请回到原来的网站重新登录。`,
            `This sign-in page is valid for ${interactionLifeSeconds / 60} minutes; after that, go back to the site you came from and sign in again.`,
          )}</small
        >
      </p>
      ${passkeySection(view, input.uid)} ${input.scan ?? html``} ${registerLink(t)}
      <p>
        <small><a href="/interaction/${input.uid}/reset">${t('忘记密码', 'Forgot your password?')}</a></small>
      </p>`,
    input.scan ? [...passkeySignInScripts, ...scanLoginTimerScripts] : passkeySignInScripts,
  );
}

/** One message for a wrong password, an unknown ID number and a malformed one. */
export const invalidCredentials = (t: Translate) =>
  t('身份证号或密码不正确。', 'The ID number or password is not correct.');

export const invalidEntityChoice = (t: Translate) =>
  t('您不能代表该企业办事。', 'You may not act for that enterprise.');

export function throttledMessage(t: Translate, retryAfterSeconds: number) {
  return t(
    `尝试次数过多，请在 ${retryAfterSeconds} 秒后重试。`,
    `Too many attempts: try again in ${retryAfterSeconds} seconds.`,
  );
}

/** The choice of whom to act for: radio inputs named `entity` carrying credit codes (API.md). */
export function entityPage(
  view: PageView,
  input: {
    uid: string;
    clientName: string;
    personName: string;
    entities: Array<{
      creditCode: string;
      name: string;
      role: 'legal_representative' | 'agent';
      /** Acting for it needs level 3, which this sign-in has not reached: the step-up comes first. */
      stepUp?: boolean;
    }>;
    error?: string;
  },
): string {
  const { t } = view;
  const roles = {
    legal_representative: t('法定代表人', 'legal representative'),
    agent: t('经办人', 'agent'),
  };
  const stepUpNote = t(
    '以企业身份办事需要三级身份认证：选择后先验证本人手机。',
    'Acting for an enterprise needs assurance level 3: you confirm your mobile number first.',
  );
  const body =
    input.entities.length === 0
      ? html`<p>${t('您目前不能代表任何企业办事。', 'You may not act for any enterprise at present.')}</p>
          <a class="button secondary" href="/interaction/${input.uid}/abort">${t('返回', 'Go back')}</a>`
      : html`<form method="post" action="/interaction/${input.uid}/entity">
          <fieldset>
            <legend>${t('选择办事主体', 'Choose whom you act for')}</legend>
            ${input.entities.map(
              (entity, i) =>
                html`<label
                  ><input
                    type="radio"
                    name="entity"
                    value="${entity.creditCode}"
                    ${i === 0 ? html`checked` : html``}
                  />
                  <span
                    >${entity.name}<br /><small>${entity.creditCode} · ${roles[entity.role]}</small>${
                      entity.stepUp ? html`<br /><small class="step-up-note">${stepUpNote}</small>` : html``
                    }</span
                  ></label
                >`,
            )}
          </fieldset>
          <button type="submit">${t('继续', 'Continue')}</button>
          <a class="button secondary" href="/interaction/${input.uid}/abort">${t('取消', 'Cancel')}</a>
        </form>`;
  return page(
    view,
    t('选择办事主体', 'Choose whom you act for'),
    html`<h1>${t('以企业身份办事', 'Act for an enterprise')}</h1>
      <p class="lead">
        ${t(
          `${input.personName}，${input.clientName} 请求以企业身份登录。`,
          `${input.clientName} asks you to sign in for an enterprise.`,
        )}
      </p>
      ${errorBox(input.error)} ${body}`,
  );
}

/** Back from acting for an entity to personal use: one click, the person already signed in. */
export function personalPage(
  view: PageView,
  input: {
    uid: string;
    clientName: string;
    entityName: string;
    personName: string;
  },
): string {
  const { t } = view;
  return page(
    view,
    t('以个人身份继续', 'Continue as yourself'),
    html`<h1>${t('以个人身份继续', 'Continue as yourself')}</h1>
      <p class="lead">
        ${t(
          `您正在代表 ${input.entityName} 办事。${input.clientName} 需要您以个人身份（${input.personName}）登录。`,
          `You are acting for ${input.entityName}. ${input.clientName} needs you to sign in as yourself.`,
        )}
      </p>
      <form method="post" action="/interaction/${input.uid}/personal">
        <button type="submit">${t('以个人身份继续', 'Continue as myself')}</button>
        <a class="button secondary" href="/interaction/${input.uid}/abort">${t('取消', 'Cancel')}</a>
      </form>`,
  );
}

/**
 * Consent for platforms that are not first-party: exactly what would be released, the ID number asked
 * apart (a checkbox of its own, unticked: `idNumberChoice`).
 */
export function consentPage(
  view: PageView,
  input: {
    uid: string;
    clientName: string;
    scopes: string[];
    /** Who is signed in (and for which enterprise): whose data would be released. */
    signedInAs?: { personName: string; entityName?: string };
  },
): string {
  const { t } = view;
  const who = input.signedInAs;
  const items = scopeDescriptions(t, input.scopes).map((words) => html`<li>${words}</li>`);
  return page(
    view,
    t('授权', 'Consent'),
    html`<h1>${t('授权', 'Consent')}</h1>
      ${
        who
          ? html`<p id="consent-who">
              ${t('当前登录：', 'Signed in as ')}<strong>${who.personName}</strong>${
                who.entityName ? t(`（代表 ${who.entityName}）`, ` (for ${who.entityName})`) : html``
              }
              <br /><small
                >${t('不是您？', 'Not you?')}
                <a href="/session/end" id="consent-switch"
                  >${t('退出后换一个账号登录', 'Sign out and sign in with another account')}</a
                ></small
              >
            </p>`
          : html``
      }
      <p class="lead">${t(`${input.clientName} 请求获得：`, `${input.clientName} asks for:`)}</p>
      <ul>
        ${items}
      </ul>
      <form method="post" action="/interaction/${input.uid}/confirm">
        ${input.scopes.includes(idNumberScope) ? idNumberChoice(t, input.clientName) : html``}
        <button type="submit">${t('同意', 'Allow')}</button>
        <a class="button secondary" href="/interaction/${input.uid}/abort">${t('拒绝', 'Deny')}</a>
      </form>`,
  );
}

/**
 * How long a sign-in's pages (login, consent, choice of entity) stay valid: the provider's `Interaction`
 * lifetime (shared/sso/provider.ts), said on the sign-in page.
 */
export const interactionLifeSeconds = 3600;

/**
 * The provider's error on a page. An expired or already used sign-in page (`SessionNotFound`: its cookie
 * gone, its interaction ended or timed out, the Back button after signing in) is said in plain words with a
 * way forward (review R62-1): sign in again, the raw error only under 技术信息, in English (`lang="en"`).
 * The link leads to the wallet's sign-in, never to a URL of the request: a platform has no registered home
 * page to return to, and the request's own URL is not checked once its interaction is gone.
 */
export function errorPage(
  view: PageView,
  error: string,
  description: string | undefined,
  options: { expired?: boolean } = {},
): string {
  const { t } = view;
  const technical = html`<code lang="en">${error}</code>${
      description ? html`: <span lang="en">${description}</span>` : html``
    }`;
  if (options.expired) {
    return page(
      view,
      t('登录页面已过期', 'This sign-in page has expired'),
      html`<h1>${t('登录页面已过期', 'This sign-in page has expired')}</h1>
        <p class="notice error" role="alert" id="expired-notice">
          ${t(
            '登录页面已过期或已使用，请回到原来的网站重新登录。',
            'This sign-in page has expired or was already used: go back to the site you came from and sign in again.',
          )}
        </p>
        <p>
          <a class="button" id="sign-in-again" href="/wallet/login">${t('重新登录', 'Sign in again')}</a>
          <a class="button secondary" href="/">${t('返回首页', 'Home')}</a>
        </p>
        <details id="technical">
          <summary>${t('技术信息', 'Technical details')}</summary>
          <p>${technical}</p>
        </details>`,
    );
  }
  return page(
    view,
    t('出错了', 'Something went wrong'),
    html`<h1>${t('出错了', 'Something went wrong')}</h1>
      <p class="notice error" role="alert">${technical}</p>
      <p><a href="/">${t('返回首页', 'Home')}</a></p>`,
  );
}

/**
 * RP-initiated logout: the provider's own form (its action URL and CSRF token, built by the provider, so
 * trusted markup) and the two choices. No script: the buttons submit the form through their `form`
 * attribute.
 */
export function logoutPage(view: PageView, providerForm: string): string {
  const { t } = view;
  return page(
    view,
    t('退出登录', 'Sign out'),
    html`<h1>${t('退出登录', 'Sign out')}</h1>
      <p class="lead">${t('要退出统一身份认证吗？', 'Sign out of the unified identity?')}</p>
      ${new SafeHtml(providerForm)}
      <button type="submit" form="op.logoutForm" name="logout" value="yes">${t('退出', 'Sign out')}</button>
      <button type="submit" form="op.logoutForm" class="secondary">
        ${t('保持登录', 'Stay signed in')}
      </button>`,
  );
}

export function loggedOutPage(view: PageView): string {
  const { t } = view;
  return page(
    view,
    t('已退出', 'Signed out'),
    html`<h1>${t('已退出', 'Signed out')}</h1>
      <p>${t('您已退出统一身份认证。', 'You have signed out of the unified identity.')}</p>`,
  );
}
