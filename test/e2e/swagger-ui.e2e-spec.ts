import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
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

  it('writes through the API from its own page: POST /api/project/ with Try it out answers 201', async () => {
    const operation = page.locator('#operations-project-create_project');
    await operation.locator('.opblock-summary').click();
    await operation.locator('button.try-out__btn').click();
    await operation
      .locator('textarea.body-param__text')
      .fill(JSON.stringify({ name: 'from-swagger-ui' }));
    await operation.locator('button.execute').click();
    const response = operation.locator('.live-responses-table tbody .response').first();
    await response.waitFor();
    expect(await response.locator('.response-col_status').innerText()).toBe('201');
    expect(
      await stack.metadata("SELECT name FROM project WHERE name = 'from-swagger-ui'"),
    ).toHaveLength(1);
    expect(pageErrors).toEqual([]);
  });

  it('refuses a form another site posts with the browser’s cached login (cross-site request forgery)', async () => {
    const attacker: Server = createServer((_request, response) => {
      response.setHeader('content-type', 'text/html');
      response.end(`<form method="post" action="${stack.api.baseUrl}/api/user/">
        <input name="username" value="forged_dba"><input name="password" value="forged-pass-123">
        <input name="role" value="dba"></form>
        <script>document.forms[0].submit()</script>`);
    });
    await new Promise<void>((resolve) => attacker.listen(0, 'localhost', resolve));
    const evil = await browser.newPage();
    evil.setDefaultTimeout(15_000);
    try {
      // As a browser that has logged in to the API sends its cached Basic login with every request to it.
      await evil.setExtraHTTPHeaders({
        authorization: `Basic ${Buffer.from('admin:123456').toString('base64')}`,
      });
      const answered = evil.waitForResponse((response) =>
        response.url().startsWith(`${stack.api.baseUrl}/api/user/`),
      );
      await evil.goto(`http://localhost:${(attacker.address() as AddressInfo).port}/`);
      expect((await answered).status()).toBe(403);
      expect(
        await stack.metadata('SELECT username FROM "user" WHERE username = \'forged_dba\''),
      ).toEqual([]);
    } finally {
      await evil.close();
      // The browser keeps its connection to the page's server open: close it too.
      attacker.closeAllConnections();
      await new Promise((resolve) => attacker.close(resolve));
    }
  });
});
