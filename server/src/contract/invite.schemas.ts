import { Type } from 'typebox';
import { INVITE_DEFAULTS, INVITE_LIMITS } from '../domain/invites.js';

export const InviteResponse = Type.Object(
  {
    id: Type.String(),
    code: Type.String({ description: 'What a new user enters at sign-up (the invite field of POST /api/auth/register)' }),
    max_uses: Type.Integer({ description: 'Accounts the code can make' }),
    uses: Type.Integer({ description: 'Accounts made with it so far' }),
    expires_at: Type.Union([Type.String(), Type.Null()], { description: 'ISO 8601, UTC; null = never' }),
    created_at: Type.String(),
    created_by: Type.String({ description: 'The username of the admin who made it' }),
  },
  {
    examples: [
      {
        id: 'Hq2Wm9ZtR4cLx7Vb',
        code: 'pX7rK2mQ9vT4wZ8nB3cF6hJd',
        max_uses: 1,
        uses: 0,
        expires_at: '2026-12-12T10:00:00.000Z',
        created_at: '2026-12-05T10:00:00.000Z',
        created_by: 'alice',
      },
    ],
  },
);

export const CreateInviteBody = Type.Object(
  {
    max_uses: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: INVITE_LIMITS.maxUses,
        default: INVITE_DEFAULTS.maxUses,
        description: 'Accounts the code can make',
      }),
    ),
    expires_in_days: Type.Optional(
      Type.Union([Type.Integer({ minimum: 1, maximum: INVITE_LIMITS.expiresInDays }), Type.Null()], {
        default: INVITE_DEFAULTS.expiresInDays,
        description: 'Days until the code stops working; null = never',
      }),
    ),
  },
  { additionalProperties: false },
);
