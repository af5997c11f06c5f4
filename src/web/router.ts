/**
 * A small history router: routes are path patterns with :params
 * ('/ui/projects/:project'), matched in order; links are plain <a href>
 * (a document-level listener turns same-app clicks into navigate()).
 */
import type { ComponentType } from 'preact';
import { useEffect, useState } from 'preact/hooks';

export interface RouteProps {
  /** Decoded :params of the pattern. */
  params: Record<string, string>;
  query: URLSearchParams;
}

export interface RouteDef {
  /** e.g. '/ui/jobs/:job'; matched against the whole path, a trailing slash ignored. */
  path: string;
  component: ComponentType<RouteProps>;
  /** Shown without sign-in and without the app shell (the sign-in page). */
  public?: boolean;
  /** Only admins reach it; others see the 404 page. */
  adminOnly?: boolean;
}

export interface Location {
  pathname: string;
  search: string;
}

const listeners = new Set<() => void>();

export function currentLocation(): Location {
  return { pathname: window.location.pathname, search: window.location.search };
}

/** Goes to `to` (a path with optional query) without reloading. */
export function navigate(to: string, opts: { replace?: boolean } = {}): void {
  if (to === window.location.pathname + window.location.search) return;
  if (opts.replace) window.history.replaceState(null, '', to);
  else window.history.pushState(null, '', to);
  window.scrollTo(0, 0);
  for (const l of listeners) l();
}

/** The current location; re-renders on navigation and Back/Forward. */
export function useLocation(): Location {
  const [loc, setLoc] = useState(currentLocation);
  useEffect(() => {
    const update = () => setLoc(currentLocation());
    listeners.add(update);
    window.addEventListener('popstate', update);
    return () => {
      listeners.delete(update);
      window.removeEventListener('popstate', update);
    };
  }, []);
  return loc;
}

export function matchRoute(routes: readonly RouteDef[], pathname: string): { route: RouteDef; params: Record<string, string> } | undefined {
  const path = pathname.length > 1 ? pathname.replace(/\/+$/, '') : pathname;
  for (const route of routes) {
    const params = matchPattern(route.path, path);
    if (params) return { route, params };
  }
  return undefined;
}

function matchPattern(pattern: string, path: string): Record<string, string> | undefined {
  const want = pattern.split('/');
  const got = path.split('/');
  if (want.length !== got.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!;
    const g = got[i]!;
    if (w.startsWith(':')) {
      if (g === '') return undefined;
      try {
        params[w.slice(1)] = decodeURIComponent(g);
      } catch {
        return undefined;
      }
    } else if (w !== g) {
      return undefined;
    }
  }
  return params;
}

/**
 * Client-side navigation for plain links: a left click without modifier keys
 * on an <a href> to an app path (/ui/..., not /ui/api/ or /ui/assets/).
 */
export function interceptLinkClicks(): void {
  document.addEventListener('click', (event) => {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    const a = (event.target as Element | null)?.closest?.('a');
    if (!a || !a.href || (a.target && a.target !== '_self') || a.hasAttribute('download')) return;
    const url = new URL(a.href);
    if (url.origin !== window.location.origin || !isAppPath(url.pathname)) return;
    event.preventDefault();
    navigate(url.pathname + url.search);
  });
}

export function isAppPath(pathname: string): boolean {
  return (pathname === '/' || pathname === '/ui' || pathname.startsWith('/ui/')) && !pathname.startsWith('/ui/api/') && !pathname.startsWith('/ui/assets/');
}

/** A path segment for links: encodes a resource id. */
export function pathSeg(value: string): string {
  return encodeURIComponent(value);
}
