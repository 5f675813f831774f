// The dashboard in a real browser (docs/dashboard.md): Debian's Chromium against a real sidecar in
// sandbox mode, its provider simulators answering and failing on command. Each view is saved as a
// screenshot under .tmp/dashboard-screenshots/. How fast things show is measured by
// `npm run bench -- dashboard`, not here.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { fastBreaker, get, post, startTestApp, waitFor, type TestApp } from '../helpers/app.js';
import { ensureDashboardBuilt, launchBrowser, openPage, screenshot } from '../helpers/browser.js';

let sandbox: Sandbox;
let t: TestApp;
let browser: Browser;

beforeAll(async () => {
  ensureDashboardBuilt();
  sandbox = await startSandbox();
  t = await startTestApp({}, { sandbox, editSettings: fastBreaker });
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await t?.stop();
  await sandbox?.stop();
});

/**
 * A high alert: route `default`, failover PagerDuty → OpsGenie. Unclassified alerts are
 * fingerprinted by service and level: each test names its own services, so none is a repeat.
 */
const failoverAlert = (service: string, title: string) => ({
  title,
  source: 'export',
  severity: 'high',
  service_name: service,
});

describe('dashboard', () => {
  it('serves every view with a strict CSP, no console errors and no failed requests', async () => {
    await post(`${t.url}/api/v1/alerts`, failoverAlert('dash-search', 'Index rebuild stuck'));
    const res = await fetch(`${t.url}/`);
    expect(res.headers.get('content-security-policy')).toMatch(/default-src 'none'; script-src 'self'/);
    const { page, problems } = await openPage(browser, `${t.url}/`);
    await page.getByTestId('incident-list').getByText('Index rebuild stuck').waitFor();
    await page.getByTestId('connection').getByText('live').waitFor();
    await screenshot(page, 'incidents');
    for (const view of ['providers', 'test-alert', 'policy', 'throughput']) {
      await page.getByTestId(`nav-${view}`).click();
      await page.getByTestId(`${view}-view`).waitFor();
      if (view === 'providers')
        await page.locator('.provider[data-provider="pagerduty"] .uplot').first().waitFor();
      if (view === 'policy') await page.getByTestId('policy-version').waitFor();
      if (view === 'test-alert') await page.getByTestId('decision').waitFor();
      if (view === 'throughput') await page.getByTestId('events-rate').waitFor();
      await screenshot(page, view);
    }
    expect(problems).toEqual([]);
    await page.close();
  });

  it('a test alert sent from the form shows its dry-run first, then appears in the live list with its route and deliveries', async () => {
    const list = await openPage(browser, `${t.url}/?view=incidents`);
    await list.page.getByTestId('connection').getByText('live').waitFor();
    await list.page.evaluate(() => ((globalThis as unknown as { notReloaded: boolean }).notReloaded = true));
    const form = await openPage(browser, `${t.url}/?view=test-alert`);
    await form.page.locator('select[name="service"]').selectOption('order-service');
    await form.page.locator('select[name="severity"]').selectOption('high');
    await form.page.locator('input[name="title"]').fill('Checkout export stuck from the form');
    // The dry-run decision, before anything is sent.
    await form.page.getByTestId('decision').getByText('default').first().waitFor();
    expect(await form.page.getByTestId('decision').textContent()).toMatch(/pages[\s\S]*default/);
    await form.page.getByRole('button', { name: 'Send' }).click();
    await form.page.getByTestId('sent').getByText('Sent: paged').waitFor();

    const row = list.page.locator('tr', { hasText: 'Checkout export stuck from the form' });
    await row.waitFor({ timeout: 5_000 });
    expect(
      await list.page.evaluate(() => (globalThis as unknown as { notReloaded?: boolean }).notReloaded),
    ).toBe(true);
    expect(await row.textContent()).toMatch(/default \(failover: pagerduty, opsgenie\)/);
    await row.getByText(/pagerduty: (open|pending)/).waitFor(); // the delivery, live
    await screenshot(list.page, 'incidents-live');
    // Filters and search narrow the list (through the API's own filters).
    await list.page.getByLabel('search').fill('nothing-matches-this');
    await list.page.getByText('No incidents match.').waitFor();
    await list.page.getByLabel('search').fill('checkout EXPORT');
    await row.waitFor();
    await list.page.getByLabel('severity').selectOption('critical');
    await row.waitFor({ state: 'detached' });
    await list.page.getByLabel('severity').selectOption('high');
    await list.page.getByLabel('provider').selectOption('pagerduty');
    await row.waitFor();
    await screenshot(form.page, 'test-alert-sent');
    expect([...list.problems, ...form.problems]).toEqual([]);
    await list.page.close();
    await form.page.close();
  });

  it('the link in the PagerDuty payload opens the incident; an acknowledgement in PagerDuty shows live, OpsGenie following', async () => {
    const sent = await post(`${t.url}/api/v1/alerts`, {
      title: 'Payments database down',
      source: 'database',
      severity: 'critical',
      service_name: 'payment-service',
    });
    const id = sent.body.incident_id as string;
    const pd = await waitFor(async () =>
      sandbox.pagerduty
        .incidents()
        .find((i) => (i.lastEvent as { client_url?: string }).client_url?.includes(id)),
    );
    const link = new URL((pd.lastEvent as { client_url: string }).client_url);
    expect(link.search).toBe(`?incident=${id}`);
    const { page, problems } = await openPage(browser, `${t.url}/${link.search}`);
    await page.getByTestId('incident-view').getByText('Payments database down').waitFor();
    await page.getByTestId('holds').getByText('opsgenie').waitFor();
    // The journey so far: the decision with its rules and where they are written, the deliveries.
    const decision = page.getByTestId('decision');
    expect(await decision.textContent()).toMatch(/critical-everywhere/);
    expect(await decision.textContent()).toMatch(/classify\.yaml:\d+/);
    expect(await page.getByTestId('deliveries').textContent()).toMatch(/trigger/);

    await sandbox.pagerduty.acknowledge(pd.id);
    await page.getByTestId('incident-state').getByText('acknowledged').waitFor({ timeout: 15_000 });
    await page
      .locator('.hold[data-provider="opsgenie"]')
      .getByText('acknowledged')
      .waitFor({ timeout: 15_000 });
    await page.getByTestId('timeline').locator('[data-type="acknowledged"]').first().waitFor();
    expect(await page.getByTestId('timeline').textContent()).toMatch(/pagerduty/);
    await screenshot(page, 'incident');
    expect(problems).toEqual([]);
    await page.close();
  });

  it('a PagerDuty outage opens its breaker on the providers view, and the incident shows the failover to OpsGenie', async () => {
    sandbox.pagerduty.injectFault({ kind: 'status', status: 500 });
    const { page, problems } = await openPage(browser, `${t.url}/?view=providers`);
    await page.locator('.provider[data-provider="pagerduty"]').waitFor();
    let last = '';
    for (let n = 0; n < 3; n++) {
      const sent = await post(
        `${t.url}/api/v1/alerts`,
        failoverAlert(`dash-outage-${n}`, `Outage alert ${n}`),
      );
      last = sent.body.incident_id;
    }
    await page
      .locator('.provider[data-provider="pagerduty"]')
      .getByTestId('breaker')
      .getByText('open')
      .waitFor({ timeout: 15_000 });
    await page
      .getByTestId('breaker-changes')
      .getByText(/pagerduty: closed → open/)
      .waitFor();
    await screenshot(page, 'providers-outage');

    await page.goto(`${t.url}/?incident=${last}`);
    await page
      .getByTestId('deliveries')
      .getByText(/opsgenie: HTTP 202/)
      .waitFor({ timeout: 15_000 });
    expect(await page.getByTestId('timeline').textContent()).toMatch(/failover|opsgenie/);
    await screenshot(page, 'incident-failover');
    sandbox.pagerduty.clearFaults();
    expect(problems).toEqual([]);
    await page.close();
  });

  it('renders what events say as text: a message that is HTML stays text and runs nothing', async () => {
    const xss = '<img src=x onerror=alert(1)>';
    const sent = await post(`${t.url}/api/v1/alerts`, {
      title: xss,
      source: 'http',
      severity: 'high',
      service_name: 'search',
    });
    const { page, problems, dialogs } = await openPage(
      browser,
      `${t.url}/?incident=${sent.body.incident_id}`,
    );
    await page.getByTestId('incident-view').getByText(xss).first().waitFor();
    await page.goto(`${t.url}/?view=incidents`);
    await page.getByTestId('incident-list').getByText(xss).waitFor();
    expect(await page.locator('img').count()).toBe(0);
    expect(dialogs).toEqual([]);
    expect(problems).toEqual([]);
    await page.close();
  });
});

