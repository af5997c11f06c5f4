/**
 * Turns credentials into a principal: HTTP Basic with a user name and
 * password, HTTP Basic with an API key id and secret, a bearer API key, or
 * a bearer node token (sdn_..., agents only); without an Authorization
 * header, the web UI's session cookie, else an agent's verified client
 * certificate (CN nodes/<id>). A cookie-authenticated state change must
 * carry the session's CSRF token and, when it sends an Origin, come from
 * this host: otherwise PERMISSION_DENIED. An Authorization header wins over
 * a cookie, which is then ignored (and needs no CSRF token).
 * Bad credentials are UNAUTHENTICATED; no credentials give undefined.
 */
import type { Principal } from '../../auth/principal.js';
import { PermissionDenied, Unauthenticated } from '../../errors/domain-error.js';
import type { Deps } from '../../domain/deps.js';
import { authenticateNodeToken } from '../../domain/nodes/node-service.js';
import { authenticateApiKey } from '../../domain/users/api-key-service.js';
import { signIn } from '../../domain/users/user-service.js';
import { authenticateWebSession, csrfTokenMatches } from '../../domain/users/web-session-service.js';
import { originMatchesHost } from '../http/web-request.js';
import { parseAuthorization } from './authorization-header.js';
import { authenticateClientCertificate } from '../../tls/certificate-auth.js';
import type { IncomingCall } from '../call-context.js';

export function makeAuthenticator(deps: Deps): (call: IncomingCall) => Promise<Principal | undefined> {
  return async (call) => {
    const authorization = call.authorization;
    // A verified client certificate (mTLS) counts only when no Authorization is sent: the header wins.
    if (!authorization) {
      if (call.web?.sessionToken) return authenticateCookie(deps, call);
      return authenticateClientCertificate(deps, call);
    }
    const creds = parseAuthorization(authorization);
    if (!creds) throw new Unauthenticated('the Authorization header is not Basic or Bearer', { reason: 'BAD_CREDENTIALS' });
    if (creds.kind === 'bearer') {
      const principal = (await authenticateNodeToken(deps, creds.token)) ?? (await authenticateApiKey(deps, creds.token));
      if (!principal) throw new Unauthenticated('invalid API key', { reason: 'BAD_CREDENTIALS' });
      return principal;
    }
    if (/^\d{1,20}$/.test(creds.username)) {
      const principal = await authenticateApiKey(deps, creds.password, creds.username);
      if (principal) return principal;
    }
    return signIn(deps, creds.username, creds.password);
  };
}

async function authenticateCookie(deps: Deps, call: IncomingCall): Promise<Principal> {
  const web = call.web!;
  const session = await authenticateWebSession(deps, web.sessionToken!);
  if (web.stateChanging) {
    if (!originMatchesHost(web.origin, web.host)) {
      throw new PermissionDenied(`cross-origin request refused: Origin ${web.origin} is not this server (${web.host ?? 'no Host'})`, {
        reason: 'ORIGIN_MISMATCH',
      });
    }
    if (!csrfTokenMatches(web.csrfToken, session.csrfToken)) {
      throw new PermissionDenied('missing or wrong X-CSRF-Token header: reload the page and try again', { reason: 'CSRF_TOKEN_INVALID' });
    }
  }
  return session.principal;
}
