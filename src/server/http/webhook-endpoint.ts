/**
 * The product's webhook paths, outside /v1: POST (set), DELETE and GET on
 * /projects/{project}/spiders/{spider}/webhook, as
 * `curl -XPOST .../webhook -d payload_url=...` uses them. The body may be a
 * form (urlencoded or multipart) or JSON. Same pipeline, authentication and
 * domain as WebhookService; answers are the Webhook resource as JSON, errors
 * AIP-193 JSON like the REST API's.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Webhook } from '../../../gen/scrapydd/v1/webhook.js';
import type { Deps } from '../../domain/deps.js';
import * as webhooks from '../../domain/webhooks/webhook-service.js';
import { InvalidArgument, NotFound, toDomainError, type DomainError } from '../../errors/domain-error.js';
import { toRestError } from '../errors/status.js';
import type { Pipeline } from '../pipeline.js';
import { webhookToProto } from '../services/webhook-service-impl.js';
import { header, MAX_JSON_BODY_BYTES, readBody, sendJson } from './http-io.js';
import { readMultipart } from './multipart.js';
import { httpCall } from './web-request.js';

const PATH = /^\/projects\/([^/]+)\/spiders\/([^/]+)\/webhook\/?$/;
const METHODS: Record<string, string> = { GET: 'GetWebhook', HEAD: 'GetWebhook', POST: 'UpdateWebhook', PUT: 'UpdateWebhook', DELETE: 'DeleteWebhook' };
const ALLOW = 'GET, POST, DELETE';

export function isWebhookPath(pathname: string): boolean {
  return PATH.test(pathname);
}

export function makeWebhookHandler(deps: Deps, pipeline: Pipeline) {
  return async function handleWebhook(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const rpc = METHODS[req.method ?? 'GET'];
    if (!rpc) {
      req.resume();
      const { body } = toRestError(new InvalidArgument(`${req.method} is not allowed here; use ${ALLOW}`));
      (body as { error: { code: number } }).error.code = 405;
      return sendJson(res, 405, body, { allow: ALLOW });
    }
    const call = httpCall(req, 'rest', `scrapydd.v1.WebhookService/${rpc}`);
    try {
      const m = PATH.exec(url.pathname)!;
      let name: string;
      try {
        name = `projects/${decodeURIComponent(m[1]!)}/spiders/${decodeURIComponent(m[2]!)}/webhook`;
      } catch {
        throw new NotFound(`nothing at ${url.pathname}`);
      }
      const answer = await pipeline.run(call, async (ctx) => {
        if (rpc === 'DeleteWebhook') {
          await webhooks.deleteWebhook(deps, ctx.principal, name);
          return {};
        }
        if (rpc === 'GetWebhook') return Webhook.toJSON(webhookToProto(await webhooks.getWebhook(deps, ctx.principal, name)));
        const payloadUrl = await payloadUrlOf(req, url);
        return Webhook.toJSON(webhookToProto(await webhooks.setWebhook(deps, ctx.principal, name, payloadUrl)));
      });
      sendJson(res, 200, answer);
    } catch (raw) {
      req.resume();
      const { httpStatus, body } = toRestError(toDomainError(raw as DomainError));
      const headers: Record<string, string> = httpStatus === 401 ? { 'www-authenticate': 'Basic realm="scrapydd", charset="UTF-8"' } : {};
      if (!res.headersSent) sendJson(res, httpStatus, body, headers);
      else res.destroy();
    }
  };
}

/**
 * payload_url from the body: a form (urlencoded or multipart) or a JSON
 * object ({"payload_url": ...} or {"payloadUrl": ...}); else the query.
 * Keys and values are trimmed, so the documentation's
 * `-d payload_url = {address}` (with spaces) works as well.
 */
async function payloadUrlOf(req: IncomingMessage, url: URL): Promise<string> {
  const type = (header(req, 'content-type') ?? '').toLowerCase();
  const fields = new URLSearchParams();
  if (type.startsWith('multipart/form-data')) {
    const form = await readMultipart(req, { fileSize: 0, fields: 20 });
    form.file?.stream.resume();
    for (const [k, v] of await form.done) fields.append(k, v);
  } else {
    const raw = (await readBody(req, MAX_JSON_BODY_BYTES)).toString('utf8');
    if (type.startsWith('application/json')) {
      let json: unknown;
      try {
        json = raw.trim() === '' ? {} : JSON.parse(raw);
      } catch (err) {
        throw new InvalidArgument(`request body is not valid JSON: ${(err as Error).message}`, { reason: 'MALFORMED_JSON' });
      }
      if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new InvalidArgument('the JSON body must be an object with payload_url', { field: 'payload_url' });
      const v = (json as Record<string, unknown>).payload_url ?? (json as Record<string, unknown>).payloadUrl;
      if (v !== undefined && typeof v !== 'string') throw new InvalidArgument('payload_url must be a string', { field: 'payload_url' });
      if (typeof v === 'string') fields.append('payload_url', v);
    } else {
      for (const [k, v] of new URLSearchParams(raw)) fields.append(k, v);
    }
  }
  for (const [k, v] of url.searchParams) fields.append(k, v);
  for (const [k, v] of fields) {
    if (k.trim() === 'payload_url' || k.trim() === 'payloadUrl') return v.trim();
  }
  throw new InvalidArgument("payload_url is required, e.g. -d payload_url=https://example.com/hook", { field: 'payload_url', reason: 'INVALID_PAYLOAD_URL' });
}
