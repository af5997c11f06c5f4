/** Users: creation, sign-in checks, roles and passwords. */
import { hashPassword, passwordProblem, verifyPassword } from '../../auth/password.js';
import type { Principal } from '../../auth/principal.js';
import { AlreadyExists, InvalidArgument, NotFound, PermissionDenied, Unauthenticated } from '../../errors/domain-error.js';
import * as repo from '../../storage/users-repo.js';
import { deleteWebSessionsOfUser } from '../../storage/web-sessions-repo.js';
import { VerifiedPasswordCache } from '../../auth/verified-password-cache.js';
import type { Deps } from '../deps.js';
import { checkUserId, parseUserName } from '../names.js';
import { decodePageToken, page, pageSize } from '../pagination.js';

export type User = repo.UserRow;

export function requireAdmin(principal: Principal): void {
  if (!principal.admin) throw new PermissionDenied('this needs an admin');
}

/** Creates a user; `by` undefined means the command line on the server machine. */
export async function createUser(
  deps: Deps,
  by: Principal | undefined,
  input: { username: string; password: string; admin: boolean },
): Promise<User> {
  if (by) requireAdmin(by);
  checkUserId(input.username);
  const problem = passwordProblem(input.password);
  if (problem) throw new InvalidArgument(problem, { field: 'user.password', reason: 'WEAK_PASSWORD' });
  const user = await repo.insertUser(deps.db, {
    id: deps.ids.next(),
    username: input.username,
    passwordHash: await hashPassword(input.password),
    admin: input.admin,
  });
  if (!user) throw new AlreadyExists(`user '${input.username}' already exists`, { field: 'user_id' });
  deps.logger.info({ user: input.username, admin: input.admin }, 'user created');
  return user;
}

/** Checks a user name and password; the same error for every failure. */
export async function signIn(deps: Deps, username: string, password: string): Promise<Principal> {
  const user = await repo.findUserByName(deps.db, username);
  const ok = user
    ? verifiedRecently.has(user.passwordHash, password) || (await verifyPassword(password, user.passwordHash))
    : await verifyPassword(password, DUMMY_HASH);
  if (user && ok) verifiedRecently.add(user.passwordHash, password);
  if (!user || !ok) throw new Unauthenticated('wrong user name or password', { reason: 'BAD_CREDENTIALS' });
  if (user.disabled) throw new Unauthenticated('this account is disabled', { reason: 'ACCOUNT_DISABLED' });
  return { userId: user.id, username: user.username, admin: user.admin, method: 'password' };
}

// scrapyd clients send Basic credentials with every request; scrypt costs
// ~50 ms of CPU, so a correct password is remembered for a minute.
const verifiedRecently = new VerifiedPasswordCache(60_000);

// Spends the same scrypt time for unknown users as for known ones.
const DUMMY_HASH = 'scrypt$32768$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';

/** Resolves users/{user} (or users/me) to a user the caller may see. */
export async function resolveUser(deps: Deps, principal: Principal, name: string, field = 'name'): Promise<User> {
  let username = parseUserName(name, field);
  if (username === 'me') username = principal.username;
  if (!principal.admin && username !== principal.username) throw new PermissionDenied('you can only see your own account');
  const user = await repo.findUserByName(deps.db, username);
  if (!user) throw new NotFound(`user '${username}' not found`);
  return user;
}

export async function listUsers(
  deps: Deps,
  principal: Principal,
  req: { pageSize: number; pageToken: string },
): Promise<{ items: User[]; nextPageToken: string }> {
  requireAdmin(principal);
  const size = pageSize(req.pageSize);
  const after = decodePageToken(req.pageToken, 'users') ?? '';
  const rows = await repo.listUsers(deps.db, after, size + 1);
  return page(rows, size, 'users', (u) => u.username);
}

export async function updateUser(
  deps: Deps,
  principal: Principal,
  name: string,
  changes: { admin?: boolean; disabled?: boolean; password?: string },
): Promise<User> {
  const user = await resolveUser(deps, principal, name, 'user.name');
  if ((changes.admin !== undefined || changes.disabled !== undefined) && !principal.admin) {
    throw new PermissionDenied('only an admin can change admin or disabled');
  }
  if (principal.userId === user.id && (changes.admin === false || changes.disabled === true)) {
    throw new InvalidArgument('you cannot remove your own admin role or disable yourself', { field: 'user' });
  }
  let passwordHash: string | undefined;
  if (changes.password !== undefined) {
    // Without admin rights, a new password needs the current one: a caller
    // signed in by it (Basic) has just shown it; an API key or a web session
    // has not, and a stolen one must not be able to take the account over.
    if (!principal.admin && principal.method !== 'password') {
      throw new PermissionDenied('changing your password needs your current password: use ChangePassword (users/{user}:changePassword)', {
        reason: 'CURRENT_PASSWORD_REQUIRED',
      });
    }
    const problem = passwordProblem(changes.password);
    if (problem) throw new InvalidArgument(problem, { field: 'user.password', reason: 'WEAK_PASSWORD' });
    passwordHash = await hashPassword(changes.password);
  }
  const updated = await repo.updateUser(deps.db, user.id, { admin: changes.admin, disabled: changes.disabled, passwordHash });
  if (!updated) throw new NotFound(`user '${user.username}' not found`);
  // A new password signs the account out of the web UI elsewhere.
  if (passwordHash !== undefined) await deleteWebSessionsOfUser(deps.db, user.id, principal.webSessionId);
  return updated;
}

/**
 * The caller changes their own password, proving the current one. A wrong
 * current password is INVALID_ARGUMENT on current_password (not
 * UNAUTHENTICATED: the caller is signed in, only this field is wrong). The
 * user's web sessions end, except the one making the change.
 */
export async function changeOwnPassword(
  deps: Deps,
  principal: Principal,
  name: string,
  input: { currentPassword: string; newPassword: string },
): Promise<void> {
  const user = await resolveUser(deps, principal, name);
  if (user.id !== principal.userId) {
    throw new PermissionDenied("you can only change your own password here; admins set other users' passwords with UpdateUser");
  }
  if (!input.currentPassword) throw new InvalidArgument('current password is required', { field: 'current_password' });
  if (!(await verifyPassword(input.currentPassword, user.passwordHash))) {
    throw new InvalidArgument('the current password is wrong', { field: 'current_password', reason: 'WRONG_PASSWORD' });
  }
  const problem = passwordProblem(input.newPassword);
  if (problem) throw new InvalidArgument(problem, { field: 'new_password', reason: 'WEAK_PASSWORD' });
  await repo.updateUser(deps.db, user.id, { passwordHash: await hashPassword(input.newPassword) });
  const ended = await deleteWebSessionsOfUser(deps.db, user.id, principal.webSessionId);
  deps.logger.info({ user: user.username, endedSessions: ended }, 'password changed');
}

/** Sets a password by user name (the `scrapydd passwd` command). */
export async function resetPassword(deps: Deps, username: string, password: string): Promise<void> {
  const user = await repo.findUserByName(deps.db, username);
  if (!user) throw new NotFound(`user '${username}' not found`);
  const problem = passwordProblem(password);
  if (problem) throw new InvalidArgument(problem, { field: 'password', reason: 'WEAK_PASSWORD' });
  await repo.updateUser(deps.db, user.id, { passwordHash: await hashPassword(password) });
  await deleteWebSessionsOfUser(deps.db, user.id);
}

/** True when no user exists yet (a fresh installation). */
export async function noUsersYet(deps: Deps): Promise<boolean> {
  return (await repo.listUsers(deps.db, '', 1)).length === 0;
}
