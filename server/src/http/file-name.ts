/**
 * `<id>.<ext>`, the last segment of a raw or thumbnail URL, split at its last dot; the
 * extension lowercased (extensions are case-insensitive). Undefined without an id or a dot.
 */
export function splitFileName(name: string): { id: string; ext: string } | undefined {
  const dot = name.lastIndexOf('.');
  return dot < 1 ? undefined : { id: name.slice(0, dot), ext: name.slice(dot + 1).toLowerCase() };
}
