// End-to-end test of the demo page at GET /, in Debian's headless Chromium driven by
// playwright-core: register, log in, enrol TOTP (the test computes codes itself from the key the
// page shows), confirm, see the recovery codes once, log out, log in again with a code, and check
// the decoded token claims, GET /v1/me and the sessions list ("Log out this device") on the page.
// A second test asks for a password reset on the page, reads the code from the mail the Worker
// sends, opens the mail's link and sets a new password with it. A third changes the email
// address on the page, confirms the new one through the mailed link, then deletes the account.
//
// Run: `make browser-test` (installs chromium when missing), or `node --test tests/browser/`
// after `make build`. Screenshots land in target/browser/. CHROMIUM_BIN overrides the browser.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

import { startWorker, emailsIn, repo } from './worker.mjs';
import { base32Decode, hotp, totp, timeStep } from './totp.mjs';

const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';
const OUT = path.join(repo, 'target', 'browser');
const PASSWORD = 'correct horse battery staple';
const NEW_PASSWORD = 'a brand new passphrase for this one';
const RESET_MAIL = 'Reset your password';
const VERIFY_MAIL = 'Confirm your email address';
const DELETED_MAIL = 'Your account was deleted';
// Without the background-networking flags Chromium keeps dialling Google's hosts, which this
// machine's closed network refuses. Playwright adds its own --user-data-dir (a fresh one).
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--disable-dev-shm-usage',
];

const nowSeconds = () => Date.now() / 1000;

// Starts a fresh Worker and a fresh Chromium, runs `body` with the page and a few helpers, and
// always stops both (keeping the Worker's state and log when the test failed).
async function withDemoPage(t, body) {
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
    // failed requests fail the test at the end (see expectProblems).
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

    await body({ worker, page, problems, byId, visible, text, waitText });
    failed = false;
  } finally {
    if (context) await context.close().catch(() => {});
    fs.rmSync(userDataDir, { recursive: true, force: true });
    await worker.stop({ failed });
  }
}

// Chromium logs every 4xx answer to fetch() as a console error: `expected` counts the deliberate
// ones by status ({ 401: 2 }); any other problem fails the test.
function expectProblems(problems, expected) {
  const failedLoad = /^console: Failed to load resource: the server responded with a status of (\d{3})\b/;
  const seen = {};
  const other = [];
  for (const p of problems) {
    const status = failedLoad.exec(p)?.[1];
    if (status && status in expected) seen[status] = (seen[status] ?? 0) + 1;
    else other.push(p);
  }
  for (const [status, n] of Object.entries(expected)) {
    assert.equal(seen[status] ?? 0, n, `${n} deliberate ${status} answers:\n${problems.join('\n')}`);
  }
  assert.deepEqual(other, [], 'no other console errors, page errors or failed requests');
}

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
  await withDemoPage(t, async ({ worker, page, problems, byId, visible, text, waitText }) => {
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
    // The wrong password and the wrong code above.
    expectProblems(problems, { 401: 2 });
  });
});

