//! Storage adapters: D1 (the exact, durable state) and KV (short-lived challenges).
//!
//! Every public function is one round trip: a single statement or a single batch. Each
//! round trip is timed so the Worker can report them in `Server-Timing`.

pub mod challenges;
pub mod events;
pub mod factor;
pub mod mfa;
pub mod sessions;
pub mod throttle;
pub mod users;

use std::cell::RefCell;
use std::rc::Rc;

use serde::de::DeserializeOwned;
use wasm_bindgen::JsValue;
use worker::kv::KvStore;
use worker::{D1Database, D1PreparedStatement, D1Result, Date};

use crate::error::ApiError;

/// A bound SQL parameter.
#[derive(Clone, Copy)]
pub enum Arg<'a> {
    Text(&'a str),
    Int(i64),
    Null,
}

impl<'a> From<&'a str> for Arg<'a> {
    fn from(s: &'a str) -> Self {
        Arg::Text(s)
    }
}

impl<'a> From<&'a String> for Arg<'a> {
    fn from(s: &'a String) -> Self {
        Arg::Text(s)
    }
}

impl From<i64> for Arg<'_> {
    fn from(n: i64) -> Self {
        Arg::Int(n)
    }
}

impl<'a> From<Option<&'a str>> for Arg<'a> {
    fn from(s: Option<&'a str>) -> Self {
        s.map_or(Arg::Null, Arg::Text)
    }
}

fn js(arg: &Arg<'_>) -> JsValue {
    match arg {
        Arg::Text(s) => JsValue::from_str(s),
        // D1 numbers are JS doubles; our integers (unix seconds, counters, TOTP steps)
        // stay far below 2^53.
        Arg::Int(n) => JsValue::from_f64(*n as f64),
        Arg::Null => JsValue::NULL,
    }
}

macro_rules! args {
    ($($x:expr),* $(,)?) => { &[$($crate::store::Arg::from($x)),*] };
}
pub(crate) use args;

/// Maps a storage failure to an internal error, keeping the detail for the log.
pub fn internal<E: std::fmt::Display>(what: &'static str) -> impl Fn(E) -> ApiError {
    move |e| ApiError::Internal(format!("{what}: {e}"))
}

/// Storage round trips of one request: (kind, label, milliseconds). Whole milliseconds:
/// the Worker clock has no finer resolution, and integer formatting keeps float
/// printing out of the WASM.
#[derive(Default)]
pub struct Timings(RefCell<Vec<(&'static str, &'static str, u64)>>);

impl Timings {
    fn record(&self, kind: &'static str, label: &'static str, started: u64) {
        self.0
            .borrow_mut()
            .push((kind, label, Date::now().as_millis().saturating_sub(started)));
    }

    /// `d1;desc="users.by_name";dur=1.0, kv;desc="get";dur=0.0`
    pub fn server_timing(&self) -> String {
        self.0
            .borrow()
            .iter()
            .map(|(kind, label, ms)| format!("{kind};desc=\"{label}\";dur={ms}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn started() -> u64 {
    Date::now().as_millis()
}

/// The D1 binding plus this request's timings.
pub struct Db {
    inner: D1Database,
    timings: Rc<Timings>,
}

impl Db {
    pub fn new(inner: D1Database, timings: Rc<Timings>) -> Self {
        Self { inner, timings }
    }

    pub fn statement(&self, sql: &str, args: &[Arg<'_>]) -> Result<D1PreparedStatement, ApiError> {
        let values: Vec<JsValue> = args.iter().map(js).collect();
        self.inner
            .prepare(sql)
            .bind(&values)
            .map_err(internal("bind"))
    }

    pub async fn first<T: DeserializeOwned>(
        &self,
        label: &'static str,
        statement: D1PreparedStatement,
    ) -> Result<Option<T>, ApiError> {
        let t = started();
        let row = statement.first(None).await.map_err(internal(label));
        self.timings.record("d1", label, t);
        row
    }

    pub async fn all<T: DeserializeOwned>(
        &self,
        label: &'static str,
        statement: D1PreparedStatement,
    ) -> Result<Vec<T>, ApiError> {
        let t = started();
        let result = statement.all().await.map_err(internal(label));
        self.timings.record("d1", label, t);
        result?.results().map_err(internal(label))
    }

    pub async fn run(
        &self,
        label: &'static str,
        statement: D1PreparedStatement,
    ) -> Result<D1Result, ApiError> {
        let t = started();
        let result = statement.run().await.map_err(internal(label));
        self.timings.record("d1", label, t);
        result
    }

    /// One round trip, one transaction.
    pub async fn batch(
        &self,
        label: &'static str,
        statements: Vec<D1PreparedStatement>,
    ) -> Result<Vec<D1Result>, ApiError> {
        let t = started();
        let result = self.inner.batch(statements).await.map_err(internal(label));
        self.timings.record("d1", label, t);
        result
    }
}

/// Rows of a batch member, decoded.
pub fn rows<T: DeserializeOwned>(
    result: &D1Result,
    what: &'static str,
) -> Result<Vec<T>, ApiError> {
    result.results().map_err(internal(what))
}

/// Rows changed by a batch member.
pub fn changes(result: &D1Result) -> usize {
    result
        .meta()
        .ok()
        .flatten()
        .and_then(|m| m.changes)
        .unwrap_or(0)
}

/// The KV binding plus this request's timings.
pub struct Kv {
    inner: KvStore,
    timings: Rc<Timings>,
}

impl Kv {
    pub fn new(inner: KvStore, timings: Rc<Timings>) -> Self {
        Self { inner, timings }
    }
}
