import type { FastifyReply } from 'fastify';
import { Type } from 'typebox';
import type { AuthService } from '../../services/auth.service.js';
import { actorOf, SESSION_COOKIE, sessionCookie } from '../plugins/auth.plugin.js';
import {
  ChangePasswordBody,
  Credentials,
  LoginResponse,
  RegisterBody,
  RegisterResponse,
  RegistrationResponse,
} from '../../contract/account.schemas.js';
import { answer } from '../../contract/common.js';
import { errorResponses } from '../../contract/error.schemas.js';
import type { App } from '../types.js';

export interface AuthRoutesOptions {
  auth: AuthService;
  /** Secure cookies when the public URL is https. */
  secureCookies: boolean;
}

export async function authRoutes(app: App, { auth, secureCookies }: AuthRoutesOptions): Promise<void> {
  const clearSession = (reply: FastifyReply) =>
    reply.clearCookie(SESSION_COOKIE, { path: '/', httpOnly: true, sameSite: 'lax', secure: secureCookies });

  app.post(
    '/api/auth/register',
    {
      config: { limit: 'register' },
      schema: {
        tags: ['auth'],
        operationId: 'register',
        summary: 'Create an account (the first one becomes admin) and its first API key',
        description:
          'With REGISTRATION=invite, every account after the first needs an `invite` code from an admin; each account takes one of its uses.',
        body: RegisterBody,
        response: {
          201: answer('The account and its first API key (the secret is shown this once)', RegisterResponse),
          ...errorResponses('REGISTRATION_CLOSED', 'INVITE_REQUIRED', 'INVITE_INVALID', 'USERNAME_TAKEN'),
        },
      },
    },
    async (request, reply) => {
      const { username, password, invite } = request.body;
      return reply.code(201).send(await auth.register(username, password, invite));
    },
  );

  app.get(
    '/api/auth/registration',
    {
      schema: {
        tags: ['auth'],
        operationId: 'getRegistration',
        summary: 'Whether a new account can be made now: open, invite (with a code) or closed',
        response: { 200: answer('How new accounts can be made on this server', RegistrationResponse) },
      },
    },
    async () => ({ registration: await auth.registration() }),
  );

  app.post(
    '/api/auth/login',
    {
      config: { limit: 'login' },
      schema: {
        tags: ['auth'],
        operationId: 'login',
        summary: 'Sign in for the web UI: sets an HttpOnly session cookie',
        body: Credentials,
        response: {
          200: answer('Signed in: the session cookie is set; changes must send csrf_token as x-csrf-token', LoginResponse),
          ...errorResponses('INVALID_CREDENTIALS', 'ACCOUNT_DISABLED'),
        },
      },
    },
    async (request, reply) => {
      const session = await auth.login(request.body.username, request.body.password);
      reply.setCookie(SESSION_COOKIE, session.sessionToken, {
        path: '/',
        httpOnly: true,
        sameSite: 'lax',
        secure: secureCookies,
        expires: session.expiresAt,
      });
      return { user: session.user, csrf_token: session.csrfToken };
    },
  );

  app.post(
    '/api/auth/logout',
    {
      schema: {
        tags: ['auth'],
        operationId: 'logout',
        summary: 'Sign out: ends the session',
        response: { 204: answer('Signed out (also when there was no session): the cookie is cleared', Type.Null()) },
      },
    },
    async (request, reply) => {
      const token = sessionCookie(request);
      if (token) await auth.logout(token);
      return clearSession(reply).code(204).send(null);
    },
  );

  app.post(
    '/api/me/password',
    {
      // Each wrong current password is a guess: limited as sign-ins are.
      config: { auth: true, limit: 'login' },
      schema: {
        tags: ['account'],
        operationId: 'changePassword',
        summary: 'Change your password; your other sessions end',
        description:
          'Every other web session of the account ends; the session making the request, if any, stays. API keys stay valid: revoke them apart.',
        body: ChangePasswordBody,
        response: { 204: answer('Changed: other sessions are signed out', Type.Null()), ...errorResponses('WRONG_PASSWORD') },
      },
    },
    async (request, reply) => {
      const actor = actorOf(request);
      const { current_password, new_password } = request.body;
      await auth.changePassword(actor, current_password, new_password, actor.via === 'session' ? sessionCookie(request) : undefined);
      return reply.code(204).send(null);
    },
  );

  app.delete(
    '/api/me/sessions',
    {
      config: { auth: true },
      schema: {
        tags: ['account'],
        operationId: 'logoutEverywhere',
        summary: 'Sign out everywhere: ends every web session of your account, this one included',
        description: 'API keys stay valid: revoke them apart (DELETE /api/keys/{id}).',
        response: { 204: answer('Signed out everywhere: the cookie is cleared', Type.Null()) },
      },
    },
    async (request, reply) => {
      await auth.logoutEverywhere(actorOf(request));
      return clearSession(reply).code(204).send(null);
    },
  );
}
