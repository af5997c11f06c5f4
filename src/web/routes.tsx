/**
 * Every page of the app, in one table: add a line here to add a page
 * (first match wins; keep more specific paths first). Paths live under /ui.
 */
import type { RouteDef } from './router';
import { DashboardPage } from './pages/dashboard';
import { JobPage } from './pages/job';
import { JobsPage } from './pages/jobs';
import { PlaceholderPage } from './pages/placeholder';
import { ProfilePage } from './pages/profile';
import { SignInPage } from './pages/sign-in';

export const ROUTES: readonly RouteDef[] = [
  { path: '/ui/sign-in', component: SignInPage, public: true },
  { path: '/', component: DashboardPage },
  { path: '/ui', component: DashboardPage },
  { path: '/ui/profile', component: ProfilePage },
  { path: '/ui/projects/:project/spiders/:spider/jobs/:job', component: JobPage },
  { path: '/ui/jobs', component: JobsPage },
  // Placeholders until their pages land: replace the component, keep the path.
  { path: '/ui/projects', component: PlaceholderPage },
  { path: '/ui/nodes', component: PlaceholderPage, adminOnly: true },
  { path: '/ui/users', component: PlaceholderPage, adminOnly: true },
];

/** The main navigation, in order. */
export const NAV_ITEMS: readonly { href: string; label: string; adminOnly?: boolean }[] = [
  { href: '/ui', label: 'Dashboard' },
  { href: '/ui/projects', label: 'Projects' },
  { href: '/ui/jobs', label: 'Jobs' },
  { href: '/ui/nodes', label: 'Nodes', adminOnly: true },
  { href: '/ui/users', label: 'Users', adminOnly: true },
  { href: '/ui/profile', label: 'Profile' },
];
