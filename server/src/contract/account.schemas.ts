import { Type } from 'typebox';

export const Credentials = Type.Object(
  {
    username: Type.String({ pattern: '^[A-Za-z0-9_.-]{2,32}$', description: '2-32 letters, digits, _ . or -; case-insensitive' }),
    password: Type.String({ minLength: 8, maxLength: 1024 }),
  },
  { additionalProperties: false },
);

/** POST /api/auth/register: Credentials, and the invite code a server with REGISTRATION=invite asks for. */
export const RegisterBody = Type.Object(
  {
    ...Credentials.properties,
    invite: Type.Optional(
      Type.String({ minLength: 1, maxLength: 64, description: 'An invite code from the admin; needed when registration is by invite' }),
    ),
  },
  { additionalProperties: false },
);

/** GET /api/auth/registration: whether a new account can be made now, and how. */
export const RegistrationResponse = Type.Object({
  registration: Type.Union([Type.Literal('open'), Type.Literal('invite'), Type.Literal('closed')], {
    description:
      'open: anyone may sign up (always, while the server has no account yet); invite: with a code from the admin; closed: nobody',
  }),
});

export const ChangePasswordBody = Type.Object(
  {
    current_password: Type.String({ minLength: 1, maxLength: 1024 }),
    new_password: Credentials.properties.password,
  },
  { additionalProperties: false },
);

export const UserResponse = Type.Object({
  id: Type.String(),
  username: Type.String(),
  role: Type.Union([Type.Literal('admin'), Type.Literal('user')]),
  created_at: Type.String(),
});

export const ApiKeyResponse = Type.Object({
  id: Type.String(),
  name: Type.String(),
  hint: Type.String(),
  created_at: Type.String(),
  last_used_at: Type.Union([Type.String(), Type.Null()]),
});

export const RegisterResponse = Type.Object({ user: UserResponse, key: ApiKeyResponse, token: Type.String() });
export const LoginResponse = Type.Object({ user: UserResponse, csrf_token: Type.String() });

export const AccountResponse = Type.Object({
  ...UserResponse.properties,
  usage: Type.Object({ bytes: Type.Integer(), files: Type.Integer() }),
  quota_bytes: Type.Union([Type.Integer(), Type.Null()]),
  /** Present when the request came with a session cookie: send it as x-csrf-token on changes. */
  csrf_token: Type.Optional(Type.String()),
});

export const CreateKeyBody = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 100, pattern: '\\S', description: 'A label such as "ShareX on my laptop"' }) },
  { additionalProperties: false },
);
export const CreatedKeyResponse = Type.Object({ key: ApiKeyResponse, token: Type.String() });
