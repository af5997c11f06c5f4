/** scrapydd.v1.UserService over the domain: users and API keys. */
import { UserServiceService } from '../../../gen/scrapydd/v1/user.js';
import type { Deps } from '../../domain/deps.js';
import * as apiKeys from '../../domain/users/api-key-service.js';
import * as users from '../../domain/users/user-service.js';
import { InvalidArgument } from '../../errors/domain-error.js';
import { bind, type ServiceBinding } from './service-binding.js';
import { apiKeyToProto, userToProto } from './to-proto.js';

const UPDATABLE = new Set(['admin', 'disabled', 'password']);

export function userService(deps: Deps): ServiceBinding {
  return bind('scrapydd.v1.UserService', UserServiceService, {
    async createUser(req, ctx) {
      const user = req.user;
      if (!user) throw new InvalidArgument('user is required', { field: 'user' });
      return userToProto(
        await users.createUser(deps, ctx.principal, { username: req.userId, password: user.password, admin: user.admin }),
      );
    },
    async getUser(req, ctx) {
      return userToProto(await users.resolveUser(deps, ctx.principal, req.name));
    },
    async listUsers(req, ctx) {
      const { items, nextPageToken } = await users.listUsers(deps, ctx.principal, req);
      return { users: items.map(userToProto), nextPageToken };
    },
    async updateUser(req, ctx) {
      const user = req.user;
      if (!user) throw new InvalidArgument('user is required', { field: 'user' });
      const mask = req.updateMask ?? [];
      if (mask.length === 0) throw new InvalidArgument('update_mask is required (admin, disabled, password)', { field: 'update_mask' });
      for (const path of mask) {
        if (!UPDATABLE.has(path)) throw new InvalidArgument(`'${path}' cannot be updated`, { field: 'update_mask' });
      }
      const has = (p: string) => mask.includes(p);
      return userToProto(
        await users.updateUser(deps, ctx.principal, user.name, {
          admin: has('admin') ? user.admin : undefined,
          disabled: has('disabled') ? user.disabled : undefined,
          password: has('password') ? user.password : undefined,
        }),
      );
    },
    async changePassword(req, ctx) {
      await users.changeOwnPassword(deps, ctx.principal, req.name, { currentPassword: req.currentPassword, newPassword: req.newPassword });
      return {};
    },
    async createApiKey(req, ctx) {
      return apiKeyToProto(await apiKeys.createApiKey(deps, ctx.principal, req.parent, req.apiKey?.displayName ?? ''));
    },
    async listApiKeys(req, ctx) {
      const { items, nextPageToken } = await apiKeys.listApiKeys(deps, ctx.principal, req);
      return { apiKeys: items.map(apiKeyToProto), nextPageToken };
    },
    async deleteApiKey(req, ctx) {
      await apiKeys.deleteApiKey(deps, ctx.principal, req.name);
      return {};
    },
  });
}
