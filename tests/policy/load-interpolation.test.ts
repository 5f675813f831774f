import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { interpolate, shieldReferences, unshield } from '../../src/policy/load/interpolate.js';
import { BASE, ENV, FIXTURES, PD_KEY, file, load, problems } from '../fixtures/policies/load-fixtures.js';

const HEAD = 'apiVersion: incident-router/v1';

describe('interpolate', () => {
  const env = { SET: 'value', EMPTY: '' };
  it.each([
    ['${SET}', 'value'],
    ['a-${SET}-b-${SET}', 'a-value-b-value'],
    ['${UNSET:-fallback}', 'fallback'],
    ['${EMPTY:-fallback}', 'fallback'],
    ['${SET:-fallback}', 'value'],
    ['${UNSET:-}', ''],
    ['${UNSET:-http://host:9/x?a=b}', 'http://host:9/x?a=b'],
    ['${EMPTY}', ''],
    ['$${SET}', '${SET}'],
    ['cost: $5 and $$5', 'cost: $5 and $$5'],
    ['no references', 'no references'],
  ])('%s → %s', (text, expected) => {
    expect(interpolate(text, env)).toEqual({ value: expected, problems: [] });
  });

  it('reports an unset variable without default, and how to allow it empty', () => {
    expect(interpolate('key=${PAGERDUTY_ROUTING_KEY}', env)).toEqual({
      value: 'key=',
      problems: [
        'environment variable PAGERDUTY_ROUTING_KEY is not set (write ${PAGERDUTY_ROUTING_KEY:-} to allow it empty)',
      ],
    });
  });

  it('reports references it cannot read', () => {
    expect(interpolate('${not valid}', env).problems).toEqual([
      '"${not valid}" is not a variable reference: write ${NAME} or ${NAME:-default}, or $${ for a literal ${',
    ]);
    expect(interpolate('abc ${SET', env).problems).toEqual([
      'unterminated "${": write ${NAME} or ${NAME:-default}, or $${ for a literal ${',
    ]);
  });

  it('hides references from the YAML parser without moving any offset, and restores them', () => {
    const text = '{ a: ${X}, b: ${Y:-http://h/p}, c: $${Z}, d: "${W:-a b}" }';
    const shielded = shieldReferences(text);
    expect(shielded).toHaveLength(text.length);
    expect(shielded).not.toContain('${');
    expect(unshield(shielded)).toBe(text);
  });

  it('does not look up inherited properties', () => {
    expect(interpolate('${toString}', {}).problems).toHaveLength(1);
  });
});

describe('loadPolicy - interpolation', () => {
  it('replaces references in string values before validation', () => {
    const policy = load([BASE]);
    expect(policy.document.providers['pagerduty']).toMatchObject({ routing_key: PD_KEY });
  });

  it('reports an unset variable at its value, and nothing more about that value', () => {
    const { PD_KEY: _unset, ...env } = ENV;
    expect(problems([BASE], { env })).toEqual([
      'base.yaml:6:18 environment variable PD_KEY is not set (write ${PD_KEY:-} to allow it empty)',
    ]);
  });

  it('keeps $${ as a literal ${ and leaves keys alone', () => {
    const extra = file(
      'extra.yaml',
      'apiVersion: incident-router/v1',
      'services:',
      '  ${SVC}: { team: payments, criticality: low, description: "costs $${AMOUNT} at ${OG_KEY}" }',
    );
    const services = load([BASE, extra]).document.services;
    expect(services['${SVC}']).toEqual({
      team: 'payments',
      criticality: 'low',
      description: 'costs ${AMOUNT} at og-key-for-tests',
    });
  });

  it('interpolates into quoted, block and flow scalars and into aliases', () => {
    const extra = file(
      'extra.yaml',
      'apiVersion: incident-router/v1',
      'services:',
      '  a: &svc { team: payments, criticality: low, description: "${OG_KEY}" }',
      '  b: *svc',
      '  c:',
      '    team: payments',
      '    criticality: low',
      '    description: |',
      '      key ${OG_KEY:-x}',
    );
    const services = load([BASE, extra]).document.services;
    expect(services['a']?.description).toBe('og-key-for-tests');
    expect(services['b']?.description).toBe('og-key-for-tests');
    expect(services['c']?.description).toBe('key og-key-for-tests\n');
  });

  it('gives strings: a reference in a number field fails the schema', () => {
    const settings = file(
      'settings.yaml',
      'apiVersion: incident-router/v1',
      'settings:',
      '  storm: { max_new_incidents: "${MAX:-8}" }',
    );
    expect(problems([BASE, settings])).toEqual([
      'settings.yaml:3:31 settings.storm.max_new_incidents: must be a whole number, not a string ("8")',
    ]);
  });

  it('accepts references inside flow maps, as the original example policy writes them', () => {
    const text = readFileSync(`${FIXTURES}spec-example.yaml.txt`, 'utf8');
    expect(text).toContain('pagerduty: { routing_key: ${PD_KEY_PAYMENTS} }');
    // The example's catalog names a team "ml" that its teams section does not define.
    expect(problems([{ name: 'policy.yaml', text }], { env: ENV })).toEqual([
      'policy.yaml:46:28 service "recommendation": unknown team "ml" (define it under teams:, even as "ml: {}")',
    ]);
    const fixed = { name: 'policy.yaml', text: text.replace('  security:\n', '  ml: {}\n  security:\n') };
    const policy = load([fixed]);
    expect(policy.document.teams['payments']?.['pagerduty']).toEqual({ routing_key: ENV.PD_KEY_PAYMENTS });
    expect(policy.warnings).toEqual([]);
    const flow = file(
      'flow.yaml',
      HEAD,
      'services:',
      '  x: { team: payments, criticality: low, description: [${OG_KEY}, $${LITERAL}] }',
    );
    expect(problems([BASE, flow])).toEqual([
      'flow.yaml:3:55 services.x.description: must be a string, not a list',
    ]);
  });

  it('reports every unset variable of every file at once', () => {
    const extra = file(
      'extra.yaml',
      'apiVersion: incident-router/v1',
      'services:',
      '  x: { team: payments, criticality: low, description: "${A} ${B}" }',
      '  y: { team: payments, criticality: low, description: "${C:-ok}${D" }',
    );
    expect(problems([BASE, extra], { env: {} })).toEqual([
      'base.yaml:6:18 environment variable PD_KEY is not set (write ${PD_KEY:-} to allow it empty)',
      'base.yaml:10:14 environment variable OG_KEY is not set (write ${OG_KEY:-} to allow it empty)',
      'extra.yaml:3:55 environment variable A is not set (write ${A:-} to allow it empty)',
      'extra.yaml:3:55 environment variable B is not set (write ${B:-} to allow it empty)',
      'extra.yaml:4:55 unterminated "${": write ${NAME} or ${NAME:-default}, or $${ for a literal ${',
    ]);
  });
});
