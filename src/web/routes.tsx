/**
 * Every page of the app, in one table: add a line here to add a page
 * (first match wins; keep more specific paths first). Paths live under /ui.
 */
import type { RouteDef } from './router';
import { NodesPage } from './pages/admin/nodes';
import { SettingsPage } from './pages/admin/settings';
import { UsersPage } from './pages/admin/users';
import { DashboardPage } from './pages/dashboard';
import { ProjectPage } from './pages/project';
import { ProjectsPage } from './pages/projects';
import { SpiderPage } from './pages/spider/spider';
import { JobPage } from './pages/job';
import { JobsPage } from './pages/jobs';
import { ProfilePage } from './pages/profile';
import { SignInPage } from './pages/sign-in';

export const ROUTES: readonly RouteDef[] = [
  { path: '/ui/sign-in', component: SignInPage, public: true },
  { path: '/', component: DashboardPage },
  { path: '/ui', component: DashboardPage },
  { path: '/ui/profile', component: ProfilePage },
  { path: '/ui/projects/:project/spiders/:spider/jobs/:job', component: JobPage },
  { path: '/ui/jobs', component: JobsPage },
  { path: '/ui/projects/:project/spiders/:spider', component: SpiderPage },
  { path: '/ui/projects/:project', component: ProjectPage },
  { path: '/ui/projects', component: ProjectsPage },
  { path: '/ui/admin/nodes', component: NodesPage, adminOnly: true },
  { path: '/ui/admin/users', component: UsersPage, adminOnly: true },
  { path: '/ui/admin/settings', component: SettingsPage, adminOnly: true },
];

/** The main navigation, in order. */
export const NAV_ITEMS: readonly { href: string; label: string; adminOnly?: boolean }[] = [
  { href: '/ui', label: 'Dashboard' },
  { href: '/ui/projects', label: 'Projects' },
  { href: '/ui/jobs', label: 'Jobs' },
  { href: '/ui/admin/nodes', label: 'Nodes', adminOnly: true },
  { href: '/ui/admin/users', label: 'Users', adminOnly: true },
  { href: '/ui/admin/settings', label: 'Settings', adminOnly: true },
  { href: '/ui/profile', label: 'Profile' },
];
