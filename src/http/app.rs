//! Per-request access to configuration, bindings and the clock.

use std::cell::OnceCell;
use std::rc::Rc;

use worker::kv::KvStore;
use worker::{Context, D1Database, Date, Env};

use crate::domain::config::Config;
use crate::error::ApiError;

thread_local! {
    // Parsed once per isolate: key derivation and AES key schedules are not free, and
    // `/v1/me` should cost nothing but a signature check.
    static CONFIG: OnceCell<Rc<Config>> = const { OnceCell::new() };
}

pub struct App {
    pub env: Env,
    ctx: Context,
    /// Unix seconds from the Worker clock (never `SystemTime`, which panics on wasm32).
    pub now: i64,
}

impl App {
    pub fn new(env: Env, ctx: Context) -> Self {
        Self {
            env,
            ctx,
            now: (Date::now().as_millis() / 1000) as i64,
        }
    }

    pub fn config(&self) -> Result<Rc<Config>, ApiError> {
        if let Some(c) = CONFIG.with(|c| c.get().cloned()) {
            return Ok(c);
        }
        let loaded = Rc::new(
            Config::load(
                |name| self.env.var(name).ok().map(|v| v.to_string()),
                |name| self.env.secret(name).ok().map(|v| v.to_string()),
            )
            .map_err(|e| ApiError::Internal(format!("configuration: {e}")))?,
        );
        CONFIG.with(|c| {
            let _ = c.set(loaded.clone());
        });
        Ok(loaded)
    }

    pub fn db(&self) -> Result<D1Database, ApiError> {
        self.env
            .d1("DB")
            .map_err(|e| ApiError::Internal(format!("binding DB: {e}")))
    }

    pub fn kv(&self) -> Result<KvStore, ApiError> {
        self.env
            .kv("CHALLENGES")
            .map_err(|e| ApiError::Internal(format!("binding CHALLENGES: {e}")))
    }

    /// Runs `work` after the response is sent: cleanup that the client need not wait for.
    pub fn after_response<F, Fut>(&self, what: &'static str, work: F)
    where
        F: FnOnce(Env) -> Fut,
        Fut: std::future::Future<Output = Result<(), ApiError>> + 'static,
    {
        let fut = work(self.env.clone());
        self.ctx.wait_until(async move {
            if let Err(e) = fut.await {
                worker::console_error!(
                    "{}",
                    serde_json::json!({"level": "error", "msg": "background task failed", "task": what, "detail": format!("{e:?}")})
                );
            }
        });
    }
}
