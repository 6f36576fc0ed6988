/**
 * The 获取验证码 button's countdown (`/assets/sms-countdown.js`), on the step-up, reset and registration
 * pages: when the page answers a counted ask for a code, the button carries the seconds until the server
 * allows the next one (`data-resend-after`, from the server's own `smsCodePolicy` or its `Retry-After`)
 * and the limit the wait is of (`data-limit`, as the server names it): only the phone's interval
 * (`interval`) is counted down; a day's cap (`daily`) is said in words, even in its last minute.
 * While the wait runs the button is `aria-disabled` and shows the seconds left; its clicks (a mouse,
 * Enter or Space, or Enter in a field, which clicks the form's first button) are held, so nothing is
 * sent, but it stays in the tab order (a `disabled` button would vanish from it and leave a keyboard user
 * wondering where it went). The page's notice (role status) already says when to ask again, so the
 * polite live region stays empty on load and says only that the wait has ended. The interval is the
 * phone's (the server limits each number), so another number typed in frees the button, and the number
 * asked for brings the countdown back. Without this script the button stays usable and the notice says
 * when to ask again. Words come from the button's data attributes, in the page's language.
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
  const waiting = () => left() > 0 && phone?.value.trim() === askedFor;
  const show = () => {
    const now = waiting();
    if (now) button.setAttribute('aria-disabled', 'true');
    else button.removeAttribute('aria-disabled');
    button.textContent = now ? resendLabel(waitLabel, left()) : original;
  };
  // Enter and Space on a button, and Enter in a field of the form, all come as a click on it.
  const hold = (event: Event) => {
    if (waiting()) event.preventDefault();
  };
  show();
  button.addEventListener('click', hold);
  phone?.addEventListener('input', show);
  const timer = window.setInterval(() => {
    show();
    if (left() > 0) return;
    window.clearInterval(timer);
    phone?.removeEventListener('input', show);
    button.removeEventListener('click', hold);
    if (status) status.textContent = button.dataset.readyAnnounce ?? '';
  }, 250);
}

// Only the phone's interval is counted down: the server names the limit, and a day's cap is said in words.
const button = document.querySelector<HTMLButtonElement>(
  '#send-code[data-limit="interval"][data-resend-after]',
);
if (button) {
  start(button, document.getElementById('send-code-status'), document.querySelector('input#phone'));
}
