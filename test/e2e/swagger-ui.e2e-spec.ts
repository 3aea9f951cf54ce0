import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BrowserContext, chromium, Page } from 'playwright-core';
import { startStack, TestStack } from './support/test-stack';

/** Debian's chromium, installed by scripts/install-test-deps.sh. */
const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(__dirname, '..', 'artifacts');
export const SCREENSHOT = join(ARTIFACTS, 'swagger-ui-try-it-out.png');

/**
 * The Swagger UI as a person uses it, in a real headless Chromium: open /api/docs, log in
 * with the Authorize dialog, "Try it out" on GET /api/database/, Execute, read the answer.
 * The screenshot is kept in test/artifacts/ for a human to look at.
 */
describe('Swagger UI in a real browser (e2e)', () => {
  let stack: TestStack;
  let profile: string;
  let browser: BrowserContext;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    stack = await startStack();
    profile = mkdtempSync(join(tmpdir(), 'dbaas-chromium-'));
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1280, height: 1400 },
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--disable-quic',
      ],
    });
    page = browser.pages()[0] ?? (await browser.newPage());
    page.setDefaultTimeout(15_000);
    page.on('pageerror', (error) => pageErrors.push(error.message));
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
    await stack?.stop();
  });

  it('lands on the Swagger UI from / with every resource listed', async () => {
    await page.goto(`${stack.api.baseUrl}/`);
    await page.waitForSelector('.swagger-ui .information-container .title');
    expect(page.url()).toBe(`${stack.api.baseUrl}/api/docs`);
    expect(await page.locator('.information-container .title').innerText()).toContain('dbaas');
    const tags = await page.locator('.opblock-tag-section h3 .nostyle span').allInnerTexts();
    expect(tags).toEqual(expect.arrayContaining(['database', 'credential', 'plan', 'infra']));
  });

  it('authorizes as admin, tries GET /api/database/ and shows the 200 HAL list', async () => {
    await page.locator('.scheme-container button.authorize').click();
    const dialog = page.locator('.modal-ux');
    await dialog.locator('input[type="text"]').fill('admin');
    await dialog.locator('input[type="password"]').fill('123456');
    await dialog.locator('button.authorize').click();
    // Once authorized the dialog offers Logout instead of Authorize.
    await dialog.locator('button', { hasText: 'Logout' }).waitFor();
    expect(await dialog.innerText()).toMatch(/Authorized[\s\S]*admin/);
    await dialog.locator('button.btn-done').click();

    const operation = page.locator('#operations-database-list_database');
    await operation.locator('.opblock-summary').click();
    await operation.locator('button.try-out__btn').click();
    await operation.locator('button.execute').click();

    const response = operation.locator('.live-responses-table tbody .response').first();
    await response.waitFor();
    expect(await response.locator('.response-col_status').innerText()).toBe('200');
    const body = JSON.parse(
      await response.locator('.response-col_description pre').first().innerText(),
    ) as { _links: { count: number; self: string }; database: { name: string }[] };
    const direct = await stack.http.get('/api/database/');
    expect(direct.body._links.count).toBeGreaterThanOrEqual(2);
    expect(body._links).toMatchObject({
      count: direct.body._links.count,
      self: expect.stringMatching(
        new RegExp(`^${stack.api.baseUrl}/api/database(\\?page=1&page_size=10)?$`),
      ),
      previous: null,
      next: null,
    });
    expect(body.database.map((db) => db.name)).toEqual(
      expect.arrayContaining(['my_first_database', 'team1_database']),
    );
    const curl = await operation.locator('.curl-command').innerText();
    expect(curl).toContain(
      `Authorization: Basic ${Buffer.from('admin:123456').toString('base64')}`,
    );

    await operation.scrollIntoViewIfNeeded();
    mkdirSync(ARTIFACTS, { recursive: true });
    await operation.screenshot({ path: SCREENSHOT });
    expect(statSync(SCREENSHOT).size).toBeGreaterThan(10_000);
    expect(pageErrors).toEqual([]);
  });
});
