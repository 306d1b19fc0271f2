import { escapeHtml as e, page } from './html.js';

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
