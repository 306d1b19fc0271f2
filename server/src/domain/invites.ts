/** What POST /api/admin/invites makes when the admin leaves a field out. */
export const INVITE_DEFAULTS = { maxUses: 1, expiresInDays: 7 } as const;
export const INVITE_LIMITS = { maxUses: 10_000, expiresInDays: 365 } as const;

/** Invite codes: 24 base62 characters (143 bits): unguessable, and short enough to paste or type. */
export const INVITE_CODE_LENGTH = 24;
