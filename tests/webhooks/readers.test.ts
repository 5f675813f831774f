// Reading provider webhooks into changes: tables of event types and actions.
import { describe, expect, it } from 'vitest';
import { epochMs, readOpsGenieWebhook } from '../../src/webhooks/opsgenie.js';
import { readPagerDutyWebhook } from '../../src/webhooks/pagerduty.js';
import type { ReadResult } from '../../src/webhooks/inbound.js';

const pd = (eventType: string, extra: Record<string, unknown> = {}, agentType = 'user_reference') => ({
  event: {
    id: 'EVT1',
    event_type: eventType,
    resource_type: 'incident',
    occurred_at: '2026-11-23T10:00:00.123Z',
    agent: { id: 'PU1', type: agentType, summary: 'Tenex Engineer' },
    client: { name: 'PagerDuty' },
    data: {
      id: 'PGR0VU2',
      type: 'incident',
      incident_key: 'ir-0123456789abcdef0123456789abcdef01234567',
      status: 'triggered',
      assignees: [{ summary: 'User 123' }],
      priority: { summary: 'P1' },
      ...extra,
    },
  },
});

function event(result: ReadResult) {
  if (result.kind !== 'event') throw new Error(`expected an event, got ${JSON.stringify(result)}`);
  return result.event;
}

describe('PagerDuty V3 events', () => {
  it.each([
    ['incident.triggered', { kind: 'observe' }],
    ['incident.acknowledged', { kind: 'transition', action: 'acknowledge', note: null, detail: null }],
    ['incident.unacknowledged', { kind: 'transition', action: 'unacknowledge', note: null, detail: null }],
    ['incident.resolved', { kind: 'transition', action: 'resolve', note: null, detail: null }],
    ['incident.reopened', { kind: 'transition', action: 'reopen', note: null, detail: null }],
    ['incident.escalated', { kind: 'transition', action: 'escalate', note: null, detail: 'to User 123' }],
    [
      'incident.reassigned',
      { kind: 'timeline', type: 'reassigned', message: 'reassigned in pd-eu by Tenex Engineer to User 123' },
    ],
    [
      'incident.priority_updated',
      {
        kind: 'timeline',
        type: 'priority_updated',
        message: 'priority set to P1 in pd-eu by Tenex Engineer',
      },
    ],
  ])('%s → %j', (type, change) => {
    const e = event(readPagerDutyWebhook(pd(type)));
    expect(e.change('pd-eu')).toEqual(change);
    expect(e).toMatchObject({
      provider: 'pagerduty',
      eventType: type,
      eventId: 'EVT1',
      dedupId: 'pagerduty:event:EVT1',
      occurredAtMs: Date.parse('2026-11-23T10:00:00.123Z'),
      providerKey: 'ir-0123456789abcdef0123456789abcdef01234567',
      externalId: 'PGR0VU2',
      actor: 'Tenex Engineer',
    });
  });

  it('incident.annotated carries a note and names its incident in data.incident', () => {
    const body = {
      event: {
        id: 'EVT2',
        event_type: 'incident.annotated',
        occurred_at: '2026-11-23T10:00:00Z',
        agent: { type: 'user_reference', summary: 'Ann' },
        data: {
          type: 'incident_note',
          incident: { id: 'PGR0VU2' },
          id: 'N1',
          content: 'rolled back',
          trimmed: false,
        },
      },
    };
    const e = event(readPagerDutyWebhook(body));
    expect(e).toMatchObject({ externalId: 'PGR0VU2', providerKey: null, dedupId: 'pagerduty:event:EVT2' });
    expect(e.change('pagerduty')).toEqual({
      kind: 'timeline',
      type: 'note',
      message: 'note in pagerduty by Ann: rolled back',
    });
  });

  it('our own acknowledge and resolve, coming back through the Events API integration, are observed', () => {
    for (const type of ['incident.acknowledged', 'incident.resolved'])
      expect(event(readPagerDutyWebhook(pd(type, {}, 'inbound_integration_reference'))).change('p')).toEqual({
        kind: 'observe',
      });
    // A human's unacknowledge is never an echo of ours.
    expect(
      event(readPagerDutyWebhook(pd('incident.unacknowledged', {}, 'inbound_integration_reference'))).change(
        'p',
      ).kind,
    ).toBe('transition');
  });

  it('pings, other resources and unmapped types are ignored; a body without an envelope is invalid', () => {
    expect(readPagerDutyWebhook({ event: { id: 'x', event_type: 'pagey.ping' } })).toMatchObject({
      kind: 'ignored',
      reason: 'ping',
    });
    expect(readPagerDutyWebhook(pd('incident.custom_field_values.updated')).kind).toBe('ignored');
    expect(readPagerDutyWebhook(pd('service.updated')).kind).toBe('ignored');
    expect(readPagerDutyWebhook({ hello: 1 }).kind).toBe('invalid');
    expect(readPagerDutyWebhook([]).kind).toBe('invalid');
    expect(readPagerDutyWebhook({ event: { id: 1, event_type: 'incident.resolved' } }).kind).toBe('invalid');
  });

  it('unsafe ids and times are dropped, not trusted', () => {
    const e = event(
      readPagerDutyWebhook({
        event: {
          id: 'E'.repeat(500),
          event_type: 'incident.resolved',
          occurred_at: 'yesterday',
          agent: null,
          data: { id: 'a!b', incident_key: '' },
        },
      }),
    );
    expect(e).toMatchObject({ occurredAtMs: null, externalId: null, providerKey: null, actor: 'PagerDuty' });
    expect(e.dedupId).toMatch(/^pagerduty:event:h[0-9a-f]{40}$/);
  });
});

