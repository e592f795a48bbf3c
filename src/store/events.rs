//! The `security_events` table: each event is also logged as a structured line.

use serde::{Deserialize, Serialize};

use super::sql::{sql, Sql};
use super::{Db, StoreError};
use crate::domain::events::SecurityEvent;

/// Stores the events and logs each one. Called off the response path.
pub async fn record(db: &Db, events: &[SecurityEvent]) -> Result<(), StoreError> {
    if events.is_empty() {
        return Ok(());
    }
    let batch: Vec<Sql<'_>> = events
        .iter()
        .map(|e| {
            worker::console_log!("{}", e.log_line());
            sql![
                "INSERT INTO security_events (user_id, kind, at, ip, detail) VALUES ("
                (e.user_id.as_str()) ", " (e.kind.as_str()) ", " (e.at) ", "
                (e.ip.as_deref()) ", " (e.detail.as_deref()) ")"
            ]
        })
        .collect();
    db.batch("events.record", &batch).await?;
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

pub async fn recent(db: &Db, user_id: &str) -> Result<Vec<StoredEvent>, StoreError> {
    let query = sql![
        "SELECT kind, at, ip, detail FROM security_events WHERE user_id = " (user_id)
        " ORDER BY id DESC LIMIT " (LIST_LIMIT)
    ];
    db.all("events.recent", &query).await
}
