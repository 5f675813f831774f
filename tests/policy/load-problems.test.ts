// Problems found in single files (YAML, schema) and in the merge, each as `file:line:col message`.
import { describe, expect, it } from 'vitest';
import { loadPolicy } from '../../src/policy/load.js';
import { BASE, OPTIONS, file, problems } from '../fixtures/policies/load-fixtures.js';

const HEAD = 'apiVersion: incident-router/v1';

describe('loadPolicy - YAML', () => {
  it('reports every syntax error of a file, duplicate keys included', () => {
    const broken = file('broken.yaml', HEAD, 'teams:', '  a: {}', '  a: {}', 'services: [1, 2', 'x: "open');
    expect(problems([BASE, broken])).toEqual([
      'broken.yaml:4:3 duplicate key "a"',
      'broken.yaml:6:1 Flow sequence in block collection must be sufficiently indented and end with a ] (BAD_INDENT)',
      'broken.yaml:7:1 Missing closing "quote (MISSING_CHAR)',
    ]);
  });

  it('refuses a key that is a list, a map or an alias, at its place and without a process warning', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error): void => void warnings.push(w.message);
    process.on('warning', onWarning);
    try {
      const keys = file(
        'keys.yaml',
        HEAD,
        'teams:',
        '  ? [a, b]',
        '  : {}',
        '  ? {c: d}',
        '  : {}',
        'services: &s {}',
        '*s : {}',
      );
      expect(problems([BASE, keys])).toEqual([
        'keys.yaml:3:5 a key must be a plain name, not a list, a map or an alias',
        'keys.yaml:5:5 a key must be a plain name, not a list, a map or an alias',
        'keys.yaml:8:1 a key must be a plain name, not a list, a map or an alias',
      ]);
      await new Promise((resolve) => setImmediate(resolve)); // warnings are emitted on the next tick
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings).toEqual([]);
  });

  it('reports empty files, files that are not maps, and apiVersion', () => {
    expect(
      problems([
        BASE,
        file('comments.yaml', '# nothing here'),
        file('list.yaml', '- a', '- b'),
        file('scalar.yaml', 'hello'),
        file('missing.yaml', 'teams:', '  x: {}'),
        file('wrong.yaml', 'apiVersion: incident-router/v2'),
      ]),
    ).toEqual([
      'comments.yaml:1:1 file is empty: every policy file starts with "apiVersion: incident-router/v1"',
      'list.yaml:1:1 a policy file must be a map of sections starting with "apiVersion: incident-router/v1", not a list',
      'missing.yaml:1:1 missing "apiVersion: incident-router/v1" (every policy file starts with it)',
      'scalar.yaml:1:1 a policy file must be a map of sections starting with "apiVersion: incident-router/v1", not a string ("hello")',
      'wrong.yaml:1:13 apiVersion: must be "incident-router/v1", not "incident-router/v2"',
    ]);
  });
});

