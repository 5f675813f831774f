// A class found while hardening (issue 11): fingerprints and memo keys are built from event text.
// A fingerprint template with `{message}` made 64 KiB keys (the store refused them: the event
// failed) or empty ones (`{host}` on an event without a host); json-rules-engine answers were
// memoised under keys of any length. Both are bounded now.
import { describe, expect, it } from 'vitest';
import { boundFingerprint, MAX_FINGERPRINT_CHARS } from '../../src/domain/provider-key.js';
import { get, post, startTestApp } from '../helpers/app.js';

const messageFingerprint = (text: string): string =>
  `${text}\n  - name: by-message\n    priority: 1000\n    when: { all: [{ fact: message, operator: matches, value: '^long ' }] }\n    severity: critical\n    title: 'Long on {service}'\n    fingerprint: '{message}'\n  - name: by-host\n    priority: 1000\n    when: { all: [{ fact: message, operator: matches, value: '^hostless' }] }\n    severity: critical\n    title: 'Hostless on {service}'\n    fingerprint: '{host}'\n  - name: long-recovered\n    priority: 1000\n    when: { all: [{ fact: message, operator: matches, value: '^recovered ' }] }\n    resolve: 'long {attributes.tail}'\n`;

describe('fingerprints built from event text', () => {
  it('are bounded: the same long text gives the same short fingerprint, different texts differ', () => {
    const long = 'x'.repeat(70_000);
    expect(boundFingerprint(long)).toHaveLength(MAX_FINGERPRINT_CHARS);
    expect(boundFingerprint(long)).toBe(boundFingerprint(long));
    expect(boundFingerprint(`${long}a`)).not.toBe(boundFingerprint(`${long}b`));
    expect(boundFingerprint('payment-service:db')).toBe('payment-service:db');
    expect(boundFingerprint('')).toBe('(empty)');
  });

  it('a 60 KB message as the fingerprint opens one incident, dedups its repeats and resolves by it', async () => {
    const t = await startTestApp({}, { edits: { 'classify.yaml': messageFingerprint } });
    try {
      const tail = 'y'.repeat(60_000);
      const event = (message: string, extra: object = {}) => ({
        timestamp: new Date().toISOString(),
        service: 'search',
        level: 'error',
        message,
        ...extra,
      });
      const first = await post(`${t.url}/api/v1/events`, event(`long ${tail}`));
      expect(first).toMatchObject({ status: 202, body: { outcomes: { paged: 1 } } });
      const again = await post(`${t.url}/api/v1/events`, event(`long ${tail}`));
      expect(again.body.outcomes).toEqual({ deduplicated: 1 });
      const hostless = await post(`${t.url}/api/v1/events`, event('hostless event'));
      expect(hostless.body.outcomes).toEqual({ paged: 1 });
      const resolved = await post(`${t.url}/api/v1/events`, event('recovered now', { attributes: { tail } }));
      expect(resolved.body.outcomes).toEqual({ resolved: 1 });
      const open = (await get(`${t.url}/api/v1/incidents?state=triggered`)).body.incidents;
      expect(open.map((i: { fingerprint: string }) => i.fingerprint)).toEqual(['(empty)']);
    } finally {
      await t.stop();
    }
  });
});
