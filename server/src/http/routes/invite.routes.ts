import { Type } from 'typebox';
import { answer, IdParams } from '../../contract/common.js';
import { errorResponses } from '../../contract/error.schemas.js';
import { CreateInviteBody, InviteResponse } from '../../contract/invite.schemas.js';
import type { InviteService } from '../../services/invite.service.js';
import { actorOf } from '../plugins/auth.plugin.js';
import type { App } from '../types.js';

export interface InviteRoutesOptions {
  invites: InviteService;
}

/** Invite codes for REGISTRATION=invite (admins only). */
export async function inviteRoutes(app: App, { invites }: InviteRoutesOptions): Promise<void> {
  app.get(
    '/api/admin/invites',
    {
      config: { auth: true },
      schema: {
        tags: ['admin'],
        operationId: 'listInvites',
        summary: 'Every invite, newest first, used up and expired ones too (admin)',
        response: { 200: answer('The invites, newest first', Type.Array(InviteResponse)), ...errorResponses('FORBIDDEN') },
      },
    },
    async (request) => invites.list(actorOf(request)),
  );

  app.post(
    '/api/admin/invites',
    {
      config: { auth: true },
      schema: {
        tags: ['admin'],
        operationId: 'createInvite',
        summary: 'Make an invite code for REGISTRATION=invite (admin)',
        description: 'Single-use and valid for 7 days unless `max_uses` and `expires_in_days` say otherwise (`null`: never expires).',
        body: CreateInviteBody,
        response: { 201: answer('Created: share the code or the sign-up link', InviteResponse), ...errorResponses('FORBIDDEN') },
      },
    },
    async (request, reply) => reply.code(201).send(await invites.create(actorOf(request), request.body)),
  );

  app.delete(
    '/api/admin/invites/:id',
    {
      config: { auth: true },
      schema: {
        tags: ['admin'],
        operationId: 'revokeInvite',
        summary: 'Revoke an invite: its code stops working at once (admin)',
        description: 'Accounts already made with it stay.',
        params: IdParams,
        response: { 204: answer('Revoked: the code no longer works', Type.Null()), ...errorResponses('FORBIDDEN', 'INVITE_NOT_FOUND') },
      },
    },
    async (request, reply) => {
      await invites.revoke(actorOf(request), request.params.id);
      return reply.code(204).send(null);
    },
  );
}
