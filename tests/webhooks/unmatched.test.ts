// The webhooks no incident matched (src/webhooks/unmatched.ts): the newest kept, newest first, for
// GET /api/v1/webhooks/unmatched; every one counted for the health endpoint.
import { describe, expect, it } from 'vitest';
import { UnmatchedWebhooks, type UnmatchedWebhook } from '../../src/webhooks/unmatched.js';

const webhook = (i: number): UnmatchedWebhook => ({
  at: new Date(Date.UTC(2026, 11, 7, 3, 0, i)).toISOString(),
  provider: 'pagerduty',
  event_type: 'incident.triggered',
  event_id: `ev-${i}`,
  provider_key: null,
  external_id: `Q${i}`,
});

describe('UnmatchedWebhooks', () => {
  it('keeps the newest up to its limit, newest first, and counts every one', () => {
    const unmatched = new UnmatchedWebhooks(4);
    for (let i = 1; i <= 3; i++) unmatched.add(webhook(i));
    expect(unmatched.list().map((w) => w.event_id)).toEqual(['ev-3', 'ev-2', 'ev-1']);
    for (let i = 4; i <= 11; i++) unmatched.add(webhook(i));
    expect(unmatched.list().map((w) => w.event_id)).toEqual(['ev-11', 'ev-10', 'ev-9', 'ev-8']);
    expect(unmatched.total).toBe(11);
  });

  it('hands out a copy: changing the list changes nothing kept', () => {
    const unmatched = new UnmatchedWebhooks(2);
    unmatched.add(webhook(1));
    unmatched.list().length = 0;
    expect(unmatched.list()).toHaveLength(1);
  });
});
