/** scrapydd.v1.SpiderService over the domain (spider settings come with their own issue). */
import { SpiderServiceService } from '../../../gen/scrapydd/v1/spider.js';
import type { Deps } from '../../domain/deps.js';
import * as spiders from '../../domain/projects/spider-service.js';
import { bind, type ServiceBinding } from './service-binding.js';
import * as jobs from '../../domain/jobs/job-service.js';
import { parseSpiderName, parseVersionName } from '../../domain/names.js';
import { jobToProto } from '../../dispatch/job-to-proto.js';
import { InvalidArgument } from '../../errors/domain-error.js';
import { DEFAULT_SPIDER_SETTINGS } from '../../domain/projects/spider-settings.js';
import { spiderToProto } from './to-proto.js';

export function spiderService(deps: Deps): ServiceBinding {
  return bind('scrapydd.v1.SpiderService', SpiderServiceService, {
    async getSpider(req, ctx) {
      return spiderToProto(await spiders.getSpider(deps, ctx.principal, req.name));
    },
    async updateSpider(req, ctx) {
      if (!req.spider) throw new InvalidArgument('spider is required', { field: 'spider' });
      const input = req.spider.settings ?? { ...DEFAULT_SPIDER_SETTINGS, args: {}, scrapySettings: {}, extraRequirements: [] };
      return spiderToProto(await spiders.updateSpiderSettings(deps, ctx.principal, req.spider.name, input, req.updateMask ?? []));
    },
    async runSpider(req, ctx) {
      const { project, spider } = parseSpiderName(req.name);
      const version = req.version.includes('/') ? parseVersionName(req.version, 'version').version : req.version;
      const job = await jobs.runSpider(deps, ctx.principal, {
        project,
        spider,
        version,
        args: req.args,
        settings: req.scrapySettings,
        priority: req.priority,
        jobKey: req.jobId || undefined,
      });
      return jobToProto(job);
    },
    async listSpiders(req, ctx) {
      const { items, nextPageToken } = await spiders.listSpiderPage(deps, ctx.principal, req);
      return { spiders: items.map(spiderToProto), nextPageToken };
    },
  });
}
