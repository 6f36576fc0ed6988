import { claimsByScope, optionalScopes, type ShownClaim } from '../demo/demo-session.js';
import { assuranceName } from './assurance-words.js';
import { attr, html, type SafeHtml } from '../kit/html.js';
import type { Translate } from '../kit/i18n.js';
import { notice } from '../kit/layout.js';

const scopeWords = (t: Translate): Record<string, { title: string; what: string }> => ({
  openid: {
    title: t('openid：身份标识与认证', 'openid: identifier and authentication'),
    what: t(
      '按平台区分的 sub、认证强度 acr 与认证方式。',
      'The pairwise sub, assurance level acr and how you signed in.',
    ),
  },
  profile: { title: t('profile：基本信息', 'profile: basic profile'), what: t('姓名。', 'Your name.') },
  idcard: {
    title: t('idcard：身份证号码', 'idcard: resident ID number'),
    what: t(
      '仅向有资格的平台、且经您同意时提供。',
      'Only for entitled platforms, and only with your consent.',
    ),
  },
  entity: {
    title: t('entity：代表企业', 'entity: acting for an entity'),
    what: t(
      '主体为企业时，给出统一社会信用代码，act 指明经办人。',
      'When the subject is an entity: its credit code, and act names the agent.',
    ),
  },
  token: {
    title: t('ID 令牌的协议声明', 'Protocol claims of the ID token'),
    what: t('签发者、受众、有效期等，关于令牌本身。', 'Issuer, audience, lifetime: about the token itself.'),
  },
  other: { title: t('其他声明', 'Other claims'), what: '' },
});

const scopeLabels = (
  t: Translate,
): Record<(typeof optionalScopes)[number], { label: string; hint: string }> => ({
  profile: { label: t('基本信息（profile）', 'Basic profile (profile)'), hint: t('姓名', 'your name') },
  idcard: {
    label: t('身份证号码（idcard）', 'Resident ID number (idcard)'),
    hint: t('仅向有资格的平台提供', 'only for entitled platforms'),
  },
  entity: {
    label: t('代表企业办事（entity）', 'Act for an entity (entity)'),
    hint: t('登录时选择要代表的企业', 'choose the entity when signing in'),
  },
});

/**
 * `/demo` signed out: a sample platform that delegates its sign-in to the unified identity, with the
 * scopes to ask for besides `openid`, and the button that starts the OpenID Connect flow.
 *
 * @example
 * ```ts
 * demoSignedOutBody(t, { kind: 'success', text: t('已退出。', 'Signed out.') });
 * ```
 */
export function demoSignedOutBody(
  t: Translate,
  message?: { kind: 'error' | 'success' | 'info'; text: string },
): SafeHtml {
  const labels = scopeLabels(t);
  return html`<h1>${t('演示平台', 'Demo platform')}</h1>
    <p class="lead">
      ${t(
        '这是一个示例政务平台：它自己不保存密码，而是把登录交给统一身份认证（OpenID Connect 授权码流程 + PKCE），然后展示它收到了什么。',
        'This is a sample government platform: it keeps no passwords of its own but delegates its sign-in to the unified identity (OpenID Connect authorization code with PKCE), then shows what it received.',
      )}
    </p>
    ${message ? notice(message.kind, message.text) : ''}
    <section class="card demo-sign-in" aria-labelledby="demo-sign-in-title">
      <h2 id="demo-sign-in-title">${t('使用统一身份认证登录', 'Sign in with the unified identity')}</h2>
      <form method="get" action="/demo/login">
        <fieldset>
          <legend>
            ${t('本平台请求的信息（openid 总会请求）', 'What this platform asks for (openid always)')}
          </legend>
          ${optionalScopes.map(
            (scope) =>
              html`<label for="scope-${scope}">
                <input
                  type="checkbox"
                  id="scope-${scope}"
                  name="scope"
                  value="${scope}"
                  ${attr('checked', scope === 'profile' ? 'checked' : undefined)}
                />
                <span>${labels[scope].label} <span class="hint">${labels[scope].hint}</span></span>
              </label>`,
          )}
        </fieldset>
        <button type="submit">${t('使用统一身份认证登录', 'Sign in with the unified identity')}</button>
      </form>
      <p class="hint">
        ${t(
          '您将被转到统一身份认证登录，并被询问是否同意向本平台提供所选信息。',
          'You will sign in at the unified identity and be asked whether to share the chosen information with this platform.',
        )}
      </p>
    </section>`;
}

export interface DemoSignedInInput {
  idTokenClaims: Record<string, unknown>;
  userinfo: Record<string, unknown>;
  scope: string;
}

