const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for HTML content and double- or single-quoted attributes. */
export const escapeHtml = (value: string): string => value.replace(/[&<>"']/g, (char) => ESCAPES[char]!);

/** A small icon, so browsers do not ask for /favicon.ico and log a 404. */
export const FAVICON_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="8" fill="#5865f2"/><path d="M8 22l5-7 4 5 3-4 4 6z" fill="#fff"/><circle cx="21" cy="11" r="2.5" fill="#fff"/></svg>';

/** The shell every server-rendered page shares: one small stylesheet, which a page's own `head` can override. */
export function page(title: string, head: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<style>
:root{color-scheme:light dark;font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
body{margin:0;min-height:100vh;display:flex;align-items:center;justify-content:center;background:#1e1f22;color:#f2f3f5}
main{max-width:min(96vw,1100px);padding:24px;text-align:center}
img{max-width:100%;max-height:75vh;border-radius:8px;box-shadow:0 8px 32px #0008}
h1{font-size:1.1rem;font-weight:600;overflow-wrap:anywhere;margin:16px 0 4px}
p{color:#b5bac1;margin:4px 0 16px}
a.button,button{display:inline-block;border:0;border-radius:6px;padding:10px 16px;margin:4px;font:inherit;cursor:pointer;text-decoration:none;background:#5865f2;color:#fff}
button.danger{background:#da373c}
</style>
${head}
</head>
<body><main>
${body}
</main></body>
</html>`;
}
