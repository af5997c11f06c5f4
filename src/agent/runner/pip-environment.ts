/** pip's configuration from the agent's environment (PIP_INDEX_URL, PIP_FIND_LINKS, proxies...), the only variables that reach pip. */

const INHERITED = /^(PIP_.*|https?_proxy|no_proxy|all_proxy)$/i;

export function pipEnvironment(from: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(from)) if (value !== undefined && INHERITED.test(name)) env[name] = value;
  return env;
}
