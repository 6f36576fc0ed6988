import { errorSummary } from '../kit/error-summary.js';
import type { AgentScope } from '../../identity/entity-account.js';
import { agentScopes } from '../../identity/entity-account.js';
import type { ProblemDocument } from '../api-request.js';
import { calendarDate } from '../kit/china-time.js';
import { lastValidDay } from '../../validity-dates.js';
import { dayError, dayHint, dayInputProperties, readDay } from '../kit/day-input.js';
import { labelledFieldError, type CodedFieldError } from '../kit/field-messages.js';
import type { FieldLabels } from '../kit/form.js';
import { fieldErrorsOf, labelledInput } from '../kit/labelled-input.js';
import type { Translate } from '../kit/i18n.js';
import { attr, html, notice, type SafeHtml } from '../kit/layout.js';
import type { ActingFor } from '../wallet/session.js';
import type { WalletAgent, WalletAuthority } from '../wallet/agents-api.js';

/** The fields of the appointment form, in the order they are shown (and their errors listed). */
export const appointFields = ['idNumber', 'name', 'scope', 'expiresAt'] as const;
export type AppointField = (typeof appointFields)[number];

/** Each field's label, as the form shows it and as its errors (and the form's refusal) name it. */
export const appointFieldLabels = {
  idNumber: (t: Translate) => t('身份证号码', 'Resident ID number'),
  name: (t: Translate) => t('姓名', 'Name'),
  scope: (t: Translate) => t('委托事项', 'What they may do'),
  expiresAt: (t: Translate) => t('委托有效期至', 'Appointed until'),
} satisfies Record<AppointField, (t: Translate) => string> & FieldLabels;

/** A field's label, as the form shows it and as its errors name it. */
export function appointFieldLabel(t: Translate, field: AppointField): string {
  return appointFieldLabels[field](t);
}

/** The withdrawal form's one field: its box, as the page labels it. */
export const withdrawLabels = {
  confirm: (t: Translate) => t('我确认撤销此经办人的委托。', 'I confirm: withdraw this agent’s appointment.'),
} satisfies FieldLabels;

/** What each scope lets an agent do, in plain words: what the representative ticks. */
const scopeWords: Record<AgentScope, { label: (t: Translate) => string; name: (t: Translate) => string }> = {
  licences: {
    label: (t) =>
      t('使用企业证照（查看、出示本企业的电子证照）', 'Use the enterprise’s licences (view and show them)'),
    name: (t) => t('使用企业证照', 'Use licences'),
  },
  'licences:issue': {
    label: (t) =>
      t('办理发证（在发证机关的管理台签发和管理证照）', 'Issue licences (in the agency’s issuer console)'),
    name: (t) => t('办理发证', 'Issue licences'),
  },
  'accounts:prove-in-person': {
    label: (t) =>
      t(
        '当面核验（在发证机关的管理台为到窗口的群众当面核验身份、更换已验证手机号；仅限同时可签发证照的窗口经办人）',
        'Prove people in person (in the agency’s issuer console: check a person at the counter, change their proven phone; only for a clerk who also issues)',
      ),
    name: (t) => t('当面核验', 'Prove in person'),
  },
  'sign-in': {
    label: (t) =>
      t(
        '代表企业登录其他平台（以本企业身份登录使用统一身份认证的其他平台并在其上办事）',
        'Sign in as the enterprise at other platforms (those using the unified identity, to do business there for it)',
      ),
    name: (t) => t('代表企业登录其他平台', 'Sign in as it at other platforms'),
  },
};

/** What a scope lets an agent do, in plain words: what the representative ticks. */
export function agentScopeLabel(t: Translate, scope: AgentScope): string {
  return scopeWords[scope].label(t);
}

/** The short names of scopes, for lists; a scope this version does not know is left out. */
function scopeNames(t: Translate, scopes: readonly AgentScope[]): string {
  return scopes
    .filter((scope) => Object.hasOwn(scopeWords, scope))
    .map((scope) => scopeWords[scope].name(t))
    .join('、');
}

