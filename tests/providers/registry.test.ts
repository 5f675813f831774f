import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { createProviders, teamOverrides, type ProviderRegistry } from '../../src/providers/registry.js';
import type { DeliveryAction } from '../../src/domain/incident.js';
import {
  expectValidOutbound,
  makeIncident,
  OG_KEY,
  OG_PAYMENTS_KEY,
  opsGenieSpec,
  pagerDutySpec,
  PD_KEY,
  PD_PAYMENTS_KEY,
  requestFor,
  WEBHOOK_SECRET,
  webhookSpec,
} from './support.js';

const OTHER_PD_KEY = 'abcdefabcdefabcdefabcdefabcdef12';

let sandbox: Sandbox;
let registry: ProviderRegistry;

const TEAMS = {
  payments: {
    pagerduty: { routing_key: PD_PAYMENTS_KEY },
    opsgenie: { api_key: OG_PAYMENTS_KEY, responders: [{ type: 'team' as const, name: 'payments' }] },
    chatops: { url: 'http://127.0.0.1:1/payments' },
  },
  security: { opsgenie: { responders: [{ type: 'team' as const, name: 'security' }] } },
};

beforeAll(async () => {
  sandbox = await startSandbox({ webhook: { secret: WEBHOOK_SECRET } });
  registry = createProviders(
    {
      pagerduty: pagerDutySpec(sandbox.urls.pagerdutyEvents),
      'pagerduty-eu': pagerDutySpec(sandbox.urls.pagerdutyEvents, { routing_key: OTHER_PD_KEY }),
      opsgenie: opsGenieSpec(sandbox.urls.opsgenie),
      chatops: webhookSpec(sandbox.urls.webhook, { secret: WEBHOOK_SECRET }),
    },
    TEAMS,
  );
});
afterAll(async () => {
  await registry.close();
  await sandbox.stop();
});

describe('provider registry', () => {
  it('builds one provider per named instance', () => {
    expect(registry.names()).toEqual(['pagerduty', 'pagerduty-eu', 'opsgenie', 'chatops']);
    expect(registry.get('pagerduty-eu').type).toBe('pagerduty');
    expect(registry.get('opsgenie').type).toBe('opsgenie');
    expect(registry.get('chatops')).toMatchObject({ type: 'webhook', name: 'chatops' });
    expect(registry.has('nope')).toBe(false);
    expect(() => registry.get('nope')).toThrow(/unknown provider "nope"/);
  });

  it('applies team overrides by provider instance name only', () => {
    expect(registry.get('pagerduty').target('payments').routing_key).toBe(PD_PAYMENTS_KEY);
    expect(registry.get('pagerduty-eu').target('payments').routing_key).toBe(OTHER_PD_KEY);
    expect(registry.get('pagerduty').target('security').routing_key).toBe(PD_KEY);
    expect(registry.get('opsgenie').target('payments').api_key).toBe(OG_PAYMENTS_KEY);
    expect(registry.get('opsgenie').target('security').api_key).toBe(OG_KEY);
    expect(registry.get('chatops').target('payments').url).toBe('http://127.0.0.1:1/payments');
    expect(registry.get('chatops').target('security').url).toBe(sandbox.urls.webhook);
    expect(teamOverrides('opsgenie', TEAMS)).toEqual({
      payments: TEAMS.payments.opsgenie,
      security: TEAMS.security.opsgenie,
    });
  });

  it('every action of every provider produces bodies valid against the outbound schemas', async () => {
    const actions: DeliveryAction[] = ['trigger', 'acknowledge', 'note', 'resolve'];
    const incident = makeIncident({ team: 'security' });
    for (const name of ['pagerduty', 'opsgenie', 'chatops']) {
      const provider = registry.get(name);
      for (const action of actions) {
        const answer = await provider.send(
          requestFor(provider, action, incident, `${action} note`),
          AbortSignal.timeout(5_000),
        );
        expect(answer.status).toBeGreaterThanOrEqual(200);
        expect(answer.status).toBeLessThan(300);
      }
    }
    expectValidOutbound(sandbox.pagerduty.requests());
    expectValidOutbound(sandbox.opsgenie.requests());
    expectValidOutbound(sandbox.webhook.requests());
    expect(sandbox.pagerduty.incident(incident.provider_key)?.status).toBe('resolved');
    expect(sandbox.opsgenie.alert(incident.provider_key)).toMatchObject({
      status: 'closed',
      responders: [{ type: 'team', name: 'security' }],
    });
    expect(sandbox.webhook.received().map((r) => r.signatureValid)).toEqual([true, true, true]);
  });

  it('closes every pool; a closed registry can be closed again', async () => {
    const other = createProviders({ pagerduty: pagerDutySpec(sandbox.urls.pagerdutyEvents) }, {});
    await other.close();
    await expect(other.close()).resolves.toBeUndefined();
  });
});