describe('loadPolicy - schema', () => {
  it('reports unknown keys at the key, with the closest valid key', () => {
    const rules = file(
      'rules.yaml',
      HEAD,
      'rouets: []',
      'classify:',
      '  - name: a',
      '    severty: high',
      '    when: { all: [{ fact: level, operatr: equal, value: error }] }',
      'settings:',
      '  storm: { max_new: 3 }',
    );
    expect(problems([BASE, rules])).toEqual([
      'rules.yaml:2:1 unknown key "rouets" (did you mean "routes"?)',
      'rules.yaml:4:5 classify[0]: a classify rule must set "severity" or "resolve" (or both)',
      'rules.yaml:5:5 classify[0]: unknown key "severty" (did you mean "severity"?)',
      'rules.yaml:6:19 classify[0].when.all[0]: missing required key "operator"',
      'rules.yaml:6:34 classify[0].when.all[0]: unknown key "operatr" (did you mean "operator"?)',
      'rules.yaml:8:12 settings.storm: unknown key "max_new"',
    ]);
  });

  it('says which values are allowed, in the words of the policy', () => {
    const rules = file(
      'rules.yaml',
      HEAD,
      'settings:',
      '  delivery: { timeout: 5, breaker: { failure_rate: 0 } }',
      '  level_severity: { eror: high }',
      'classify:',
      '  - name: ok',
      '    severity: high',
      '  - name: Bad_Name',
      '    severity: high',
      '  - name: typo',
      '    severity: hgih',
      '    continue: "yes"',
      'routes:',
      '  - name: both',
      '    deliver: { mode: both, providers: [] }',
    );
    expect(problems([BASE, rules])).toEqual([
      'rules.yaml:3:24 settings.delivery.timeout: 5 is not a duration: write e.g. 500ms, 30s, 5m, 2h or 1h30m',
      'rules.yaml:3:52 settings.delivery.breaker.failure_rate: must be greater than 0',
      'rules.yaml:4:21 settings.level_severity: unknown key "eror" (did you mean "error"?)',
      'rules.yaml:8:11 classify[1].name: "Bad_Name" is not a valid name: use lowercase letters, digits, "_", "." and "-", starting with a letter or digit, at most 64 characters',
      'rules.yaml:11:15 classify[2].severity: must be one of info, low, medium, high, critical (did you mean "high"?)',
      'rules.yaml:12:15 classify[2].continue: must be true or false, not a string ("yes")',
      'rules.yaml:15:22 routes[0].deliver.mode: must be one of failover, all',
      'rules.yaml:15:39 routes[0].deliver.providers: must not be empty',
    ]);
  });

  it('explains conditions by the branch their keys pick, without the noise of the others', () => {
    const rules = file(
      'rules.yaml',
      HEAD,
      'conditions:',
      '  leaf-on-top: { fact: level, operator: equal, value: error }',
      '  nothing: { al: [] }',
      '  bad-not: { not: { fact: level, operator: equals, value: error } }',
      '  bad-any: { any: {} }',
      '  bad-ref: { condition: Other }',
      '  bad-leaf: { all: [{ fact: levl, operator: equal, value: x, path: "a b" }] }',
    );
    expect(problems([BASE, rules])).toEqual([
      'rules.yaml:3:16 conditions.leaf-on-top: a rule\'s top condition must be all, any, not or condition (json-rules-engine): put this test inside "all: [ ... ]"',
      'rules.yaml:4:12 conditions.nothing: is not a condition: use a map with one of all, any, not, condition or fact',
      'rules.yaml:5:44 conditions.bad-not.not.operator: unknown operator "equals" (did you mean "equal"?): use one of equal, notEqual, in, notIn, contains, doesNotContain, lessThan, lessThanInclusive, greaterThan, greaterThanInclusive, matches, within, severityAtLeast, optionally after decorators not:, someFact:, someValue:, everyFact:, everyValue:, swap:',
      'rules.yaml:6:19 conditions.bad-any.any: must be a list, not a map',
      'rules.yaml:7:25 conditions.bad-ref.condition: "Other" is not a valid name: use lowercase letters, digits, "_", "." and "-", starting with a letter or digit, at most 64 characters',
      'rules.yaml:8:29 conditions.bad-leaf.all[0].fact: must be one of message, level, source, service, host, trace_id, attributes, timestamp, team, criticality, severity, rule, fingerprint, now (did you mean "level"?)',
      'rules.yaml:8:68 conditions.bad-leaf.all[0].path: "a b" is not a path into attributes: write e.g. $.http.status or http.status',
    ]);
  });

  it('checks each provider against the schema of its type', () => {
    const providers = file(
      'providers.yaml',
      HEAD,
      'providers:',
      '  untyped: { url: "http://x" }',
      '  typo: { type: pagerduty2 }',
      '  pd2:',
      '    type: pagerduty',
      '    api_key: x',
      '    severity_map: { critical: critical, high: error, medium: warning }',
      '  hook: { type: webhook, url: "http://x", headers: { "Bad Header": x } }',
    );
    expect(problems([BASE, providers])).toEqual([
      'providers.yaml:3:3 providers.untyped: missing required key "type"',
      'providers.yaml:4:17 providers.typo.type: must be one of pagerduty, opsgenie, webhook (did you mean "pagerduty"?)',
      'providers.yaml:5:3 providers.pd2: missing required key "routing_key"',
      'providers.yaml:7:5 providers.pd2: unknown key "api_key"',
      'providers.yaml:8:5 providers.pd2.severity_map: missing required key "low"',
      'providers.yaml:9:54 providers.hook.headers: "Bad Header" is not a valid HTTP header name',
    ]);
  });

  it('picks a time window entry schema by whether it has cron', () => {
    const windows = file(
      'windows.yaml',
      HEAD,
      'time_windows:',
      '  mixed:',
      '    - { cron: "0 2 * * *", weekdays: [monday] }',
      '    - { times: [{ start_time: "09:00" }], duration: 2h }',
      '  empty: []',
    );
    expect(problems([BASE, windows])).toEqual([
      'windows.yaml:4:7 time_windows.mixed[0]: missing required key "duration"',
      'windows.yaml:4:28 time_windows.mixed[0]: unknown key "weekdays"',
      'windows.yaml:5:17 time_windows.mixed[1].times[0]: missing required key "end_time"',
      'windows.yaml:5:43 time_windows.mixed[1]: unknown key "duration"',
      'windows.yaml:6:10 time_windows.empty: must not be empty',
    ]);
  });
});

