/** A spider's settings with their defaults (timeout 3600 s and concurrency 1, as in the old system). */

export interface SpiderSettings {
  tag: string;
  concurrency: number;
  timeoutSeconds: number;
  retries: number;
  priority: number;
  args: Record<string, string>;
  scrapySettings: Record<string, string>;
  extraRequirements: string[];
  disabled: boolean;
}

export const DEFAULT_SPIDER_SETTINGS: Readonly<SpiderSettings> = Object.freeze({
  tag: '',
  concurrency: 1,
  timeoutSeconds: 3600,
  retries: 0,
  priority: 0,
  args: {},
  scrapySettings: {},
  extraRequirements: [],
  disabled: false,
});

/** Stored settings over the defaults; unknown keys in storage are dropped. */
export function parseSpiderSettings(json: string): SpiderSettings {
  const stored = JSON.parse(json) as Partial<SpiderSettings>;
  const d = DEFAULT_SPIDER_SETTINGS;
  return {
    tag: stored.tag ?? d.tag,
    concurrency: stored.concurrency ?? d.concurrency,
    timeoutSeconds: stored.timeoutSeconds ?? d.timeoutSeconds,
    retries: stored.retries ?? d.retries,
    priority: stored.priority ?? d.priority,
    args: { ...(stored.args ?? {}) },
    scrapySettings: { ...(stored.scrapySettings ?? {}) },
    extraRequirements: [...(stored.extraRequirements ?? [])],
    disabled: stored.disabled ?? d.disabled,
  };
}
