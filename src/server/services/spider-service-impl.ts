/** scrapydd.v1.SpiderService over the domain (settings and runs come with dispatch). */
import { SpiderServiceService } from '../../../gen/scrapydd/v1/spider.js';
import type { Deps } from '../../domain/deps.js';
import * as spiders from '../../domain/projects/spider-service.js';
import { bind, type ServiceBinding } from './service-binding.js';
import { spiderToProto } from './to-proto.js';

export function spiderService(deps: Deps): ServiceBinding {
  return bind('scrapydd.v1.SpiderService', SpiderServiceService, {
    async getSpider(req, ctx) {
      return spiderToProto(await spiders.getSpider(deps, ctx.principal, req.name));
    },
    async listSpiders(req, ctx) {
      const result = await spiders.listSpiders(deps, ctx.principal, { parent: req.parent, version: req.version });
      return { spiders: result.spiders.map(spiderToProto), nextPageToken: '' };
    },
  });
}
