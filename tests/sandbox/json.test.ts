// The simulators' JSON parsing (src/sandbox/json.ts): never throws, and one body is parsed once.
import { describe, expect, it } from 'vitest';
import { maskCredentials, parseJson } from '../../src/sandbox/json.js';

describe('parseJson', () => {
  it('parses one request body once: the same bytes give the same value', () => {
    const body = Buffer.from('{"event_action":"trigger","payload":{"summary":"x"}}');
    const first = parseJson(body);
    const second = parseJson(body);
    expect(first).toEqual({ ok: true, value: { event_action: 'trigger', payload: { summary: 'x' } } });
    expect(second).toBe(first);
    // Another buffer with the same text is another request: parsed on its own.
    expect(parseJson(Buffer.from(body))).not.toBe(first);
  });

  it('never throws: empty, truncated and non-UTF-8 bodies are not JSON', () => {
    expect(parseJson(Buffer.alloc(0))).toEqual({ ok: false });
    expect(parseJson(Buffer.from('{"a":'))).toEqual({ ok: false });
    expect(parseJson(Buffer.from([0xff, 0xfe, 0x7b]))).toEqual({ ok: false });
    expect(parseJson('')).toEqual({ ok: false });
    expect(parseJson('[1]')).toEqual({ ok: true, value: [1] });
  });
});

describe('maskCredentials', () => {
  it('masks routing and API keys at any depth, keeps everything else, and copies', () => {
    const value = {
      routing_key: 'e93facc04764012d7bfb002500d5d1a6',
      nested: [{ routingKey: 'abcdefgh', apiKey: 'xyz', api_key: 12, note: 'routing_key' }],
    };
    expect(maskCredentials(value)).toEqual({
      routing_key: '****d1a6',
      nested: [{ routingKey: '****efgh', apiKey: '****', api_key: 12, note: 'routing_key' }],
    });
    expect(value.routing_key).toBe('e93facc04764012d7bfb002500d5d1a6');
  });

  it('keeps a `__proto__` key a client sent as a plain field', () => {
    const parsed = JSON.parse('{"__proto__":{"routing_key":"e93facc04764012d7bfb002500d5d1a6"}}') as unknown;
    const masked = maskCredentials(parsed) as Record<string, unknown>;
    expect(Object.getPrototypeOf(masked)).toBe(Object.prototype);
    expect(JSON.stringify(masked)).toBe('{"__proto__":{"routing_key":"****d1a6"}}');
  });
});

describe('maskCredentials in headers', () => {
  it('masks credential-named headers of a delivery, and only in a `headers` object', () => {
    const delivery = {
      headers: { 'content-type': 'application/json', 'x-webhook-token': 'og-webhook-token-1234' },
      body: { token: 'not a header', dedupKey: 'ir-1' },
    };
    expect(maskCredentials(delivery)).toEqual({
      headers: { 'content-type': 'application/json', 'x-webhook-token': '****1234' },
      body: { token: 'not a header', dedupKey: 'ir-1' },
    });
  });
});
