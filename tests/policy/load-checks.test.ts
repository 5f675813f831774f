// Checks across the merged policy: references, regexes, time zones, cron, keys, templates.
import { describe, expect, it } from 'vitest';
import { BASE, file, load, problems } from '../fixtures/policies/load-fixtures.js';

const HEAD = 'apiVersion: incident-router/v1';

/** A classify rule file whose conditions are the given leaves (one per line, from line 5). */
function leaves(...conditions: string[]) {
  return file(
    'rules.yaml',
    HEAD,
    'classify:',
    '  - name: r',
    '    when:',
    '      all:',
    ...conditions.map((c) => `        - ${c}`),
    '    severity: high',
  );
}

describe('loadPolicy - references', () => {
  it('finds unknown providers, teams and conditions, suggesting the close ones', () => {
    const refs = file(
      'refs.yaml',
      HEAD,
      'services:',
      '  api: { team: paymets, criticality: low }',
      '  web: { team: frontend, criticality: low }',
      '  old: { team: unowned, criticality: low }',
      'teams:',
      '  unowned: {}',
      '  ops: { pagerduty2: {}, opsgenie: { routing_key: x, url: "http://x" } }',
      'routes:',
      '  - name: pd',
      '    when: { condition: is-critcal }',
      '    deliver: { mode: failover, providers: [pagerduty, pagerdty, slack] }',
    );
    expect(problems([BASE, refs])).toEqual([
      'refs.yaml:3:16 service "api": unknown team "paymets" (did you mean "payments"?)',
      'refs.yaml:4:16 service "web": unknown team "frontend" (define it under teams:, even as "frontend: {}")',
      'refs.yaml:5:16 service "old": team "unowned" is reserved for services missing from the catalog',
      'refs.yaml:7:3 team "unowned" is reserved for services missing from the catalog',
      'refs.yaml:8:10 team "ops": unknown provider "pagerduty2" (did you mean "pagerduty"?)',
      'refs.yaml:8:38 team "ops", provider "opsgenie": routing_key does not apply to opsgenie providers (they take api_key, responders)',
      'refs.yaml:8:54 team "ops", provider "opsgenie": url does not apply to opsgenie providers (they take api_key, responders)',
      'refs.yaml:11:24 route "pd": unknown condition "is-critcal"',
      'refs.yaml:12:55 route "pd": unknown provider "pagerdty" (did you mean "pagerduty"?)',
      'refs.yaml:12:65 route "pd": unknown provider "slack"',
    ]);
  });

  it('refuses named conditions that refer to themselves', () => {
    const conditions = file(
      'conditions.yaml',
      HEAD,
      'conditions:',
      '  a: { all: [{ condition: b }] }',
      '  b: { any: [{ fact: level, operator: equal, value: error }, { condition: c }] }',
      '  c: { not: { condition: a } }',
      '  self: { condition: self }',
      'upgrade:',
      '  - { name: u, when: { condition: a }, severity: high }',
      '  - { name: v, when: { condition: self }, severity: high }',
    );
    expect(problems([BASE, conditions])).toEqual([
      'conditions.yaml:5:26 condition cycle: a → b → c → a (a condition cannot refer to itself)',
      'conditions.yaml:6:22 condition cycle: self → self (a condition cannot refer to itself)',
    ]);
  });

  it('needs a catch-all route', () => {
    const noCatchAll = {
      ...BASE,
      text: BASE.text.replace(
        '  - name: default\n',
        '  - name: default\n    when: { all: [{ fact: level, operator: equal, value: error }] }\n',
      ),
    };
    expect(problems([noCatchAll])).toEqual([
      'base.yaml:17:5 no catch-all route: add a last route without "when" so every paging alert goes somewhere',
    ]);
    const noRoutes = { ...BASE, text: BASE.text.slice(0, BASE.text.indexOf('routes:')) };
    expect(problems([noRoutes])).toEqual([
      'base.yaml:1:1 no catch-all route: add a last route without "when" so every paging alert goes somewhere',
    ]);
  });
});

