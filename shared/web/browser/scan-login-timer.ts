/**
 * The scan-to-login code's countdown (`/assets/scan-login-timer.js`), on the sign-in and waiting pages
 * (review R62-4). The code lives a configured number of seconds (`SCAN_LOGIN_SECONDS`); the section
 * carries the seconds it has left (`data-expires-in`) and its words in the page's language. A
 * `role="timer"` shows the seconds left (a timer is not announced on each tick); a polite status says once,
 * shortly before the end, that the code is about to expire, and then that it has. At the end the QR code and
 * its link give way to 二维码已过期 and a 刷新二维码 button, which loads the sign-in step again
 * (`/interaction/{uid}`, a GET: never a repeated form post), where a new code is shown. Without this script
 * the page still says how long the code lasts, and a scan of an expired code says so.
 *
 * @packageDocumentation
 */

/** Seconds before the end at which the status says the code is about to expire. */
const warnBefore = 15;

const fill = (template: string, seconds: number) => template.replaceAll('{s}', String(seconds));

function start(box: HTMLElement): void {
  const seconds = Number(box.dataset.expiresIn);
  if (!Number.isFinite(seconds) || seconds <= 0) return;
  const words = box.dataset;
  const until = Date.now() + seconds * 1000;
  const left = () => Math.max(0, Math.ceil((until - Date.now()) / 1000));
  const timer = document.createElement('p');
  timer.id = 'scan-login-timer';
  timer.setAttribute('role', 'timer');
  const status = document.createElement('p');
  status.id = 'scan-login-status';
  status.setAttribute('role', 'status');
  const code = box.querySelector<HTMLElement>('#scan-login-code');
  code?.after(timer, status);
  let warned = seconds <= warnBefore;
  const tick = () => {
    const now = left();
    timer.textContent = fill(words.timerLabel ?? '{s}', now);
    if (!warned && now <= warnBefore) {
      warned = true;
      status.textContent = fill(words.soonAnnounce ?? '', now);
    }
    if (now > 0) return;
    window.clearInterval(interval);
    expire();
  };
  const expire = () => {
    const hadFocus = code?.contains(document.activeElement) ?? false;
    code?.setAttribute('hidden', '');
    timer.remove();
    const expired = document.createElement('p');
    expired.id = 'scan-login-expired';
    expired.className = 'notice';
    expired.textContent = words.expiredText ?? '';
    const refresh = document.createElement('button');
    refresh.type = 'button';
    refresh.id = 'scan-login-refresh';
    refresh.textContent = words.refreshLabel ?? '';
    refresh.addEventListener('click', () => {
      window.location.assign(words.refreshHref ?? window.location.href);
    });
    status.before(expired, refresh);
    status.textContent = words.expiredAnnounce ?? words.expiredText ?? '';
    if (hadFocus) refresh.focus();
  };
  const interval = window.setInterval(tick, 1000);
  tick();
}

const box = document.querySelector<HTMLElement>('#scan-login-code-box[data-expires-in]');
if (box) start(box);
