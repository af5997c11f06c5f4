/**
 * The REST API: routes from the protos' google.api.http rules, requests
 * built as proto3 JSON and decoded by the generated codecs, then the same
 * handlers and pipeline as gRPC. Client-streaming uploads take
 * multipart/form-data or a raw body.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { InvalidArgument, NotFound, toDomainError, type DomainError } from '../../errors/domain-error.js';
import type { IncomingCall } from '../call-context.js';
import { toRestError } from '../errors/status.js';
import { codecOf } from '../message-registry.js';
import { SELF_AUTHENTICATING_METHODS, type Pipeline } from '../pipeline.js';
import type { HttpRoute } from '../rest/http-rules.js';
import { buildRequestJson, responseJson } from '../rest/request-json.js';
import type { RestRouter } from '../rest/router.js';
import { methodKey, type ServiceBinding } from '../services/service-binding.js';
import { Unimplemented } from '../../errors/domain-error.js';
import { header, readJsonBody, sendJson } from './http-io.js';
import { readMultipart } from './multipart.js';
import { httpCall, isWebUiRequest } from './web-request.js';

export interface RestHandlerOptions {
  router: RestRouter;
  bindings: readonly ServiceBinding[];
  pipeline: Pipeline;
  maxUploadSizeBytes: number;
}

type Handler = (arg: unknown, ctx: unknown) => Promise<unknown>;

export function makeRestHandler(opts: RestHandlerOptions) {
  const byService = new Map(opts.bindings.map((b) => [b.name, b]));

  return async function handleRest(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    let match: ReturnType<RestRouter['match']>;
    try {
      match = opts.router.match(req.method ?? 'GET', url.pathname);
    } catch (err) {
      return sendError(res, toDomainError(err)); // e.g. a malformed %-escape: 400, not an unhandled 500
    }
    if (match.kind === 'not-found') {
      return sendError(res, new NotFound(`no API route for ${req.method} ${url.pathname}`, { reason: 'ROUTE_NOT_FOUND' }));
    }
    if (match.kind === 'method-not-allowed') {
      const { body } = toRestError(new InvalidArgument(`${req.method} is not allowed here; use ${match.allowed.join(', ')}`));
      (body as { error: { code: number } }).error.code = 405; // the body's code repeats the HTTP status (AIP-193)
      return sendJson(res, 405, body, { allow: match.allowed.join(', ') });
    }
    const { route, pathParams } = match;
    const method = `${route.serviceName}/${route.methodName}`;
    const call: IncomingCall = httpCall(req, 'rest', method, SELF_AUTHENTICATING_METHODS.has(method));
    try {
      const result = await opts.pipeline.run(call, async (ctx) => {
        const binding = byService.get(route.serviceName);
        const key = binding && methodKey(binding, route.methodName);
        const handler = key ? (binding.impl[key] as Handler | undefined) : undefined;
        if (!handler) throw new Unimplemented(`${call.method} is not implemented yet`);
        if (route.requestStream) {
          return handler(await streamedRequests(req, url, route, pathParams, opts.maxUploadSizeBytes), ctx);
        }
        const body = route.body === '' ? undefined : await readJsonBody(req);
        const json = buildRequestJson(route, pathParams, url.searchParams, body);
        return handler(codecOf(route.requestType.fullName).fromJSON(json), ctx);
      });
      const json = codecOf(route.responseType.fullName).toJSON(result as never);
      sendJson(res, 200, responseJson(route, json));
    } catch (err) {
      sendError(res, err as DomainError, isWebUiRequest(req));
    }
  };
}

function sendError(res: ServerResponse, err: DomainError, fromWebUi = false): void {
  const { httpStatus, body } = toRestError(err);
  // The web UI handles 401 itself: a Basic challenge would make the browser pop up its own sign-in box.
  const headers: Record<string, string> = httpStatus === 401 && !fromWebUi ? { 'www-authenticate': 'Basic realm="scrapydd", charset="UTF-8"' } : {};
  if (!res.headersSent) sendJson(res, httpStatus, body, headers);
  else res.destroy();
}

/**
 * The message stream of a client-streaming call over HTTP/1.1 — so far only
 * UploadVersion: its metadata from the path, form fields and query, then the
 * egg's bytes from the `egg` file part (multipart) or the raw body.
 */
async function streamedRequests(
  req: IncomingMessage,
  url: URL,
  route: HttpRoute,
  pathParams: Record<string, string>,
  maxBytes: number,
): Promise<AsyncIterable<unknown>> {
  if (route.methodName !== 'UploadVersion') throw new Unimplemented(`${route.methodName} has no REST form`);
  const contentType = header(req, 'content-type') ?? '';
  let fields = new URLSearchParams();
  let data: Readable = req;
  if (contentType.startsWith('multipart/form-data')) {
    const form = await readMultipart(req, { fileSize: maxBytes, fields: 20 });
    if (!form.file) throw new InvalidArgument('the form has no egg file (use egg=@path)', { field: 'egg', reason: 'EGG_MISSING' });
    fields = form.fields;
    data = form.file.stream;
  } else if (contentType.startsWith('application/json')) {
    throw new InvalidArgument('send the egg as multipart/form-data (field egg) or as an application/octet-stream body', {
      field: 'egg',
    });
  }
  const pick = (...names: string[]) => {
    for (const n of names) {
      const v = fields.get(n) ?? url.searchParams.get(n);
      if (v !== null && v !== undefined) return v;
    }
    return undefined;
  };
  const versionId = pick('version', 'versionId', 'version_id');
  if (!versionId) {
    data.resume();
    throw new InvalidArgument('version is required: a form field sent before the egg file, or ?version=', { field: 'version' });
  }
  const createProject = /^(1|true|yes|on)$/i.test(pick('createProject', 'create_project') ?? '');
  const metadata = {
    parent: pathParams['metadata.parent'] ?? '',
    versionId,
    createProject,
    sizeBytes: pick('sizeBytes', 'size_bytes') ?? '0',
    sha256: pick('sha256') ?? '',
  };
  async function* messages(): AsyncGenerator<unknown> {
    yield { payload: { $case: 'metadata', metadata } };
    for await (const chunk of data as AsyncIterable<Buffer>) yield { payload: { $case: 'chunk', chunk } };
  }
  return messages();
}
