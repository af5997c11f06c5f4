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

const TAG = /^[A-Za-z0-9_.-]{1,64}$/;
const SETTING_KEY = /^[A-Za-z_][A-Za-z0-9_.]*$/;
const ARG_NAME = /^[^=\s][^=]{0,199}$/; // scrapy crawl -a NAME=VALUE
const MAX_REQUIREMENTS = 100;

/** The fields `update_mask` may name (settings.x), checked and merged over `current`. */
export const UPDATABLE_SETTINGS = ['tag', 'concurrency', 'timeout_seconds', 'retries', 'priority', 'args', 'scrapy_settings', 'extra_requirements', 'disabled'] as const;

export function checkSpiderSettings(s: SpiderSettings): string | undefined {
  if (s.tag !== '' && !TAG.test(s.tag)) return `settings.tag '${s.tag}' is not valid: one tag of A-Z a-z 0-9 _ . - (at most one tag per spider)`;
  if (!Number.isInteger(s.concurrency) || s.concurrency < 1 || s.concurrency > 1000) return 'settings.concurrency must be 1..1000';
  if (!Number.isInteger(s.timeoutSeconds) || s.timeoutSeconds < 1) return 'settings.timeout_seconds must be at least 1';
  if (!Number.isInteger(s.retries) || s.retries < 0 || s.retries > 100) return 'settings.retries must be 0..100';
  if (!Number.isFinite(s.priority)) return 'settings.priority must be a finite number';
  for (const k of Object.keys(s.scrapySettings)) if (!SETTING_KEY.test(k)) return `settings.scrapy_settings: '${k}' is not a Scrapy setting name`;
  for (const k of Object.keys(s.args)) if (!ARG_NAME.test(k)) return `settings.args: '${k}' is not a spider argument name`;
  if (s.extraRequirements.length > MAX_REQUIREMENTS) return `settings.extra_requirements: at most ${MAX_REQUIREMENTS} requirements`;
  for (const r of s.extraRequirements) {
    // pip reads each as one requirement line: no options (--index-url ...), no second line.
    if (r.trim() === '' || r.length > 500 || /[\r\n]/.test(r) || r.trim().startsWith('-')) {
      return `settings.extra_requirements: ${JSON.stringify(r.slice(0, 80))} is not a pip requirement (e.g. "requests>=2.31"; options are not allowed)`;
    }
  }
  return undefined;
}
