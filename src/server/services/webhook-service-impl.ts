/** scrapydd.v1.WebhookService over the domain: the spider's webhook as a singleton resource. */
import { WebhookServiceService, type Webhook } from '../../../gen/scrapydd/v1/webhook.js';
import type { Deps } from '../../domain/deps.js';
import * as webhooks from '../../domain/webhooks/webhook-service.js';
import { InvalidArgument } from '../../errors/domain-error.js';
import { bind, type ServiceBinding } from './service-binding.js';

export function webhookToProto(w: webhooks.Webhook): Webhook {
  return {
    name: webhooks.webhookName(w.project, w.spider),
    payloadUrl: w.payloadUrl,
    pendingDeliveries: String(w.pendingDeliveries),
    failedDeliveries: String(w.failedDeliveries),
    lastDeliveryTime: w.lastDeliveryTime,
    lastError: w.lastError,
    updateTime: w.updateTime,
  };
}

const UPDATABLE = new Set(['payload_url', 'payloadUrl']);

export function webhookService(deps: Deps): ServiceBinding {
  return bind('scrapydd.v1.WebhookService', WebhookServiceService, {
    async getWebhook(req, ctx) {
      return webhookToProto(await webhooks.getWebhook(deps, ctx.principal, req.name));
    },
    async updateWebhook(req, ctx) {
      if (!req.webhook) throw new InvalidArgument('webhook is required', { field: 'webhook' });
      for (const path of req.updateMask ?? []) {
        if (!UPDATABLE.has(path)) throw new InvalidArgument(`'${path}' cannot be updated; only payload_url`, { field: 'update_mask' });
      }
      return webhookToProto(
        await webhooks.setWebhook(deps, ctx.principal, req.webhook.name, req.webhook.payloadUrl, 'webhook.payload_url', 'webhook.name'),
      );
    },
    async deleteWebhook(req, ctx) {
      await webhooks.deleteWebhook(deps, ctx.principal, req.name);
      return {};
    },
  });
}
