// Starts the real Worker under `wrangler dev` for a browser test, the way tests/common/mod.rs
// does for the Rust integration tests: free loopback ports, a fresh --persist-to directory that
// already holds the schema, its own process group (wrangler, workerd, esbuild) killed at the end.
//
// Emails: the local `send_email` binding sends nothing; waitForEmail() reads them back from the
// files whose paths it logs (as emails_in() in tests/common/mod.rs does).
//
// Environment knobs: KEEP_TEST_STATE (keep the scratch dir), TEST_WRANGLER_LOG_LEVEL (default
// info), TEST_STARTUP_TIMEOUT_SECS (default 120: wrangler's [build] runs `make build` first).

import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const wrangler = path.join(repo, 'node_modules', '.bin', 'wrangler');
const templateDir = path.join(repo, 'target', 'test-state-template');
const FINGERPRINT_FILE = '.template-fingerprint';

function quietEnv(scratch) {
  const env = { ...process.env };
  for (const k of ['MAKEFLAGS', 'MFLAGS', 'MAKELEVEL', 'MAKEOVERRIDES', 'CARGO_MAKEFLAGS']) delete env[k];
  return Object.assign(env, {
    WRANGLER_SEND_METRICS: 'false',
    WRANGLER_SEND_ERROR_REPORTS: 'false',
    // The banner is where wrangler checks the registry for a newer version.
    WRANGLER_HIDE_BANNER: 'true',
    WRANGLER_LOG_PATH: path.join(scratch, 'wrangler-logs'),
    CI: 'true',
    NO_COLOR: '1',
    FORCE_COLOR: '0',
  });
}

// Same bytes as template_fingerprint() in tests/common/mod.rs: the template is reused only when
// it was made from the current schema.sql, wrangler.toml and wrangler version.
function fingerprint() {
  const parts = [];
  for (const file of ['schema.sql', 'wrangler.toml', 'node_modules/wrangler/package.json']) {
    parts.push(Buffer.from(file), Buffer.from([0]), fs.readFileSync(path.join(repo, file)), Buffer.from([0]));
  }
  return Buffer.concat(parts);
}

function freshState(stateDir, scratch) {
  let current = null;
  try { current = fs.readFileSync(path.join(templateDir, FINGERPRINT_FILE)); } catch { /* none yet */ }
  if (current && current.equals(fingerprint())) {
    fs.cpSync(templateDir, stateDir, { recursive: true });
    fs.rmSync(path.join(stateDir, FINGERPRINT_FILE), { force: true });
    return 'copied target/test-state-template';
  }
  fs.mkdirSync(stateDir, { recursive: true });
  execFileSync(wrangler, ['d1', 'execute', 'DB', '--local', '--file', path.join(repo, 'schema.sql'), '--persist-to', stateDir], {
    cwd: repo, env: quietEnv(scratch), stdio: ['ignore', 'pipe', 'pipe'],
  });
  return 'applied schema.sql';
}

async function freePorts(n) {
  // All listeners are held until every port is known, so the ports differ.
  const servers = await Promise.all(Array.from({ length: n }, () => new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => resolve(s));
  })));
  const ports = servers.map((s) => s.address().port);
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function groupAlive(pgid) {
  try { process.kill(-pgid, 0); } catch { return false; }
  // Zombies don't count (orphaned workerd is reaped by init a little later).
  try {
    for (const pid of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      let stat;
      try { stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8'); } catch { continue; }
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) === pgid && fields[0] !== 'Z' && fields[0] !== 'X') return true;
    }
    return false;
  } catch {
    return true;
  }
}

function signalGroup(pgid, signal) {
  try { process.kill(-pgid, signal); } catch { /* already gone */ }
}

// Every email a wrangler log records, oldest first: after each "send_email binding called with
// MessageBuilder:" line come From:, To:, Subject:, then Text: and HTML: with the paths of the
// files holding those parts.
export function emailsIn(log) {
  const out = [];
  let mail = null;
  for (const line of log.split('\n')) {
    if (line.includes('send_email binding called')) {
      mail = line.includes('MessageBuilder') ? { to: '', subject: '', text: '', html: '' } : null;
      if (mail) out.push(mail);
      continue;
    }
    if (!mail) continue;
    const item = line.trim();
    const value = (name) => (item.startsWith(name) ? item.slice(name.length) : null);
    let v;
    if ((v = value('To: ')) !== null) mail.to = v;
    else if ((v = value('Subject: ')) !== null) mail.subject = v;
    else if ((v = value('Text: ')) !== null) mail.text = fs.readFileSync(v, 'utf8');
    else if ((v = value('HTML: ')) !== null) { mail.html = fs.readFileSync(v, 'utf8'); mail = null; }
  }
  return out;
}

