//! What a service works with for one request: configuration (parsed once per isolate),
//! the storage bindings, the clock, the caller's address, the security events it
//! queues and the work it leaves for after the response.

use std::cell::{OnceCell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use worker::{Context, Date, Delay, Env, Headers};

use super::ServiceError;
use crate::domain::blocklist::Blocklist;
use crate::domain::client_address;
use crate::domain::config::Config;
use crate::domain::events::{EventKind, SecurityEvent};
use crate::domain::keys::parse_key_list;
use crate::domain::mail::{self, Mail};
use crate::domain::request_log;
use crate::domain::throttle::{retry_after, CappedFactor, FREE_FAILURES};
use crate::domain::tokens::{SigningInput, TokenService};
use crate::domain::turns::{Ticket, Turns};
use crate::store::signer::Signer;
use crate::store::{self, Db, Kv, StoreError, Timings};

thread_local! {
    // Parsed once per isolate: key derivation and AES key schedules are not free, and
    // `/v1/me` should cost nothing but a signature check.
    static CONFIG: OnceCell<Rc<Config>> = const { OnceCell::new() };
    // The access-token signing keys, imported into WebCrypto (store::signer) before the
    // configuration is first read: it needs their public halves.
    static SIGNER: OnceCell<Rc<Signer>> = const { OnceCell::new() };
    // Read from the static assets on the first new password of this isolate.
    static BLOCKLIST: OnceCell<Rc<Blocklist>> = const { OnceCell::new() };
    static SERVER_TIMING: OnceCell<bool> = const { OnceCell::new() };
    // The line for Argon2id across this isolate's requests (domain::turns).
    static TURNS: RefCell<Turns> = RefCell::new(Turns::default());
}

/// A place in the Argon2id line; leaves it if the request's future is dropped while waiting.
struct Place(Ticket);

impl Drop for Place {
    fn drop(&mut self) {
        TURNS.with(|t| t.borrow_mut().leave(&self.0));
    }
}

/// Per-IP limits, one Workers Rate Limiting binding each (see wrangler.toml).
#[derive(Clone, Copy)]
pub enum Limit {
    Register,
    Login,
    SecondFactor,
    /// Routes that run Argon2id on a signed-in user's behalf (password change, TOTP
    /// enrolment, turning 2FA off): each costs about 30 ms of CPU.
    Sensitive,
    Refresh,
}

impl Limit {
    fn binding(self) -> &'static str {
        match self {
            Limit::Register => "REGISTER_LIMITER",
            Limit::Login => "LOGIN_LIMITER",
            Limit::SecondFactor => "MFA_LIMITER",
            Limit::Sensitive => "SENSITIVE_LIMITER",
            Limit::Refresh => "REFRESH_LIMITER",
        }
    }
}

pub struct Ctx {
    pub env: Env,
    ctx: Context,
    /// Unix seconds from the Worker clock (never `SystemTime`, which panics on wasm32).
    pub now: i64,
    /// `CF-Connecting-IP`, set by Cloudflare's edge. X-Forwarded-For is client-controlled
    /// and never consulted.
    pub ip: Option<String>,
    /// The request's headers, for the few read only by some flows (`user_agent`).
    headers: Headers,
    pub timings: Rc<Timings>,
    events: RefCell<Vec<SecurityEvent>>,
}

impl Ctx {
    pub fn new(env: Env, ctx: Context, ip: Option<String>, headers: Headers) -> Self {
        Self {
            env,
            ctx,
            now: (Date::now().as_millis() / 1000) as i64,
            ip,
            headers,
            timings: Rc::new(Timings::default()),
            events: RefCell::new(Vec::new()),
        }
    }

    /// The `User-Agent` header, read only by the flows that start a session (it is only
    /// ever stored as a short label: domain::user_agent).
    pub fn user_agent(&self) -> Option<String> {
        self.headers.get("user-agent").ok().flatten()
    }

    pub fn config(&self) -> Result<Rc<Config>, ServiceError> {
        config(&self.env)
    }

    /// The common-password blocklist, fetched and decoded once per isolate. Without it
    /// no new password is accepted (503): failing open would let common ones in.
    pub async fn blocklist(&self) -> Result<Rc<Blocklist>, ServiceError> {
        if let Some(b) = BLOCKLIST.with(|b| b.get().cloned()) {
            return Ok(b);
        }
        let bytes = store::assets::password_blocklist(&self.env)
            .await
            .map_err(|e| ServiceError::Unavailable(e.to_string()))?;
        let list = Rc::new(
            Blocklist::decode(&bytes)
                .map_err(|e| ServiceError::Unavailable(format!("password blocklist: {e}")))?,
        );
        BLOCKLIST.with(|b| {
            let _ = b.set(list.clone());
        });
        Ok(list)
    }

