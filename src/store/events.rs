//! The `security_events` table: each event is also logged as a structured line.

use serde::{Deserialize, Serialize};

use super::{args, Db};
use crate::domain::events::SecurityEvent;
use crate::error::ApiError;

/// Stores the events and logs each one. Called off the response path.
pub async fn record(db: &Db, events: &[SecurityEvent]) -> Result<(), ApiError> {
    if events.is_empty() {
        return Ok(());
    }
    let mut batch = Vec::with_capacity(events.len());
    for e in events {
        worker::console_log!("{}", e.log_line());
        batch.push(db.statement(
            "INSERT INTO security_events (user_id, kind, at, ip, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
            args![e.user_id.as_str(), e.kind.as_str(), e.at, e.ip.as_deref(), e.detail.as_deref()],
        )?);
    }
    db.batch("events.record", batch).await?;
    Ok(())
}

#[derive(Debug, Serialize, Deserialize)]
pub struct StoredEvent {
    pub kind: String,
    pub at: i64,
    pub ip: Option<String>,
    pub detail: Option<String>,
}

pub const LIST_LIMIT: i64 = 50;

pub async fn recent(db: &Db, user_id: &str) -> Result<Vec<StoredEvent>, ApiError> {
    let stmt = db.statement(
        "SELECT kind, at, ip, detail FROM security_events WHERE user_id = ?1 \
         ORDER BY id DESC LIMIT ?2",
        args![user_id, LIST_LIMIT],
    )?;
    db.all("events.recent", stmt).await
}