export async function startWorker() {
  if (!fs.existsSync(wrangler)) throw new Error(`${wrangler} is missing: run \`make tools\` first`);
  const scratchBase = path.join(repo, 'target', 'browser', 'apps');
  fs.mkdirSync(scratchBase, { recursive: true });
  const dir = fs.mkdtempSync(path.join(scratchBase, `app-${process.pid}-`));
  const stateDir = path.join(dir, 'state');
  const logPath = path.join(dir, 'wrangler.log');

  if (!fs.existsSync(path.join(repo, '.dev.vars'))) {
    execFileSync('bash', [path.join(repo, 'scripts', 'gen-dev-vars.sh')], { cwd: repo, stdio: 'inherit' });
  }
  const stateHow = freshState(stateDir, dir);
  const [port, inspectorPort] = await freePorts(2);

  const log = fs.openSync(logPath, 'a');
  const child = spawn(wrangler, [
    'dev',
    '--ip', '127.0.0.1', '--port', String(port),
    '--inspector-ip', '127.0.0.1', '--inspector-port', String(inspectorPort),
    '--persist-to', stateDir,
    '--log-level', process.env.TEST_WRANGLER_LOG_LEVEL || 'info',
    '--show-interactive-dev-session=false',
  ], {
    cwd: repo,
    env: quietEnv(dir),
    stdio: ['ignore', log, log],
    detached: true, // own process group: stop() signals wrangler, workerd and esbuild together
  });
  fs.closeSync(log);
  const pgid = child.pid;
  let exited = null;
  child.once('exit', (code, signal) => { exited = { code, signal }; });

  // Last resort if the test process dies without running stop().
  const onExit = () => signalGroup(pgid, 'SIGKILL');
  process.once('exit', onExit);

  const base = `http://127.0.0.1:${port}`;
  const logTail = () => {
    try {
      const text = fs.readFileSync(logPath, 'utf8');
      return text.slice(-8192);
    } catch { return '(no log)'; }
  };

  let stopped = false;
  async function stop({ failed = false } = {}) {
    if (stopped) return;
    stopped = true;
    signalGroup(pgid, 'SIGTERM');
    const deadline = Date.now() + 3000;
    while (Date.now() < deadline && (exited === null || groupAlive(pgid))) await sleep(25);
    if (exited === null || groupAlive(pgid)) {
      signalGroup(pgid, 'SIGKILL');
      const hard = Date.now() + 2000;
      while (Date.now() < hard && groupAlive(pgid)) await sleep(25);
    }
    process.removeListener('exit', onExit);
    if (failed || process.env.KEEP_TEST_STATE) {
      process.stderr.write(`${failed ? 'test failed' : 'KEEP_TEST_STATE'}: kept ${dir} (wrangler.log, state/)\n`);
    } else {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }

  const timeoutMs = Number(process.env.TEST_STARTUP_TIMEOUT_SECS || 120) * 1000;
  const started = Date.now();
  let last = 'no answer yet';
  try {
    for (;;) {
      if (exited !== null) {
        throw new Error(`wrangler dev exited early (${JSON.stringify(exited)}) before serving /health\n--- wrangler log tail (${logPath}) ---\n${logTail()}`);
      }
      try {
        const r = await fetch(`${base}/health`, { signal: AbortSignal.timeout(2000) });
        if (r.status === 200) break;
        last = `status ${r.status}`;
      } catch (e) {
        last = String(e.cause?.code || e.message);
      }
      if (Date.now() - started > timeoutMs) {
        throw new Error(`wrangler dev did not serve GET /health with 200 within ${timeoutMs / 1000} s (last: ${last})\n--- wrangler log tail (${logPath}) ---\n${logTail()}`);
      }
      await sleep(100);
    }
  } catch (e) {
    await stop({ failed: true });
    throw e;
  }
  // The n-th email to `to` about `subject`, once the log has it (the binding runs in waitUntil,
  // after the response that caused it): polled for 20 s at most.
  async function waitForEmail(to, subject, n = 1) {
    const deadline = Date.now() + 20_000;
    for (;;) {
      let log = '';
      try { log = fs.readFileSync(logPath, 'utf8'); } catch { /* not yet */ }
      const mails = emailsIn(log).filter((m) => m.to === to && m.subject === subject && m.text);
      if (mails.length >= n) return mails[n - 1];
      if (Date.now() > deadline) {
        throw new Error(`no email #${n} to ${to} about ${JSON.stringify(subject)} in the log after 20 s\n--- wrangler log tail (${logPath}) ---\n${logTail()}`);
      }
      await sleep(50);
    }
  }

  return { base, port, dir, logPath, stateHow, stop, logTail, waitForEmail };
}
