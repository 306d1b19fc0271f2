import { createHash } from 'node:crypto';
import type { EmbedTag, SharePage } from '../../services/embed.service.js';
import { formatBytes } from '../../domain/format.js';
import { escapeHtml as e, page } from './html.js';

/** The head tags of a share page, in order, one per line. Also returned by the embed preview. */
export function embedTagsHtml(tags: EmbedTag[]): string {
  return tags
    .map((tag) =>
      tag.attribute === 'link'
        ? `<link rel="${e(tag.key)}" type="application/json+oembed" href="${e(tag.content)}">`
        : `<meta ${tag.attribute}="${e(tag.key)}" content="${e(tag.content)}">`,
    )
    .join('\n');
}

/** Copies the text of a [data-copy] button's target; the page works without it too (links are selectable). */
const COPY_SCRIPT = `document.querySelectorAll('[data-copy]').forEach(function(b){b.addEventListener('click',function(){var t=document.getElementById(b.dataset.copy).value;navigator.clipboard.writeText(t).then(function(){var l=b.textContent;b.textContent='Copied';setTimeout(function(){b.textContent=l},1500)})})})`;
/** The page's content security policy (page-headers.ts) lets this script run and nothing else. */
export const COPY_SCRIPT_HASH = `'sha256-${createHash('sha256').update(COPY_SCRIPT).digest('base64')}'`;

const SHARE_STYLE = `
.card{background:#2b2d31;border-radius:12px;padding:16px;box-shadow:0 8px 32px #0006;overflow:hidden}
.frame{background:repeating-conic-gradient(#313338 0 25%,#2b2d31 0 50%) 0 0/20px 20px;border-radius:8px;overflow:hidden;display:flex;justify-content:center}
.frame img{display:block;max-width:100%;width:auto;height:auto;max-height:max(40vh,calc(100vh - 320px));border-radius:0;box-shadow:none}
.links{display:grid;grid-template-columns:1fr auto;gap:8px;margin-top:12px;text-align:left}
.links input{min-width:0;background:#1e1f22;color:#dbdee1;border:1px solid #3f4147;border-radius:6px;padding:9px 10px;font:13px ui-monospace,SFMono-Regular,Menlo,monospace}
.links button{margin:0}
.actions{margin-top:12px}
.accent{height:4px;margin:-16px -16px 16px}
@media (max-width:600px){main{padding:12px}.card{padding:12px}.accent{margin:-12px -12px 12px}h1{font-size:1rem}}`;

export function sharePage(share: SharePage): string {
  const { upload } = share;
  const body = `<div class="card">
<div class="accent" style="background:${e(share.color)}"></div>
<div class="frame"><img src="${e(upload.raw_url)}" alt="${e(upload.name)}" width="${upload.width}" height="${upload.height}"></div>
<h1>${e(upload.name)}</h1>
<p>${upload.width} × ${upload.height} · ${formatBytes(upload.size)} · <time datetime="${e(upload.created_at)}">${e(upload.created_at.slice(0, 10))}</time></p>
<div class="links">
<input id="share-link" value="${e(upload.url)}" readonly aria-label="Share link"><button type="button" data-copy="share-link">Copy link</button>
<input id="raw-link" value="${e(upload.raw_url)}" readonly aria-label="Direct image link"><button type="button" data-copy="raw-link">Copy image link</button>
</div>
<div class="actions"><a class="button" href="${e(upload.raw_url)}">Open original</a><a class="button" href="${e(upload.raw_url)}" download="${e(upload.name)}">Download</a></div>
</div>
<script>${COPY_SCRIPT}</script>`;
  // noindex: people share screenshots with friends, not with search engines.
  return page(share.title, `${embedTagsHtml(share.tags)}\n<meta name="robots" content="noindex">\n<style>${SHARE_STYLE}</style>`, body);
}
