import { attr, html, type SafeHtml } from '../kit/html.js';
import type { Translate } from '../kit/i18n.js';
import { notice } from '../kit/layout.js';

export interface ConsoleSignInInput {
  /** The client id to keep in the form after a refusal. */
  clientId?: string;
  /** A refusal or an explanation (signed out, session expired) above the form. */
  message?: { kind: 'error' | 'info' | 'success'; text: string };
  /** Messages of single fields (`clientId`, `clientSecret`). */
  errors?: Partial<Record<'clientId' | 'clientSecret', string>>;
  /** Whose console: an issuing agency's (the default, `/console`) or a supervisor's (`/supervision`). */
  audience?: 'issuer' | 'supervisor';
  /**
   * Whether the form for an OAuth client's id and secret is shown: always on the supervisor's desk; on
   * the issuer console only while `CONSOLE_CLIENT_SECRET_SIGN_IN` is on (a deployment migrating).
   */
  clientSecret?: boolean;
}

/** What differs between the two consoles' sign-in: the title, what it is for, where it posts, the scope. */
function copyFor(t: Translate, audience: 'issuer' | 'supervisor') {
  return audience === 'supervisor'
    ? {
        title: t('电子监察', 'Supervision'),
        lead: t(
          '监察机关用其 OAuth 客户端（范围 supervision）登录，查看统计、趋势和预警，并验证审计记录的完整性。',
          'The supervising office signs in with its OAuth client (scope supervision) to see statistics, trends and alerts and to check that the audit trail is intact.',
        ),
        action: '/supervision/login',
        scope: 'supervision',
      }
    : {
        title: t('发证机关控制台', 'Issuer console'),
        lead: t(
          '发证机关的经办人用本人的统一身份认证账号登录，代表本机关签发、查看、暂停、恢复和吊销电子证照；每项操作都记录到经办人本人。',
          'An issuing agency’s clerks sign in with their own identity, acting for the agency, to issue, list, suspend, reinstate and revoke its licences; every action is traced to the clerk.',
        ),
        action: '/console/login',
        scope: 'licences:issue',
      };
}

/** The issuer console's sign-in for clerks: through the unified identity, acting for the agency. */
function clerkSignIn(t: Translate): SafeHtml {
  return html`<section class="card console-sign-in" aria-labelledby="console-clerk-title">
    <h2 id="console-clerk-title">${t('经办人登录', 'Clerks')}</h2>
    <p>
      ${t(
        '用本人的统一身份认证账号登录，并选择所在的发证机关。须达到三级认证（实名并经短信验证码、通行密钥或扫码登录核验）；只有本机关负责人任命、且未撤回的经办人可以登录。',
        'Sign in with your own identity and choose your issuing agency. Level 3 is needed (real name, checked by an SMS code, a passkey or scan-to-login); only clerks the agency’s head appointed, and has not withdrawn, may sign in.',
      )}
    </p>
    <p>
      <a class="button" href="/console/login"
        >${t('通过统一身份认证登录', 'Sign in with the unified identity')}</a
      >
    </p>
  </section>`;
}

/**
 * A console signed out: what it is and how to sign in. The issuer console: a clerk's sign-in through
 * the unified identity, and, only while migrating (`clientSecret`), the agency's OAuth client id and secret
 * (client credentials); the supervisor's desk: its client id and secret. The secret input is never refilled.
 *
 * @example
 * ```ts
 * consoleSignInBody(t, { clientId, message: { kind: 'error', text: t('客户端 ID 或密钥不正确。', '…') } });
 * ```
 */
export function consoleSignInBody(t: Translate, input: ConsoleSignInInput = {}): SafeHtml {
  const errors = input.errors ?? {};
  const audience = input.audience ?? 'issuer';
  const copy = copyFor(t, audience);
  const field = (
    name: 'clientId' | 'clientSecret',
    label: string,
    type: string,
    value: string,
    autocomplete: string,
  ) => {
    const error = errors[name];
    const errorId = `${name}-error`;
    return html`<label for="${name}">${label}</label>
      <input
        id="${name}"
        name="${name}"
        type="${type}"
        value="${value}"
        required
        autocomplete="${autocomplete}"
        spellcheck="false"
        autocapitalize="off"
        ${attr('aria-invalid', error ? 'true' : undefined)}
        ${attr('aria-describedby', error ? errorId : input.message?.kind === 'error' ? 'console-sign-in-error' : undefined)}
      />
      ${error ? html`<p class="field-error" id="${errorId}">${error}</p>` : ''}`;
  };
  return html`<h1>${copy.title}</h1>
    <p class="lead">${copy.lead}</p>
    ${
      input.message
        ? notice(
            input.message.kind,
            input.message.text,
            input.message.kind === 'error' ? 'console-sign-in-error' : undefined,
          )
        : ''
    }
    ${audience === 'issuer' ? clerkSignIn(t) : ''} ${input.clientSecret === false ? '' : clientSecretForm()}`;

  function clientSecretForm(): SafeHtml {
    return html`<section class="card console-sign-in" aria-labelledby="console-sign-in-title">
      <h2 id="console-sign-in-title">
        ${
          audience === 'issuer'
            ? t('迁移期：客户端密钥登录', 'While migrating: the client secret')
            : t('登录', 'Sign in')
        }
      </h2>
      <form method="post" action="${copy.action}" novalidate>
        ${field('clientId', t('客户端 ID', 'Client id'), 'text', input.clientId ?? '', 'username')}
        ${field('clientSecret', t('客户端密钥', 'Client secret'), 'password', '', 'current-password')}
        <p class="hint">
          ${t(
            `密钥只用于向令牌端点换取访问令牌（client_credentials，范围 ${copy.scope}），不会被保存。`,
            `The secret is used once, to obtain an access token (client_credentials, scope ${copy.scope}), and is not kept.`,
          )}
        </p>
        <button type="submit">${t('登录', 'Sign in')}</button>
      </form>
    </section>`;
  }
}