/** A timestamp as its calendar day, machine-readable in `datetime`. */
function day(at: string): SafeHtml {
  return html`<time datetime="${at}">${calendarDate(at)}</time>`;
}

/**
 * An appointment's last day from the instant it lapses (exclusive), as a licence's
 * ({@link lastValidDay}): `2027-03-05` for `2027-03-05T16:00:00.000Z` (00:00 Beijing on 03-06), and the
 * same for one stored before review R60 at 23:59:59 Beijing time.
 */
function lastDay(expiresAt: string): SafeHtml {
  const last = lastValidDay(expiresAt) ?? expiresAt;
  return html`<time datetime="${last}">${last}</time>`;
}

const statusWords = {
  active: (t: Translate) => t('有效', 'In force'),
  withdrawn: (t: Translate) => t('已撤销', 'Withdrawn'),
  expired: (t: Translate) => t('已过期', 'Expired'),
  // Made by a former legal representative, or by this one in a former term (review R42): no longer in force.
  superseded: (t: Translate) =>
    t(
      '由前任法定代表人或在此前任期内委托，已不再有效',
      'Appointed by a former legal representative, or in a former term; no longer in force',
    ),
} as const;

/** An error of the form, by field (or none: the whole request), already in the page's words. */
export interface AppointError {
  field?: AppointField;
  message: string;
}

/** The appointment form as posted (strings; `scope` as many as ticked), before {@link readAppointForm}. */
export interface AppointForm {
  idNumber: string;
  name: string;
  scope: readonly string[];
  expiresAt: string;
}

/**
 * What the wallet checks of an appointment before asking the API, each error naming its field: each
 * field there, the scopes known, the end day a day. The day is typed as text (day-input.ts: `2027-03-05`,
 * `2027/3/5`, `2027年3月5日`, `20270305`) and read as `expiresOn`, `YYYY-MM-DD`; a day that is none
 * (`2027-02-30`, `3/5/2027`) is refused here, never sent on as something else.
 *
 * @example
 * ```ts
 * readAppointForm(t, { idNumber: '…', name: '赵立新', scope: ['licences:issue'], expiresAt: '2027年3月5日' });
 * // { errors: [], expiresOn: '2027-03-05' }
 * ```
 */
export function readAppointForm(
  t: Translate,
  form: AppointForm,
): { errors: AppointError[]; expiresOn: string | undefined } {
  const errors: AppointError[] = [];
  const say = (field: AppointField, error: CodedFieldError | string) =>
    errors.push({ field, message: labelledFieldError(t, appointFieldLabel(t, field), error) });
  if (form.idNumber.trim() === '') say('idNumber', { code: 'required' });
  if (form.name.trim() === '') say('name', { code: 'required' });
  if (form.scope.length === 0) {
    say('scope', t('请至少选择一项。', 'Choose at least one.'));
  } else if (!form.scope.every((scope) => (agentScopes as readonly string[]).includes(scope))) {
    say('scope', { code: 'invalid_value' });
  }
  const typed = form.expiresAt.trim();
  const expiresOn = readDay(typed);
  if (typed === '') say('expiresAt', { code: 'required' });
  else if (!expiresOn) say('expiresAt', dayError(t));
  return { errors, expiresOn };
}

/** What the appointment form shows again after a refusal: never the ID number, which is typed again. */
export interface AppointValues {
  name?: string;
  scope?: readonly string[];
  expiresAt?: string;
}

export interface AgentsPageState {
  entity: ActingFor;
  agents: readonly WalletAgent[];
  /** `YYYY-MM-DD`: the form's default expiry (a year from today) and the latest its hint says (three years). */
  defaultExpiry: string;
  latestExpiry: string;
  values?: AppointValues;
  errors?: readonly AppointError[];
  appointed?: boolean;
  withdrawn?: boolean;
}

