// The one function every answer and log line passes through (issue 11): whole secrets, secrets cut
// short for display, and groups that a policy reload replaces without dropping the configuration's.
import { describe, expect, it } from 'vitest';
import { SecretScrubber } from '../../src/telemetry/logger.js';

const KEY = 'R0abcdefghijklmnopqrstuvwxyz1234';

describe('SecretScrubber', () => {
  it('masks whole secrets to **** and their last 4 characters', () => {
    const s = new SecretScrubber();
    s.set('policy', [KEY]);
    expect(s.scrub(`key ${KEY} and again ${KEY}`)).toBe('key ****1234 and again ****1234');
  });

  it('masks a head of a secret cut short before an ellipsis, as error messages quote long values', () => {
    const s = new SecretScrubber();
    s.set('policy', [KEY, 'token-0123456789']);
    expect(s.scrub(`rule "page-${KEY.slice(0, 20)}..." and token-012345…`)).toBe(
      'rule "page-****..." and ****…',
    );
    expect(s.scrub('short R0abcde... stays')).toBe('short R0abcde... stays');
  });

  it('finds secrets made of regular-expression characters as they are, and nothing that only looks like them', () => {
    const s = new SecretScrubber();
    s.set('config', ['p4ss.w0rd+(x)*$', 'a|b|c|d|e']);
    expect(s.scrub('pass p4ss.w0rd+(x)*$ and a|b|c|d|e')).toBe('pass ****x)*$ and ****|d|e');
    expect(s.scrub('p4ssXw0rd+(x)*$ a or b')).toBe('p4ssXw0rd+(x)*$ a or b');
    expect(s.holdsSecret('nothing here')).toBe(false);
    expect(s.holdsSecret('cut short...')).toBe(true);
  });

  it('keeps each group: a policy reload replaces the policy keys, not the configuration tokens', () => {
    const s = new SecretScrubber();
    s.set('config', ['api-token-abcdef']);
    s.set('policy', [KEY]);
    s.set('policy', ['other-key-xyz']);
    expect(s.scrub('api-token-abcdef other-key-xyz')).toBe('****cdef ****-xyz');
    expect(s.holdsSecret(KEY)).toBe(false);
  });
});