describe('loadPolicy - condition values', () => {
  it('refuses regular expressions that do not compile or can backtrack catastrophically', () => {
    expect(
      problems([
        BASE,
        leaves(
          '{ fact: message, operator: matches, value: "(unclosed" }',
          '{ fact: message, operator: matches, value: "(a+)+$" }',
          '{ fact: message, operator: "someValue:matches", value: ["ok", "(x+x+)+y"] }',
          '{ fact: message, operator: matches, value: 42 }',
        ),
      ]),
    ).toEqual([
      'rules.yaml:6:54 classify rule "r": invalid regular expression "(unclosed": Invalid regular expression: /(unclosed/i: Unterminated group',
      "rules.yaml:7:54 classify rule \"r\": regular expression \"(a+)+$\" can backtrack catastrophically (exponential time, e.g. on 'A' + 'A'.repeat(31) + '\\x00A'); remove the nested or overlapping repetition",
      'rules.yaml:8:73 classify rule "r": regular expression "(x+x+)+y" can backtrack catastrophically (exponential time, e.g. on \'X\' + \'XX\'.repeat(30)); remove the nested or overlapping repetition',
      'rules.yaml:9:54 classify rule "r": matches needs a regular expression (text)',
    ]);
  });

  it('refuses values of known facts that could never match', () => {
    expect(
      problems([
        BASE,
        leaves(
          '{ fact: team, operator: equal, value: paymnts }',
          '{ fact: team, operator: notIn, value: [payments, unowned, ops] }',
          '{ fact: severity, operator: in, value: [high, crit] }',
          '{ fact: level, operator: "not:equal", value: warnn }',
          '{ fact: criticality, operator: equal, value: unknown }',
          '{ fact: criticality, operator: equal, value: 3 }',
          '{ fact: severity, operator: severityAtLeast, value: urgent }',
          '{ fact: severity, operator: in, value: high }',
        ),
      ]),
    ).toEqual([
      'rules.yaml:6:49 classify rule "r": no team "paymnts" is defined (did you mean "payments"?); this test could never match',
      'rules.yaml:7:69 classify rule "r": no team "ops" is defined; this test could never match',
      'rules.yaml:8:57 classify rule "r": "crit" is not a severity (info, low, medium, high, critical); this test could never match',
      'rules.yaml:9:56 classify rule "r": "warnn" is not a level (did you mean "warn"?); this test could never match',
      'rules.yaml:11:56 classify rule "r": 3 is not a criticality (critical, high, medium, low, unknown); this test could never match',
      'rules.yaml:12:63 classify rule "r": severityAtLeast needs a severity (info, low, medium, high, critical)',
      'rules.yaml:13:50 classify rule "r": in needs a list',
    ]);
  });

  it('checks within, path, contains and fact references', () => {
    const windows = file(
      'windows.yaml',
      HEAD,
      'time_windows:',
      '  business_hours: [{ weekdays: ["monday:friday"] }]',
    );
    expect(
      problems([
        BASE,
        windows,
        leaves(
          '{ fact: now, operator: within, value: business_hour }',
          '{ fact: timestamp, operator: within, value: business_hours }',
          '{ fact: host, path: "$.a", operator: equal, value: x }',
          '{ fact: attributes, path: "$.http.status", operator: greaterThan, value: "500" }',
          '{ fact: message, operator: contains, value: timeout }',
          '{ fact: attributes, operator: contains, value: timeout }',
          '{ fact: host, operator: equal, value: { fact: hostname } }',
        ),
      ]),
    ).toEqual([
      'rules.yaml:6:49 classify rule "r": unknown time window "business_hour" (did you mean "business_hours"?)',
      'rules.yaml:7:19 classify rule "r": within tests the fact now (the evaluation instant), not timestamp',
      'rules.yaml:8:31 classify rule "r": "path" only applies to fact attributes, not host',
      'rules.yaml:9:84 classify rule "r": greaterThan needs a number',
      'rules.yaml:10:38 classify rule "r": contains tests list membership and never matches the text fact message; use matches',
      'rules.yaml:12:57 classify rule "r": unknown fact "hostname" in the value',
    ]);
  });

  it('checks the leaves of a rule that has other errors too', () => {
    const rules = file(
      'rules.yaml',
      HEAD,
      'classify:',
      '  - name: r',
      '    severty: high',
      '    when: { all: [{ fact: message, operator: matches, value: "(" }, { fact: level, operator: is }] }',
    );
    expect(problems([BASE, rules])).toEqual([
      'rules.yaml:3:5 classify[0]: a classify rule must set "severity" or "resolve" (or both)',
      'rules.yaml:4:5 classify[0]: unknown key "severty" (did you mean "severity"?)',
      'rules.yaml:5:62 classify rule "r": invalid regular expression "(": Invalid regular expression: /(/i: Unterminated group',
      'rules.yaml:5:69 classify[0].when.all[1]: missing required key "value"',
      'rules.yaml:5:94 classify[0].when.all[1].operator: unknown operator "is" (did you mean "in"?): use one of equal, notEqual, in, notIn, contains, doesNotContain, lessThan, lessThanInclusive, greaterThan, greaterThanInclusive, matches, within, severityAtLeast, optionally after decorators not:, someFact:, someValue:, everyFact:, everyValue:, swap:',
    ]);
  });
});