describe('loadPolicy - merge', () => {
  it('reports a key defined in two files, naming both places', () => {
    const routing = file(
      'routing.yaml',
      HEAD,
      'providers:',
      '  pagerduty: { type: webhook, url: "http://x" }',
      'services:',
      '  payment-service: { team: payments, criticality: low }',
    );
    expect(problems([BASE, routing])).toEqual([
      'routing.yaml:3:3 provider "pagerduty" is already defined at base.yaml:4:3',
      'routing.yaml:5:3 service "payment-service" is already defined at base.yaml:15:3',
    ]);
  });

  it('reports a rule name used twice in a section, naming both places', () => {
    const routing = file(
      'routing.yaml',
      HEAD,
      'routes:',
      '  - name: default',
      '    deliver: { mode: all, providers: [opsgenie] }',
    );
    expect(problems([BASE, routing])).toEqual([
      'routing.yaml:3:11 route "default" is already defined at base.yaml:17:11',
    ]);
  });

  it('needs version in exactly one file', () => {
    const noVersion = { ...BASE, text: BASE.text.replace('version: "1"\n', '') };
    expect(problems([noVersion, file('more.yaml', HEAD)])).toEqual(['base.yaml:1:1 no file sets "version"']);
    const twice = file('more.yaml', HEAD, 'version: "2"', 'settings: {}', 'settings2: {}');
    const settings = file('settings.yaml', HEAD, 'settings:', '  timezone: UTC');
    expect(problems([BASE, twice, settings])).toEqual([
      'more.yaml:2:1 "version" is already set at base.yaml:2:1: exactly one file sets it',
      'more.yaml:4:1 unknown key "settings2" (did you mean "settings"?)',
      'settings.yaml:2:1 "settings" is already set at more.yaml:3:1: exactly one file sets it',
    ]);
  });

  it('reports every problem of every file at once, sorted by file, line and column', () => {
    const a = file('a.yaml', HEAD, 'teams:', '  payments: {}', '  ops: { pagerduty: { api_key: x } }');
    const c = file('c.yaml', HEAD, 'services:', '  api: { team: ops, criticality: hgh }', 'routes: {}');
    const d = file('d.yaml', HEAD, 'x: [');
    expect(problems([d, c, BASE, a])).toEqual([
      'a.yaml:4:23 team "ops", provider "pagerduty": api_key does not apply to pagerduty providers (they take routing_key)',
      'base.yaml:13:3 team "payments" is already defined at a.yaml:3:3',
      'c.yaml:3:34 services.api.criticality: must be one of critical, high, medium, low (did you mean "high"?)',
      'c.yaml:4:9 routes: must be a list, not a map',
      'd.yaml:3:1 Flow sequence in block collection must be sufficiently indented and end with a ] (BAD_INDENT)',
    ]);
  });

  it('is a result, not an exception, for no sources and for two sources with one name', () => {
    expect(loadPolicy([], OPTIONS)).toEqual({
      ok: false,
      problems: [{ file: '(policy)', line: 1, col: 1, message: 'no policy files' }],
      warnings: [],
    });
    expect(problems([BASE, BASE])).toEqual(['base.yaml:1:1 two policy files have the same name']);
  });
});
