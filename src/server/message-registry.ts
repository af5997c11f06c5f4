/**
 * ts-proto message codecs by fully qualified protobuf name, so the REST
 * transport can turn proto3 JSON into the same request objects gRPC decodes
 * (and responses back into proto3 JSON).
 */
import * as job from '../../gen/scrapydd/v1/job.js';
import * as node from '../../gen/scrapydd/v1/node.js';
import * as nodeKey from '../../gen/scrapydd/v1/node_key.js';
import * as nodeSession from '../../gen/scrapydd/v1/node_session.js';
import * as project from '../../gen/scrapydd/v1/project.js';
import * as server from '../../gen/scrapydd/v1/server.js';
import * as spider from '../../gen/scrapydd/v1/spider.js';
import * as trigger from '../../gen/scrapydd/v1/trigger.js';
import * as user from '../../gen/scrapydd/v1/user.js';
import * as version from '../../gen/scrapydd/v1/version.js';
import * as webhook from '../../gen/scrapydd/v1/webhook.js';
import * as empty from '../../gen/google/protobuf/empty.js';

export interface MessageCodec {
  fromJSON(object: unknown): unknown;
  toJSON(message: never): unknown;
}

function isCodec(v: unknown): v is MessageCodec {
  return typeof v === 'object' && v !== null && 'fromJSON' in v && 'toJSON' in v && 'encode' in v;
}

const modules: [string, Record<string, unknown>][] = [
  ['scrapydd.v1', { ...job, ...node, ...nodeKey, ...nodeSession, ...project, ...server, ...spider, ...trigger, ...user, ...version, ...webhook }],
  ['google.protobuf', { ...empty }],
];

const registry = new Map<string, MessageCodec>();
for (const [pkg, exports] of modules) {
  for (const [name, value] of Object.entries(exports)) {
    // ts-proto names nested messages Outer_Inner.
    if (isCodec(value)) registry.set(`${pkg}.${name.replace(/_/g, '.')}`, value);
  }
}

/** The codec of `.scrapydd.v1.Project` or `scrapydd.v1.Project`. */
export function codecOf(fullName: string): MessageCodec {
  const codec = registry.get(fullName.replace(/^\./, ''));
  if (!codec) throw new Error(`no generated codec for ${fullName}`);
  return codec;
}
