/** Who is making a request, as established by the auth plugin. */
export interface Actor {
  userId: string;
  username: string;
  role: 'admin' | 'user';
  /** How the request authenticated: cookie sessions need CSRF checks on changes. */
  via: 'key' | 'session';
}