test('demo page: forgot password, reset with the mailed code, log in with the new password', { timeout: 300_000 }, async (t) => {
  await withDemoPage(t, async ({ worker, page, problems, byId, visible, text, waitText }) => {
    const formIdle = (id) => page.waitForFunction(
      (el) => document.querySelector(`[data-testid="${el}"]`).getAttribute('aria-busy') === 'false',
      id,
    );

    await page.goto(`${worker.base}/`);
    await visible('view-auth');
    assert.ok(await byId('view-reset').isHidden(), 'no reset form until one is asked for');
    assert.ok(await byId('forgot-form').isHidden(), 'the forgot form is folded away');

    // ---------------------------------------------------------------- an account with an address
    const username = `reset-${Date.now().toString(36)}`;
    const email = `${username}@example.com`;
    await byId('register-username').fill(username);
    await byId('register-email').fill(email);
    await byId('register-password').fill(PASSWORD);
    await byId('register-submit').click();
    await waitText('notice', 'created');

    // ---------------------------------------------------------------- forgot: one answer for all
    // A known username, an unknown one and the account's address (not confirmed yet, so it finds
    // nothing) get the same status, body and notice: the page gives away no more than the API.
    await byId('forgot-toggle').click();
    await visible('forgot-form');
    const forgot = async (login) => {
      await byId('forgot-login').fill(login);
      const [response] = await Promise.all([
        page.waitForResponse((r) => new URL(r.url()).pathname === '/v1/password/forgot'),
        byId('forgot-submit').click(),
      ]);
      await formIdle('forgot-form');
      assert.ok(await byId('forgot-error').isHidden(), await text('forgot-error'));
      return {
        sent: response.request().postDataJSON(),
        answer: { status: response.status(), body: await response.text() },
        notice: await text('notice'),
      };
    };
    const known = await forgot(username);
    assert.deepEqual(known.sent, { username });
    assert.deepEqual(known.answer, { status: 202, body: '{"status":"requested"}' });
    assert.equal(known.notice, 'If that account exists and has an email address, a reset code is on its way.');
    const stranger = `nobody-${Date.now().toString(36)}`;
    const unknown = await forgot(stranger);
    assert.deepEqual(unknown.sent, { username: stranger });
    assert.deepEqual(unknown.answer, known.answer, 'an unknown username gets the same answer');
    assert.equal(unknown.notice, known.notice, 'and the same notice');
    const unconfirmed = await forgot(email);
    assert.deepEqual(unconfirmed.sent, { email }, 'a value with "@" is sent as an email address');
    assert.deepEqual(unconfirmed.answer, known.answer);
    assert.equal(unconfirmed.notice, known.notice);
    await page.screenshot({ path: path.join(OUT, 'forgot.png'), fullPage: true });

    // ---------------------------------------------------------------- the mail and its link
    const mail = await worker.waitForEmail(email, RESET_MAIL);
    const code = /\brst_[A-Za-z0-9_-]{43}\b/.exec(mail.text)?.[0];
    assert.ok(code, `a reset code in the mail:\n${mail.text}`);
    assert.ok(mail.text.includes(`/#reset_password=${code}`), `the mail links to the page:\n${mail.text}`);

    // Opened as a fresh page load, the way the link from the mail opens it.
    await page.goto('about:blank');
    await page.goto(`${worker.base}/#reset_password=${code}`);
    await visible('view-reset');
    assert.ok(await byId('view-auth').isHidden());
    assert.equal(await byId('reset-code').inputValue(), code, 'the code from the link is filled in');
    assert.equal(new URL(page.url()).hash, '', 'and gone from the address bar');
    assert.equal(await page.evaluate(() => document.activeElement?.dataset.testid), 'reset-password');

    // ---------------------------------------------------------------- a weak password first
    // Refused before the code is spent: the same code works for the next try.
    await byId('reset-password').fill('too short');
    await byId('reset-submit').click();
    await visible('reset-error');
    assert.match(await text('reset-error'), /at least 15 characters[\s\S]*\(weak_password\)/);
    assert.ok(await byId('view-reset').isVisible());
    assert.equal(await byId('reset-code').inputValue(), code, 'the code is kept');
    await page.screenshot({ path: path.join(OUT, 'reset.png'), fullPage: true });

    // ---------------------------------------------------------------- then a good one
    await byId('reset-password').fill(NEW_PASSWORD);
    await byId('reset-submit').click();
    await visible('view-auth');
    await waitText('notice', 'Password changed. Every session has ended: log in with the new password.');
    assert.ok(await byId('view-reset').isHidden());
    assert.equal(await byId('reset-code').inputValue(), '', 'the spent code is not kept in the page');

    // ---------------------------------------------------------------- old password out, new one in
    await byId('login-username').fill(username);
    await byId('login-password').fill(PASSWORD);
    await byId('login-submit').click();
    await visible('login-error');
    assert.match(await text('login-error'), /invalid username or password/i);
    await byId('login-password').fill(NEW_PASSWORD);
    await byId('login-submit').click();
    await visible('view-account');
    assert.equal(await text('account-username'), username);
    await waitText('token-claims', `"preferred_username": "${username}"`);

    // One reset mail in all: neither the unknown username nor the unconfirmed address sent one.
    const resetMails = emailsIn(fs.readFileSync(worker.logPath, 'utf8')).filter((m) => m.subject === RESET_MAIL);
    assert.deepEqual(resetMails.map((m) => m.to), [email]);

    // The weak password (400) and the old password (401).
    expectProblems(problems, { 400: 1, 401: 1 });
  });
});

