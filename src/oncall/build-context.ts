// What building a schedule needs from the policy around it, and how its problems are told.
export type Path = (string | number)[];
export interface ScheduleProblem {
  path: Path;
  message: string;
}

export interface BuildContext {
  /** `settings.timezone`, for schedules without their own. */
  defaultZone: string;
  isPerson(name: string): boolean;
  /** ` (did you mean "x"?)` for an unknown person, or ''. */
  suggestPerson?(name: string): string;
}

export function unknownPerson(person: string, ctx: BuildContext): string {
  return `unknown person ${JSON.stringify(person)}${ctx.suggestPerson?.(person) ?? ''}: define it under people`;
}
