import type { UploadView } from '../../services/upload-links.js';
import { formatBytes } from '../../services/upload.service.js';
import { escapeHtml as e, page } from './html.js';

export function sharePage({ upload, dominantColor }: { upload: UploadView; dominantColor: string }): string {
  const head = [
    `<meta property="og:title" content="${e(upload.name)}">`,
    `<meta property="og:type" content="website">`,
    `<meta property="og:url" content="${e(upload.url)}">`,
    `<meta property="og:image" content="${e(upload.raw_url)}">`,
    `<meta property="og:image:type" content="${e(upload.mime)}">`,
    `<meta property="og:image:width" content="${upload.width}">`,
    `<meta property="og:image:height" content="${upload.height}">`,
    `<meta name="twitter:card" content="summary_large_image">`,
    `<meta name="theme-color" content="${e(dominantColor)}">`,
  ].join('\n');
  const body = `<img src="${e(upload.raw_url)}" alt="${e(upload.name)}" width="${upload.width}" height="${upload.height}">
<h1>${e(upload.name)}</h1>
<p>${upload.width}×${upload.height} · ${formatBytes(upload.size)} · <time datetime="${e(upload.created_at)}">${e(upload.created_at.slice(0, 10))}</time></p>
<a class="button" href="${e(upload.raw_url)}">Open original</a>`;
  return page(upload.name, head, body);
}

export function deletionConfirmPage({ name }: { name: string }): string {
  return page(
    'Delete upload?',
    '<meta name="robots" content="noindex">',
    `<h1>Delete ${e(name)}?</h1>
<p>Its links will stop working. This cannot be undone.</p>
<form method="post"><button class="danger" type="submit">Delete</button></form>`,
  );
}

export const deletedPage = (): string =>
  page('Deleted', '<meta name="robots" content="noindex">', '<h1>Deleted</h1><p>The upload and its links are gone.</p>');

export const messagePage = (title: string, message: string): string =>
  page(title, '<meta name="robots" content="noindex">', `<h1>${e(title)}</h1><p>${e(message)}</p>`);