describe('loadPolicy - templates, settings and time windows', () => {
  it('allows only known placeholders in title, fingerprint and resolve', () => {
    const rules = file(
      'rules.yaml',
      HEAD,
      'classify:',
      '  - name: r',
      '    severity: high',
      '    title: "{service} down on {hostname} ({attributes.region})"',
      '    fingerprint: "{service}:{attributes.a.b}:{}"',
      '    resolve: "{Service}"',
    );
    expect(problems([BASE, rules])).toEqual([
      'rules.yaml:5:12 classify rule "r": title uses unknown placeholder {hostname}; placeholders are {service} {level} {source} {host} {message} {team} {criticality} {severity} {rule} {trace_id} {attributes.<key>}',
      'rules.yaml:6:18 classify rule "r": fingerprint uses unknown placeholder {attributes.a.b}; placeholders are {service} {level} {source} {host} {message} {team} {criticality} {severity} {rule} {trace_id} {attributes.<key>}',
      'rules.yaml:6:18 classify rule "r": fingerprint uses unknown placeholder {}; placeholders are {service} {level} {source} {host} {message} {team} {criticality} {severity} {rule} {trace_id} {attributes.<key>}',
      'rules.yaml:7:14 classify rule "r": resolve uses unknown placeholder {Service}; placeholders are {service} {level} {source} {host} {message} {team} {criticality} {severity} {rule} {trace_id} {attributes.<key>}',
    ]);
  });

  it('checks the time zone, durations and the retry backoff', () => {
    const settings = file(
      'settings.yaml',
      HEAD,
      'settings:',
      '  timezone: Europe/Berln',
      '  storm: { window: 0s }',
      '  delivery: { retry: { initial: 2m }, breaker: { cooldown: 99999999999999999999w } }',
    );
    expect(problems([BASE, settings])).toEqual([
      'settings.yaml:3:13 settings.timezone: unknown time zone "Europe/Berln" (did you mean "Europe/Berlin"?): use an IANA name such as UTC or Europe/Berlin',
      'settings.yaml:4:20 settings.storm.window: must be longer than zero',
      'settings.yaml:5:33 settings.delivery.retry: initial backoff 2m is longer than its cap, max 30s',
      'settings.yaml:5:60 settings.delivery.breaker.cooldown: is too long',
    ]);
  });

  it('compiles every time window and locates its problems (bad cron, times, zones)', () => {
    const windows = file(
      'windows.yaml',
      HEAD,
      'time_windows:',
      '  nightly:',
      '    - cron: "0 2 * *"',
      '      duration: 2h',
      '    - cron: "61 2 * * *"',
      '      duration: 1h',
      '  office:',
      '    - times: [{ start_time: "09:00", end_time: "25:00" }]',
      '      weekdays: [mondey]',
      '      location: Mars/Olympus',
    );
    expect(problems([BASE, windows])).toEqual([
      'windows.yaml:4:13 time_windows.nightly[0].cron: cron "0 2 * *" must have exactly 5 fields (minute hour day-of-month month day-of-week)',
      expect.stringMatching(
        /^windows\.yaml:6:13 time_windows\.nightly\[1\]\.cron: invalid cron "61 2 \* \* \*": /,
      ) as string,
      'windows.yaml:9:48 time_windows.office[0].times[0].end_time: invalid time "25:00" (expected HH:MM from 00:00 to 24:00)',
      'windows.yaml:10:18 time_windows.office[0].weekdays[0]: unknown weekday "mondey" (expected monday, tuesday, … sunday)',
      'windows.yaml:11:17 time_windows.office[0].location: unknown time zone "Mars/Olympus"',
    ]);
  });
});

