import { Type } from 'typebox';
import { AdminStatsResponse, AdminUserListQuery, AdminUserPatchBody, AdminUserResponse } from '../../contract/admin.schemas.js';
import { answer, IdParams } from '../../contract/common.js';
import { errorResponses } from '../../contract/error.schemas.js';
import { LIST_LIMIT } from '../../domain/pagination.js';
import type { UserAdminService } from '../../services/user-admin.service.js';
import { linkNextPage } from '../pagination.js';
import { actorOf } from '../plugins/auth.plugin.js';
import type { App } from '../types.js';

export interface AdminRoutesOptions {
  admin: UserAdminService;
  publicUrl: string;
}

/** Every admin route may answer these: not an admin, or the admin's own account disabled meanwhile. */
export async function adminRoutes(app: App, { admin, publicUrl }: AdminRoutesOptions): Promise<void> {
  app.get(
    '/api/admin/users',
    {
      config: { auth: true },
      schema: {
        tags: ['admin'],
        operationId: 'listUsers',
        summary: 'Every account with its usage, newest first; follow the Link header for the next page (admin)',
        querystring: AdminUserListQuery,
        response: { 200: answer('Accounts, newest first', Type.Array(AdminUserResponse)), ...errorResponses('FORBIDDEN') },
      },
    },
    async (request, reply) => {
      const { limit = LIST_LIMIT.default, before } = request.query;
      const page = await admin.list(actorOf(request), limit, before);
      linkNextPage(reply, publicUrl, '/api/admin/users', { limit }, page.next);
      return page.items;
    },
  );

  app.patch(
    '/api/admin/users/:id',
    {
      config: { auth: true },
      schema: {
        tags: ['admin'],
        operationId: 'updateUser',
        summary: "Change an account's role, quota or access (admin)",
        description:
          'A field left out is kept. A disabled account cannot sign in, and its keys and sessions answer 403 ACCOUNT_DISABLED until it is enabled again; its uploads stay online. A quota applies from the next upload. You cannot change your own role or disable yourself (409 SELF_CHANGE_REFUSED), nor demote the last admin.',
        params: IdParams,
        body: AdminUserPatchBody,
        response: {
          200: answer('The account as changed', AdminUserResponse),
          ...errorResponses('FORBIDDEN', 'NOT_FOUND', 'SELF_CHANGE_REFUSED'),
        },
      },
    },
    async (request) => admin.update(actorOf(request), request.params.id, request.body),
  );

  app.delete(
    '/api/admin/users/:id',
    {
      config: { auth: true },
      schema: {
        tags: ['admin'],
        operationId: 'deleteUser',
        summary: 'Delete an account with its keys, sessions and uploads (admin)',
        description:
          "The account's uploads are deleted as DELETE /api/uploads/{id} deletes one: their URLs answer 410 Gone, and their bytes are removed once no other upload has the same. Not your own account (409 SELF_CHANGE_REFUSED).",
        params: IdParams,
        response: {
          204: answer('Deleted: its uploads answer 410 Gone', Type.Null()),
          ...errorResponses('FORBIDDEN', 'NOT_FOUND', 'SELF_CHANGE_REFUSED'),
        },
      },
    },
    async (request, reply) => {
      await admin.delete(actorOf(request), request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/api/admin/stats',
    {
      config: { auth: true },
      schema: {
        tags: ['admin'],
        operationId: 'getStats',
        summary: "The server's usage: accounts, live uploads and bytes, and uploads per day for 30 days (admin)",
        response: { 200: answer("The server's usage", AdminStatsResponse), ...errorResponses('FORBIDDEN') },
      },
    },
    async (request) => admin.stats(actorOf(request)),
  );
}
