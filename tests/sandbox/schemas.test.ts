import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OpsGenieSimulator, PagerDutySimulator } from '../../src/sandbox/index.js';
import { validateOutbound } from '../helpers/schemas.js';
import { send } from './support.js';

const KEY = 'e93facc04764012d7bfb002500d5d1a6';
const PROVIDER_KEY = 'ir-3f2a9c0b1d4e5f60718293a4b5c6d7e8f9012345';

// PagerDuty/api-schema createV2Event example (docs/providers.md, "PagerDuty events").
const pdSpecTrigger = {
  routing_key: KEY,
  event_action: 'trigger',
  dedup_key: 'srv01/mysql',
  payload: {
    summary: 'DISK at 99% on machine prod-datapipe03.example.com',
    timestamp: '2015-07-17T08:42:58.315+0000',
    severity: 'critical',
    source: 'prod-datapipe03.example.com',
    component: 'mysql',
    group: 'prod-datapipe',
    class: 'disk',
    custom_details: { 'free space': '1%', 'ping time': '1500ms', 'load avg': 0.75 },
  },
  client: 'Sample Monitoring Service',
  client_url: 'https://monitoring.service.com',
  links: [{ href: 'http://pagerduty.example.com', text: 'An example link.' }],
  images: [
    {
      src: 'https://chart.googleapis.com/chart?cht=lc',
      href: 'https://google.com',
      alt: 'An example link with an image',
    },
  ],
};
const pdOurTrigger = {
  routing_key: KEY,
  event_action: 'trigger',
  dedup_key: PROVIDER_KEY,
  payload: {
    summary: 'Database connection failure on payment-service',
    source: 'payment-service',
    severity: 'critical',
    timestamp: '2026-11-24T02:00:00.000Z',
    component: 'database',
    group: 'payments',
    class: 'db-connection-failure',
    custom_details: { fingerprint: 'payment-service:db-connection', occurrences: 1 },
  },
  client: 'incident-router',
  client_url: 'http://127.0.0.1:8000/api/v1/incidents/inc-1',
};
const trigger = (payload: Record<string, unknown>, top: Record<string, unknown> = {}) => ({
  ...pdOurTrigger,
  ...top,
  payload: { ...pdOurTrigger.payload, ...payload },
});

// docs.opsgenie.com/docs/alert-api sample request (docs/providers.md, "OpsGenie create alert").
const ogDocsCreate = {
  message: 'An example alert message',
  alias: 'Life is too short for no alias',
  description: 'Every alert needs a description',
  responders: [
    { id: '4513b7ea-3b91-438f-b7e4-e3e54af9147c', type: 'team' },
    { name: 'NOC', type: 'team' },
    { id: 'bb4d9938-c3c2-455d-aaab-727aa701c0d8', type: 'user' },
    { username: 'trinity@opsgenie.com', type: 'user' },
    { id: 'aee8a0de-c80f-4515-a232-501c0bc9d715', type: 'escalation' },
    { name: 'Nightwatch Escalation', type: 'escalation' },
    { id: '80564037-1984-4f38-b98e-8a1f662df552', type: 'schedule' },
    { name: 'First Responders Schedule', type: 'schedule' },
  ],
  visibleTo: [
    { id: '4513b7ea-3b91-438f-b7e4-e3e54af9147c', type: 'team' },
    { name: 'rocket_team', type: 'team' },
    { id: 'bb4d9938-c3c2-455d-aaab-727aa701c0d8', type: 'user' },
    { username: 'trinity@opsgenie.com', type: 'user' },
  ],
  actions: ['Restart', 'AnExampleAction'],
  tags: ['OverwriteQuietHours', 'Critical'],
  details: { key1: 'value1', key2: 'value2' },
  entity: 'An example entity',
  priority: 'P1',
};
const og = (fields: Record<string, unknown>) => ({
  message: 'Database connection failure on payment-service',
  ...fields,
});

const webhookIncident = {
  version: 'incident-router/v1',
  action: 'trigger',
  incident: {
    id: 'inc-1',
    correlation_id: 'c0ffee00-0000-4000-8000-000000000001',
    fingerprint: 'payment-service:db-connection',
    provider_key: PROVIDER_KEY,
    state: 'triggered',
    severity: 'critical',
    title: 'Database connection failure on payment-service',
    service: 'payment-service',
    team: 'payments',
    occurrences: 3,
    opened_at: '2026-11-24T02:00:00.000Z',
    last_seen: '2026-11-24T02:01:00.000Z',
    url: 'http://127.0.0.1:8000/api/v1/incidents/inc-1',
  },
  sent_at: '2026-11-24T02:01:00.100Z',
};
const incident = (fields: Record<string, unknown>) => ({
  ...webhookIncident,
  incident: { ...webhookIncident.incident, ...fields },
});

