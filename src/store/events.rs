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
    pub id: i64,
    pub kind: String,
    pub at: i64,
    pub ip: Option<String>,
    pub detail: Option<String>,
}

/// Up to `limit + 1` of the user's events older than `before` (row id), newest first:
/// the extra one tells the caller whether there is a next page.
pub async fn page(
    db: &Db,
    user_id: &str,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<StoredEvent>, StoreError> {
    let older = match before {
        Some(id) => sql![" AND id < "(id)],
        None => Sql::default(),
    };
    let query = sql![
        "SELECT id, kind, at, ip, detail FROM security_events WHERE user_id = " (user_id)
        [older] " ORDER BY id DESC LIMIT " (limit + 1)
    ];
    db.all("events.page", &query).await
}
