import type { FastifyReply } from 'fastify';
import { Type } from 'typebox';
import type { AuthService } from '../../services/auth.service.js';
import { SESSION_COOKIE, sessionCookie } from '../plugins/auth.plugin.js';
import { Credentials, LoginResponse, RegisterResponse } from '../../contract/account.schemas.js';
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
        summary: 'Create an account (the first one becomes admin) and its first API key',
        body: Credentials,
        response: { 201: RegisterResponse },
      },
    },
    async (request, reply) => {
      const result = await auth.register(request.body.username, request.body.password);
      return reply.code(201).send(result);
    },
  );

  app.post(
    '/api/auth/login',
    {
      config: { limit: 'login' },
      schema: {
        tags: ['auth'],
        summary: 'Sign in for the web UI: sets an HttpOnly session cookie',
        body: Credentials,
        response: { 200: LoginResponse },
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
    { schema: { tags: ['auth'], summary: 'Sign out: ends the session', response: { 204: Type.Null() } } },
    async (request, reply) => {
      const token = sessionCookie(request);
      if (token) await auth.logout(token);
      return clearSession(reply).code(204).send(null);
    },
  );
}
