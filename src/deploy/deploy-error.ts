/** The failures of `scrapydd deploy` and `scrapydd package`, each with the exit code a script can act on. */

/** Exit codes of the deploy and package commands (documented in docs/deploy.md). */
export const EXIT = Object.freeze({
  /** Bad flags, no scrapy.cfg, missing settings, unreadable credentials file. */
  usage: 2,
  /** Python, setuptools or the egg build failed. */
  build: 3,
  /** The server refused the credentials (401) or the caller may not touch the project (403). */
  auth: 4,
  /** The server could not be reached (refused, unknown host, TLS, timeout). */
  unreachable: 5,
  /** The server answered with another error (bad egg, spiders that do not load, ...). */
  refused: 6,
});

export class DeployError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
    this.name = 'DeployError';
  }
}
