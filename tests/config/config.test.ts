// Environment → configuration (src/config/config.ts): the NATS triage switch.
import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { ConfigError } from '../../src/errors.js';

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
