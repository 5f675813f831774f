// The simulators' JSON parsing (src/sandbox/json.ts): never throws, and one body is parsed once.
import { describe, expect, it } from 'vitest';
import { parseJson } from '../../src/sandbox/json.js';

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