describe('outbound schemas - valid examples pass', () => {
  it.each([
    ['pagerduty-event', 'the spec example trigger', pdSpecTrigger],
    ['pagerduty-event', 'our trigger', pdOurTrigger],
    [
      'pagerduty-event',
      'acknowledge',
      { routing_key: KEY, event_action: 'acknowledge', dedup_key: PROVIDER_KEY },
    ],
    ['pagerduty-event', 'resolve', { routing_key: KEY, event_action: 'resolve', dedup_key: PROVIDER_KEY }],
    [
      'pagerduty-event',
      'limits exactly',
      trigger({ summary: 's'.repeat(1024) }, { dedup_key: 'd'.repeat(255) }),
    ],
    ['opsgenie-create-alert', 'the docs sample', ogDocsCreate],
    [
      'opsgenie-create-alert',
      'our create',
      og({ alias: PROVIDER_KEY, priority: 'P2', source: 'incident-router', note: 'n' }),
    ],
    [
      'opsgenie-create-alert',
      'limits exactly',
      og({
        message: 'm'.repeat(130),
        tags: Array(20).fill('t'.repeat(50)),
        details: { k: 'v'.repeat(7999) },
      }),
    ],
    ['opsgenie-action', 'empty', {}],
    [
      'opsgenie-action',
      'a close with user, source and note',
      { user: 'alert-router', source: 'alert-router', note: 'Resolved upstream (incident ir-3f…)' },
    ],
    ['opsgenie-note', 'a note', { note: 'still broken', user: 'incident-router' }],
    ['webhook-incident', 'a trigger', webhookIncident],
    ['webhook-incident', 'a resolve', { ...incident({ state: 'resolved' }), action: 'resolve' }],
  ] as const)('%s: %s', (kind, _name, body) => {
    expect(validateOutbound(kind, body)).toEqual([]);
  });
});

