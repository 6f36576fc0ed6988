/**
 * The 导出我的数据 page's script (`/assets/wallet-export.js`): the 下载我的数据 button fetches the file
 * itself (the same posted form), saves it under the name the answer gives, and, when the file says it was
 * cut at its budget (`truncated`: the usage record past 5,000 entries, 50 pages read or 3.5 MB of
 * document; shared/personal-data/data-export.ts), shows the page's notice (`#account-export-cut`, in the
 * page's language): how many usage entries the file holds, and a link to the usage record (用证记录) from
 * where the file stops. Anything but the file (the wallet sending the person to sign in again, an error
 * page, a network failure) posts the form as the page does without this script, so that it is shown; so
 * does a browser without the script, whose file still says it was cut.
 *
 * @packageDocumentation
 */

/** What the script reads of the file: its cut sections (`elicence-data-export/1`). */
interface ExportCut {
  section?: unknown;
  included?: unknown;
  cursor?: unknown;
}

/** The usage record's cut, when the file says it was cut there. */
function usageCut(text: string): { included: number; cursor: string } | undefined {
  let truncated: unknown;
  try {
    truncated = (JSON.parse(text) as { truncated?: unknown }).truncated;
  } catch {
    return undefined;
  }
  if (!Array.isArray(truncated)) return undefined;
  const cut = (truncated as ExportCut[]).find((entry) => entry?.section === 'usage');
  if (!cut || typeof cut.included !== 'number' || typeof cut.cursor !== 'string') return undefined;
  return { included: cut.included, cursor: cut.cursor };
}

/** Saves `blob` as a download named `name`, as the browser does for an attachment. */
function save(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  // Long enough for the browser to have started the download.
  window.setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

function start(form: HTMLFormElement, notice: HTMLElement): void {
  const button = form.querySelector<HTMLButtonElement>('button[type="submit"]');
  const included = notice.querySelector<HTMLElement>('#account-export-included');
  const rest = notice.querySelector<HTMLAnchorElement>('#account-export-rest');
  let busy = false;
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (busy) return;
    busy = true;
    button?.setAttribute('aria-busy', 'true');
    notice.hidden = true;
    void (async () => {
      try {
        const answer = await fetch(form.action, {
          method: 'POST',
          body: new URLSearchParams(),
          credentials: 'same-origin',
          // A redirect (sign in again) is followed by the page itself, not by this fetch.
          redirect: 'manual',
        });
        const disposition = answer.headers.get('content-disposition') ?? '';
        if (answer.status !== 200 || !/^attachment/i.test(disposition)) {
          form.submit();
          return;
        }
        const blob = await answer.blob();
        save(blob, /filename="([^"]+)"/.exec(disposition)?.[1] ?? 'elicence-data-export.json');
        const cut = usageCut(await blob.text());
        if (cut && included && rest) {
          included.textContent = cut.included.toLocaleString(document.documentElement.lang || undefined);
          rest.href = `/wallet/usage?cursor=${encodeURIComponent(cut.cursor)}`;
          notice.hidden = false;
          notice.focus();
        }
      } catch {
        form.submit();
      } finally {
        busy = false;
        button?.removeAttribute('aria-busy');
      }
    })();
  });
}

const form = document.getElementById('account-export-form');
const notice = document.getElementById('account-export-cut');
if (form instanceof HTMLFormElement && notice) start(form, notice);