const back = (t: Translate) =>
  html`<p><a href="/wallet">← ${t('返回我的证照', 'Back to my licences')}</a></p>`;

const title = (t: Translate) => t('经办人', 'Agents');

/**
 * `/wallet/agents` for the legal representative (法定代表人) acting for their enterprise: its agents
 * (经办人) as the API lists them (masked ID number, what they may do, status, dates), each in force or
 * superseded ({@link withdrawable}) with a link to withdraw it (after a confirmation), and the form that appoints one (ID number and name, checked
 * together against the population registry; what they may do; until when). A form post, no script.
 * Errors are summarised at the top, each linking to its field and naming it, and repeated beside it.
 *
 * @example
 * ```ts
 * renderPage({ ...context, section: 'wallet', title, body: agentsBody(t, { entity, agents, defaultExpiry, latestExpiry }) });
 * ```
 */
export function agentsBody(t: Translate, state: AgentsPageState): SafeHtml {
  const errors = state.errors ?? [];
  const errorsOf = (field: AppointField) => errors.filter((e) => e.field === field).map((e) => e.message);
  const values = state.values ?? {};
  const ticked = values.scope ?? ['licences:issue'];
  // The forms' error summary (shared/web/kit/error-summary.ts): focused when the page loads.
  const summary = errorSummary(
    t,
    'error-summary',
    errors.map((e) => ({
      target: e.field === 'scope' ? 'scope-licences-issue' : e.field,
      message: e.message,
    })),
  );
  return html`${back(t)}
    <h1>${title(t)}</h1>
    <p class="lead">
      ${t(
        `您是${state.entity.name}的法定代表人。经办人经您委托后，以本人身份登录、代表企业办理；每次操作都记录到本人。撤销后立即失效。`,
        `You are the legal representative of ${state.entity.name}. An agent you appoint signs in as themselves and acts for the enterprise; every act is recorded as theirs. Withdrawing an appointment ends it at once.`,
      )}
    </p>
    ${state.appointed ? notice('success', t('已委托经办人。', 'The agent was appointed.'), 'agent-appointed') : html``}
    ${state.withdrawn ? notice('success', t('已撤销委托。', 'The appointment was withdrawn.'), 'agent-withdrawn') : html``}
    ${summary}
    <h2 id="agents-list-title">${t('本企业的经办人', 'The enterprise’s agents')}</h2>
    ${
      state.agents.length === 0
        ? html`<p class="muted" id="agents-empty">
            ${t('还没有委托经办人。', 'No agent has been appointed yet.')}
          </p>`
        : html`<ul class="cards wallet-cards" role="list" aria-labelledby="agents-list-title">
            ${state.agents.map((agent, i) => agentCard(t, agent, i))}
          </ul>`
    }
    <h2 id="appoint-title">${t('委托经办人', 'Appoint an agent')}</h2>
    <form method="post" action="/wallet/agents" novalidate aria-labelledby="appoint-title" id="appoint-form">
      ${textField(t, 'idNumber', undefined, errorsOf('idNumber'), {
        autocomplete: 'off',
        inputmode: 'text',
        maxlength: 18,
        spellcheck: 'false',
        hint: t(
          '身份证号码：18 位，末位可为 X（2017 版外国人永久居留证 15 位）。为保护个人信息，提交后页面不再显示完整号码。',
          'The ID number: 18 characters, the last may be X (15 on a 2017 foreigner’s permanent residence card). To protect it, the page never shows the full number again.',
        ),
      })}
      ${textField(t, 'name', values.name, errorsOf('name'), {
        autocomplete: 'off',
        maxlength: 100,
        hint: t(
          '与身份证一致，将与人口信息登记核对。',
          'As on the ID card: checked against the population registry.',
        ),
      })}
      <fieldset ${attr('aria-describedby', errorsOf('scope').length > 0 ? 'scope-error' : undefined)}>
        <legend>${appointFieldLabel(t, 'scope')}</legend>
        ${fieldErrorsOf('scope', errorsOf('scope'))}
        ${agentScopes.map(
          (scope) =>
            html`<p>
              <label>
                <input
                  type="checkbox"
                  name="scope[]"
                  value="${scope}"
                  id="scope-${scope.replace(':', '-')}"
                  ${ticked.includes(scope) ? html`checked` : html``}
                />
                ${agentScopeLabel(t, scope)}
              </label>
            </p>`,
        )}
      </fieldset>
      ${textField(t, 'expiresAt', values.expiresAt ?? state.defaultExpiry, errorsOf('expiresAt'), {
        // Text in the page's format, not `type="date"`, which shows the browser's locale (`mm/dd/yyyy` in
        // an English Chromium) whatever the page's language; the latest day is said, as no picker bounds it.
        ...dayInputProperties(t),
        hint: `${t(
          `最长三年（不晚于 ${state.latestExpiry}），到期自动失效。`,
          `At most three years (by ${state.latestExpiry}); it lapses on that day.`,
        )}${t('', ' ')}${dayHint(t)}`,
      })}
      <p><button type="submit" id="appoint-submit">${t('委托', 'Appoint')}</button></p>
    </form>`;
}

