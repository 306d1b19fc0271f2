/** How many uploads one page of GET /api/uploads holds. */
export const LIST_LIMIT = { default: 100, max: 1000 } as const;
