/** Every service of the API; methods without a handler answer UNIMPLEMENTED (after authentication). */
import { TriggerServiceService } from '../../../gen/scrapydd/v1/trigger.js';
import type { Deps } from '../../domain/deps.js';
import type { Dispatcher } from '../../dispatch/dispatcher.js';
import { jobService } from './job-service-impl.js';
import { nodeSessionService, type SessionSettings } from './node-session-service-impl.js';
import { nodeKeyService } from './node-key-service-impl.js';
import { nodeService } from './node-service-impl.js';
import { projectService } from './project-service-impl.js';
import { serverService, type ServerInfoSource } from './server-service-impl.js';
import { bind, type ServiceBinding } from './service-binding.js';
import { spiderService } from './spider-service-impl.js';
import { userService } from './user-service-impl.js';
import { versionService } from './version-service-impl.js';
import { webhookService } from './webhook-service-impl.js';

export function allServices(deps: Deps, dispatcher: Dispatcher, session: SessionSettings, server: ServerInfoSource): ServiceBinding[] {
  return [
    projectService(deps),
    versionService(deps),
    spiderService(deps),
    userService(deps),
    jobService(deps),
    bind('scrapydd.v1.TriggerService', TriggerServiceService, {}),
    webhookService(deps),
    nodeService(deps),
    nodeKeyService(deps),
    nodeSessionService(deps, dispatcher, session),
    serverService(server),
  ];
}
