/** scrapydd.v1.VersionService over the domain; uploads arrive as a stream of chunks. */
import { VersionServiceService, type UploadVersionRequest } from '../../../gen/scrapydd/v1/version.js';
import type { Deps } from '../../domain/deps.js';
import { parseProjectName } from '../../domain/names.js';
import { stageEgg } from '../../domain/projects/staged-egg.js';
import * as versions from '../../domain/projects/version-service.js';
import { InvalidArgument } from '../../errors/domain-error.js';
import { bind, type ServiceBinding } from './service-binding.js';
import { versionToProto } from './to-proto.js';

export function versionService(deps: Deps): ServiceBinding {
  return bind('scrapydd.v1.VersionService', VersionServiceService, {
    async uploadVersion(requests, ctx) {
      const iterator = requests[Symbol.asyncIterator]();
      const first = await iterator.next();
      const payload = first.done ? undefined : first.value.payload;
      if (payload?.$case !== 'metadata') {
        throw new InvalidArgument('the first UploadVersion message must carry metadata', { field: 'metadata' });
      }
      const meta = payload.metadata;
      const project = parseProjectName(meta.parent, 'metadata.parent');
      const egg = await stageEgg(deps.settings.tmpDir, chunksOf(iterator), deps.settings.maxUploadSizeBytes);
      const version = await versions.uploadVersion(deps, ctx.principal, {
        project,
        version: meta.versionId,
        createProject: meta.createProject,
        egg,
        expectedSha256: meta.sha256 || undefined,
        expectedSize: Number(meta.sizeBytes) || undefined,
      });
      return versionToProto(version);
    },
    async getVersion(req, ctx) {
      return versionToProto(await versions.getVersion(deps, ctx.principal, req.name));
    },
    async listVersions(req, ctx) {
      const { items, nextPageToken } = await versions.listVersions(deps, ctx.principal, req);
      return { versions: items.map(versionToProto), nextPageToken };
    },
    async deleteVersion(req, ctx) {
      await versions.deleteVersion(deps, ctx.principal, req.name);
      return {};
    },
  });
}

async function* chunksOf(iterator: AsyncIterator<UploadVersionRequest>): AsyncGenerator<Uint8Array> {
  for (;;) {
    const next = await iterator.next();
    if (next.done) return;
    const payload = next.value.payload;
    if (payload?.$case !== 'chunk') {
      throw new InvalidArgument('only the first UploadVersion message may carry metadata', { field: 'chunk' });
    }
    yield payload.chunk;
  }
}
