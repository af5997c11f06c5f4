/** Every service of the API (a method without a handler would answer UNIMPLEMENTED, after authentication). */
import type { Deps } from '../../domain/deps.js';
import type { Dispatcher } from '../../dispatch/dispatcher.js';
import { jobService } from './job-service-impl.js';
import { nodeSessionService, type SessionSettings } from './node-session-service-impl.js';
import { nodeKeyService } from './node-key-service-impl.js';
import { nodeService } from './node-service-impl.js';
import { projectService } from './project-service-impl.js';
import type { ServiceBinding } from './service-binding.js';
import { spiderService } from './spider-service-impl.js';
import { triggerService } from './trigger-service-impl.js';
import { userService } from './user-service-impl.js';
import { versionService } from './version-service-impl.js';
import { webhookService } from './webhook-service-impl.js';

export function allServices(deps: Deps, dispatcher: Dispatcher, session: SessionSettings): ServiceBinding[] {
  return [
    projectService(deps),
    versionService(deps),
    spiderService(deps),
    userService(deps),
    jobService(deps),
    triggerService(deps),
    webhookService(deps),
    nodeService(deps),
    nodeKeyService(deps),
    nodeSessionService(deps, dispatcher, session),
  ];
}
