/**
 * The files of the setup page, made from the server's address and an API key: a ShareX
 * custom uploader, a capture-and-upload shell script, a curl one-liner. Pure functions, so that
 * what a person downloads is tested without a browser (e2e/web-tool-files.test.ts).
 */
import { sharexUploader } from '@discord-images/sdk';

export interface ToolFile {
  /** A name for the download, such as `img.example.com.sxcu`. */
  filename: string;
  /** The media type of the download. */
  type: string;
  text: string;
}

/** The address's host for file and uploader names: `img.example.com`, `localhost-3000`. */
export function hostLabel(origin: string): string {
  return new URL(origin).host.replace(/:/g, '-');
}

/** Text as one shell word, whatever it holds. */
export function shellQuote(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

/** A ShareX custom uploader: double-clicked, ShareX imports it and makes it the image uploader. */
export function sxcuFile(origin: string, token: string): ToolFile {
  const host = hostLabel(origin);
  const uploader = sharexUploader({ baseUrl: origin, token, name: `Discord Images (${new URL(origin).host})` });
  return { filename: `${host}.sxcu`, type: 'application/json', text: `${JSON.stringify(uploader, null, 2)}\n` };
}

/**
 * A bash script for Linux and macOS: captures a region (Flameshot, else grim + slurp on Wayland,
 * screencapture on macOS) or takes the files named on its command line, uploads them with curl,
 * prints each share link and copies the first to the clipboard. It needs nothing but curl: the
 * links are read from the JSON with grep and sed (`"url":` is the share link's key alone).
 */
export function shellScript(origin: string, token: string): ToolFile {
  const text = `#!/usr/bin/env bash
# Upload screenshots to Discord Images at ${origin}
#
#   ${'./'}${hostLabel(origin)}-upload.sh             capture a region, upload it, copy the link
#   ${'./'}${hostLabel(origin)}-upload.sh a.png b.jpg upload these files
#
# Captures with Flameshot (X11 and Wayland), grim + slurp (Wayland) or screencapture (macOS).
# Copies the link with pbcopy, wl-copy, xclip or xsel, whichever is there. Needs curl.
# Bind it to a key (Print Screen) in your desktop's keyboard settings.
set -euo pipefail

DI_URL=${shellQuote(origin)}
DI_TOKEN=${shellQuote(token)} # an API key: keep this file private (chmod 700)

parts=()
if [ "$#" -gt 0 ]; then
  for file in "$@"; do
    [ -f "$file" ] || { echo "No such file: $file" >&2; exit 1; }
    # Quoted, so that a name with a comma or a semicolon reaches the server whole.
    escaped=\${file//\\\\/\\\\\\\\}
    parts+=(-F "files[]=@\\"\${escaped//\\"/\\\\\\"}\\"")
  done
else
  shot=$(mktemp "\${TMPDIR:-/tmp}/discord-images.XXXXXX")
  trap 'rm -f "$shot"' EXIT
  if [ "$(uname -s)" = Darwin ]; then
    screencapture -i -t png "$shot"
  elif command -v flameshot >/dev/null; then
    flameshot gui --raw >"$shot"
  elif command -v grim >/dev/null && command -v slurp >/dev/null; then
    region=$(slurp) || exit 0
    grim -g "$region" "$shot"
  else
    echo "Install Flameshot, or grim and slurp (Wayland), to take screenshots" >&2
    exit 1
  fi
  # Escape or a click outside the selection cancels the capture: nothing to upload.
  [ -s "$shot" ] || { echo "Capture cancelled" >&2; exit 0; }
  parts+=(-F "files[]=@$shot;type=image/png;filename=screenshot-$(date +%Y%m%d-%H%M%S).png")
fi

answer=$(curl -sS -w '\\n%{http_code}' -H "token: $DI_TOKEN" "\${parts[@]}" "$DI_URL/api/upload")
status=\${answer##*$'\\n'}
body=\${answer%$'\\n'*}
if [ "$status" != 201 ]; then
  message=$(printf '%s' "$body" | sed -nE 's/.*"message":"(([^"\\\\]|\\\\.)*)".*/\\1/p')
  echo "Upload failed ($status): \${message:-$body}" >&2
  exit 1
fi

links=$(printf '%s' "$body" | grep -oE '"url":"[^"]*"' | sed -E 's/^"url":"(.*)"$/\\1/')
printf '%s\\n' "$links"
first=\${links%%$'\\n'*}
if command -v pbcopy >/dev/null; then
  printf '%s' "$first" | pbcopy
elif [ -n "\${WAYLAND_DISPLAY:-}" ] && command -v wl-copy >/dev/null; then
  printf '%s' "$first" | wl-copy
elif [ -n "\${DISPLAY:-}" ] && command -v xclip >/dev/null; then
  printf '%s' "$first" | xclip -selection clipboard
elif [ -n "\${DISPLAY:-}" ] && command -v xsel >/dev/null; then
  printf '%s' "$first" | xsel --clipboard --input
fi
`;
  return { filename: `${hostLabel(origin)}-upload.sh`, type: 'text/x-shellscript', text };
}

/** One curl command that uploads `screenshot.png` from the current folder and prints the answer's JSON. */
export function curlOneLiner(origin: string, token: string): ToolFile {
  const text = `curl -H ${shellQuote(`token: ${token}`)} -F 'files[]=@screenshot.png' ${shellQuote(`${origin}/api/upload`)}\n`;
  return { filename: `${hostLabel(origin)}-curl.sh`, type: 'text/x-shellscript', text };
}
