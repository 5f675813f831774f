// The one check on a cron expression's text that cron-parser does not make (docs/policy-language.md,
// "Time windows"; the same rule for rotations' hand-off crons, "Rotations").

/**
 * Why `text` is not a 5-field cron expression, or null when it has five fields. cron-parser pads
 * short expressions ("*\/5" runs every minute on Sundays and Fridays) and its strict mode demands a
 * seconds field, so the field count is ours to check.
 */
export function cronFieldCountProblem(text: string): string | null {
  return text.split(/\s+/).filter((field) => field !== '').length === 5
    ? null
    : `cron "${text}" must have exactly 5 fields (minute hour day-of-month month day-of-week)`;
}
