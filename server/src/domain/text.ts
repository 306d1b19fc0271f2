/* eslint-disable no-control-regex -- removing control characters is the point */

/**
 * C0 and C1 controls, DEL, and the bidi embeddings, overrides and isolates (U+202A-U+202E,
 * U+2066-U+2069): invisible, they can reorder what people read (`gpj.exe` shown as
 * `exe.jpg`, a sentence flipped) or, as NUL, cut a string short in other programs.
 */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
/** The same set without the line feed. */
const UNSAFE_BUT_NEWLINE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/**
 * Removes control and bidi-override characters from text that people will see (file names,
 * embed text). `keepNewlines` keeps line breaks, as `\n`, for multi-line fields.
 */
export function stripUnsafeChars(text: string, { keepNewlines = false } = {}): string {
  return keepNewlines ? text.replace(/\r\n?/g, '\n').replace(UNSAFE_BUT_NEWLINE, '') : text.replace(UNSAFE, '');
}