describe('outbound schemas - over-limit and malformed examples fail', () => {
  it.each([
    ['pagerduty-event', 'summary 1025', trigger({ summary: 's'.repeat(1025) })],
    ['pagerduty-event', 'dedup_key 256', trigger({}, { dedup_key: 'd'.repeat(256) })],
    ['pagerduty-event', 'routing_key 31', trigger({}, { routing_key: KEY.slice(1) })],
    ['pagerduty-event', 'routing_key non-alphanumeric', trigger({}, { routing_key: `${KEY.slice(1)}-` })],
    ['pagerduty-event', 'bad severity', trigger({ severity: 'high' })],
    ['pagerduty-event', 'missing source', { ...pdOurTrigger, payload: { summary: 's', severity: 'info' } }],
    ['pagerduty-event', 'bad timestamp', trigger({ timestamp: 'yesterday' })],
    ['pagerduty-event', 'unknown payload field', trigger({ hostname: 'h' })],
    ['pagerduty-event', 'unknown top-level field', trigger({}, { severity: 'critical' })],
    ['pagerduty-event', 'http image', trigger({}, { images: [{ src: 'http://x.example/i.png' }] })],
    ['pagerduty-event', 'acknowledge without dedup_key', { routing_key: KEY, event_action: 'acknowledge' }],
    [
      'pagerduty-event',
      'resolve with payload',
      { routing_key: KEY, event_action: 'resolve', dedup_key: 'k', payload: {} },
    ],
    ['pagerduty-event', 'unknown action', { routing_key: KEY, event_action: 'snooze', dedup_key: 'k' }],
    ['opsgenie-create-alert', 'no message', { alias: 'a' }],
    ['opsgenie-create-alert', 'message 131', og({ message: 'm'.repeat(131) })],
    ['opsgenie-create-alert', 'alias 513', og({ alias: 'a'.repeat(513) })],
    ['opsgenie-create-alert', 'description 15001', og({ description: 'd'.repeat(15_001) })],
    [
      'opsgenie-create-alert',
      'responders 51',
      og({ responders: Array(51).fill({ type: 'team', name: 'x' }) }),
    ],
    ['opsgenie-create-alert', 'responder without identifier', og({ responders: [{ type: 'team' }] })],
    ['opsgenie-create-alert', 'user responder by name', og({ responders: [{ type: 'user', name: 'ann' }] })],
    ['opsgenie-create-alert', 'legacy responder type', og({ responders: [{ type: 'group', id: 'g' }] })],
    ['opsgenie-create-alert', 'visibleTo schedule', og({ visibleTo: [{ type: 'schedule', id: 's' }] })],
    ['opsgenie-create-alert', 'actions 11', og({ actions: Array(11).fill('a') })],
    ['opsgenie-create-alert', 'action 51 chars', og({ actions: ['a'.repeat(51)] })],
    ['opsgenie-create-alert', 'tags 21', og({ tags: Array(21).fill('t') })],
    ['opsgenie-create-alert', 'tag 51 chars', og({ tags: ['t'.repeat(51)] })],
    ['opsgenie-create-alert', 'details value not a string', og({ details: { count: 3 } })],
    ['opsgenie-create-alert', 'details 8001 in total', og({ details: { k: 'v'.repeat(8000) } })],
    ['opsgenie-create-alert', 'entity 513', og({ entity: 'e'.repeat(513) })],
    ['opsgenie-create-alert', 'source 101', og({ source: 's'.repeat(101) })],
    ['opsgenie-create-alert', 'priority P6', og({ priority: 'P6' })],
    ['opsgenie-create-alert', 'user 101', og({ user: 'u'.repeat(101) })],
    ['opsgenie-create-alert', 'note 25001', og({ note: 'n'.repeat(25_001) })],
    ['opsgenie-create-alert', 'unknown field', og({ severity: 'high' })],
    ['opsgenie-action', 'user 101', { user: 'u'.repeat(101) }],
    ['opsgenie-action', 'source 101', { source: 's'.repeat(101) }],
    ['opsgenie-action', 'note 25001', { note: 'n'.repeat(25_001) }],
    ['opsgenie-action', 'unknown field', { reason: 'x' }],
    ['opsgenie-note', 'no note', { user: 'u' }],
    ['opsgenie-note', 'empty note', { note: '' }],
    ['opsgenie-note', 'note 25001', { note: 'n'.repeat(25_001) }],
    ['webhook-incident', 'wrong version', { ...webhookIncident, version: 'v2' }],
    ['webhook-incident', 'unknown action', { ...webhookIncident, action: 'page' }],
    ['webhook-incident', 'bad provider_key', incident({ provider_key: 'srv01/mysql' })],
    ['webhook-incident', 'zero occurrences', incident({ occurrences: 0 })],
    ['webhook-incident', 'bad severity', incident({ severity: 'urgent' })],
    ['webhook-incident', 'bad timestamp', incident({ opened_at: 'now' })],
    ['webhook-incident', 'unknown incident field', incident({ secret: 'x' })],
  ] as const)('%s: %s', (kind, _name, body) => {
    expect(validateOutbound(kind, body)).not.toEqual([]);
  });

  it('names the 8000-character details total that JSON Schema cannot express', () => {
    const errors = validateOutbound(
      'opsgenie-create-alert',
      og({ details: { a: 'x'.repeat(4000), b: 'y'.repeat(3998) } }),
    );
    expect(errors).toEqual([]); // 1 + 4000 + 1 + 3998 = 8000: exactly the limit
    expect(validateOutbound('opsgenie-create-alert', og({ details: { ab: 'x'.repeat(7999) } }))).toEqual([
      '/details must be at most 8000 characters in total (keys + values), got 8001',
    ]);
  });
});

describe('outbound schemas - agree with the simulators, an independent encoding of the same limits', () => {
  let pd: PagerDutySimulator;
  let ops: OpsGenieSimulator;
  beforeAll(async () => {
    pd = await PagerDutySimulator.start();
    ops = await OpsGenieSimulator.start();
  });
  afterAll(async () => {
    await pd.stop();
    await ops.stop();
  });

  it.each([
    [pdSpecTrigger, 202],
    [pdOurTrigger, 202],
    [trigger({ summary: 's'.repeat(1025) }), 400],
    [trigger({}, { dedup_key: 'd'.repeat(256) }), 400],
    [trigger({}, { routing_key: KEY.slice(1) }), 400],
    [trigger({ severity: 'high' }), 400],
  ])('pagerduty %#', async (body, status) => {
    expect(validateOutbound('pagerduty-event', body).length === 0).toBe(status === 202);
    expect((await send(pd.eventsUrl, body)).status).toBe(status);
  });

  it.each([
    [ogDocsCreate, 202],
    [og({ message: 'm'.repeat(131) }), 422],
    [og({ tags: Array(21).fill('t') }), 422],
    [og({ details: { k: 'v'.repeat(8000) } }), 422],
    [og({ responders: [{ type: 'user', name: 'ann' }] }), 422],
    [og({ priority: 'P6' }), 422],
  ])('opsgenie %#', async (body, status) => {
    expect(validateOutbound('opsgenie-create-alert', body).length === 0).toBe(status === 202);
    expect((await send(`${ops.url}/v2/alerts`, body)).status).toBe(status);
  });
});
