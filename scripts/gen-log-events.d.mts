export interface GenerateOptions {
  count?: number;
  seed?: number;
  alerting?: number;
  invalid?: number;
  rate?: number;
  start?: string;
  storm?: string;
}
export const SERVICES: string[];
export function eventLines(options?: GenerateOptions): Generator<string>;
export function generateEvents(options?: GenerateOptions): string[];
