/** How many items one page of a list (GET /api/uploads, GET /api/admin/users) holds. */
export const LIST_LIMIT = { default: 100, max: 1000 } as const;

/**
 * A keyset page made from up to `limit + 1` rows read past the cursor: the first `limit`, and
 * the id of the last of them as the next page's cursor when the extra row shows there are more.
 */
export function keysetPage<T extends { id: string }>(rows: T[], limit: number): { items: T[]; next?: string } {
  const items = rows.slice(0, limit);
  return rows.length > limit ? { items, next: items.at(-1)?.id } : { items };
}
