/** docker_host: where the Docker Engine API listens (a unix socket), from the key, DOCKER_HOST, or the default. */

export const DEFAULT_DOCKER_HOST = 'unix:///var/run/docker.sock';

/**
 * The socket path of a docker_host value: `unix:///path` as Docker and podman write it, or a
 * bare absolute path. Only unix sockets: the API gives whoever reaches it root on the host,
 * and a plain tcp:// listener would hand that to the network.
 */
export function dockerSocketPath(host: string): string {
  const text = host.trim();
  if (text.startsWith('/')) return text;
  const m = /^unix:\/\/(\/.*)$/.exec(text);
  if (m) return m[1]!;
  throw new Error(`'${host}' is not a unix socket (unix:///path/to/docker.sock); tcp and ssh hosts are not supported`);
}
