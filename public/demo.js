(() => {
  'use strict';

  const $ = (id) => {
    const el = document.getElementById(id);
    if (!el) throw new Error('missing #' + id);
    return el;
  };

  // ------------------------------------------------------------------ state (memory only)
  const session = { access: null, refresh: null };
  let mfaToken = null;
  let lastUsername = '';
  let pendingSecret = '';   // the TOTP key while an enrolment waits for its first code
  let shownCodes = [];      // recovery codes, until the user says they saved them

  // ------------------------------------------------------------------ API calls

  class ApiFailure extends Error {
    constructor(status, body) {
      const message = body && typeof body.message === 'string' && body.message
        ? body.message
        : (status ? 'The server answered ' + status + '.' : 'Could not reach the server.');
      super(message);
      this.status = status;
      this.code = body && typeof body.error === 'string' ? body.error : (status ? 'http_' + status : 'network_error');
      this.attemptsRemaining = body && Number.isInteger(body.attempts_remaining) ? body.attempts_remaining : null;
    }
  }

  async function api(method, path, body, bearer) {
    const headers = { Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (bearer) headers.Authorization = 'Bearer ' + bearer;
    let response;
    try {
      response = await fetch(path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: 'no-store',
        credentials: 'omit',
        redirect: 'error',
      });
    } catch (_) {
      throw new ApiFailure(0, null);
    }
    if (response.status === 204) return null;
    const text = await response.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch (_) { data = null; }
    if (!response.ok) throw new ApiFailure(response.status, data);
    return data;
  }

  // Calls with the access token; when it has expired, rotates the refresh token once and retries.
  async function authed(method, path, body) {
    if (!session.access) throw new ApiFailure(401, { error: 'invalid_token', message: 'You are not logged in.' });
    try {
      return await api(method, path, body, session.access);
    } catch (e) {
      if (!(e instanceof ApiFailure) || e.code !== 'invalid_token' || !session.refresh) throw e;
      let fresh;
      try {
        fresh = await api('POST', '/v1/token/refresh', { refresh_token: session.refresh });
      } catch (_) {
        throw e;
      }
      setSession(fresh);
      return api(method, path, body, session.access);
    }
  }

  // ------------------------------------------------------------------ JWT (decode only)

  function base64UrlDecode(part) {
    const b64 = part.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(part.length / 4) * 4, '=');
    const binary = atob(b64);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  }

  // Header and claims of a JWT, decoded WITHOUT verifying the signature.
  function decodeJwt(token) {
    const parts = String(token).split('.');
    if (parts.length !== 3) throw new Error('not a JWT');
    return { header: JSON.parse(base64UrlDecode(parts[0])), claims: JSON.parse(base64UrlDecode(parts[1])) };
  }

  // ------------------------------------------------------------------ UI helpers

  const views = ['view-auth', 'view-reset', 'view-mfa', 'view-enroll', 'view-recovery', 'view-account'];

  function show(viewId, focusId) {
    for (const id of views) $(id).hidden = id !== viewId;
    const target = focusId ? $(focusId) : $(viewId).querySelector('h2');
    if (target) target.focus();
  }

  const stepOrder = ['register', 'login', 'enroll', 'confirm', 'recovery', 'logout', 'mfa', 'signed-in'];

  function stepItem(name) {
    return $('steps').querySelector('li[data-step="' + name + '"]');
  }

  function stepDone(name) {
    const li = stepItem(name);
    if (!li.classList.contains('done')) {
      li.classList.add('done');
      li.setAttribute('aria-label', li.textContent.trim() + ', done');
    }
    const next = stepOrder.slice(stepOrder.indexOf(name) + 1).find((s) => !stepItem(s).classList.contains('done'));
    stepCurrent(next || null);
  }

  function stepCurrent(name) {
    for (const li of $('steps').children) li.removeAttribute('aria-current');
    if (name) stepItem(name).setAttribute('aria-current', 'step');
  }

  function notice(text) {
    const el = $('notice');
    el.textContent = text || '';
    el.hidden = !text;
  }

  function showError(elId, err) {
    const el = $(elId);
    el.replaceChildren();
    if (!err) { el.hidden = true; return; }
    let text = err instanceof Error ? err.message : String(err);
    if (text && !/[.!?]$/.test(text)) text += '.';
    text = text.charAt(0).toUpperCase() + text.slice(1);
    el.append(text);
    if (err instanceof ApiFailure) {
      if (err.attemptsRemaining !== null) {
        el.append(' ' + (err.attemptsRemaining === 1 ? '1 attempt left.' : err.attemptsRemaining + ' attempts left.'));
      }
      const code = document.createElement('span');
      code.className = 'code';
      code.textContent = ' (' + err.code + ')';
      el.append(code);
    }
    el.hidden = false;
  }

  // Runs a form's action with its buttons disabled, so a single-use code is never sent twice.
  function onSubmit(formId, errorId, action) {
    const form = $(formId);
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      if (form.getAttribute('aria-busy') === 'true') return;
      showError(errorId, null);
      const buttons = form.querySelectorAll('button');
      form.setAttribute('aria-busy', 'true');
      for (const b of buttons) b.disabled = true;
      try {
        await action(form);
      } catch (err) {
        showError(errorId, err);
      } finally {
        form.setAttribute('aria-busy', 'false');
        for (const b of buttons) b.disabled = false;
      }
    });
  }

  function onClick(id, action) {
    const button = $(id);
    button.addEventListener('click', async () => {
      if (button.disabled) return;
      button.disabled = true;
      try { await action(); } finally { button.disabled = false; }
    });
  }

  function field(form, name) {
    return form.elements.namedItem(name);
  }

  function requireValue(input, what) {
    const value = input.value.trim();
    if (!value) {
      input.focus();
      throw new Error(what + ' is required');
    }
    return value;
  }

  // "123 456" and "123-456" are accepted as typed; the API wants exactly six ASCII digits.
  function sixDigits(input) {
    const code = input.value.replace(/[\s-]/g, '');
    if (!/^[0-9]{6}$/.test(code)) {
      input.focus();
      input.select();
      throw new Error('Enter the 6-digit code shown in your authenticator app');
    }
    return code;
  }

  // The optional second factor (password reset, email change, account deletion): six digits
  // are an authenticator code, anything else a recovery code; nothing at all when the account
  // has no second factor.
  function secondFactor(input) {
    const raw = input.value.trim();
    if (!raw) return {};
    const digits = raw.replace(/[\s-]/g, '');
    return /^[0-9]{6}$/.test(digits) ? { code: digits } : { recovery_code: raw };
  }

  // After a wrong or missing second factor (the API asks for one when two-factor is on), empties
  // the field and puts the cursor there; true when `err` was one of those.
  function secondFactorRefused(err, input) {
    const code = err instanceof ApiFailure ? err.code : '';
    if (code === 'invalid_code' || code === 'factor_locked' || (code === 'invalid_request' && !input.value.trim())) {
      input.value = '';
      input.focus();
      return true;
    }
    return false;
  }

  async function copyText(text, button) {
    const label = button.textContent;
    try {
      await navigator.clipboard.writeText(text);
      button.textContent = 'Copied';
    } catch (_) {
      button.textContent = 'Copy failed: select the text instead';
    }
    setTimeout(() => { button.textContent = label; }, 2000);
  }

  function relative(seconds) {
    const abs = Math.abs(seconds);
    const text = abs < 90 ? Math.round(abs) + ' s' : abs < 5400 ? Math.round(abs / 60) + ' min' : Math.round(abs / 3600) + ' h';
    return seconds >= 0 ? 'in ' + text : text + ' ago';
  }

  function timeFact(unix) {
    if (typeof unix !== 'number') return String(unix);
    const at = new Date(unix * 1000);
    return at.toLocaleString() + ' (' + relative(unix - Date.now() / 1000) + ')';
  }

  // ------------------------------------------------------------------ session

  function setSession(body) {
    if (!body || body.status !== 'authenticated' || typeof body.access_token !== 'string') {
      throw new Error('Unexpected answer from the server');
    }
    session.access = body.access_token;
    session.refresh = typeof body.refresh_token === 'string' ? body.refresh_token : null;
    if (typeof body.device_token === 'string' && lastUsername) rememberDevice(lastUsername, body.device_token);
  }

  // The device token of each account this browser has logged in to: its later password
  // attempts wait only for their own failures, not for strangers' guesses.
  function deviceKey(name) { return 'edge-login.device.' + name; }
  function deviceToken(name) {
    try { return localStorage.getItem(deviceKey(name)); } catch (_) { return null; }
  }
  function rememberDevice(name, token) {
    try { localStorage.setItem(deviceKey(name), token); } catch (_) { /* private mode */ }
  }
  function forgetDevice(name) {
    try { localStorage.removeItem(deviceKey(name)); } catch (_) { /* private mode */ }
  }

  function clearSession() {
    session.access = null;
    session.refresh = null;
  }

  async function enterAccount() {
    let decoded;
    try {
      decoded = decodeJwt(session.access);
    } catch (_) {
      decoded = { header: {}, claims: {} };
    }
    const { header, claims } = decoded;
    const name = claims.preferred_username || lastUsername;
    if (name) lastUsername = name;
    $('account-username').textContent = name || '(unknown)';

    const badges = $('account-badges');
    badges.replaceChildren();
    const badge = (text, strong, testid) => {
      const b = document.createElement('span');
      b.className = strong ? 'badge strong' : 'badge';
      b.textContent = text;
      if (testid) b.dataset.testid = testid;
      badges.append(b);
    };
    const aal2 = claims.aal === 'aal2';
    badge(aal2 ? 'Two factors used (aal2)' : 'Password only (' + (claims.aal || 'aal?') + ')', aal2, 'badge-aal');
    badge(claims.mfa_enabled ? 'Two-factor on' : 'Two-factor off', !!claims.mfa_enabled, 'badge-mfa');
    if (Array.isArray(claims.amr)) badge('Methods: ' + claims.amr.join(', '), false, 'badge-amr');

    $('enroll-start').hidden = !!claims.mfa_enabled;

    const facts = $('token-facts');
    facts.replaceChildren();
    const fact = (term, value) => {
      const dt = document.createElement('dt');
      dt.textContent = term;
      const dd = document.createElement('dd');
      dd.textContent = value;
      facts.append(dt, dd);
    };
    fact('Algorithm', (header.alg || '?') + (header.kid ? ', key ' + header.kid : ''));
    if (claims.iss) fact('Issuer', String(claims.iss));
    if (claims.aud) fact('Audience', Array.isArray(claims.aud) ? claims.aud.join(', ') : String(claims.aud));
    if (claims.iat !== undefined) fact('Issued', timeFact(claims.iat));
    if (claims.exp !== undefined) fact('Expires', timeFact(claims.exp));
    if (claims.auth_time !== undefined) fact('Authenticated', timeFact(claims.auth_time));

    $('token-header').textContent = JSON.stringify(header, null, 2);
    $('token-claims').textContent = JSON.stringify(claims, null, 2);
    show('view-account');
    await Promise.all([loadMe(), loadSessions()]);
  }

  // The caller's sessions, each with "Log out this device" but the current one.
  async function loadSessions() {
    const list = $('sessions-list');
    showError('sessions-error', null);
    list.setAttribute('aria-busy', 'true');
    try {
      const { sessions } = await authed('GET', '/v1/sessions');
      list.replaceChildren(...sessions.map((s) => {
        const li = document.createElement('li');
        li.dataset.testid = 'session';
        li.dataset.current = String(s.current);
        const what = document.createElement('span');
        what.textContent = s.device + (s.ip ? ', ' + s.ip : '') + ', last used ' + relative(s.last_used_at - Date.now() / 1000)
          + ' (' + s.aal + ')';
        li.append(what);
        if (s.current) {
          const here = document.createElement('strong');
          here.textContent = ' this device';
          li.append(here);
        } else {
          const end = document.createElement('button');
          end.type = 'button';
          end.className = 'secondary small';
          end.dataset.testid = 'session-end';
          end.textContent = 'Log out this device';
          end.addEventListener('click', async () => {
            end.disabled = true;
            try {
              await authed('DELETE', '/v1/sessions/' + encodeURIComponent(s.id));
              notice('That device is logged out.');
            } catch (err) {
              showError('sessions-error', err);
            }
            await loadSessions();
          });
          li.append(' ', end);
        }
        return li;
      }));
    } catch (err) {
      list.replaceChildren();
      showError('sessions-error', err);
    } finally {
      list.setAttribute('aria-busy', 'false');
    }
  }

  async function loadMe() {
    const out = $('me-output');
    showError('me-error', null);
    out.setAttribute('aria-busy', 'true');
    out.textContent = 'Loading…';
    try {
      const me = await authed('GET', '/v1/me');
      out.textContent = JSON.stringify(me, null, 2);
    } catch (err) {
      out.textContent = '';
      showError('me-error', err);
    } finally {
      out.setAttribute('aria-busy', 'false');
    }
  }

  function clearAccountView() {
    for (const id of ['account-username', 'token-header', 'token-claims', 'me-output']) $(id).textContent = '';
    $('sessions-list').replaceChildren();
    showError('sessions-error', null);
    $('account-badges').replaceChildren();
    $('token-facts').replaceChildren();
    showError('me-error', null);
    for (const [formId, errorId, detailsId] of [['email-form', 'email-error', 'email-change'], ['delete-form', 'delete-error', 'delete-account']]) {
      $(formId).reset();
      showError(errorId, null);
      $(detailsId).open = false;
    }
  }

  function backToLogin(message, errorMessage) {
    clearSession();
    mfaToken = null;
    resetEnrolment();
    clearAccountView();
    shownCodes = [];
    $('recovery-codes').replaceChildren();
    show('view-auth', lastUsername ? 'login-password' : 'login-username');
    if (lastUsername) $('login-username').value = lastUsername;
    notice(message || '');
    showError('login-error', errorMessage ? new Error(errorMessage) : null);
  }

  // ------------------------------------------------------------------ register

  onSubmit('register-form', 'register-error', async (form) => {
    const username = requireValue(field(form, 'username'), 'A username');
    const password = field(form, 'password').value;
    if (!password) { field(form, 'password').focus(); throw new Error('A password is required'); }
    if ([...password].length < 15) {
      field(form, 'password').focus();
      throw new Error('The password must be at least 15 characters');
    }
    const email = field(form, 'email').value.trim();
    const body = { username, password };
    if (email) body.email = email;
    const created = await api('POST', '/v1/register', body);
    form.reset();
    lastUsername = (created && created.username) || username;
    $('login-username').value = lastUsername;
    $('login-password').value = '';
    showError('login-error', null);
    notice('Account “' + lastUsername + '” created. Now log in with it.');
    stepDone('register');
    $('login-password').focus();
  });

  // ------------------------------------------------------------------ log in (password step)

  onSubmit('login-form', 'login-error', async (form) => {
    const username = requireValue(field(form, 'username'), 'The username');
    const passwordInput = field(form, 'password');
    if (!passwordInput.value) { passwordInput.focus(); throw new Error('The password is required'); }
    let result;
    try {
      const request = { username, password: passwordInput.value };
      const device = deviceToken(username.toLowerCase());
      if (device) request.device_token = device;
      result = await api('POST', '/v1/login', request);
    } catch (err) {
      passwordInput.select();
      throw err;
    }
    passwordInput.value = '';
    notice('');
    lastUsername = username.toLowerCase();
    if (result && result.status === 'mfa_required') {
      mfaToken = result.mfa_token;
      $('mfa-username').textContent = lastUsername;
      $('mfa-code').value = '';
      $('recovery-login-code').value = '';
      $('recovery-login').open = false;
      showError('mfa-error', null);
      showError('recovery-login-error', null);
      stepCurrent('mfa');
      show('view-mfa', 'mfa-code');
      return;
    }
    setSession(result);
    stepDone('login');
    await enterAccount();
  });

  // ------------------------------------------------------------------ forgot / reset password

  // The same answer whether or not the account exists, so the page cannot say more either.
  onSubmit('forgot-form', 'forgot-error', async (form) => {
    const login = requireValue(field(form, 'login'), 'A username or email address');
    notice('');
    await api('POST', '/v1/password/forgot', login.includes('@') ? { email: login } : { username: login });
    notice('If that account exists and has an email address, a reset code is on its way.');
  });

  function showReset(code) {
    const form = $('reset-form');
    form.reset();
    showError('reset-error', null);
    if (code) field(form, 'reset_code').value = code;
    show('view-reset', code ? 'reset-password' : 'reset-code');
  }

  $('forgot-have-code').addEventListener('click', () => showReset(''));
  $('reset-cancel').addEventListener('click', () => {
    $('reset-form').reset();
    showError('reset-error', null);
    show('view-auth', 'login-username');
  });

  onSubmit('reset-form', 'reset-error', async (form) => {
    const codeInput = field(form, 'reset_code');
    const passwordInput = field(form, 'new_password');
    const factorInput = field(form, 'second_factor');
    const resetCode = requireValue(codeInput, 'The reset code from the email');
    if (!passwordInput.value) { passwordInput.focus(); throw new Error('A new password is required'); }
    const body = Object.assign({ reset_code: resetCode, new_password: passwordInput.value }, secondFactor(factorInput));
    try {
      await api('POST', '/v1/password/reset', body);
    } catch (err) {
      const code = err instanceof ApiFailure ? err.code : '';
      if (code === 'weak_password') {
        passwordInput.select();
      } else if (code === 'invalid_email_code') {
        codeInput.select();
      } else {
        secondFactorRefused(err, factorInput);
      }
      throw err;
    }
    form.reset();
    $('forgot').open = false;
    backToLogin('Password changed. Every session has ended: log in with the new password.');
  });

  // ------------------------------------------------------------------ log in (second factor)

  async function finishMfa(payload, input) {
    if (!mfaToken) throw new Error('Log in with your password first');
    let result;
    try {
      result = await api('POST', '/v1/login/mfa', Object.assign({ mfa_token: mfaToken }, payload));
    } catch (err) {
      if (err instanceof ApiFailure && err.code === 'invalid_mfa_token') {
        backToLogin('', 'That sign-in attempt expired or ran out of tries. Log in again');
        return;
      }
      input.value = '';
      input.focus();
      throw err;
    }
    mfaToken = null;
    setSession(result);
    stepDone('mfa');
    stepDone('signed-in');
    await enterAccount();
  }

  onSubmit('mfa-form', 'mfa-error', async (form) => {
    const input = field(form, 'code');
    await finishMfa({ code: sixDigits(input) }, input);
  });

  onSubmit('recovery-login-form', 'recovery-login-error', async (form) => {
    const input = field(form, 'recovery_code');
    await finishMfa({ recovery_code: requireValue(input, 'The recovery code') }, input);
  });

  $('mfa-cancel').addEventListener('click', () => backToLogin(''));

  // ------------------------------------------------------------------ TOTP enrolment

  // The server's QR code is SVG markup. It is parsed as XML (never as HTML, never via
  // innerHTML), reduced to the few elements a QR code needs, then imported as a node.
  function qrFromMarkup(markup) {
    const doc = new DOMParser().parseFromString(String(markup), 'image/svg+xml');
    const root = doc.documentElement;
    const svgNs = 'http://www.w3.org/2000/svg';
    if (!root || root.namespaceURI !== svgNs || root.localName !== 'svg' || doc.getElementsByTagName('parsererror').length) {
      return null;
    }
    const allowed = new Set(['svg', 'g', 'path', 'rect']);
    for (const el of [root, ...root.querySelectorAll('*')]) {
      if (el.namespaceURI !== svgNs || !allowed.has(el.localName)) { el.remove(); continue; }
      for (const attr of [...el.attributes]) {
        const name = attr.name.toLowerCase();
        if (name.startsWith('on') || name.includes('href') || name === 'style') el.removeAttribute(attr.name);
      }
    }
    const svg = document.importNode(root, true);
    const w = parseFloat(svg.getAttribute('width'));
    const h = parseFloat(svg.getAttribute('height'));
    if (!svg.hasAttribute('viewBox') && w > 0 && h > 0) svg.setAttribute('viewBox', '0 0 ' + w + ' ' + h);
    svg.removeAttribute('width');
    svg.removeAttribute('height');
    svg.setAttribute('role', 'img');
    svg.setAttribute('aria-label', 'QR code of the authenticator setup link');
    svg.setAttribute('focusable', 'false');
    return svg;
  }

  function resetEnrolment() {
    pendingSecret = '';
    $('totp-qr').replaceChildren();
    $('totp-secret').textContent = '';
    $('totp-uri').setAttribute('href', '#');
    $('enroll-expiry').textContent = '';
    $('enroll-pending').hidden = true;
    $('enroll-form').hidden = false;
    $('enroll-password').value = '';
    $('confirm-code').value = '';
    showError('enroll-error', null);
    showError('confirm-error', null);
  }

  onClick('enroll-start', async () => {
    notice('');
    resetEnrolment();
    stepCurrent('enroll');
    show('view-enroll', 'enroll-password');
  });

  function cancelEnrolment() {
    resetEnrolment();
    enterAccount();
  }
  $('enroll-cancel').addEventListener('click', cancelEnrolment);
  $('confirm-cancel').addEventListener('click', cancelEnrolment);

  onSubmit('enroll-form', 'enroll-error', async (form) => {
    const passwordInput = field(form, 'password');
    if (!passwordInput.value) { passwordInput.focus(); throw new Error('The password is required'); }
    let result;
    try {
      result = await authed('POST', '/v1/2fa/totp/enroll', { password: passwordInput.value });
    } catch (err) {
      passwordInput.select();
      throw err;
    }
    passwordInput.value = '';
    pendingSecret = String(result.secret || '');
    const qr = qrFromMarkup(result.qr_svg);
    if (qr) {
      $('totp-qr').replaceChildren(qr);
    } else {
      const p = document.createElement('p');
      p.textContent = 'The QR code could not be shown; enter the key by hand.';
      $('totp-qr').replaceChildren(p);
    }
    // Groups of four are easier to type; authenticator apps ignore the spaces.
    $('totp-secret').textContent = pendingSecret.replace(/(.{4})(?=.)/g, '$1 ');
    const uri = String(result.otpauth_uri || '');
    $('totp-uri').setAttribute('href', uri.startsWith('otpauth://') ? uri : '#');
    const minutes = Math.round(Number(result.expires_in) / 60);
    $('enroll-expiry').textContent = minutes > 0
      ? 'Confirm within ' + minutes + ' minutes, or start again.'
      : '';
    form.hidden = true;
    $('enroll-pending').hidden = false;
    stepDone('enroll');
    $('confirm-code').focus();
  });

  onClick('copy-secret', () => copyText(pendingSecret, $('copy-secret')));

  onSubmit('confirm-form', 'confirm-error', async (form) => {
    const input = field(form, 'code');
    const code = sixDigits(input);
    let result;
    try {
      result = await authed('POST', '/v1/2fa/totp/confirm', { code });
    } catch (err) {
      input.value = '';
      if (err instanceof ApiFailure && err.code === 'enrollment_expired') {
        resetEnrolment();
        stepCurrent('enroll');
        $('enroll-password').focus();
        showError('enroll-error', err);
        return;
      }
      input.focus();
      throw err;
    }
    setSession(result);
    resetEnrolment();
    stepDone('confirm');
    showRecoveryCodes(Array.isArray(result.recovery_codes) ? result.recovery_codes : []);
  });

  // ------------------------------------------------------------------ recovery codes (once)

  function showRecoveryCodes(codes) {
    shownCodes = codes.map(String);
    const list = $('recovery-codes');
    list.replaceChildren(...shownCodes.map((c) => {
      const li = document.createElement('li');
      const code = document.createElement('code');
      code.textContent = c;
      li.append(code);
      return li;
    }));
    notice('Two-factor authentication is on.');
    show('view-recovery');
  }

  onClick('copy-recovery', () => copyText(shownCodes.join('\n'), $('copy-recovery')));

  onClick('recovery-ack', async () => {
    // Forget them: they are never shown again.
    shownCodes = [];
    $('recovery-codes').replaceChildren();
    stepDone('recovery');
    notice('');
    await enterAccount();
  });

  // ------------------------------------------------------------------ account

  onClick('me-reload', loadMe);
  onClick('sessions-reload', loadSessions);
  onClick('sessions-end-others', async () => {
    try {
      await authed('POST', '/v1/sessions/revoke-others');
      notice('Every other device is logged out.');
    } catch (err) {
      showError('sessions-error', err);
    }
    await loadSessions();
  });

  // POST /v1/email: the new address is unverified until its confirmation link is opened.
  onSubmit('email-form', 'email-error', async (form) => {
    const emailInput = field(form, 'email');
    const passwordInput = field(form, 'password');
    const factorInput = field(form, 'second_factor');
    const email = requireValue(emailInput, 'The new email address');
    if (!passwordInput.value) { passwordInput.focus(); throw new Error('The password is required'); }
    const body = Object.assign({ password: passwordInput.value, email }, secondFactor(factorInput));
    try {
      await authed('POST', '/v1/email', body);
    } catch (err) {
      const code = err instanceof ApiFailure ? err.code : '';
      if (code === 'email_taken') {
        emailInput.select();
      } else if (code === 'invalid_credentials') {
        passwordInput.select();
      } else {
        secondFactorRefused(err, factorInput);
      }
      throw err;
    }
    form.reset();
    $('email-change').open = false;
    $('email-change-toggle').focus();
    notice('Check the new address for a confirmation link; until then it is not verified.');
    await loadMe();
  });

  // DELETE /v1/account, once the box saying it cannot be undone is ticked.
  onSubmit('delete-form', 'delete-error', async (form) => {
    const passwordInput = field(form, 'password');
    const factorInput = field(form, 'second_factor');
    const confirmBox = field(form, 'confirm');
    if (!passwordInput.value) { passwordInput.focus(); throw new Error('The password is required'); }
    if (!confirmBox.checked) {
      confirmBox.focus();
      throw new Error('Tick “I understand this cannot be undone” to delete the account');
    }
    const body = Object.assign({ password: passwordInput.value }, secondFactor(factorInput));
    try {
      await authed('DELETE', '/v1/account', body);
    } catch (err) {
      if (!secondFactorRefused(err, factorInput) && err instanceof ApiFailure && err.code === 'invalid_credentials') {
        passwordInput.select();
      }
      throw err;
    }
    // The sessions went with the account: nothing to log out on the server.
    if (lastUsername) forgetDevice(lastUsername);
    backToLogin('Your account is deleted.');
  });

  onClick('logout', async () => {
    let failed = null;
    try {
      await authed('POST', '/v1/logout', session.refresh ? { refresh_token: session.refresh } : {});
    } catch (err) {
      failed = err;
    }
    stepDone('logout');
    const again = $('steps').querySelector('li[data-step="mfa"]').classList.contains('done')
      ? ''
      : ' Log in again: this time you will be asked for a code.';
    backToLogin(failed
      ? 'Logged out on this page (the server said: ' + failed.message + ').' + again
      : 'Logged out.' + again);
  });

  // ------------------------------------------------------------------ start
  stepCurrent('register');

  // A link from the verification email: #verify_email=evc_...
  const fragment = new URLSearchParams(location.hash.slice(1));
  const verify = fragment.get('verify_email');
  if (verify) {
    history.replaceState(null, '', location.pathname);
    api('POST', '/v1/email/verify', { code: verify })
      .then(() => notice('Your email address is confirmed.'))
      .catch((err) => notice('That confirmation link did not work: ' + err.message));
  }

  // A link from the reset email: #reset_password=rst_... (spent only when the form is sent).
  const resetCode = fragment.get('reset_password');
  if (resetCode) {
    history.replaceState(null, '', location.pathname);
    showReset(resetCode.trim());
  }
})();
