/** The runner's `crawl` arguments for a job (scrapydd_runner.py crawl ...), the same for every runner. */
import type { CrawlSpec } from './job-types.js';

/** `crawl --egg=<eggPath> --spider=... --arg=k=v... --setting=k=v...`; eggPath as the runner will see it. */
export function crawlArguments(spec: Pick<CrawlSpec, 'spider' | 'args' | 'settings'>, eggPath: string): string[] {
  const pairs = (flag: string, values: Record<string, string>) =>
    Object.entries(values).map(([key, value]) => {
      if (!key || key.includes('=')) throw new Error(`${flag} name ${JSON.stringify(key)} is empty or contains '='`);
      // --flag=k=v: a value starting with '-' cannot be taken for an option.
      return `--${flag}=${key}=${value}`;
    });
  return ['crawl', `--egg=${eggPath}`, `--spider=${spec.spider}`, ...pairs('arg', spec.args), ...pairs('setting', spec.settings)];
}
