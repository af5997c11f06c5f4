/** The home page. For now: who you are and where to go; the overview (counts, chart) comes with the jobs pages. */
import { Page } from '../components/page';
import type { RouteProps } from '../router';
import { NAV_ITEMS } from '../routes';
import { useSession } from '../session';

export function DashboardPage(_props: RouteProps) {
  const { session } = useSession();
  const items = NAV_ITEMS.filter((i) => i.href !== '/ui' && (!i.adminOnly || session.user.admin));
  return (
    <Page title="Dashboard" subtitle={<>Signed in as <strong class="break-anywhere">{session.user.name}</strong>{session.user.admin ? ' (admin)' : ''}.</>}>
      <ul class="card-grid">
        {items.map((i) => (
          <li key={i.href} class="card">
            <a href={i.href}>{i.label}</a>
          </li>
        ))}
      </ul>
    </Page>
  );
}
