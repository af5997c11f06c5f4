/**
 * The app: finds out who is signed in, then renders the page for the
 * current address inside the shell — or the sign-in page, returning to the
 * address afterwards. Any 401 from the API lands here too.
 */
import { useCallback, useEffect, useMemo, useState } from 'preact/hooks';
import { setCsrfToken, setUnauthenticatedHandler } from './api/client';
import { ApiError } from './api/errors';
import { fetchSession, signOut as endSession } from './api/session-api';
import type { SessionInfo } from './api/types';
import { AppShell } from './components/app-shell';
import { NoticeProvider } from './components/notice';
import { ErrorBox, Loading } from './components/status';
import { NotFoundPage } from './pages/not-found';
import { matchRoute, navigate, useLocation } from './router';
import { ROUTES } from './routes';
import { SessionProvider, SignedInContext, type SessionState } from './session';

type Loaded = { kind: 'loading' } | { kind: 'signed-in'; session: SessionInfo } | { kind: 'signed-out' } | { kind: 'failed'; error: unknown };

export function App() {
  const location = useLocation();
  const [state, setState] = useState<Loaded>({ kind: 'loading' });
  const [attempt, setAttempt] = useState(0);

  const signedIn = useCallback((session: SessionInfo) => {
    setCsrfToken(session.csrfToken);
    setState({ kind: 'signed-in', session });
  }, []);

  useEffect(() => {
    fetchSession().then(signedIn, (error: unknown) => {
      if (error instanceof ApiError && error.httpStatus === 401) setState({ kind: 'signed-out' });
      else setState({ kind: 'failed', error });
    });
  }, [attempt, signedIn]);

  useEffect(() => {
    setUnauthenticatedHandler(() => {
      setCsrfToken('');
      setState({ kind: 'signed-out' });
      navigate(signInPath(true), { replace: true });
    });
  }, []);

  const sessionState = useMemo<SessionState | undefined>(
    () =>
      state.kind === 'signed-in'
        ? {
            session: state.session,
            async signOut() {
              await endSession().catch(() => undefined); // signed out locally either way
              setCsrfToken('');
              setState({ kind: 'signed-out' });
              navigate('/ui/sign-in', { replace: true });
            },
          }
        : undefined,
    [state],
  );

  const match = matchRoute(ROUTES, location.pathname);
  const query = new URLSearchParams(location.search);

  // Signed out on a page that needs sign-in: go to sign-in, then come back.
  useEffect(() => {
    if (state.kind === 'signed-out' && !match?.route.public) navigate(signInPath(false), { replace: true });
  }, [state.kind, match?.route.public, location.pathname]);

  // Signed in on the sign-in page: nothing to do there.
  useEffect(() => {
    if (state.kind === 'signed-in' && match?.route.path === '/ui/sign-in') navigate(query.get('next') ?? '/ui', { replace: true });
  }, [state.kind, match?.route.path]);

  let content;
  if (state.kind === 'loading') content = <Loading label="Loading scrapydd…" />;
  else if (state.kind === 'failed') content = <main class="main"><ErrorBox error={state.error} onRetry={() => setAttempt((a) => a + 1)} /></main>;
  else if (match?.route.public) {
    const Page = match.route.component;
    content = <Page params={match.params} query={query} />;
  } else if (state.kind === 'signed-out' || !sessionState) content = <Loading />;
  else {
    const allowed = match && (!match.route.adminOnly || sessionState.session.user.admin);
    const Page = allowed ? match.route.component : undefined;
    content = (
      <SessionProvider value={sessionState}>
        <AppShell>{Page ? <Page key={location.pathname} params={match!.params} query={query} /> : <NotFoundPage />}</AppShell>
      </SessionProvider>
    );
  }
  return (
    <SignedInContext.Provider value={signedIn}>
      <NoticeProvider>{content}</NoticeProvider>
    </SignedInContext.Provider>
  );
}

function signInPath(expired: boolean): string {
  const here = window.location.pathname + window.location.search;
  const params = new URLSearchParams();
  if (!here.startsWith('/ui/sign-in') && here !== '/' && here !== '/ui') params.set('next', here);
  if (expired) params.set('expired', '1');
  const qs = params.toString();
  return `/ui/sign-in${qs ? `?${qs}` : ''}`;
}
