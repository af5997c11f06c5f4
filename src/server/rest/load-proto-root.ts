// One loader for REST routing and tests, so google/api and google/protobuf imports resolve identically everywhere.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import protobuf from 'protobufjs';

const require = createRequire(import.meta.url);
/** A package's folder, or undefined when it is not installed (google-proto-files is a dev dependency). */
const packageDir = (name: string): string | undefined => {
  try {
    return path.dirname(require.resolve(`${name}/package.json`));
  } catch {
    return undefined;
  }
};

/** Last-resort include dirs: google-proto-files carries google/api/*, protobufjs the descriptor.proto it parses best. */
const PROTO_FILES_DIR = packageDir('google-proto-files');
const PROTOBUFJS_DIR = packageDir('protobufjs');
const fallbackDirs = (target: string): string[] =>
  (target.startsWith('google/protobuf/') ? [PROTOBUFJS_DIR, PROTO_FILES_DIR] : [PROTO_FILES_DIR, PROTOBUFJS_DIR]).filter(
    (d): d is string => d !== undefined,
  );

/**
 * Finds an import protoc-style: each include dir in order, then next to the importing file, then the
 * bundled fallbacks. Returned paths are absolute so a file reached two ways is loaded once.
 */
export function resolveProtoPath(origin: string, target: string, includeDirs: readonly string[]): string {
  if (path.isAbsolute(target)) return target;
  const candidates = includeDirs.map((dir) => path.resolve(dir, target));
  candidates.push(origin === '' ? path.resolve(target) : path.resolve(path.dirname(origin), target));
  for (const dir of fallbackDirs(target)) candidates.push(path.join(dir, target));
  return candidates.find((c) => existsSync(c)) ?? candidates[0]!;
}

/**
 * Loads .proto files synchronously into a fresh, fully resolved Root. `files` may be relative to an
 * include dir or to the working directory. Well-known google/protobuf types come from protobufjs's
 * bundled definitions. Field names keep their .proto spelling (keepCase); REST code reads
 * `field.protoName` / `field.jsonName`, so either spelling works for it.
 */
export function loadProtoRoot(files: string[], includeDirs: string[]): protobuf.Root {
  const root = new protobuf.Root();
  root.resolvePath = (origin: string, target: string) => resolveProtoPath(origin, target, includeDirs);
  root.loadSync(files, { keepCase: true });
  root.resolveAll();
  return root;
}
