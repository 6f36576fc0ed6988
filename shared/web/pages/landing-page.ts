import { html, type SafeHtml } from '../kit/html.js';
import type { Translate } from '../kit/i18n.js';

/** The demo parties' sign-in details, shown on the landing page of the local runtime only. */
export interface DemoSignIn {
  citizen: { idNumber: string; name: string; password: string };
  entity: { name: string; creditCode: string };
  /** The demo agency's counter clerk, who signs in to the issuer console. */
  clerk: { idNumber: string; name: string; password: string };
}

/** `/`: what the service is, who each page is for, and (locally) how to sign in as the demo parties. */
export function landingBody(t: Translate, demo: DemoSignIn | undefined): SafeHtml {
  const pages = [
    {
      href: '/wallet',
      title: t('我的证照', 'My licences'),
      who: t('市民与企业经办人', 'Citizens and enterprise agents'),
      what: t(
        '用统一身份认证登录，查看名下的电子证照，出示会自动刷新的亮证二维码，并选择披露哪些信息。',
        'Sign in once, see the licences you hold, and show a self-refreshing QR code that discloses only what you choose.',
      ),
    },
    {
      href: '/verifier',
      title: t('扫码核验', 'Verify a licence'),
      who: t('窗口、酒店、银行等核验方', 'Counters, hotels, banks'),
      what: t(
        '用摄像头扫码、上传二维码照片或粘贴内容，一眼看清证照是否有效；首次访问后断网也能核验。',
        'Scan with the camera, upload a photo of a QR code or paste its text, and read the verdict at a glance; works offline after the first visit.',
      ),
    },
    {
      href: '/demo',
      title: t('演示平台', 'Demo platform'),
      who: t('接入统一身份认证的政务平台', 'Platforms that delegate their sign-in'),
      what: t(
        '一个把登录交给统一身份认证的示例应用：看看它收到了哪些信息（只属于这个平台的用户标识、认证等级、您同意提供的各项信息）。',
        'A sample app that delegates its sign-in to the unified identity and shows what it received (an identifier for this platform only, the level of the sign-in, the details you agreed to share).',
      ),
    },
    {
      href: '/console',
      title: t('发证机关控制台', 'Issuer console'),
      who: t('发证机关工作人员', 'Issuing agencies'),
      what: t(
        '用按证照类型自动生成的表单签发证照，查看已签发的证照，并可暂停、恢复或吊销。',
        'Issue licences from a form made for each licence type, list them, and suspend, reinstate or revoke them.',
      ),
    },
  ];
  return html`<h1>${t('电子证照与统一身份认证', 'E-licences and unified identity')}</h1>
    <p class="lead">
      ${t(
        '政府部门签发带数字签名的电子证照；市民出示二维码，任何应用都能离线核验；一次登录，各个平台通用。',
        'Agencies issue digitally signed e-licences; citizens show them as QR codes that any app can verify, even offline; one sign-in serves every platform.',
      )}
    </p>
    <ul class="cards" role="list">
      ${pages.map(
        (p) =>
          html`<li class="card">
            <h2><a href="${p.href}">${p.title}</a></h2>
            <p class="muted">${p.who}</p>
            <p>${p.what}</p>
          </li>`,
      )}
    </ul>
    ${demo ? demoSignIn(t, demo) : html``}
    <h2>${t('开发者', 'Developers')}</h2>
    <ul>
      <li><a href="/.well-known/openid-configuration">OpenID Connect discovery</a></li>
      <li><a href="/trust-list">${t('信任列表', 'Trust list')}</a></li>
      <li><a href="/licence-types">${t('证照类型目录', 'Licence types')}</a></li>
    </ul>`;
}

function demoSignIn(t: Translate, demo: DemoSignIn): SafeHtml {
  return html`<section class="card" aria-labelledby="demo-accounts">
    <h2 id="demo-accounts">
      ${t('演示账号（仅本地运行时显示）', 'Demo accounts (shown on the local runtime only)')}
    </h2>
    <dl class="fields">
      <dt>${t('市民', 'Citizen')}</dt>
      <dd>${demo.citizen.name}</dd>
      <dt>${t('身份证号', 'ID number')}</dt>
      <dd><code>${demo.citizen.idNumber}</code></dd>
      <dt>${t('密码', 'Password')}</dt>
      <dd><code>${demo.citizen.password}</code></dd>
      <dt>${t('代表的企业', 'Represents')}</dt>
      <dd>${demo.entity.name} (<code>${demo.entity.creditCode}</code>)</dd>
      <dt>
        ${t('发证机关经办人（控制台、当面核验）', 'Issuing agency’s clerk (console, proving people in person)')}
      </dt>
      <dd>${demo.clerk.name}</dd>
      <dt>${t('经办人身份证号', 'Clerk’s ID number')}</dt>
      <dd><code>${demo.clerk.idNumber}</code></dd>
      <dt>${t('经办人密码', 'Clerk’s password')}</dt>
      <dd><code>${demo.clerk.password}</code></dd>
    </dl>
  </section>`;
}