    pub fn db(&self) -> Result<Db, StoreError> {
        db_from(&self.env, self.timings.clone())
    }

    pub fn kv(&self) -> Result<Kv, StoreError> {
        kv_from(&self.env, self.timings.clone())
    }

    /// Whether `Server-Timing` is reported (a dev-only var), read once per isolate: vars
    /// do not change within an isolate's life, and this is asked on every request.
    pub fn server_timing(&self) -> bool {
        SERVER_TIMING.with(|s| {
            *s.get_or_init(|| {
                self.env
                    .var("SERVER_TIMING")
                    .is_ok_and(|v| v.to_string() == "1")
            })
        })
    }

    /// Applies the per-client limit for `limit` (IPv6 per /64, domain::client_address).
    /// Requests without a client address (local tools) share one bucket. A deployment
    /// without the binding fails closed: the limit is part of the security design.
    pub async fn rate_limit(&self, limit: Limit) -> Result<(), ServiceError> {
        let binding = limit.binding();
        let limiter = self.env.rate_limiter(binding).map_err(|e| {
            ServiceError::Unavailable(format!("rate limiter binding {binding} is missing: {e}"))
        })?;
        let key = client_address::limiter_key(self.ip.as_deref().unwrap_or("unknown"));
        let outcome = limiter
            .limit(key)
            .await
            .map_err(|e| ServiceError::Internal(format!("rate limiter: {e}")))?;
        if outcome.success {
            Ok(())
        } else {
            // The binding's period is 60 s and it does not say when the window ends.
            Err(ServiceError::RateLimited { retry_after: 60 })
        }
    }

    /// Refuses new Argon2id work when `argon2_queue_max` computations already wait for
    /// their turn: past that point queueing only makes every caller wait longer. Checked
    /// before a password attempt is counted, so shedding never costs a user an attempt.
    pub fn shed_if_busy(&self) -> Result<(), ServiceError> {
        let max = self.config()?.argon2_queue_max;
        if TURNS.with(|t| t.borrow().waiting()) >= max {
            return Err(ServiceError::Overloaded { retry_after: 1 });
        }
        Ok(())
    }

    /// Runs CPU-heavy work (an Argon2id hash, about 35 ms) in its turn: after a socket check
    /// of the runtime, one at a time, first come first served (domain::turns).
    pub async fn argon2<T>(&self, work: impl FnOnce() -> T) -> T {
        let mut place = Place(TURNS.with(|t| t.borrow_mut().join(Date::now().as_millis() as f64)));
        loop {
            // setTimeout(0): fires only after workerd has checked its sockets.
            Delay::from(std::time::Duration::ZERO).await;
            let now = Date::now().as_millis() as f64;
            if TURNS.with(|t| t.borrow_mut().poll(&mut place.0, now)) {
                break;
            }
        }
        work()
    }

    pub fn throttled(&self, locked_until: i64) -> ServiceError {
        ServiceError::TooManyAttempts {
            retry_after: retry_after(locked_until, self.now),
        }
    }

    /// Queues a security event; all are stored in one batch after the response.
    pub fn event(&self, kind: EventKind, user_id: &str) {
        self.events.borrow_mut().push(SecurityEvent::new(
            kind,
            user_id,
            self.now,
            self.ip.as_deref(),
        ));
    }

    pub fn event_with(&self, kind: EventKind, user_id: &str, detail: String) {
        self.events.borrow_mut().push(
            SecurityEvent::new(kind, user_id, self.now, self.ip.as_deref()).with_detail(detail),
        );
    }

    /// Records a wrong second factor, and the lockout when it used up the free failures.
    pub fn second_factor_failed(&self, user_id: &str, account_failures: i64) {
        self.event(EventKind::SecondFactorFailed, user_id);
        if account_failures == FREE_FAILURES {
            self.event_with(EventKind::Lockout, user_id, "second_factor".into());
        }
    }

    /// Records the factor's lock when this failure reached its hard cap (exactly one
    /// request does: the cap stops counting there).
    pub fn count_toward_cap(&self, user_id: &str, factor: CappedFactor, failures: i64, limit: i64) {
        if failures == limit {
            self.event_with(EventKind::FactorLocked, user_id, factor.name().into());
        }
    }

