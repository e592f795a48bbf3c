//! The `security_events` table: each event is also logged as a structured line.

use serde::{Deserialize, Serialize};

use super::sql::{sql, Sql};
use super::{rows, Db, StoreError};
use crate::domain::events::SecurityEvent;

/// A user's verified address, for security notices.
#[derive(Deserialize)]
pub struct Address {
    pub id: String,
    pub email: String,
}

/// Stores the events and logs each one, and reads the verified addresses of their users
/// in the same batch. Called off the response path.
pub async fn record(db: &Db, events: &[SecurityEvent]) -> Result<Vec<Address>, StoreError> {
    if events.is_empty() {
        return Ok(Vec::new());
    }
    let users: Vec<String> = events.iter().map(|e| e.user_id.clone()).collect();
    let mut batch: Vec<Sql<'_>> = events
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
    batch.push(sql![
        "SELECT id, email FROM users WHERE email IS NOT NULL AND email_verified_at IS NOT NULL AND id IN "
        [Sql::list(&users)]
    ]);
    let results = db.batch("events.record", &batch).await?;
    rows(&results[events.len()], "notice addresses")
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