/**
 * `/demo` signed in: what the platform received, its pairwise `sub` first (`#demo-sub`), `acr`, `amr`
 * and `auth_time`, then every claim grouped by the scope that released it and by where it came from
 * (ID token or userinfo), and the sign-out button (RP-initiated logout).
 *
 * @example
 * ```ts
 * demoSignedInBody(t, { idTokenClaims: idTokenClaims(session.idToken), userinfo: session.userinfo, scope: session.scope });
 * ```
 */
export function demoSignedInBody(t: Translate, input: DemoSignedInInput): SafeHtml {
  const claims = input.idTokenClaims;
  const name = typeof input.userinfo.name === 'string' ? input.userinfo.name : undefined;
  const authTime = typeof claims.auth_time === 'number' ? claims.auth_time : undefined;
  const words = scopeWords(t);
  return html`<h1>${t('演示平台', 'Demo platform')}</h1>
    ${notice(
      'success',
      name
        ? t(
            `${name}，您已通过统一身份认证登录本平台。`,
            `${name}, you are signed in through the unified identity.`,
          )
        : t('您已通过统一身份认证登录本平台。', 'You are signed in through the unified identity.'),
    )}
    <section class="card demo-summary" aria-labelledby="demo-summary-title">
      <h2 id="demo-summary-title">${t('本平台收到的身份', 'The identity this platform received')}</h2>
      <dl class="fields">
        <dt>sub</dt>
        <dd><code id="demo-sub">${String(claims.sub ?? '')}</code></dd>
        <dt>acr</dt>
        <dd>
          <code id="demo-acr">${String(claims.acr ?? '—')}</code>
          ${claims.acr === undefined ? '' : html`<span id="demo-acr-name">${assuranceName(t, claims.acr)}</span>`}
        </dd>
        ${
          claims.amr !== undefined
            ? html`<dt>amr</dt>
                <dd><code>${display(claims.amr)}</code></dd>`
            : ''
        }
        ${
          authTime !== undefined
            ? html`<dt>auth_time</dt>
                <dd>
                  <time datetime="${new Date(authTime * 1000).toISOString()}"
                    >${new Date(authTime * 1000).toISOString()}</time
                  >
                </dd>`
            : ''
        }
        <dt>${t('请求的范围', 'Scopes asked')}</dt>
        <dd><code>${input.scope}</code></dd>
      </dl>
      <p class="hint demo-pairwise">
        ${t(
          'sub 是“按平台区分”的标识（pairwise）：同一个人在每个平台得到不同的 sub，平台之间无法凭它关联同一个人；在本平台，它始终不变。身份证号码只有在平台有资格、请求了 idcard 且您同意时才会提供，且只在用户信息端点提供，从不写入 ID 令牌（ID 令牌会出现在网址中）。',
          'sub is a pairwise identifier: the same person gets a different sub at every platform, so platforms cannot link people through it; at this platform it never changes. The ID number is released only to entitled platforms that ask for idcard, with your consent, and only at userinfo, never in the ID token (ID tokens end up in URLs).',
        )}
      </p>
    </section>
    <h2>${t('按授权范围分组的声明', 'Claims by scope')}</h2>
    ${claimsByScope(claims, input.userinfo).map(
      (group) =>
        html`<section class="card demo-scope" aria-labelledby="demo-scope-${group.scope}">
          <h3 id="demo-scope-${group.scope}">${words[group.scope]?.title ?? group.scope}</h3>
          ${words[group.scope]?.what ? html`<p class="hint">${words[group.scope]?.what}</p>` : ''}
          <div class="table-scroll">
            <table class="demo-claims">
              <thead>
                <tr>
                  <th scope="col">${t('声明', 'Claim')}</th>
                  <th scope="col">${t('值', 'Value')}</th>
                  <th scope="col">${t('来源', 'Source')}</th>
                </tr>
              </thead>
              <tbody>
                ${group.claims.map((claim) => claimRow(claim, t))}
              </tbody>
            </table>
          </div>
        </section>`,
    )}
    <form method="post" action="/demo/logout">
      <button type="submit">${t('退出登录', 'Sign out')}</button>
    </form>
    <p class="hint">
      ${t('退出时也会退出统一身份认证（RP 发起的注销）。', 'Signing out also ends the unified identity session (RP-initiated logout).')}
    </p>`;
}

function claimRow(claim: ShownClaim, t: Translate): SafeHtml {
  const source = {
    id_token: t('ID 令牌', 'ID token'),
    userinfo: t('用户信息端点', 'userinfo'),
    both: t('ID 令牌与用户信息端点', 'ID token and userinfo'),
  }[claim.source];
  return html`<tr>
    <th scope="row"><code>${claim.name}</code></th>
    <td>
      <code data-claim="${claim.name}">${display(claim.value)}</code>
      ${claim.name === 'acr' ? html` ${assuranceName(t, claim.value)}` : ''}
    </td>
    <td>${source}</td>
  </tr>`;
}

function display(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}
