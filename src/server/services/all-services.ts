/** Every service of the API; methods without a handler answer UNIMPLEMENTED (after authentication). */
import { JobServiceService } from '../../../gen/scrapydd/v1/job.js';
import { NodeServiceService } from '../../../gen/scrapydd/v1/node.js';
import { NodeKeyServiceService } from '../../../gen/scrapydd/v1/node_key.js';
import { NodeSessionServiceService } from '../../../gen/scrapydd/v1/node_session.js';
import { TriggerServiceService } from '../../../gen/scrapydd/v1/trigger.js';
import { WebhookServiceService } from '../../../gen/scrapydd/v1/webhook.js';
import type { Deps } from '../../domain/deps.js';
import { projectService } from './project-service-impl.js';
import { bind, type ServiceBinding } from './service-binding.js';
import { spiderService } from './spider-service-impl.js';
import { userService } from './user-service-impl.js';
import { versionService } from './version-service-impl.js';

export function allServices(deps: Deps): ServiceBinding[] {
  return [
    projectService(deps),
    versionService(deps),
    spiderService(deps),
    userService(deps),
    bind('scrapydd.v1.JobService', JobServiceService, {}),
    bind('scrapydd.v1.TriggerService', TriggerServiceService, {}),
    bind('scrapydd.v1.WebhookService', WebhookServiceService, {}),
    bind('scrapydd.v1.NodeService', NodeServiceService, {}),
    bind('scrapydd.v1.NodeKeyService', NodeKeyServiceService, {}),
    bind('scrapydd.v1.NodeSessionService', NodeSessionServiceService, {}),
  ];
}
