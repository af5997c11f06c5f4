/**
 * The frame around every signed-in page: header with the product name, the
 * main navigation (collapsed behind a Menu button in a narrow window), the
 * user menu with sign-out, and the page itself.
 */
import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { useLocation } from '../router';
import { NAV_ITEMS } from '../routes';
import { useSession } from '../session';

export function AppShell(props: { children: ComponentChildren }) {
  const { session, signOut } = useSession();
  const { pathname } = useLocation();
  const [menuOpen, setMenuOpen] = useState(false);
  const [userOpen, setUserOpen] = useState(false);
  useEffect(() => {
    setMenuOpen(false);
    setUserOpen(false);
  }, [pathname]);

  const items = NAV_ITEMS.filter((i) => !i.adminOnly || session.user.admin);
  const isCurrent = (href: string) => (href === '/ui' ? pathname === '/' || pathname === '/ui' || pathname === '/ui/' : pathname === href || pathname.startsWith(`${href}/`));

  return (
    <div class="app">
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <header class="topbar">
        <a class="brand" href="/ui">
          scrapydd
        </a>
        <button
          type="button"
          class="menu-toggle"
          aria-expanded={menuOpen}
          aria-controls="main-nav"
          onClick={() => setMenuOpen((o) => !o)}
        >
          Menu
        </button>
        <nav id="main-nav" class={`main-nav${menuOpen ? ' open' : ''}`} aria-label="Main">
          <ul>
            {items.map((i) => (
              <li key={i.href}>
                <a href={i.href} aria-current={isCurrent(i.href) ? 'page' : undefined}>
                  {i.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <div class="user-menu">
          <button type="button" class="user-toggle" aria-expanded={userOpen} aria-controls="user-menu-panel" onClick={() => setUserOpen((o) => !o)}>
            <span class="ellipsis user-name">{session.user.name}</span>
            {session.user.admin && <span class="badge badge-info">admin</span>}
          </button>
          <div id="user-menu-panel" class={`user-menu-panel${userOpen ? ' open' : ''}`}>
            <a href="/ui/profile">Profile</a>
            {session.authenticationEnabled && (
              <button type="button" class="link-button" onClick={() => void signOut()}>
                Sign out
              </button>
            )}
          </div>
        </div>
      </header>
      <main id="main" class="main" tabIndex={-1}>
        {props.children}
      </main>
    </div>
  );
}
