//! The scheduled housekeeping (the Cron Trigger in wrangler.toml): forgets what no
//! request needs any more and re-seals TOTP secrets still under an older encryption
//! key, so that the key can be dropped from `TOTP_ENCRYPTION_KEYS`. Off every
//! response path; each part is safe to run again or concurrently.

use std::rc::Rc;

use worker::Env;

use super::context::{config, db_from};
use super::ServiceError;
use crate::domain::housekeeping::{Cutoffs, RESEAL_BATCH, RESEAL_BATCHES_PER_RUN};
use crate::store::housekeeping::{self, Purged, Resealed};
use crate::store::Timings;

/// What one run did, for its log line.
#[derive(Debug, Default)]
pub struct Report {
    pub purged: Purged,
    pub resealed: usize,
    /// Secrets under a kid no key list names, or that do not open: left as they are
    /// (and their users' TOTP fails) until an operator looks.
    pub unopenable: usize,
    /// Whether secrets may remain for the next run.
    pub reseal_unfinished: bool,
}

pub async fn run(env: &Env, now: i64) -> Result<Report, ServiceError> {
    let config = config(env)?;
    let db = db_from(env, Rc::new(Timings::default()))?;
    let mut report = Report {
        purged: housekeeping::purge(&db, &Cutoffs::at(now, config.event_retention_days)).await?,
        ..Report::default()
    };

    let newest = format!("{}.", config.totp_box.newest_kid());
    let mut after = String::new();
    for _ in 0..RESEAL_BATCHES_PER_RUN {
        let stale = housekeeping::stale_totp_secrets(&db, &newest, &after, RESEAL_BATCH).await?;
        let Some(last) = stale.last() else {
            return Ok(report);
        };
        after = last.id.clone();
        let mut resealed = Vec::with_capacity(stale.len());
        for row in &stale {
            match config.totp_box.open(&row.totp_secret, &row.id) {
                Ok(opened) => resealed.push(Resealed {
                    new: config.totp_box.seal(&opened.plaintext, &row.id),
                    id: row.id.clone(),
                    old: row.totp_secret.clone(),
                }),
                Err(_) => report.unopenable += 1,
            }
        }
        report.resealed += housekeeping::reseal_totp_secrets(&db, &resealed).await?;
        if stale.len() < RESEAL_BATCH {
            return Ok(report);
        }
    }
    report.reseal_unfinished = true;
    Ok(report)
}
