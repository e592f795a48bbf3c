// End-to-end test of the demo page at GET /, in Debian's headless Chromium driven by
// playwright-core: register, log in, enrol TOTP (the test computes codes itself from the key the
// page shows), confirm, see the recovery codes once, log out, log in again with a code, and check
// the decoded token claims, GET /v1/me and the sessions list ("Log out this device") on the page.
//
// Run: `make browser-test` (installs chromium when missing), or `node --test tests/browser/`
// after `make build`. Screenshots land in target/browser/. CHROMIUM_BIN overrides the browser.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

import { startWorker, repo } from './worker.mjs';
import { base32Decode, hotp, totp, timeStep } from './totp.mjs';

const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';
const OUT = path.join(repo, 'target', 'browser');
const PASSWORD = 'correct horse battery staple';
// Without the background-networking flags Chromium keeps dialling Google's hosts, which this
// machine's closed network refuses. Playwright adds its own --user-data-dir (a fresh one).
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--disable-dev-shm-usage',
];

const nowSeconds = () => Date.now() / 1000;

test('TOTP helper matches RFC 6238 appendix B (SHA-1) and RFC 4226 appendix D', () => {
  const seed = Buffer.from('12345678901234567890');
  assert.equal(hotp(seed, 0), '755224');
  assert.equal(hotp(seed, 9), '520489');
  for (const [t, want] of [[59, '94287082'], [1111111109, '07081804'], [1234567890, '89005924'], [20000000000, '65353130']]) {
    assert.equal(totp(seed, t, 8), want, `t=${t}`);
  }
  assert.deepEqual(base32Decode('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ'), seed);
});

