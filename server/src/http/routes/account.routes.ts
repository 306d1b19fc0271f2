import { Type } from 'typebox';
import type { ApiKeyService } from '../../services/api-key.service.js';
import { csrfTokenFor } from '../../services/auth.service.js';
import type { UserService } from '../../services/user.service.js';
import { actorOf, sessionCookie } from '../plugins/auth.plugin.js';
import { AccountResponse, ApiKeyResponse, CreatedKeyResponse, CreateKeyBody } from '../../contract/account.schemas.js';
import { answer, IdParams } from '../../contract/common.js';
import { errorResponses } from '../../contract/error.schemas.js';
import type { App } from '../types.js';

export interface AccountRoutesOptions {
  users: UserService;
  apiKeys: ApiKeyService;
}

export async function accountRoutes(app: App, { users, apiKeys }: AccountRoutesOptions): Promise<void> {
  app.get(
    '/api/me',
    {
      config: { auth: true },
      schema: {
        tags: ['account'],
        operationId: 'getMe',
        summary: 'Your account, usage and quota',
        description: 'Signed in with a session, the answer also carries the csrf_token that changes must send as x-csrf-token.',
        response: { 200: answer('Your account', AccountResponse) },
      },
    },
    async (request) => {
      const actor = actorOf(request);
      const account = await users.me(actor);
      const session = sessionCookie(request);
      return actor.via === 'session' && session ? { ...account, csrf_token: csrfTokenFor(session) } : account;
    },
  );

  app.get(
    '/api/keys',
    {
      config: { auth: true },
      schema: {
        tags: ['keys'],
        operationId: 'listKeys',
        summary: 'Your API keys (never their secrets)',
        response: { 200: answer('Your API keys, newest first', Type.Array(ApiKeyResponse)) },
      },
    },
    async (request) => apiKeys.list(actorOf(request)),
  );

  app.post(
    '/api/keys',
    {
      config: { auth: true },
      schema: {
        tags: ['keys'],
        operationId: 'createKey',
        summary: 'Create an API key; its secret is shown only in this answer',
        body: CreateKeyBody,
        response: { 201: answer('The new key, with its secret (shown this once)', CreatedKeyResponse) },
      },
    },
    async (request, reply) => reply.code(201).send(await apiKeys.create(actorOf(request), request.body.name.trim())),
  );

  app.delete(
    '/api/keys/:id',
    {
      config: { auth: true },
      schema: {
        tags: ['keys'],
        operationId: 'revokeKey',
        summary: 'Revoke an API key',
        params: IdParams,
        response: { 204: answer('Revoked: the key no longer works', Type.Null()), ...errorResponses('NOT_FOUND') },
      },
    },
    async (request, reply) => {
      await apiKeys.revoke(actorOf(request), request.params.id);
      return reply.code(204).send(null);
    },
  );
}
