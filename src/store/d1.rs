//! The D1 binding: statements from [`Sql`], one timed round trip per call.

use std::rc::Rc;

use serde::de::DeserializeOwned;
use wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement, D1Result};

use super::error::{internal, StoreError};
use super::sql::{Arg, Sql};
use super::timings::{started, Timings};

fn js(arg: &Arg<'_>) -> JsValue {
    match arg {
        Arg::Text(s) => JsValue::from_str(s),
        // D1 numbers are JS doubles; our integers (unix seconds, counters, TOTP steps)
        // stay far below 2^53.
        Arg::Int(n) => JsValue::from_f64(*n as f64),
        Arg::Null => JsValue::NULL,
    }
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

    pub fn statement(&self, sql: &Sql<'_>) -> Result<D1PreparedStatement, StoreError> {
        let (text, args) = sql.render();
        let values: Vec<JsValue> = args.iter().map(js).collect();
        self.inner
            .prepare(&text)
            .bind(&values)
            .map_err(internal("bind"))
    }

    pub async fn first<T: DeserializeOwned>(
        &self,
        label: &'static str,
        sql: &Sql<'_>,
    ) -> Result<Option<T>, StoreError> {
        let statement = self.statement(sql)?;
        let t = started();
        let row = statement.first(None).await.map_err(internal(label));
        self.timings.record("d1", label, t);
        row
    }

    pub async fn all<T: DeserializeOwned>(
        &self,
        label: &'static str,
        sql: &Sql<'_>,
    ) -> Result<Vec<T>, StoreError> {
        let statement = self.statement(sql)?;
        let t = started();
        let result = statement.all().await.map_err(internal(label));
        self.timings.record("d1", label, t);
        result?.results().map_err(internal(label))
    }

    pub async fn run(&self, label: &'static str, sql: &Sql<'_>) -> Result<D1Result, StoreError> {
        let statement = self.statement(sql)?;
        let t = started();
        let result = statement.run().await.map_err(internal(label));
        self.timings.record("d1", label, t);
        result
    }

    /// One round trip, one transaction.
    pub async fn batch(
        &self,
        label: &'static str,
        statements: &[Sql<'_>],
    ) -> Result<Vec<D1Result>, StoreError> {
        let prepared = statements
            .iter()
            .map(|s| self.statement(s))
            .collect::<Result<Vec<_>, _>>()?;
        let t = started();
        let result = self.inner.batch(prepared).await.map_err(internal(label));
        self.timings.record("d1", label, t);
        result
    }
}

/// Rows of a batch member, decoded.
pub fn rows<T: DeserializeOwned>(
    result: &D1Result,
    what: &'static str,
) -> Result<Vec<T>, StoreError> {
    result.results().map_err(internal(what))
}

/// The one row a batch's closing SELECT always returns.
pub fn verdict<T: DeserializeOwned>(
    results: &[D1Result],
    what: &'static str,
) -> Result<T, StoreError> {
    let last = results
        .last()
        .ok_or_else(|| StoreError::new(what, "empty batch result"))?;
    rows::<T>(last, what)?
        .into_iter()
        .next()
        .ok_or_else(|| StoreError::new(what, "verdict row missing"))
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
