// Issue 11, finding 1: candidate policies sent to /policy/validate and /policy/dry-run were
// interpolated from the whole process environment and their answers were not scrubbed, so
// `team: "${API_TOKEN}"` returned the token in an error and `title: '${PAGERDUTY_ROUTING_KEY}'`
// returned the key in a dry-run; GET /api/v1/policy showed a refused reload's errors unmasked.
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Sandbox } from '../../src/sandbox/index.js';
import { get, post, startTestApp, waitFor } from '../helpers/app.js';
import { SHIPPED_POLICY_DIR } from '../helpers/policy.js';
import { useSimulators } from '../helpers/sandbox.js';

const SECRETS = {
  API_TOKEN: 'api-token-0123456789-abcdef',
  PAGERDUTY_WEBHOOK_SECRET: 'pd-webhook-secret-0123456789',
  OPSGENIE_WEBHOOK_TOKEN: 'og-webhook-token-0123456789',
  UNRELATED_PASSWORD: 'hunter2-but-longer',
};
const AUTH = { authorization: `Bearer ${SECRETS.API_TOKEN}` };
const ROUTING_KEY = 'R0123456789abcdef0123456789abcdef'.slice(0, 32);
const EVENT = {
  timestamp: '2026-11-24T15:00:00Z',
  service: 'payment-service',
  level: 'fatal',
  message: 'connection refused',
};

let sandbox: Sandbox;
useSimulators((s) => (sandbox = s));

/** A candidate policy: the shipped files plus one more. */
async function candidate(extra: string): Promise<{ files: Record<string, string> }> {
  const files: Record<string, string> = {};
  for (const name of (await readdir(SHIPPED_POLICY_DIR)).filter((f) => f.endsWith('.yaml')))
    files[name] = await readFile(join(SHIPPED_POLICY_DIR, name), 'utf8');
  files['zz-extra.yaml'] = `apiVersion: incident-router/v1\n${extra}\n`;
  return { files };
}

function expectNoSecret(text: string): void {
  for (const value of [...Object.values(SECRETS), ROUTING_KEY, process.env['HOME'] ?? '/root'])
    expect(text).not.toContain(value);
}

describe('candidate policies never see the environment', () => {
  it('validate: a team named after a secret is reported as "$API_TOKEN", not the token', async () => {
    const t = await startTestApp(SECRETS, { production: true, sandbox, captureLogs: true });
    try {
      const res = await post(
        `${t.url}/api/v1/policy/validate`,
        await candidate('services:\n  leak: { team: "${API_TOKEN}" }\n  home: { team: "${HOME}" }'),
        AUTH,
      );
      expect(res.status).toBe(200);
      expect(res.body.valid).toBe(false);
      expect(res.body.errors).toEqual(
        expect.arrayContaining([
          expect.stringContaining('services.leak.team: "$API_TOKEN" is not a valid name'),
          expect.stringContaining('services.home.team: "$HOME" is not a valid name'),
        ]),
      );
      expectNoSecret(JSON.stringify(res.body));
      expectNoSecret(t.logs());
    } finally {
      await t.stop();
    }
  });

  it('dry-run: a title built from a provider key shows the placeholder, never the key', async () => {
    const t = await startTestApp(SECRETS, { production: true, sandbox, captureLogs: true });
    try {
      const policy = await candidate(
        "classify:\n  - name: leak\n    priority: 10000\n    when: { all: [{ fact: service, operator: equal, value: payment-service }] }\n    severity: critical\n    title: 'key ${PAGERDUTY_ROUTING_KEY} home ${HOME}'",
      );
      const res = await post(`${t.url}/api/v1/policy/dry-run`, { event: EVENT, policy }, AUTH);
      expect(res.status).toBe(200);
      expect(res.body.title).toBe('key $PAGERDUTY_ROUTING_KEY home $HOME');
      expectNoSecret(JSON.stringify(res.body));
      expectNoSecret(t.logs());
    } finally {
      await t.stop();
    }
  });

  it('the shipped policy validates as a candidate in production: withheld keys are not checked', async () => {
    const t = await startTestApp(SECRETS, { production: true, sandbox });
    try {
      const res = await post(`${t.url}/api/v1/policy/validate`, await candidate('teams:\n  spare: {}'), AUTH);
      expect(res.body).toMatchObject({ valid: true, errors: [] });
      expectNoSecret(JSON.stringify(res.body));
    } finally {
      await t.stop();
    }
  });

  it('POLICY_CANDIDATE_ENV lets the operator share chosen variables with candidates', async () => {
    const t = await startTestApp(
      { ...SECRETS, POLICY_CANDIDATE_ENV: 'REGION', REGION: 'eu-west-1' },
      { production: true, sandbox },
    );
    try {
      const policy = await candidate(
        "classify:\n  - name: region\n    priority: 10000\n    when: { all: [{ fact: service, operator: equal, value: payment-service }] }\n    severity: critical\n    title: 'in ${REGION}, not ${API_TOKEN}'",
      );
      const res = await post(`${t.url}/api/v1/policy/dry-run`, { event: EVENT, policy }, AUTH);
      expect(res.body.title).toBe('in eu-west-1, not $API_TOKEN');
    } finally {
      await t.stop();
    }
  });

  it('endpoints that evaluate submitted YAML require the token; a plain dry-run does not', async () => {
    const t = await startTestApp(SECRETS, { production: true, sandbox });
    try {
      const policy = await candidate('teams:\n  spare: {}');
      const validate = await post(`${t.url}/api/v1/policy/validate`, policy);
      expect(validate.status).toBe(401);
      const dry = await post(`${t.url}/api/v1/policy/dry-run`, { event: EVENT, policy });
      expect(dry.status).toBe(401);
      expect((await post(`${t.url}/api/v1/policy/dry-run`, { event: EVENT })).status).toBe(200);
      // Any case of the scheme (RFC 9110).
      const lower = { authorization: `bearer ${SECRETS.API_TOKEN}` };
      expect((await post(`${t.url}/api/v1/policy/validate`, policy, lower)).status).toBe(200);
    } finally {
      await t.stop();
    }
  });
});

describe('answers and logs are masked by one function', () => {
  it('a refused reload of a policy on disk that misuses a secret shows it masked everywhere', async () => {
    const t = await startTestApp(SECRETS, { production: true, sandbox, captureLogs: true });
    try {
      await writeFile(
        join(t.policyDir, 'zz-misuse.yaml'),
        'apiVersion: incident-router/v1\nservices:\n  leak: { team: "${API_TOKEN}" }\n  pw: { team: "${UNRELATED_PASSWORD}" }\n',
      );
      const refused = await post(`${t.url}/api/v1/policy/reload`, {}, AUTH);
      expect(refused.status).toBe(422);
      const shown = (await get(`${t.url}/api/v1/policy`)).body;
      expect(shown.last_reload.errors).toEqual(
        expect.arrayContaining([expect.stringContaining('unknown team "****cdef"')]),
      );
      expectNoSecret(JSON.stringify(refused.body));
      expectNoSecret(JSON.stringify(shown));
      // The configuration's secrets stay masked in logs after a reload replaced the policy's.
      await writeFile(join(t.policyDir, 'zz-misuse.yaml'), 'apiVersion: incident-router/v1\n');
      expect((await post(`${t.url}/api/v1/policy/reload`, {}, AUTH)).status).toBe(200);
      t.app.logger.warn({ event: 'probe', header: `Bearer ${SECRETS.API_TOKEN}` }, 'probe');
      await waitFor(async () => t.logs().includes('"event":"probe"'));
      expectNoSecret(t.logs());
    } finally {
      await t.stop();
    }
  });
});
