/** What an unknown address (or a page the user may not see) shows. */
import { Page } from '../components/page';

export function NotFoundPage() {
  return (
    <Page title="Page not found">
      <p>
        There is nothing at <code class="break-anywhere">{window.location.pathname}</code>.
      </p>
      <p>
        <a href="/ui">Go to the dashboard</a>
      </p>
    </Page>
  );
}