const og = (action: string, alert: Record<string, unknown> = {}, source = { name: 'web', type: 'web' }) => ({
  source,
  alert: {
    alertId: '052652ac-5d1c-464a-812a-7dd18bbfba8c',
    alias: 'ir-0123456789abcdef0123456789abcdef01234567',
    username: 'fili@ifountain.com',
    updatedAt: 1420452193166002000,
    ...alert,
  },
  action,
  integrationId: 'i',
  integrationName: 'n',
});

describe('OpsGenie webhooks', () => {
  it.each([
    ['Create', { kind: 'observe' }],
    ['Acknowledge', { kind: 'transition', action: 'acknowledge', note: null, detail: null }],
    ['UnAcknowledge', { kind: 'transition', action: 'unacknowledge', note: null, detail: null }],
    ['Close', { kind: 'transition', action: 'resolve', note: null, detail: null }],
    ['Delete', { kind: 'transition', action: 'resolve', note: null, detail: 'alert deleted' }],
    ['Escalate', { kind: 'transition', action: 'escalate', note: null, detail: null }],
    ['AddNote', { kind: 'timeline', type: 'note', message: 'note in og by fili@ifountain.com: checking' }],
    [
      'AssignOwnership',
      {
        kind: 'timeline',
        type: 'owner_changed',
        message: 'ownership assigned to bob in og by fili@ifountain.com',
      },
    ],
    [
      'TakeOwnership',
      {
        kind: 'timeline',
        type: 'owner_changed',
        message: 'ownership taken in og by fili@ifountain.com (owner fili@ifountain.com)',
      },
    ],
  ])('%s → %j', (action, change) => {
    const e = event(readOpsGenieWebhook(og(action, { note: 'checking', owner: 'bob' })));
    expect(e.change('og')).toEqual(change);
    expect(e).toMatchObject({
      provider: 'opsgenie',
      eventType: action,
      occurredAtMs: 1420452193166,
      providerKey: 'ir-0123456789abcdef0123456789abcdef01234567',
      externalId: '052652ac-5d1c-464a-812a-7dd18bbfba8c',
      actor: 'fili@ifountain.com',
    });
  });

  it('the replay key is stable for a redelivery and differs for any other action on the alert', () => {
    const id = (body: unknown) => event(readOpsGenieWebhook(body)).dedupId;
    expect(id(og('Acknowledge'))).toBe(id(JSON.parse(JSON.stringify(og('Acknowledge')))));
    expect(id(og('Acknowledge'))).not.toBe(id(og('Close')));
    expect(id(og('Acknowledge'))).not.toBe(id(og('Acknowledge', { updatedAt: 1420452193167002000 })));
    expect(id(og('AddNote', { note: 'a' }))).not.toBe(id(og('AddNote', { note: 'b' })));
    expect(id(og('Acknowledge'))).toMatch(/^opsgenie:[0-9a-f]{40}$/);
  });

  it('our own acknowledge and close (made through the API as incident-router) are observed', () => {
    const ours = og('Acknowledge', { username: 'incident-router' }, { name: 'incident-router', type: 'API' });
    expect(event(readOpsGenieWebhook(ours)).change('og')).toEqual({ kind: 'observe' });
    const someoneElsesApi = og('Close', { username: 'bot' }, { name: 'terraform', type: 'API' });
    expect(event(readOpsGenieWebhook(someoneElsesApi)).change('og').kind).toBe('transition');
  });

  it('unknown actions are ignored; a body without action and alert is invalid', () => {
    expect(readOpsGenieWebhook(og('CustomThing')).kind).toBe('ignored');
    expect(readOpsGenieWebhook({ action: 'Close' }).kind).toBe('invalid');
    expect(readOpsGenieWebhook('Close').kind).toBe('invalid');
  });

  it.each([
    [1420452193166002000, 1420452193166],
    ['1420452193166002000', 1420452193166],
    [1420452193166002, 1420452193166],
    [1420452193166, 1420452193166],
    [1420452193, 1420452193000],
    [0, null],
    [-5, null],
    ['soon', null],
    [null, null],
  ])('updatedAt %j → %j ms', (value, ms) => {
    expect(epochMs(value)).toBe(ms);
  });
});
