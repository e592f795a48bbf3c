//! Storage round trips of one request, for `Server-Timing`.

use std::cell::RefCell;

use worker::Date;

/// (kind, label, milliseconds). Whole milliseconds: the Worker clock has no finer
/// resolution, and integer formatting keeps float printing out of the WASM.
#[derive(Default)]
pub struct Timings(RefCell<Vec<(&'static str, &'static str, u64)>>);

impl Timings {
    pub(super) fn record(&self, kind: &'static str, label: &'static str, started: u64) {
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

pub(super) fn started() -> u64 {
    Date::now().as_millis()
}
