// The /metrics page of a running sidecar follows Prometheus naming: counters end in `_total`,
// nothing else does, every family has HELP. promtool checks it too when it is installed.
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { get, post, startTestApp, type TestApp } from '../helpers/app.js';

interface Family {
  name: string;
  type: string | null;
  help: string | null;
}

/** Families by name, from the `# HELP` and `# TYPE` lines of a text exposition. */
function familiesOf(text: string): Family[] {
  const families = new Map<string, Family>();
  const family = (name: string): Family => {
    const known = families.get(name) ?? { name, type: null, help: null };
    families.set(name, known);
    return known;
  };
  for (const [, kind, name, rest] of text.matchAll(/^# (HELP|TYPE) (\S+) ?(.*)$/gm)) {
    if (kind === 'HELP') family(name as string).help = rest as string;
    else family(name as string).type = rest as string;
  }
  return [...families.values()];
}

function isOnPath(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`]).status === 0;
}

describe('metrics exposition - Prometheus naming', () => {
  let t: TestApp;
  let text: string;

  beforeAll(async () => {
    t = await startTestApp();
    text = (await get(`${t.url}/metrics`)).body as string;
  });
  afterAll(async () => {
    await t.stop();
  });

  it('exposes our metrics and the Node.js defaults', () => {
    const names = familiesOf(text).map((f) => f.name);
    expect(names).toContain('incident_router_decisions_total');
    expect(names).toContain('incident_router_process_cpu_seconds_total');
    expect(names).toContain('incident_router_nodejs_active_handles');
  });

  it('no gauge, histogram or summary ends in _total; every counter does', () => {
    const misnamed = familiesOf(text)
      .filter((f) => (f.type === 'counter') !== f.name.endsWith('_total'))
      .map((f) => `${f.name} (${String(f.type)})`);
    expect(misnamed).toEqual([]);
  });

  it('every metric has a TYPE and a HELP', () => {
    const undocumented = familiesOf(text)
      .filter((f) => f.type === null || f.help === null || f.help.trim() === '')
      .map((f) => f.name);
    expect(undocumented).toEqual([]);
  });

  it("times the store's commits: an alert's fsync'd batch is counted", async () => {
    const count = (page: string): number =>
      Number(/^incident_router_store_commit_seconds_count\{sync="true"\} (\d+)$/m.exec(page)?.[1] ?? 0);
    const before = count((await get(`${t.url}/metrics`)).body as string);
    const alert = { title: 'Disk full', source: 'disk', severity: 'critical', service_name: 'api' };
    expect((await post(`${t.url}/api/v1/alerts`, alert)).status).toBe(202);
    expect(count((await get(`${t.url}/metrics`)).body as string)).toBeGreaterThan(before);
  });

  it.skipIf(!isOnPath('promtool'))('promtool check metrics finds nothing', () => {
    const result = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect({ status: result.status, output: `${result.stdout}${result.stderr}` }).toEqual({
      status: 0,
      output: '',
    });
  });
});
