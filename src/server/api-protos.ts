/** The API's proto files, loaded once for reflection (proto-loader) and REST routes (protobufjs). */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as protoLoader from '@grpc/proto-loader';
import type protobuf from 'protobufjs';
import { PROTO_DIR } from '../package-root.js';
import { loadProtoRoot } from './rest/load-proto-root.js';

export function apiProtoFiles(): string[] {
  const dir = join(PROTO_DIR, 'scrapydd', 'v1');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.proto'))
    .sort()
    .map((f) => `scrapydd/v1/${f}`);
}

export function loadPackageDefinition(): protoLoader.PackageDefinition {
  return protoLoader.loadSync(apiProtoFiles(), { includeDirs: [PROTO_DIR], keepCase: false, longs: String, enums: String, defaults: true });
}

export function loadApiRoot(): protobuf.Root {
  return loadProtoRoot(apiProtoFiles(), [PROTO_DIR]);
}