test('demo page: change the email address, confirm it from the mail, delete the account', { timeout: 300_000 }, async (t) => {
  await withDemoPage(t, async ({ worker, page, problems, byId, visible, text, waitText }) => {
    const meLoaded = async () => {
      await page.waitForFunction(() => {
        const el = document.querySelector('[data-testid="me-output"]');
        return el.getAttribute('aria-busy') === 'false' && el.textContent.trim().startsWith('{');
      });
      return JSON.parse(await text('me-output'));
    };
    const logIn = async (name, password) => {
      await byId('login-username').fill(name);
      await byId('login-password').fill(password);
      await byId('login-submit').click();
    };
    // Submits a form and returns the request it made to `pathname` and the answer.
    const submit = async (button, pathname) => {
      const [response] = await Promise.all([
        page.waitForResponse((r) => new URL(r.url()).pathname === pathname),
        byId(button).click(),
      ]);
      return { sent: response.request().postDataJSON(), status: response.status(), method: response.request().method() };
    };

    await page.goto(`${worker.base}/`);
    await visible('view-auth');

    // ---------------------------------------------------------------- an account with an address
    const username = `move-${Date.now().toString(36)}`;
    const oldEmail = `${username}@example.com`;
    const newEmail = `${username}@new.example`;
    await byId('register-username').fill(username);
    await byId('register-email').fill(oldEmail);
    await byId('register-password').fill(PASSWORD);
    await byId('register-submit').click();
    await waitText('notice', 'created');
    await logIn(username, PASSWORD);
    await visible('view-account');
    assert.equal(await text('account-username'), username);
    assert.ok(await byId('email-form').isHidden(), 'the email form is folded away');
    assert.ok(await byId('delete-form').isHidden(), 'the delete form is folded away');
    assert.equal((await meLoaded()).email, null, 'the address from the registration is not confirmed');

    // ---------------------------------------------------------------- change the address
    await byId('email-change-toggle').click();
    await visible('email-form');
    await byId('email-new').fill(newEmail);
    await byId('email-password').fill(PASSWORD);
    const changed = await submit('email-submit', '/v1/email');
    assert.deepEqual(changed, { sent: { password: PASSWORD, email: newEmail }, status: 204, method: 'POST' },
      'no second factor is sent when the field is empty');
    await waitText('notice', 'Check the new address for a confirmation link; until then it is not verified.');
    assert.ok(await byId('email-error').isHidden(), await text('email-error'));
    assert.ok(await byId('email-form').isHidden(), 'the form folds away again');
    assert.equal(await byId('email-password').inputValue(), '', 'the password is not kept in the form');
    assert.equal((await meLoaded()).email, null, 'not verified yet');
    await page.screenshot({ path: path.join(OUT, 'email-change.png'), fullPage: true });

    // ---------------------------------------------------------------- the mail to the new address
    const mail = await worker.waitForEmail(newEmail, VERIFY_MAIL);
    const code = /\bevc_[A-Za-z0-9_-]{43}\b/.exec(mail.text)?.[0];
    assert.ok(code, `a verification code in the mail:\n${mail.text}`);
    assert.ok(mail.text.includes(`/#verify_email=${code}`), `the mail links to the page:\n${mail.text}`);

    // Opened as a fresh page load, the way the link from the mail opens it: the session is gone.
    await page.goto('about:blank');
    await page.goto(`${worker.base}/#verify_email=${code}`);
    await visible('view-auth');
    await waitText('notice', 'Your email address is confirmed.');
    assert.equal(new URL(page.url()).hash, '', 'the code is gone from the address bar');

    // A new login's token carries the confirmed address.
    await logIn(username, PASSWORD);
    await visible('view-account');
    const me = await meLoaded();
    assert.equal(me.email, newEmail);
    assert.equal(me.email_verified, true);

    // ---------------------------------------------------------------- delete: not confirmed
    // Refused in the page: the box is not ticked, so no request goes out.
    const deletes = [];
    page.on('request', (r) => { if (new URL(r.url()).pathname === '/v1/account') deletes.push(r.method()); });
    await byId('delete-toggle').click();
    await visible('delete-form');
    await byId('delete-password').fill(PASSWORD);
    await byId('delete-submit').click();
    await visible('delete-error');
    assert.match(await text('delete-error'), /cannot be undone/);
    assert.equal(await page.evaluate(() => document.activeElement?.dataset.testid), 'delete-confirm');
    assert.deepEqual(deletes, [], 'nothing was sent');
    assert.ok(await byId('view-account').isVisible());
    await page.screenshot({ path: path.join(OUT, 'delete.png'), fullPage: true });

    // ---------------------------------------------------------------- delete: wrong password
    await byId('delete-confirm').check();
    await byId('delete-password').fill('not my password at all');
    const wrong = await submit('delete-submit', '/v1/account');
    assert.deepEqual(wrong, { sent: { password: 'not my password at all' }, status: 401, method: 'DELETE' });
    await visible('delete-error');
    await waitText('delete-error', '(invalid_credentials)');
    assert.match(await text('delete-error'), /invalid username or password/i);
    assert.ok(await byId('view-account').isVisible(), 'still signed in');

    // ---------------------------------------------------------------- delete: for real
    await byId('delete-password').fill(PASSWORD);
    const deleted = await submit('delete-submit', '/v1/account');
    assert.deepEqual(deleted, { sent: { password: PASSWORD }, status: 204, method: 'DELETE' });
    await visible('view-auth');
    await waitText('notice', 'Your account is deleted.');
    assert.ok(await byId('view-account').isHidden());
    assert.equal(await text('token-claims'), '', 'the signed-out page keeps no claims');
    assert.equal(await byId('delete-password').inputValue(), '', 'the password is not kept in the form');
    assert.equal(await page.evaluate((name) => localStorage.getItem('edge-login.device.' + name), username), null,
      'the device token of the deleted account is forgotten');
    const last = await worker.waitForEmail(newEmail, DELETED_MAIL);
    assert.match(last.text, /Your account was deleted/);

    // ---------------------------------------------------------------- the username logs in no more
    await logIn(username, PASSWORD);
    await visible('login-error');
    assert.match(await text('login-error'), /invalid username or password/i);
    assert.ok(await byId('view-account').isHidden());

    // Nothing ever went to the old address but its (unused) registration code.
    const toOld = emailsIn(fs.readFileSync(worker.logPath, 'utf8')).filter((m) => m.to === oldEmail);
    assert.deepEqual(toOld.map((m) => m.subject), [VERIFY_MAIL]);

    // The wrong password at the delete form and the login after the deletion.
    expectProblems(problems, { 401: 2 });
  });
});