describe('loadPolicy - provider keys and URLs', () => {
  const provider = (...lines: string[]) => file('providers.yaml', HEAD, 'providers:', ...lines);

  it('wants a 32-character PagerDuty routing key, empty only in sandbox mode', () => {
    const pd = (name: string, key: string) => [
      `  ${name}:`,
      '    type: pagerduty',
      `    routing_key: "${key}"`,
      '    severity_map: { critical: critical, high: error, medium: warning, low: info }',
    ];
    const sources = [
      BASE,
      provider(
        ...pd('short', 'abc'),
        ...pd('symbols', 'a'.repeat(31) + '-'),
        ...pd('empty', ''),
        ...pd('good', 'Z'.repeat(32)),
      ),
    ];
    expect(problems(sources)).toEqual([
      'providers.yaml:5:18 provider "short": routing_key must be a PagerDuty Events API v2 integration key of exactly 32 letters and digits; this one has 3 characters',
      'providers.yaml:9:18 provider "symbols": routing_key must be a PagerDuty Events API v2 integration key of exactly 32 letters and digits; this one has characters other than letters and digits',
      'providers.yaml:13:18 provider "empty": routing_key is empty (allowed only in sandbox mode)',
    ]);
    expect(problems(sources, { sandbox: true })).toEqual([
      'providers.yaml:5:18 provider "short": routing_key must be a PagerDuty Events API v2 integration key of exactly 32 letters and digits; this one has 3 characters',
      'providers.yaml:9:18 provider "symbols": routing_key must be a PagerDuty Events API v2 integration key of exactly 32 letters and digits; this one has characters other than letters and digits',
    ]);
  });

  it('applies the same rules to team overrides', () => {
    const teams = file(
      'teams.yaml',
      HEAD,
      'teams:',
      '  ops:',
      '    pagerduty: { routing_key: "${OPS_KEY:-}" }',
      '    opsgenie: { api_key: "", responders: [{ type: team }, { type: user, name: bob }] }',
      '  sec:',
      '    pagerduty: { routing_key: tooshort }',
    );
    const services = file(
      'services.yaml',
      HEAD,
      'services:',
      '  a: { team: ops, criticality: low }',
      '  b: { team: sec, criticality: low }',
    );
    expect(problems([BASE, teams, services])).toEqual([
      'teams.yaml:5:43 team "ops", provider "opsgenie": a team responder needs id or name',
      'teams.yaml:5:59 team "ops", provider "opsgenie": a user responder needs id or username',
      'teams.yaml:7:31 team "sec", provider "pagerduty": routing_key must be a PagerDuty Events API v2 integration key of exactly 32 letters and digits; this one has 8 characters',
    ]);
    expect(problems([BASE, teams, services], { sandbox: true })).toHaveLength(3);
  });

  it('treats an empty team override as no override, in any mode', () => {
    const teams = file(
      'teams.yaml',
      HEAD,
      'teams:',
      '  ops:',
      '    pagerduty: { routing_key: "${OPS_KEY:-}" }',
    );
    const services = file('services.yaml', HEAD, 'services:', '  a: { team: ops, criticality: low }');
    const policy = load([BASE, teams, services], { sandbox: false });
    expect(policy.document.teams['ops']).toEqual({ pagerduty: {} });
  });

  it('wants http(s) URLs and never shows them (they can carry tokens)', () => {
    const sources = [
      BASE,
      provider(
        '  hook: { type: webhook, url: "ftp://files.example/secret-token" }',
        '  rel: { type: webhook, url: "/relative" }',
        '  ok: { type: webhook, url: "https://hooks.example/T0/B0/xyz" }',
      ),
    ];
    expect(problems(sources)).toEqual([
      'providers.yaml:3:31 provider "hook": url must be an http:// or https:// URL',
      'providers.yaml:4:30 provider "rel": url must be an http:// or https:// URL',
    ]);
  });

  it('loads an empty OpsGenie key and routing key in sandbox mode', () => {
    const policy = load([BASE], { sandbox: true, env: { PD_KEY: '', OG_KEY: '' } });
    expect(policy.secrets).toEqual([]);
  });
});
