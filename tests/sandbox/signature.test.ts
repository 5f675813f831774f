import { createHash, createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { hmacSha256Hex, signV1, verifyV1 } from '../../src/sandbox/index.js';

interface VectorCase {
  name: string;
  header: string | null;
  expect: string;
  body_override?: string;
}
interface Vector {
  secret: string;
  body: string;
  body_length_bytes: number;
  body_sha256: string;
  cases: VectorCase[];
}

// PagerDuty/go-pagerduty webhookv3 test vector (Apache-2.0), copied into the project.
const vector = JSON.parse(
  readFileSync(new URL('../fixtures/pagerduty-webhook-v3-signature.json', import.meta.url), 'utf8'),
) as Vector;

describe('webhook signatures - PagerDuty V3 test vector', () => {
  it('is the documented 1655-byte body', () => {
    expect(Buffer.byteLength(vector.body)).toBe(vector.body_length_bytes);
    expect(createHash('sha256').update(vector.body).digest('hex')).toBe(vector.body_sha256);
  });

  it("signs the vector's body exactly as its valid case", () => {
    const valid = vector.cases.find((c) => c.name === 'valid');
    expect(signV1(vector.body, [vector.secret])).toBe(valid?.header);
    // The secret is used as its literal bytes, never base64-decoded.
    const reference = createHmac('sha256', vector.secret).update(vector.body).digest('hex');
    expect(hmacSha256Hex(vector.secret, vector.body)).toBe(reference);
  });

  it.each(vector.cases.map((c) => [c.name, c] as const))('case %s', (_name, c) => {
    const body = c.body_override ?? vector.body;
    const accepted = verifyV1(c.header ?? undefined, body, [vector.secret]);
    expect(accepted).toBe(c.expect === 'valid');
  });

  it('puts one v1= entry per secret in force, joined by commas', () => {
    const header = signV1('{}', ['old', 'new']);
    expect(header).toMatch(/^v1=[0-9a-f]{64},v1=[0-9a-f]{64}$/);
    expect(verifyV1(header, '{}', ['new'])).toBe(true);
    expect(verifyV1(header, '{}', ['other'])).toBe(false);
  });
});
