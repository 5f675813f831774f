// Settings and time windows: time zones exist (luxon), durations are longer than zero and the
// retry backoff starts below its cap; each time window compiles (time-windows.ts).
import { IANAZone } from 'luxon';
import { parseDuration } from '../../domain/duration.js';
import { compileTimeWindow } from '../time-windows.js';
import type { TimeWindowEntry } from '../types.js';
import type { CheckContext } from './context.js';
import { DEFAULT_SETTINGS } from './defaults.js';
import { isPlainObject, type Item } from './merge.js';
import { atPath, type Where } from './report.js';
import { didYouMean } from './suggest.js';

const DURATIONS = [
  ['storm', 'window'],
  ['delivery', 'timeout'],
  ['delivery', 'retry', 'initial'],
  ['delivery', 'retry', 'max'],
  ['delivery', 'breaker', 'window'],
  ['delivery', 'breaker', 'cooldown'],
  ['delivery', 'outage_backoff_max'],
] as const;
const DURATION_SHAPE = /^(?:\d+(?:ms|s|m|h|d|w))+$/;

export function isValidZone(zone: string): boolean {
  return IANAZone.isValidZone(zone);
}

export function zoneProblem(zone: string): string {
  const zones = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : [];
  return `unknown time zone ${JSON.stringify(zone)}${didYouMean(zone, zones)}: use an IANA name such as UTC or Europe/Berlin`;
}

export function checkSettings(ctx: CheckContext): void {
  const item = ctx.merged.settings;
  // Defensive like the other checks: each setting is checked when it has the right type.
  if (item === null || !isPlainObject(item.value)) return;
  const at = (...path: string[]): Where => ({ file: item.file, path: ['settings', ...path] });
  const given = (path: readonly string[]): unknown =>
    path.reduce<unknown>((v, k) => (isPlainObject(v) ? v[k] : undefined), item.value);
  const zone = given(['timezone']);
  if (typeof zone === 'string' && !isValidZone(zone))
    ctx.report.error(at('timezone'), atPath(['settings', 'timezone'], zoneProblem(zone)));
  for (const path of DURATIONS) {
    const text = given(path);
    if (typeof text !== 'string') continue;
    const ms = parseDuration(text);
    // A text of the right shape that is still no duration overflowed; the wrong shape is the schema's.
    const problem =
      ms === 0 ? 'must be longer than zero' : ms === null && DURATION_SHAPE.test(text) ? 'is too long' : null;
    if (problem !== null) ctx.report.error(at(...path), atPath(['settings', ...path], problem));
  }
  const retry = (key: 'initial' | 'max'): string => {
    const text = given(['delivery', 'retry', key]);
    return typeof text === 'string' ? text : DEFAULT_SETTINGS.delivery.retry[key];
  };
  const [initialMs, maxMs] = [parseDuration(retry('initial')), parseDuration(retry('max'))];
  if (initialMs !== null && maxMs !== null && initialMs > maxMs) {
    const key = given(['delivery', 'retry', 'initial']) !== undefined ? 'initial' : 'max';
    const message = `initial backoff ${retry('initial')} is longer than its cap, max ${retry('max')}`;
    ctx.report.error(at('delivery', 'retry', key), atPath(['settings', 'delivery', 'retry'], message));
  }
}

/** Compile every valid time window with the default zone, mapping its problems to positions. */
export function checkTimeWindows(ctx: CheckContext): void {
  for (const [name, item] of ctx.merged.maps.time_windows) {
    if (!item.valid) continue;
    const result = compileTimeWindow(name, item.value as TimeWindowEntry[], ctx.settings.timezone);
    if (result.ok) continue;
    for (const problem of result.problems) {
      const path = [...item.path, ...problem.path];
      ctx.report.error({ file: item.file, path }, atPath(path, problem.message));
    }
  }
}

/** Time windows no `within` names, as warnings. */
export function warnUnusedWindows(ctx: CheckContext): void {
  if (!ctx.complete) return;
  for (const [name, item] of ctx.merged.maps.time_windows) {
    if (!ctx.used.windows.has(name))
      ctx.report.warn(keyOf(item), `time window "${name}" is never used by a within condition`);
  }
}

export function keyOf(item: Item): Where {
  return { file: item.file, path: item.path, key: true };
}