test('demo page: register, enrol TOTP, recovery codes, log out, log in with a code', { timeout: 300_000 }, async (t) => {
  assert.ok(fs.existsSync(CHROMIUM), `${CHROMIUM} is missing: run \`make browser-test\` (installs Debian's chromium)`);
  fs.mkdirSync(OUT, { recursive: true });

  const worker = await startWorker();
  t.diagnostic(`worker at ${worker.base} (${worker.stateHow})`);
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'edge-login-chromium-'));
  let context = null;
  let failed = true;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1100, height: 900 },
      timeout: 60_000,
    });
    const page = context.pages()[0] ?? await context.newPage();
    page.setDefaultTimeout(30_000);

    // Anything the page logs as an error (CSP violations included), uncaught exceptions and
    // failed requests fail the test at the end.
    const problems = [];
    page.on('console', (msg) => { if (msg.type() === 'error') problems.push(`console: ${msg.text()}`); });
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    page.on('requestfailed', (req) => problems.push(`request failed: ${req.method()} ${req.url()} ${req.failure()?.errorText}`));

    const byId = (id) => page.getByTestId(id);
    const visible = (id) => byId(id).waitFor({ state: 'visible' });
    const text = async (id) => (await byId(id).textContent()) ?? '';
    const waitText = (id, needle) => page.waitForFunction(
      ([el, n]) => (document.querySelector(`[data-testid="${el}"]`)?.textContent ?? '').includes(n),
      [id, needle],
    );

    // ---------------------------------------------------------------- the page itself
    const response = await page.goto(`${worker.base}/`);
    assert.equal(response.status(), 200);
    assert.match(response.headers()['content-type'] ?? '', /^text\/html; ?charset=utf-8$/i);
    const csp = response.headers()['content-security-policy'];
    t.diagnostic(csp ? `CSP: ${csp}` : 'no Content-Security-Policy header on GET /');
    assert.equal(await page.title(), 'Edge Login · demo');
    await visible('view-auth');

    // ---------------------------------------------------------------- register
    const username = `demo-${Date.now().toString(36)}`;
    await byId('register-username').fill(username);
    await byId('register-email').fill(`${username}@example.com`);
    await byId('register-password').fill(PASSWORD);
    await byId('register-submit').click();
    await waitText('notice', 'created');
    assert.equal(await byId('login-username').inputValue(), username, 'login form prefilled');

    // A wrong password shows the API's message next to the form.
    await byId('login-password').fill('not my password at all');
    await byId('login-submit').click();
    await visible('login-error');
    assert.match(await text('login-error'), /invalid username or password/i);
    await page.screenshot({ path: path.join(OUT, 'start.png'), fullPage: true });

    // ---------------------------------------------------------------- log in (password only)
    await byId('login-password').fill(PASSWORD);
    await byId('login-submit').click();
    await visible('view-account');
    assert.equal(await text('account-username'), username);
    await waitText('token-claims', '"aal": "aal1"');

    // ---------------------------------------------------------------- sessions: another device
    // A second login from elsewhere (a script, straight to the API) shows up in the list and
    // can be logged out from the page; its refresh token dies at once.
    const elsewhere = await (await fetch(`${worker.base}/v1/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'curl/8.5.0' },
      body: JSON.stringify({ username, password: PASSWORD }),
    })).json();
    assert.equal(elsewhere.status, 'authenticated', JSON.stringify(elsewhere));
    await byId('sessions-reload').click();
    const sessions = page.locator('[data-testid="session"]');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="session"]').length === 2);
    assert.equal(await page.locator('[data-testid="session"][data-current="true"]').count(), 1);
    const other = page.locator('[data-testid="session"][data-current="false"]');
    assert.match(await other.textContent(), /curl/);
    await page.screenshot({ path: path.join(OUT, 'sessions.png'), fullPage: true });
    await other.getByTestId('session-end').click();
    await waitText('notice', 'That device is logged out');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="session"]').length === 1);
    assert.equal(await sessions.first().getAttribute('data-current'), 'true');
    const refused = await fetch(`${worker.base}/v1/token/refresh`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ refresh_token: elsewhere.refresh_token }),
    });
    assert.equal(refused.status, 401, 'the ended session cannot refresh');

    // ---------------------------------------------------------------- enrol TOTP
    await byId('enroll-start').click();
    await visible('view-enroll');
    await byId('enroll-password').fill(PASSWORD);
    await byId('enroll-submit').click();
    const qr = page.locator('[data-testid="totp-qr"] svg');
    await qr.waitFor({ state: 'visible' });
    const qrShape = await qr.evaluate((svg) => ({
      viewBox: svg.getAttribute('viewBox'),
      paths: svg.querySelectorAll('path, rect').length,
      box: svg.getBoundingClientRect().width,
    }));
    assert.ok(qrShape.viewBox && qrShape.paths > 0 && qrShape.box >= 150, `QR code rendered: ${JSON.stringify(qrShape)}`);
    const secret = (await text('totp-secret')).replace(/\s+/g, '');
    assert.match(secret, /^[A-Z2-7]{32}$/, 'a 160-bit key in base32');
    const uri = await byId('totp-uri').getAttribute('href');
    assert.ok(uri.startsWith('otpauth://totp/') && uri.includes(`secret=${secret}`), uri);
    await page.screenshot({ path: path.join(OUT, 'enroll.png'), fullPage: true });
    const key = base32Decode(secret);

    // ---------------------------------------------------------------- confirm with the current code
    // Computed right before submitting; the server accepts ±1 step, so a 30 s boundary
    // between here and the server is harmless.
    const confirmCode = totp(key, nowSeconds());
    await byId('confirm-code').fill(confirmCode);
    await byId('confirm-submit').click();
    await visible('view-recovery');
    const codes = (await byId('recovery-codes').locator('li').allTextContents()).map((c) => c.trim());
    assert.equal(codes.length, 10, `ten recovery codes: ${JSON.stringify(codes)}`);
    assert.equal(new Set(codes).size, 10, 'recovery codes are distinct');
    for (const c of codes) assert.match(c, /^[a-z0-9-]{16,24}$/i);
    assert.ok(!(await page.content()).includes(secret), 'the TOTP key is gone from the page once confirmed');
    await page.screenshot({ path: path.join(OUT, 'recovery.png'), fullPage: true });

    // ---------------------------------------------------------------- shown once
    await byId('recovery-ack').click();
    await visible('view-account');
    assert.equal(await byId('recovery-codes').locator('li').count(), 0);
    assert.ok(!(await page.content()).includes(codes[0]), 'recovery codes are not kept in the page');
    await waitText('token-claims', '"aal": "aal2"');
    assert.ok(await byId('enroll-start').isHidden(), 'no second enrolment offered');

    // ---------------------------------------------------------------- log out
    await byId('logout').click();
    await visible('view-auth');
    await waitText('notice', 'Logged out');
    assert.equal(await text('token-claims'), '', 'the signed-out page keeps no claims');
    assert.equal(await byId('login-username').inputValue(), username);

    // ---------------------------------------------------------------- log in again: code step
    await byId('login-password').fill(PASSWORD);
    await byId('login-submit').click();
    await visible('view-mfa');
    assert.equal(await text('mfa-username'), username);

    // A wrong code costs one of five attempts, and the page says so.
    const near = new Set([-1, 0, 1, 2].map((d) => hotp(key, timeStep(nowSeconds()) + d)));
    const wrong = ['000000', '111111', '222222', '333333', '444444'].find((c) => !near.has(c));
    await byId('mfa-code').fill(wrong);
    await byId('mfa-submit').click();
    await visible('mfa-error');
    assert.match(await text('mfa-error'), /not valid.*4 attempts left/i);
    await page.screenshot({ path: path.join(OUT, 'mfa.png'), fullPage: true });

    // The confirm spent the current step's code; an authenticator shows the next one 30 s later,
    // which is inside the ±1 step window now. Computed right before submitting.
    const nextCode = totp(key, nowSeconds() + 30);
    await byId('mfa-code').fill(nextCode);
    await byId('mfa-submit').click();
    await visible('view-account');

    // ---------------------------------------------------------------- signed in with two factors
    const claims = JSON.parse(await text('token-claims'));
    const header = JSON.parse(await text('token-header'));
    assert.ok((await text('token-claims')).includes('"aal": "aal2"'));
    assert.equal(claims.aal, 'aal2');
    assert.ok(Array.isArray(claims.amr) && claims.amr.includes('otp'), `amr: ${JSON.stringify(claims.amr)}`);
    assert.equal(claims.preferred_username, username);
    assert.equal(claims.mfa_enabled, true);
    assert.equal(header.alg, 'EdDSA');
    await page.waitForFunction(() => {
      const el = document.querySelector('[data-testid="me-output"]');
      return el.getAttribute('aria-busy') === 'false' && el.textContent.trim().startsWith('{');
    });
    const me = JSON.parse(await text('me-output'));
    assert.equal(me.username, username);
    assert.equal(me.aal, 'aal2');
    assert.ok(await byId('me-error').isHidden());
    assert.match(await page.locator('#account-title').textContent(), new RegExp(username));

    // Tokens stay in memory. Web storage holds only the device token of the finished login
    // (it proves nothing by itself: it moves this browser's password attempts to their own
    // throttle counter); no cookies.
    const stored = await page.evaluate(() => ({
      local: Object.keys(localStorage), session: sessionStorage.length, cookie: document.cookie,
      device: localStorage.getItem('edge-login.device.' + document.querySelector('#login-username').value.toLowerCase()),
    }));
    assert.deepEqual(stored.local, ['edge-login.device.' + username], stored.local.join());
    assert.match(stored.device, /^dvt_/);
    assert.equal(stored.session, 0);
    assert.equal(stored.cookie, '');

    await page.screenshot({ path: path.join(OUT, 'demo.png'), fullPage: true });
    // Chromium logs every 4xx answer to fetch(); the two deliberate 401s above are expected.
    const expected401 = /^console: Failed to load resource: the server responded with a status of 401\b/;
    assert.equal(problems.filter((p) => expected401.test(p)).length, 2, problems.join('\n'));
    assert.deepEqual(problems.filter((p) => !expected401.test(p)), [], 'no other console errors, page errors or failed requests');
    failed = false;
  } finally {
    if (context) await context.close().catch(() => {});
    fs.rmSync(userDataDir, { recursive: true, force: true });
    await worker.stop({ failed });
  }
});
