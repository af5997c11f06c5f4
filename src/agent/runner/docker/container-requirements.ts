/**
 * Requirements for container jobs: the egg's requires.txt and the spider's extra requirements,
 * installed once per (image, egg, requirements) by a setup container running
 * `pip install --target` into a directory on the agent, which job containers then mount
 * read-only on their PYTHONPATH.
 */
import { createHash } from 'node:crypto';
import { mkdir, stat } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DockerClient } from '../../../docker/docker-client.js';
import { LABELS, readOnly, sandboxedContainer, writable } from '../../../docker/container-sandbox.js';
import type { BindMount } from '../../../docker/docker-types.js';
import { runContainer } from '../../../docker/run-container.js';
import { buildOnce, normalizeRequirements } from '../build-once.js';
import { jobRequirements } from '../egg-requirements.js';
import { OutputLines } from '../output-lines.js';
import { pipEnvironment } from '../pip-environment.js';

/** Where the installed packages are mounted in job containers (and installed to in setup ones). */
export const SITE_PACKAGES = '/scrapydd/site-packages';
const MARKER = '.scrapydd-requirements.json';

export interface ContainerRequirementsOptions {
  client: DockerClient;
  /** The image's id (sha256:...): a rebuilt image gets its own install. */
  imageId: string;
  cacheDir: string;
  eggPath: string;
  eggSha256: string;
  extraRequirements: string[];
  /** The setup container's network (pip may need an index); absent: the daemon's default. */
  network?: string;
  /** Who owns the setup container (see LABELS). */
  owner: string;
  /** pip's configuration (PIP_*, proxies) is taken from here; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** pip's output, line by line. */
  log(line: string): void;
}

/** The directory to mount on PYTHONPATH, or undefined when the job needs nothing installed. */
export async function ensureContainerRequirements(o: ContainerRequirementsOptions): Promise<string | undefined> {
  const extra = normalizeRequirements(o.extraRequirements);
  const requirements = await jobRequirements(o.eggPath, extra);
  if (requirements.length === 0) return undefined;
  const key = createHash('sha256')
    .update(JSON.stringify({ image: o.imageId, egg: o.eggSha256.toLowerCase(), extra }))
    .digest('hex')
    .slice(0, 32);
  const dir = await buildOnce(o.cacheDir, key, MARKER, (into) => install(into, requirements, o));
  return join(dir, 'site-packages');
}

async function install(dir: string, requirements: string[], o: ContainerRequirementsOptions): Promise<object> {
  const target = join(dir, 'site-packages');
  await mkdir(target, { recursive: true });
  const env = pipEnvironment(o.env);
  o.log(`scrapydd: installing ${requirements.join(' ')} for image ${o.imageId.slice(0, 19)}`);
  const output = new OutputLines((line) => o.log(line));
  const run = await runContainer(
    o.client,
    sandboxedContainer({
      image: o.imageId,
      command: ['python3', '-m', 'pip', 'install', '--target', SITE_PACKAGES, '--disable-pip-version-check', '--no-input', ...requirements],
      env: { HOME: '/tmp', TMPDIR: '/tmp', LANG: 'C.UTF-8', PYTHONIOENCODING: 'utf-8', ...env },
      mounts: [writable(target, SITE_PACKAGES), ...(await findLinksMounts(env.PIP_FIND_LINKS))],
      labels: { [LABELS.owner]: o.owner, [LABELS.role]: 'setup' },
      stdin: false,
      network: o.network,
      }),
    {
      timeoutMs: 0, // as for virtualenvs: an install takes what it takes
      follow: (stdout, stderr) => {
        output.follow(stdout);
        output.follow(stderr);
      },
    },
  );
  output.flush();
  if (run.status !== 0) throw output.failure('pip install', `exit status ${run.status}`);
  return { image: o.imageId, egg: o.eggSha256, requirements };
}

/**
 * PIP_FIND_LINKS entries that are local directories, mounted read-only at the same path so
 * the value means the same inside the setup container. URLs are left to the network.
 */
async function findLinksMounts(findLinks: string | undefined): Promise<BindMount[]> {
  const mounts: BindMount[] = [];
  for (const entry of (findLinks ?? '').split(/\s+/).filter(Boolean)) {
    const path = entry.startsWith('file://') ? fileURLToPath(entry) : entry;
    if (!isAbsolute(path)) continue;
    const info = await stat(path).catch(() => undefined);
    if (info?.isDirectory() && !mounts.some((m) => m.Source === path)) mounts.push(readOnly(path, path));
  }
  return mounts;
}
