/** Where the top bar's "Admin" link goes, and where `/admin` itself leads. */
export const ADMIN_HOME = '/admin/users';

/** Whether a path is one of the admin pages (`/admin` and below). */
export const isAdminPath = (path: string): boolean => path === '/admin' || path.startsWith('/admin/');