    /// Runs `work` after the response is sent: cleanup that the client need not wait for.
    pub fn after_response<F, Fut>(&self, what: &'static str, work: F)
    where
        F: FnOnce(Env) -> Fut,
        Fut: std::future::Future<Output = Result<(), StoreError>> + 'static,
    {
        self.wait_for(what, Box::pin(work(self.env.clone())));
    }

    /// One non-generic `waitUntil` for every task: each distinct future handed to
    /// `wait_until` costs its own copy of the promise glue in the WASM.
    fn wait_for(
        &self,
        what: &'static str,
        fut: Pin<Box<dyn Future<Output = Result<(), StoreError>>>>,
    ) {
        self.ctx.wait_until(async move {
            if let Err(e) = fut.await {
                worker::console_error!(
                    "{}",
                    request_log::error_line("background task failed", "task", what, &e.to_string())
                );
            }
        });
    }

    /// Stores the queued security events off the response path, and mails a notice for
    /// each one that deserves it to the user's verified address (read in the same batch).
    pub fn flush_events(&self) {
        let events = std::mem::take(&mut *self.events.borrow_mut());
        if events.is_empty() {
            return;
        }
        let Ok(config) = self.config() else { return };
        self.after_response("security events", move |env| async move {
            let db = db_from(&env, Rc::new(Timings::default()))?;
            let addresses = store::events::record(&db, &events).await?;
            for e in &events {
                let to = addresses.iter().find(|a| a.id == e.user_id);
                if let Some(m) = to.and_then(|a| mail::notice(&a.email, e.kind, e.ip.as_deref())) {
                    store::mail::send(&env, &config.mail.from, &m).await?;
                }
            }
            Ok(())
        });
    }

    /// Drops the queued events of a user who no longer exists (an account just deleted),
    /// so that none is written back for them.
    pub fn discard_events(&self, user_id: &str) {
        self.events.borrow_mut().retain(|e| e.user_id != user_id);
    }

    /// Sends `mail` after the response (the client never waits on the mail service).
    pub fn send_mail(&self, mail: Mail) {
        let Ok(config) = self.config() else { return };
        self.after_response("mail", move |env| async move {
            store::mail::send(&env, &config.mail.from, &mail).await
        });
    }
}

/// Imports the signing keys into WebCrypto, once per isolate; every entry point calls it
/// before anything reads the configuration. A missing or malformed `JWT_SIGNING_KEYS`
/// is left for [`config`] to report; a WebCrypto failure is logged and tried again on
/// the next request (until then the configuration cannot load).
pub async fn prepare(env: &Env) {
    if SIGNER.with(|s| s.get().is_some()) {
        return;
    }
    let Some(Ok(seeds)) = env
        .secret("JWT_SIGNING_KEYS")
        .ok()
        .map(|v| parse_key_list("JWT_SIGNING_KEYS", &v.to_string()))
    else {
        return;
    };
    match Signer::load(&seeds).await {
        Ok(signer) => SIGNER.with(|s| {
            let _ = s.set(Rc::new(signer));
        }),
        Err(e) => worker::console_error!(
            "{}",
            request_log::error_line(
                "signing keys not loaded",
                "what",
                "JWT_SIGNING_KEYS",
                &e.to_string()
            )
        ),
    }
}

/// Signs an access token with the runtime's WebCrypto.
pub async fn sign(input: SigningInput) -> Result<String, ServiceError> {
    let signer = SIGNER
        .with(|s| s.get().cloned())
        .ok_or_else(|| ServiceError::Internal("signing keys not loaded".into()))?;
    let signature = signer.sign(&input.kid, input.text.as_bytes()).await?;
    Ok(TokenService::assemble(input, &signature))
}

/// The configuration, parsed on this isolate's first use (after [`prepare`]).
pub fn config(env: &Env) -> Result<Rc<Config>, ServiceError> {
    if let Some(c) = CONFIG.with(|c| c.get().cloned()) {
        return Ok(c);
    }
    let signer = SIGNER.with(|s| s.get().cloned());
    let loaded = Rc::new(
        Config::load(
            |name| env.var(name).ok().map(|v| v.to_string()),
            |name| env.secret(name).ok().map(|v| v.to_string()),
            |seed| signer.as_ref().and_then(|s| s.public_key(&seed.kid)),
        )
        .map_err(|e| ServiceError::Internal(format!("configuration: {e}")))?,
    );
    CONFIG.with(|c| {
        let _ = c.set(loaded.clone());
    });
    Ok(loaded)
}

pub fn db_from(env: &Env, timings: Rc<Timings>) -> Result<Db, StoreError> {
    let d1 = env
        .d1("DB")
        .map_err(|e| StoreError::new("binding DB", e.to_string()))?;
    Ok(Db::new(d1, timings))
}

pub fn kv_from(env: &Env, timings: Rc<Timings>) -> Result<Kv, StoreError> {
    let kv = env
        .kv("CHALLENGES")
        .map_err(|e| StoreError::new("binding CHALLENGES", e.to_string()))?;
    Ok(Kv::new(kv, timings))
}
