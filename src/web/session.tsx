/** Who is signed in, for every component: useSession(). Set by the app on load and by the sign-in page. */
import { createContext, type ComponentChildren } from 'preact';
import { useContext } from 'preact/hooks';
import type { SessionInfo } from './api/types';

export interface SessionState {
  readonly session: SessionInfo;
  /** Signs out (ends the server session) and goes to the sign-in page. */
  signOut(): Promise<void>;
}

const SessionContext = createContext<SessionState | undefined>(undefined);

export function SessionProvider(props: { value: SessionState; children: ComponentChildren }) {
  return <SessionContext.Provider value={props.value}>{props.children}</SessionContext.Provider>;
}

/** The signed-in user (inside the app shell there always is one). */
export function useSession(): SessionState {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession() outside the signed-in app');
  return s;
}

/** users/{name} of the signed-in user, as the API names it ('users/me' works too). */
export function userResource(session: SessionInfo): string {
  return session.authenticationEnabled ? `users/${session.user.name}` : 'users/me';
}

/** For the sign-in page: hands a fresh session to the app. */
export const SignedInContext = createContext<(session: SessionInfo) => void>(() => undefined);

export function useSignedIn(): (session: SessionInfo) => void {
  return useContext(SignedInContext);
}
