/** API keys: secrets that act as their user, shown once, revocable. */
import { apiKeyIdOf, hashSecret, makeApiKeySecret, secretMatches } from '../../auth/api-key-secret.js';
import type { Principal } from '../../auth/principal.js';
import { InvalidArgument, NotFound, Unauthenticated } from '../../errors/domain-error.js';
import * as repo from '../../storage/users-repo.js';
import type { Deps } from '../deps.js';
import { parseApiKeyName } from '../names.js';
import { decodePageToken, page, pageSize } from '../pagination.js';
import { resolveUser } from './user-service.js';

export type ApiKey = repo.ApiKeyRow & { secret?: string };

export async function createApiKey(deps: Deps, principal: Principal, parent: string, displayName: string): Promise<ApiKey> {
  const user = await resolveUser(deps, principal, parent, 'parent');
  if (displayName.length > 200) throw new InvalidArgument('display_name is too long (200 at most)', { field: 'api_key.display_name' });
  const id = deps.ids.next();
  const secret = makeApiKeySecret(id);
  await repo.insertApiKey(deps.db, { id, userId: user.id, secretHash: hashSecret(secret), displayName });
  const row = await repo.findApiKey(deps.db, id);
  deps.logger.info({ user: user.username, apiKey: id }, 'api key created');
  return { ...row!, secret };
}

export async function listApiKeys(
  deps: Deps,
  principal: Principal,
  req: { parent: string; pageSize: number; pageToken: string },
): Promise<{ items: ApiKey[]; nextPageToken: string }> {
  const user = await resolveUser(deps, principal, req.parent, 'parent');
  const size = pageSize(req.pageSize);
  const scope = `apiKeys:${user.id}`;
  const after = decodePageToken(req.pageToken, scope) ?? '0';
  const rows = await repo.listApiKeys(deps.db, user.id, after, size + 1);
  return page(rows, size, scope, (k) => k.id);
}

export async function deleteApiKey(deps: Deps, principal: Principal, name: string): Promise<void> {
  const { user: userPart, key } = parseApiKeyName(name);
  const user = await resolveUser(deps, principal, `users/${userPart}`);
  const row = await repo.findApiKey(deps.db, key);
  if (!row || row.userId !== user.id) throw new NotFound(`api key '${name}' not found`);
  await repo.deleteApiKey(deps.db, key);
  deps.logger.info({ user: user.username, apiKey: key }, 'api key revoked');
}

/**
 * The principal of an API key secret. `keyId` is given for HTTP Basic, where
 * the user name is the key id; it must agree with the secret.
 */
export async function authenticateApiKey(deps: Deps, secret: string, keyId?: string): Promise<Principal | undefined> {
  const id = apiKeyIdOf(secret);
  if (!id || (keyId !== undefined && keyId !== id)) return undefined;
  const row = await repo.findApiKey(deps.db, id);
  if (!row || !secretMatches(secret, row.secretHash)) throw new Unauthenticated('invalid API key', { reason: 'BAD_CREDENTIALS' });
  const user = await repo.findUserById(deps.db, row.userId);
  if (!user || user.disabled) throw new Unauthenticated('this account is disabled', { reason: 'ACCOUNT_DISABLED' });
  // Last use is informational: one write a minute per key is plenty.
  if (!row.lastUseTime || Date.now() - Date.parse(row.lastUseTime) > 60_000) await repo.touchApiKey(deps.db, id);
  return { userId: user.id, username: user.username, admin: user.admin, method: 'api-key' };
}
