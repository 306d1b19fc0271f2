import type { Invite } from '@discord-images/sdk';
import { parse, usageError } from '../args.js';
import { connect } from '../client.js';
import { forEachId } from '../errors.js';
import { formatDate, table } from '../format.js';

const HELP = `Usage: discord-images invites list [--json]
       discord-images invites create [--uses N] [--expires-days N|never] [--json]
       discord-images invites revoke <id...>

Invite codes, for a server with REGISTRATION=invite: a new user enters one at
sign-up. Needs an admin's key. create prints the new code on stdout. revoke makes
a code stop working at once (ids are in invites list); accounts made with it stay.

Options:
  --uses N                  accounts the code can make, 1-10000 (default 1)
  --expires-days N|never    days the code works, 1-365, or never (default 7)
  --json                    list: the invite objects as a JSON array; create: the invite object
`;

export async function run(args: string[]): Promise<number> {
  const parsed = parse(args, { uses: { type: 'string' }, 'expires-days': { type: 'string' }, json: { type: 'boolean' } }, HELP);
  if (!parsed) return 0;
  const [action, ...rest] = parsed.positionals;
  const { uses, 'expires-days': expiresDays, json } = parsed.values;
  if (action !== 'create' && (uses !== undefined || expiresDays !== undefined))
    throw usageError('--uses and --expires-days go with invites create');
  switch (action) {
    case undefined:
      throw usageError('invites needs list, create or revoke: see --help');
    case 'list': {
      if (rest.length > 0) throw usageError('invites list takes no arguments');
      const { di } = await connect();
      const invites = await di.admin.invites.list();
      if (json) process.stdout.write(`${JSON.stringify(invites, null, 2)}\n`);
      else if (invites.length === 0) process.stderr.write('No invites yet: discord-images invites create makes one.\n');
      else
        process.stdout.write(
          table(
            ['ID', 'CODE', 'USES', 'EXPIRES (UTC)', 'CREATED (UTC)', 'BY'],
            invites.map((invite) => [
              invite.id,
              invite.code,
              `${invite.uses}/${invite.max_uses}`,
              expiry(invite),
              formatDate(invite.created_at),
              invite.created_by,
            ]),
          ),
        );
      return 0;
    }
    case 'create': {
      if (rest.length > 0) throw usageError('invites create takes no arguments: see --help for --uses and --expires-days');
      const { di } = await connect();
      const invite = await di.admin.invites.create({
        ...(uses === undefined ? {} : { max_uses: whole('--uses', uses, 10_000) }),
        ...(expiresDays === undefined
          ? {}
          : { expires_in_days: expiresDays === 'never' ? null : whole('--expires-days', expiresDays, 365) }),
      });
      if (json) process.stdout.write(`${JSON.stringify(invite, null, 2)}\n`);
      else {
        process.stdout.write(`${invite.code}\n`);
        if (process.stderr.isTTY)
          process.stderr.write(
            `Invite ${invite.id}: ${invite.max_uses} use(s), expires ${expiry(invite)}. Give the code to the new user.\n`,
          );
      }
      return 0;
    }
    case 'revoke': {
      if (rest.length === 0) throw usageError('invites revoke needs at least one invite id (see discord-images invites list)');
      const { di } = await connect();
      return forEachId(rest, (id) => di.admin.invites.revoke(id));
    }
    default:
      throw usageError(`unknown invites action ${action}: see --help`);
  }
}

/** A whole number from 1 to `max`, or a usage error naming the option. */
function whole(option: string, value: string, max: number): number {
  const number = Number(value);
  if (!/^\d+$/.test(value) || number < 1 || number > max) throw usageError(`${option} ${value}: expected a whole number from 1 to ${max}`);
  return number;
}

function expiry(invite: Invite): string {
  if (invite.expires_at === null) return 'never';
  return `${formatDate(invite.expires_at)}${Date.parse(invite.expires_at) <= Date.now() ? ' (expired)' : ''}`;
}
