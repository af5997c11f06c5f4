/** The web UI's sign-in endpoint, /ui/api/session (GET who am I, POST sign in, DELETE sign out). */
import { request } from './client';
import type { SessionInfo } from './types';

const PATH = '/ui/api/session';

export function fetchSession(): Promise<SessionInfo> {
  return request<SessionInfo>('GET', PATH, undefined, { noAuthRedirect: true });
}

export function signIn(username: string, password: string): Promise<SessionInfo> {
  return request<SessionInfo>('POST', PATH, { username, password }, { noAuthRedirect: true });
}

export async function signOut(): Promise<void> {
  await request('DELETE', PATH, undefined, { noAuthRedirect: true });
}
