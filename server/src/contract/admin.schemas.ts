import { Type } from 'typebox';
import { pageLimit } from './common.js';

const Role = Type.Union([Type.Literal('admin'), Type.Literal('user')]);
const Quota = Type.Union([Type.Integer({ minimum: 0 }), Type.Null()], { description: 'Bytes the account may store; null = unlimited' });

/** An account as the admin sees it. */
export const AdminUserResponse = Type.Object(
  {
    id: Type.String(),
    username: Type.String(),
    role: Role,
    quota_bytes: Quota,
    disabled: Type.Boolean({ description: 'A disabled account cannot sign in, and its keys and sessions answer 403 ACCOUNT_DISABLED' }),
    created_at: Type.String({ description: 'ISO 8601, UTC' }),
    usage: Type.Object(
      { bytes: Type.Integer(), files: Type.Integer() },
      { description: 'Bytes and number of its live uploads (what counts against the quota)' },
    ),
  },
  {
    examples: [
      {
        id: 'XfjL7jp5hHvWg2Lc',
        username: 'bob',
        role: 'user',
        quota_bytes: 1073741824,
        disabled: false,
        created_at: '2026-11-27T10:00:58.182Z',
        usage: { bytes: 1348, files: 2 },
      },
    ],
  },
);

export const AdminUserListQuery = Type.Object(
  {
    limit: pageLimit('Accounts'),
    before: Type.Optional(
      Type.String({ minLength: 1, maxLength: 64, description: 'An account id: the page starts after it (from the Link header)' }),
    ),
  },
  { additionalProperties: false },
);

export const AdminUserPatchBody = Type.Object(
  {
    role: Type.Optional(Role),
    quota_bytes: Type.Optional(Quota),
    disabled: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false, minProperties: 1, examples: [{ quota_bytes: 1073741824 }] },
);

const Day = Type.Object({
  date: Type.String({ description: 'YYYY-MM-DD (UTC)' }),
  uploads: Type.Integer({ description: 'Uploads made that day that are still live' }),
  bytes: Type.Integer({ description: 'Their bytes' }),
});

export const AdminStatsResponse = Type.Object(
  {
    users: Type.Integer({ description: 'Accounts, disabled ones included' }),
    uploads: Type.Integer({ description: 'Live uploads' }),
    bytes: Type.Integer({ description: 'Bytes of the live uploads, as quotas count them (identical files stored once count each time)' }),
    days: Type.Array(Day, { description: 'The last 30 UTC days, today last, days without uploads included (zeros)' }),
  },
  {
    examples: [{ users: 3, uploads: 42, bytes: 5123456, days: [{ date: '2026-11-27', uploads: 5, bytes: 612345 }] }],
  },
);
