// Shared by the configuration tests.
import { loadConfig } from '../../src/config/config.js';
import type { ConfigError } from '../../src/errors.js';

/** The problems loadConfig reports for `env`, or [] when it loads. */
export function problems(env: Record<string, string>): readonly string[] {
  try {
    loadConfig(env);
    return [];
  } catch (err) {
    return (err as ConfigError).problems;
  }
}