/**
 * Whether the page offers to withdraw `agent`: one in force, and one a former legal representative (or
 * this one in a former term) made (`superseded`, review R42): it stands on nothing and never will again
 * (bound to its appointer's term), but withdrawn here it is listed so, and whatever platforms' grants the
 * agent made under it remain (a change of representative not recorded through `recordRegisteredEntity`)
 * go, each platform told.
 */
export function withdrawable(agent: Pick<WalletAgent, 'status'>): boolean {
  return agent.status === 'active' || agent.status === 'superseded';
}

function agentCard(t: Translate, agent: WalletAgent, i: number): SafeHtml {
  // A withdrawn appointment says when it was withdrawn; any other, until when it runs.
  const withdrawnAt = agent.status === 'withdrawn' ? agent.withdrawnAt : undefined;
  return html`<li>
    <article class="card agent" data-status="${agent.status}">
      <h2 id="agent-${i}">${t('经办人', 'Agent')} <span class="mono">${agent.masked}</span></h2>
      <dl class="fields">
        <dt>${t('委托事项', 'May')}</dt>
        <dd>${scopeNames(t, agent.scope)}</dd>
        <dt>${t('状态', 'Status')}</dt>
        <dd class="agent-status">${statusWords[agent.status](t)}</dd>
        <dt>${t('委托日期', 'Appointed')}</dt>
        <dd>${day(agent.appointedAt)}</dd>
        <dt>${withdrawnAt ? t('撤销日期', 'Withdrawn') : t('有效期至', 'Until')}</dt>
        <dd>${withdrawnAt ? day(withdrawnAt) : lastDay(agent.expiresAt)}</dd>
      </dl>
      ${
        withdrawable(agent)
          ? html`<p>
              <a class="button secondary" href="${withdrawHref(agent.agentId)}" aria-describedby="agent-${i}"
                >${t('撤销委托…', 'Withdraw…')}</a
              >
            </p>`
          : html``
      }
    </article>
  </li>`;
}

/** The confirmation page of a withdrawal (GET), and where its form posts. */
export function withdrawHref(agentId: string): string {
  return `/wallet/agents/${encodeURIComponent(agentId)}/withdraw`;
}

/**
 * `/wallet/agents/{agentId}/withdraw`: which agent, what happens (at once, at their next page), a box to
 * tick and the button that withdraws (a form posted to the same path).
 */
