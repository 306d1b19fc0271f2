import type { User } from '@discord-images/sdk';
import { useEffect } from 'preact/hooks';
import { Page } from '../../components/page.js';
import { followLink, navigate } from '../../router.js';
import { AdminEmbedPage } from './admin-embed-page.js';
import { ADMIN_HOME } from './admin-paths.js';
import { AdminInvitesPage } from './admin-invites-page.js';
import { AdminUsagePage } from './admin-usage-page.js';
import { AdminUsersPage } from './admin-users-page.js';

const SECTIONS = [
  { path: '/admin/users', label: 'Users' },
  { path: '/admin/invites', label: 'Invites' },
  { path: '/admin/embed', label: 'Embed defaults' },
  { path: '/admin/usage', label: 'Usage' },
] as const;

/**
 * The admin area: its own navigation between users, invites, embed defaults and usage. Anyone
 * who is not an admin is told so here, without a request; the API refuses them (403) anyway.
 */
export function AdminPages({ user, path, onSignedOut }: { user: User; path: string; onSignedOut: () => void }) {
  const admin = user.role === 'admin';
  useEffect(() => {
    if (admin && path === '/admin') navigate(ADMIN_HOME, { replace: true });
  }, [admin, path]);

  if (!admin) {
    return (
      <Page title="Admins only">
        <p class="banner notice" role="status">
          This page is for the server’s admins, and your account <strong>{user.username}</strong> is not one. An admin can change your role
          if you need it.
        </p>
        <p>
          <a href="/" onClick={followLink}>
            Go to your gallery
          </a>
        </p>
      </Page>
    );
  }

  const section = SECTIONS.find((item) => item.path === path);
  return (
    <>
      <nav aria-label="Admin" class="subnav">
        {SECTIONS.map((item) => (
          <a
            key={item.path}
            href={item.path}
            class="subnav-link"
            aria-current={item.path === path ? 'page' : undefined}
            onClick={followLink}
          >
            {item.label}
          </a>
        ))}
      </nav>
      {
        section?.path === '/admin/users' ? (
          <AdminUsersPage me={user} onSignedOut={onSignedOut} />
        ) : section?.path === '/admin/invites' ? (
          <AdminInvitesPage onSignedOut={onSignedOut} />
        ) : section?.path === '/admin/embed' ? (
          <AdminEmbedPage onSignedOut={onSignedOut} />
        ) : section?.path === '/admin/usage' ? (
          <AdminUsagePage onSignedOut={onSignedOut} />
        ) : null /* `/admin`, on its way to the users page */
      }
    </>
  );
}
