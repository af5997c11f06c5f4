/** scrapydd.v1.ServerService: the server's version, database, uptime and configuration overview (admins only). */
import { ServerServiceService } from '../../../gen/scrapydd/v1/server.js';
import type { ServerConfig } from '../../config/types.js';
import { requireAdmin } from '../../domain/users/user-service.js';
import { PACKAGE_VERSION } from '../../package-root.js';
import { serverSettingsOverview } from '../server-settings.js';
import { bind, type ServiceBinding } from './service-binding.js';

export interface ServerInfoSource {
  readonly config: ServerConfig;
  /** When this process started serving. */
  readonly startTime: Date;
}

export function serverService(source: ServerInfoSource): ServiceBinding {
  return bind('scrapydd.v1.ServerService', ServerServiceService, {
    async getServerInfo(_req, ctx) {
      requireAdmin(ctx.principal);
      return {
        version: PACKAGE_VERSION,
        databaseKind: source.config.database.kind,
        startTime: source.startTime.toISOString(),
        currentTime: new Date().toISOString(),
        settings: serverSettingsOverview(source.config),
      };
    },
  });
}
