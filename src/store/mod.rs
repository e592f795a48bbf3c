//! Storage adapters: D1 (the exact, durable state) and KV (short-lived challenges).
//! Every function here is one round trip: a single statement or a single batch.

pub mod challenges;
pub mod mfa;
pub mod sessions;
pub mod users;

use wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement};

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

pub fn statement(
    db: &D1Database,
    sql: &str,
    args: &[Arg<'_>],
) -> Result<D1PreparedStatement, ApiError> {
    let values: Vec<JsValue> = args.iter().map(js).collect();
    db.prepare(sql).bind(&values).map_err(internal("bind"))
}

/// Maps a storage failure to an internal error, keeping the detail for the log.
pub fn internal<E: std::fmt::Display>(what: &'static str) -> impl Fn(E) -> ApiError {
    move |e| ApiError::Internal(format!("{what}: {e}"))
}

macro_rules! args {
    ($($x:expr),* $(,)?) => { &[$($crate::store::Arg::from($x)),*] };
}
pub(crate) use args;
