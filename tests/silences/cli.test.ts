// `incident-router silence add|list|expire` against a running sidecar, run as a user runs them
// (URL and token from the environment, then from flags).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseMatcher } from '../../src/cli/silence-command.js';
import { get, startTestApp, type TestApp } from '../helpers/app.js';
import { runCli } from '../helpers/cli.js';

const TOKEN = 'cli-silence-token-0123456789';
const SLOW = 120_000;
let t: TestApp;

beforeAll(async () => {
  t = await startTestApp({ API_TOKEN: TOKEN });
});
afterAll(async () => t?.stop());

describe('incident-router silence', () => {
  it('parses matchers like amtool', () => {
    expect(parseMatcher('service=api')).toEqual({ fact: 'service', op: 'equal', value: 'api' });
    expect(parseMatcher('message=~pool (exhausted|refused)')).toEqual({
      fact: 'message',
      op: 'matches',
      value: 'pool (exhausted|refused)',
    });
    expect(parseMatcher('attributes.region=eu=1')).toEqual({
      fact: 'attributes',
      op: 'equal',
      value: 'eu=1',
      path: 'region',
    });
  });

  it(
    'add, list, expire; refused without the token, the server’s 400 shown',
    async () => {
      const env = { INCIDENT_ROUTER_URL: t.url, INCIDENT_ROUTER_TOKEN: TOKEN };
      const added = await runCli(
        [
          'silence',
          'add',
          'service=cli-svc',
          'message=~refused',
          '--comment',
          'db migration',
          '--author',
          'dana',
          '--duration',
          '2h',
        ],
        env,
      );
      expect(added.stderr).toBe('');
      expect(added.code).toBe(0);
      const id = added.stdout.trim();
      expect((await get(`${t.url}/api/v1/silences/${id}`)).body).toMatchObject({
        state: 'active',
        created_by: 'dana',
        comment: 'db migration',
      });

      const listed = await runCli(['silence', 'list', '--state', 'active', '--url', t.url]);
      expect(listed.code).toBe(0);
      expect(listed.stdout).toMatch(/^ID\s+State\s+Matchers/);
      expect(listed.stdout).toContain(`${id}  active  service="cli-svc" message=~"refused"`);

      const noToken = await runCli(['silence', 'expire', id, '--url', t.url], { API_TOKEN: '' });
      expect(noToken.code).toBe(1);
      expect(noToken.stderr).toContain('401');

      const bad = await runCli(['silence', 'add', 'colour=red', '--comment', 'x'], env);
      expect(bad.code).toBe(1);
      expect(bad.stderr).toContain('matchers[0].fact');

      const expired = await runCli([
        'silence',
        'expire',
        id,
        '--comment',
        'done',
        '--token',
        TOKEN,
        '--url',
        t.url,
      ]);
      expect(expired.code).toBe(0);
      expect((await get(`${t.url}/api/v1/silences/${id}`)).body.state).toBe('expired');
    },
    SLOW,
  );
});
