// The active policy (GET /api/v1/policy), loaded once and again after each reload the stream reports.
import { api } from './api';
import { useLoad, useLive, type Loaded } from './hooks';
import { live } from './live';
import type { PolicyInfo } from './types';

export type ActivePolicy = PolicyInfo & { rules: Record<string, string> };

export function useActivePolicy(): Loaded<ActivePolicy> {
  useLive();
  return useLoad(() => api<ActivePolicy>('GET', '/api/v1/policy'), [], live.lastPolicy?.at ?? null);
}
