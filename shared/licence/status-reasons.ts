import type { StoredStatus } from './licence.js';

/** One preset reason for a status change, in both languages (the Chinese is what the record keeps). */
export interface StatusReason {
  code: string;
  zh: string;
  en: string;
}

/** The last choice of every status's list: free text, which the clerk's note then carries alone. */
const other = { code: 'other', zh: '其他', en: 'Other' } as const;

/**
 * The common reasons an agency gives when it revokes (吊销/注销), suspends (暂扣) or reinstates a licence,
 * offered as a list so the record reads the same across clerks and can be counted; `other` takes free
 * text. A reason code belongs to the status it is listed under: a revocation reason does not suspend.
 *
 * @example
 * ```ts
 * statusReasons.revoked.map((reason) => reason.code); // ['holder-request', 'information-error', …, 'other']
 * ```
 */
export const statusReasons = {
  revoked: [
    { code: 'holder-request', zh: '持证人申请注销', en: 'Cancelled at the holder’s request' },
    { code: 'information-error', zh: '证照信息有误', en: 'The licence’s information is wrong' },
    { code: 'violation', zh: '违法违规被吊销', en: 'Revoked for breaking the law or regulations' },
    {
      code: 'improperly-obtained',
      zh: '以欺骗、贿赂等不正当手段取得',
      en: 'Obtained by deception, bribery or other improper means',
    },
    { code: 'holder-ceased', zh: '持证人死亡或主体终止', en: 'The holder died or ceased to exist' },
    { code: 'reissued', zh: '证照已换发或补发', en: 'Replaced by a new or reissued licence' },
    other,
  ],
  suspended: [
    { code: 'investigation', zh: '涉嫌违法违规，调查期间暂扣', en: 'Suspended during an investigation' },
    {
      code: 'authority-order',
      zh: '司法机关或行政机关决定暂扣',
      en: 'Suspended by order of a court or authority',
    },
    { code: 'information-check', zh: '证照信息待核实', en: 'The licence’s information is being checked' },
    { code: 'holder-request', zh: '持证人申请暂停使用', en: 'Suspended at the holder’s request' },
    other,
  ],
  valid: [
    { code: 'investigation-closed', zh: '调查结束，恢复有效', en: 'The investigation is closed' },
    { code: 'suspension-ended', zh: '暂扣期满', en: 'The suspension period has ended' },
    { code: 'information-verified', zh: '证照信息核实无误', en: 'The licence’s information was verified' },
    other,
  ],
} as const satisfies Record<StoredStatus, readonly StatusReason[]>;

export type StatusReasonCode = (typeof statusReasons)[StoredStatus][number]['code'];

/** Every reason code of any status, for the API's schema (which then checks it fits the status). */
export const statusReasonCodes = [
  ...new Set(Object.values(statusReasons).flatMap((reasons) => reasons.map((reason) => reason.code))),
] as [StatusReasonCode, ...StatusReasonCode[]];

/**
 * The preset reason `code` for a change to `status`, or undefined when that status does not list it.
 *
 * @example
 * ```ts
 * statusReason('revoked', 'information-error')?.zh; // '证照信息有误'
 * ```
 */
export function statusReason(status: StoredStatus, code: string): StatusReason | undefined {
  return (statusReasons[status] as readonly StatusReason[]).find((reason) => reason.code === code);
}

/**
 * The reason as the record keeps it: the preset's Chinese words, then the clerk's note after "：" when
 * there is one; the note alone for `other` (or no code, as API clients sent before codes existed).
 *
 * @example
 * ```ts
 * reasonText('suspended', 'investigation', '案号 2026-17'); // '涉嫌违法违规，调查期间暂扣：案号 2026-17'
 * ```
 */
export function reasonText(status: StoredStatus, code: string | undefined, note: string | undefined): string {
  const preset = code && code !== 'other' ? statusReason(status, code) : undefined;
  if (!preset) return note ?? '';
  return note ? `${preset.zh}：${note}` : preset.zh;
}
