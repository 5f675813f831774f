// The PagerDuty V3 signature test vector (go-pagerduty webhookv3_test.go plus derived cases;
// docs/providers.md, "PagerDuty webhook signatures").
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { signV1 } from '../../src/sandbox/index.js';
import { verifyPagerDutySignature, webhookSecrets } from '../../src/webhooks/signature.js';

interface VectorCase {
  name: string;
  header: string | null;
  body_override?: string;
  expect: string;
}
const vector = JSON.parse(
  readFileSync(new URL('../fixtures/pagerduty-webhook-v3-signature.json', import.meta.url), 'utf8'),
) as { secret: string; body: string; body_length_bytes: number; cases: VectorCase[] };

describe('PagerDuty signature - the test vector', () => {
  it('has the body the vector documents', () => {
    expect(Buffer.byteLength(vector.body)).toBe(vector.body_length_bytes);
  });

  for (const c of vector.cases) {
    it(`${c.name}: ${c.expect}`, () => {
      const body = Buffer.from(c.body_override ?? vector.body, 'utf8');
      const check = verifyPagerDutySignature(c.header ?? undefined, body, [vector.secret]);
      expect(check.ok).toBe(c.expect === 'valid');
    });
  }

  it('names why each failing case fails', () => {
    const body = Buffer.from(vector.body);
    const reason = (header: string | undefined, b = body) => {
      const check = verifyPagerDutySignature(header, b, [vector.secret]);
      return check.ok ? 'ok' : check.reason;
    };
    const byName = Object.fromEntries(vector.cases.map((c) => [c.name, c]));
    expect(reason(undefined)).toBe('missing');
    expect(reason(byName['mismatch']!.header!)).toBe('mismatch');
    expect(reason(byName['empty_body']!.header!, Buffer.alloc(0))).toBe('empty_body');
    expect(reason(byName['unknown_version_ignored']!.header!)).toBe('no_v1');
    expect(reason('v1=not-hex')).toBe('malformed');
    expect(reason(byName['body_with_trailing_newline']!.header!, Buffer.from(`${vector.body}\n`))).toBe(
      'mismatch',
    );
  });

  it('the secret is used as its literal bytes, never base64-decoded', () => {
    const decoded = Buffer.from(vector.secret, 'base64').toString('latin1');
    const valid = vector.cases.find((c) => c.name === 'valid')!.header!;
    expect(verifyPagerDutySignature(valid, Buffer.from(vector.body), [decoded]).ok).toBe(false);
  });

  it('rotation on our side: any configured secret may match', () => {
    const valid = vector.cases.find((c) => c.name === 'valid')!.header!;
    expect(verifyPagerDutySignature(valid, Buffer.from(vector.body), ['old-secret', vector.secret]).ok).toBe(
      true,
    );
    expect(verifyPagerDutySignature(valid, Buffer.from(vector.body), []).ok).toBe(false);
  });

  it('tolerates spaces and upper-case hex, as a lenient receiver should', () => {
    const hex = signV1(vector.body, [vector.secret]).slice(3);
    expect(
      verifyPagerDutySignature(`v2=abc, v1=${hex.toUpperCase()}`, Buffer.from(vector.body), [vector.secret])
        .ok,
    ).toBe(true);
  });

  it('PAGERDUTY_WEBHOOK_SECRET may list several secrets during a rotation', () => {
    expect(webhookSecrets(null)).toEqual([]);
    expect(webhookSecrets('abc+/=')).toEqual(['abc+/=']);
    expect(webhookSecrets(' old+/= , new== ')).toEqual(['old+/=', 'new==']);
  });
});
