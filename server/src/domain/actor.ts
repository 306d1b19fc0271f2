import { AppError } from './errors.js';

/** Who is making a request, as established by the auth plugin. */
export interface Actor {
  userId: string;
  username: string;
  role: 'admin' | 'user';
  /** How the request authenticated: cookie sessions need CSRF checks on changes. */
  via: 'key' | 'session';
}

/** Refuses anyone but an admin: `doing` finishes "Only an admin can …". */
export function requireAdmin(actor: Actor, doing: string): void {
  if (actor.role !== 'admin') throw new AppError('FORBIDDEN', `Only an admin can ${doing}.`);
}