export function withdrawConfirmBody(
  t: Translate,
  agent: WalletAgent,
  options: { unconfirmed?: boolean } = {},
): SafeHtml {
  const errorId = options.unconfirmed ? 'withdraw-confirm-error' : undefined;
  return html`<p><a href="/wallet/agents">← ${t('返回经办人', 'Back to the agents')}</a></p>
    <h1>${t('撤销委托', 'Withdraw the appointment')}</h1>
    ${
      options.unconfirmed
        ? errorSummary(t, 'error-summary', [
            {
              target: 'withdraw-confirm',
              message: t('确认撤销：请勾选后再撤销。', 'Confirm: tick the box before withdrawing.'),
            },
          ])
        : html``
    }
    <dl class="fields">
      <dt>${t('经办人身份证号码', 'The agent’s ID number')}</dt>
      <dd class="mono">${agent.masked}</dd>
      <dt>${t('委托事项', 'May')}</dt>
      <dd>${scopeNames(t, agent.scope)}</dd>
      <dt>${t('有效期至', 'Until')}</dt>
      <dd>${lastDay(agent.expiresAt)}</dd>
      ${
        agent.status === 'superseded'
          ? html`<dt>${t('状态', 'Status')}</dt>
              <dd>${statusWords.superseded(t)}</dd>`
          : html``
      }
    </dl>
    <p>
      ${
        agent.status === 'superseded'
          ? t(
              '此委托由前任法定代表人或在此前任期内作出，已不再有效，即使其再次登记为法定代表人也不会重新生效。撤销后列为已撤销，经办人依此委托授权其他平台的登录和共享如仍有留存，一并撤回，各平台均会收到通知。',
              'A former legal representative, or a former term, made this appointment: it is not in force, and will not be again even were they named representative again. Withdrawn, it is listed as withdrawn, and whatever sign-ins and shares the agent gave platforms under it remain are withdrawn too; each platform is told.',
            )
          : t(
              '撤销后立即生效：经办人已登录的页面在下一次操作时即被拒绝，不能再代表企业办理。如需恢复，须重新委托。',
              'It takes effect at once: the agent is refused at their next page, even if signed in, and can no longer act for the enterprise. To restore it, appoint them again.',
            )
      }
    </p>
    <form method="post" action="${withdrawHref(agent.agentId)}" id="withdraw-form">
      ${fieldErrorsOf('withdraw-confirm', options.unconfirmed ? [t('请勾选以确认。', 'Please tick to confirm.')] : [])}
      <p>
        <label>
          <input
            type="checkbox"
            name="confirm"
            value="yes"
            required
            id="withdraw-confirm"
            ${attr('aria-describedby', errorId)}
            ${attr('aria-invalid', errorId ? 'true' : undefined)}
          />
          ${withdrawLabels.confirm(t)}
        </label>
      </p>
      <button type="submit" id="withdraw-submit">${t('撤销委托', 'Withdraw')}</button>
    </form>`;
}

/**
 * `/wallet/agents` for anyone but a representative acting for their enterprise: an agent sees the
 * enterprises that appointed them (what they may do, until when), not the form; a personal sign-in is
 * asked to sign in for the enterprise.
 */
export function agentsNotRepresentativeBody(
  t: Translate,
  input: { entity?: ActingFor; appointments: readonly WalletAuthority[]; signInAsEntity: string },
): SafeHtml {
  const mine = input.appointments.filter((authority) => authority.role === 'agent');
  return html`${back(t)}
    <h1>${title(t)}</h1>
    ${
      input.entity
        ? html`<p class="lead" id="agents-not-representative">
            ${t(
              `只有${input.entity.name}的法定代表人可以委托和撤销经办人。`,
              `Only the legal representative of ${input.entity.name} may appoint and withdraw its agents.`,
            )}
          </p>`
        : html`<p class="lead" id="agents-sign-in-as-entity">
              ${t(
                '委托经办人须由法定代表人以企业身份登录后办理。',
                'A legal representative appoints agents after signing in for the enterprise.',
              )}
            </p>
            <p>
              <a class="button" href="${input.signInAsEntity}"
                >${t('以企业身份登录', 'Sign in for the enterprise')}</a
              >
            </p>`
    }
    ${
      mine.length === 0
        ? html``
        : html`<h2 id="my-appointments-title">${t('我受托的企业', 'Enterprises I act for')}</h2>
            <ul class="cards wallet-cards" role="list" aria-labelledby="my-appointments-title">
              ${mine.map(
                (authority) =>
                  html`<li>
                    <article class="card appointment">
                      <h3>${authority.name}</h3>
                      <dl class="fields">
                        <dt>${t('统一社会信用代码', 'Unified social credit code')}</dt>
                        <dd class="mono">${authority.creditCode}</dd>
                        <dt>${t('委托事项', 'May')}</dt>
                        <dd>${scopeNames(t, authority.scope)}</dd>
                        <dt>${t('有效期至', 'Until')}</dt>
                        <dd>${authority.expiresAt ? lastDay(authority.expiresAt) : ''}</dd>
                      </dl>
                    </article>
                  </li>`,
              )}
            </ul>`
    }`;
}

