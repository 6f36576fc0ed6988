/**
 * The 获取验证码 button's countdown (`/assets/sms-countdown.js`), on the step-up, reset and registration
 * pages: when the page answers a counted ask for a code, the button carries the seconds until the server
 * allows the next one (`data-resend-after`, from the server's own `smsCodePolicy` or its `Retry-After`).
 * This disables it, shows the seconds left on it, and says in a polite live region when the wait begins
 * and when it ends (not every second: a screen reader is not flooded). The wait is the phone's (the
 * server limits each number), so another number typed in frees the button, and the number asked for
 * brings the countdown back. Without this script the button stays usable and the notice says when to
 * ask again. Words come from the button's data attributes, in the page's language.
 *
 * @packageDocumentation
 */

/** A template of the page's language (`重新获取（{s} 秒）`) with the seconds put in. */
const resendLabel = (template: string, seconds: number) => template.replaceAll('{s}', String(seconds));

function start(button: HTMLButtonElement, status: HTMLElement | null, phone: HTMLInputElement | null): void {
  const seconds = Number(button.dataset.resendAfter);
  if (!Number.isFinite(seconds) || seconds <= 0) return;
  const original = button.textContent?.trim() ?? '';
  const waitLabel = button.dataset.waitLabel ?? '{s}';
  const askedFor = phone?.value.trim();
  const until = Date.now() + seconds * 1000;
  const left = () => Math.max(0, Math.ceil((until - Date.now()) / 1000));
  const show = () => {
    const waiting = left() > 0 && phone?.value.trim() === askedFor;
    button.disabled = waiting;
    button.textContent = waiting ? resendLabel(waitLabel, left()) : original;
  };
  show();
  if (status) status.textContent = resendLabel(button.dataset.waitAnnounce ?? '', seconds);
  phone?.addEventListener('input', show);
  const timer = window.setInterval(() => {
    show();
    if (left() > 0) return;
    window.clearInterval(timer);
    phone?.removeEventListener('input', show);
    if (status) status.textContent = button.dataset.readyAnnounce ?? '';
  }, 250);
}

const button = document.querySelector<HTMLButtonElement>('#send-code[data-resend-after]');
if (button) {
  start(button, document.getElementById('send-code-status'), document.querySelector('input#phone'));
}