describe('dashboard with API_TOKEN', () => {
  let secured: TestApp;
  beforeAll(async () => {
    secured = await startTestApp({ API_TOKEN: 'dashboard-test-token' }, { sandbox });
  });
  afterAll(async () => secured?.stop());

  it('acknowledge without the token is refused on the page; with the token entered once, it succeeds', async () => {
    const sent = await post(
      `${secured.url}/api/v1/alerts`,
      failoverAlert('dash-token', 'Needs a token to acknowledge'),
      { authorization: 'Bearer dashboard-test-token' },
    );
    const id = sent.body.incident_id as string;
    const { page } = await openPage(browser, `${secured.url}/?incident=${id}`);
    await page.getByRole('button', { name: 'Acknowledge' }).click();
    await page
      .getByRole('alert')
      .getByText(/401 unauthorized/)
      .waitFor();
    expect((await get(`${secured.url}/api/v1/incidents/${id}`)).body.state).toBe('triggered');

    await page.locator('input[name="token"]').fill('dashboard-test-token');
    await page.getByRole('button', { name: 'use' }).click();
    expect(page.url()).not.toContain('dashboard-test-token');
    await page.getByRole('button', { name: 'Acknowledge' }).click();
    await page.getByTestId('incident-state').getByText('acknowledged').waitFor();
    expect((await get(`${secured.url}/api/v1/incidents/${id}`)).body.state).toBe('acknowledged');
    // Kept for this tab only, never in a URL or a cookie.
    expect(
      await page.evaluate(
        () => (globalThis as unknown as { sessionStorage: { length: number } }).sessionStorage.length,
      ),
    ).toBe(1);
    expect((await page.context().cookies()).length).toBe(0);
    await screenshot(page, 'incident-token');
    await page.close();
  });
});
