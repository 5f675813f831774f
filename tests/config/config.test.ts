// Environment → configuration (src/config/config.ts): the NATS triage switch.
import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { ConfigError } from '../../src/errors.js';
import { problems } from './support.js';

const nats = (extra: Record<string, string>) =>
  loadConfig({ NATS_URL: 'nats://127.0.0.1:4222', ...extra }).nats;

describe('NATS_TRIAGE', () => {
  it('is on with two or more CPUs unless set, and can be forced either way', () => {
    expect(nats({})?.triage).toBe(availableParallelism() >= 2);
    expect(nats({ NATS_TRIAGE: 'auto' })?.triage).toBe(availableParallelism() >= 2);
    expect(nats({ NATS_TRIAGE: 'on' })?.triage).toBe(true);
    expect(nats({ NATS_TRIAGE: 'off' })?.triage).toBe(false);
  });

  it('refuses anything else, naming the variable and the choices', () => {
    expect(() => nats({ NATS_TRIAGE: 'yes' })).toThrow(ConfigError);
    try {
      nats({ NATS_TRIAGE: 'yes' });
    } catch (err) {
      expect((err as ConfigError).problems).toEqual(['NATS_TRIAGE="yes": expected one of auto, on, off']);
    }
  });
});

describe('tokens (issue 11, finding 6)', () => {
  it('refuses a token with a trailing newline, which HTTP trimming would make impossible to match', () => {
    expect(problems({ API_TOKEN: 'a-long-enough-api-token\n' })).toEqual([
      expect.stringMatching(/^API_TOKEN: has leading or trailing whitespace/),
    ]);
    expect(problems({ OPSGENIE_WEBHOOK_TOKEN: ' og-token' })).toEqual([
      expect.stringMatching(/^OPSGENIE_WEBHOOK_TOKEN: has leading or trailing whitespace/),
    ]);
  });

  it('refuses tokens and secrets that are only whitespace', () => {
    expect(problems({ API_TOKEN: '                    ' })).toEqual(['API_TOKEN: is only whitespace']);
    expect(problems({ OPSGENIE_WEBHOOK_TOKEN: '\t' })).toEqual([
      'OPSGENIE_WEBHOOK_TOKEN: is only whitespace',
    ]);
    expect(problems({ PAGERDUTY_WEBHOOK_SECRET: ' \n' })).toEqual([
      'PAGERDUTY_WEBHOOK_SECRET: is only whitespace',
    ]);
  });

  it('accepts well-formed tokens and rotating PagerDuty secrets with spaces between them', () => {
    expect(
      problems({
        API_TOKEN: 'a-long-enough-api-token',
        OPSGENIE_WEBHOOK_TOKEN: 'og-token',
        PAGERDUTY_WEBHOOK_SECRET: 'old-secret, new-secret\n',
      }),
    ).toEqual([]);
  });
});

describe('API_TOKEN and OPSGENIE_WEBHOOK_TOKEN while rotating', () => {
  it('API_TOKEN takes several comma-separated tokens, each at least 16 characters', () => {
    expect(problems({ API_TOKEN: 'api-token-before-the-rotation,api-token-after-the-rotation' })).toEqual([]);
    expect(problems({ API_TOKEN: 'a-long-enough-api-token,short' })).toEqual([
      'API_TOKEN: several tokens (comma-separated, while rotating) must each have at least 16 characters',
    ]);
  });

  it('OPSGENIE_WEBHOOK_TOKEN takes several comma-separated tokens, each a secret of its own length', () => {
    expect(
      problems({ OPSGENIE_WEBHOOK_TOKEN: 'og-webhook-token-before-0001, og-webhook-token-after-00002' }),
    ).toEqual([]);
    // One short token stays allowed as before; a comma makes each part a token that must stand alone.
    expect(problems({ OPSGENIE_WEBHOOK_TOKEN: 'og' })).toEqual([]);
    expect(problems({ OPSGENIE_WEBHOOK_TOKEN: 'abc,def' })).toEqual([
      'OPSGENIE_WEBHOOK_TOKEN: several tokens (comma-separated, while rotating) must each have at least 16 characters',
    ]);
  });
});

describe('POLICY_CANDIDATE_ENV (issue 11, finding 1)', () => {
  it('shares only the named variables that are set with candidate policies', () => {
    const config = loadConfig({ POLICY_CANDIDATE_ENV: 'REGION, ZONE', REGION: 'eu', HOME: '/root' });
    expect(config.candidateEnv).toEqual({ REGION: 'eu' });
    expect(problems({ POLICY_CANDIDATE_ENV: 'GOOD,not-a-name' })).toEqual([
      'POLICY_CANDIDATE_ENV: "not-a-name" is not a variable name',
    ]);
  });

  it('treats the values of credential-named variables as secrets to mask', () => {
    const config = loadConfig({ AWS_SECRET_ACCESS_KEY: 'abc123secret', HOME: '/root', DB_PASSWORD: 'pw' });
    expect(config.secretValues).toEqual(['abc123secret', 'pw']);
  });
});
