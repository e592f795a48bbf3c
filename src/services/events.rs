//! The caller's own security events, a page at a time.

use super::{Ctx, ServiceError};
use crate::domain::events::{encode_cursor, EventPage};
use crate::domain::tokens::AccessClaims;
use crate::store::events::{self, StoredEvent};

pub struct Page {
    pub events: Vec<StoredEvent>,
    /// Where the next (older) page starts; `None` on the last page.
    pub next_cursor: Option<String>,
}

pub async fn page(ctx: &Ctx, claims: &AccessClaims, page: EventPage) -> Result<Page, ServiceError> {
    let mut events = events::page(&ctx.db()?, &claims.sub, page.before, page.limit).await?;
    let more = events.len() as i64 > page.limit;
    events.truncate(page.limit as usize);
    let next_cursor = more
        .then(|| events.last().map(|e| encode_cursor(e.id)))
        .flatten();
    Ok(Page {
        events,
        next_cursor,
    })
}
