/** Docker errors: one class per failure a caller acts on differently (daemon away, image missing, anything else the API refused). */

export class DockerError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The socket cannot be reached: no daemon, a wrong docker_host, or no permission on the socket. */
export class DockerUnreachable extends DockerError {
  constructor(readonly host: string, cause: unknown) {
    const why = cause instanceof Error ? ((cause as NodeJS.ErrnoException).code ?? cause.message) : String(cause);
    super(`cannot reach the Docker daemon at ${host} (${why}): is Docker (or 'podman system service') running there, and may this user use its socket?`, { cause });
  }
}

/** The runner image is not on the Docker host. */
export class DockerImageMissing extends DockerError {
  constructor(readonly image: string, cause?: unknown) {
    super(`image '${image}' is not on the Docker host: pull it beforehand; scrapydd never pulls images at run time`, { cause });
  }
}

/** The API answered with an error status. */
export class DockerApiError extends DockerError {
  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number,
    /** The daemon's own message. */
    readonly detail: string,
  ) {
    super(`Docker API ${method} ${path} failed (${status}): ${detail}`);
  }
}

/** The daemon did not answer a short request in time. */
export class DockerTimeout extends DockerError {
  constructor(method: string, path: string, timeoutMs: number) {
    super(`Docker API ${method} ${path} did not answer within ${timeoutMs / 1000} s`);
  }
}