/** The representative is below level 3 for this sign-in: the way up, back to this page. */
export function agentsStepUpBody(t: Translate, stepUp: string): SafeHtml {
  return html`${back(t)}
    <h1>${title(t)}</h1>
    ${notice(
      'warn',
      t(
        '委托和撤销经办人需要三级认证（实名并核验本人）。',
        'Appointing and withdrawing agents needs level 3 (real name, proven to be you).',
      ),
      'agents-step-up',
    )}
    <p><a class="button" href="${stepUp}">${t('提升认证等级', 'Raise the assurance level')}</a></p>`;
}

function textField(
  t: Translate,
  name: Exclude<AppointField, 'scope'>,
  value: string | undefined,
  errors: readonly string[],
  options: { hint?: string; type?: string } & Record<string, string | number | undefined>,
): SafeHtml {
  const { hint, type = 'text', ...attributes } = options;
  return labelledInput({ name, label: appointFieldLabel(t, name), type, value, hint, errors, attributes });
}

/**
 * The form's errors for the API's refusal of an appointment, in the page's language and naming the field:
 * each `errors[]` entry said from its code (an expiry out of range, which has none, in words of its own),
 * the person already appointed (409 `agent_exists`), the representative's own number.
 *
 * @example
 * ```ts
 * appointRefusal(t, 400, { code: 'registry_mismatch', errors: [{ path: 'name', code: 'registry_mismatch', message: '…' }] });
 * // [{ field: 'name', message: '姓名：与人口信息登记不符。' }]
 * ```
 */
export function appointRefusal(t: Translate, status: number, problem: ProblemDocument): AppointError[] {
  const labelled = (field: AppointField, message: string): AppointError => ({
    field,
    message: labelledFieldError(t, appointFieldLabel(t, field), message),
  });
  if (status === 409) {
    return [
      labelled(
        'idNumber',
        t(
          '此人已是本企业的经办人（委托在有效期内）；如需更改委托事项或期限，请先撤销再重新委托。',
          'This person is already an agent of the enterprise; to change what they may do or until when, withdraw and appoint again.',
        ),
      ),
    ];
  }
  if (problem.code === 'self_appointment') {
    return [
      labelled(
        'idNumber',
        t(
          '这是您本人的号码：法定代表人无需委托自己。',
          'This is your own number: a representative needs no appointment.',
        ),
      ),
    ];
  }
  const fieldErrors = (problem.errors ?? []).flatMap((error): AppointError[] => {
    const field = appointFields.find((name) => error.path === name || error.path.startsWith(`${name}.`));
    if (!field) return [];
    if (field === 'expiresAt' && error.code === 'invalid') {
      return [
        labelled(
          field,
          t('须晚于今天，且不超过三年。', 'Must be after today and at most three years ahead.'),
        ),
      ];
    }
    return [{ field, message: labelledFieldError(t, appointFieldLabel(t, field), error) }];
  });
  return fieldErrors.length > 0
    ? fieldErrors
    : [
        {
          message: t(
            '委托未能完成，请稍后再试。',
            'The appointment could not be made; please try again later.',
          ),
        },
      ];
}
