//! The Cron Trigger's entry point: runs the housekeeping and logs one line saying what
//! it did (or why it failed; the next run tries again).

use worker::{event, Date, Env, ScheduleContext, ScheduledEvent};

use crate::domain::request_log::error_line;
use crate::services::{housekeeping, ServiceError};

#[event(scheduled)]
async fn scheduled(event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    console_error_panic_hook::set_once();
    let now = (Date::now().as_millis() / 1000) as i64;
    crate::services::context::prepare(&env).await;
    // Written as strings: a json! map and Debug impls would cost kilobytes of WASM
    // for a line logged once an hour.
    match housekeeping::run(&env, now).await {
        Ok(r) => {
            let cron = serde_json::to_string(&event.cron()).unwrap_or_default();
            let p = &r.purged;
            worker::console_log!(
                r#"{{"level":"info","msg":"housekeeping","cron":{cron},"purged":{{"sessions":{},"retired_refresh_tokens":{},"mfa_attempts":{},"throttle":{},"security_events":{}}},"totp_resealed":{},"totp_unopenable":{},"reseal_unfinished":{}}}"#,
                p.sessions,
                p.retired_refresh_tokens,
                p.mfa_attempts,
                p.throttle,
                p.security_events,
                r.resealed,
                r.unopenable,
                r.reseal_unfinished
            )
        }
        Err(e) => {
            let detail = match e {
                ServiceError::Internal(d) | ServiceError::Unavailable(d) => d,
                _ => "unexpected service error".to_owned(),
            };
            worker::console_error!(
                "{}",
                error_line("housekeeping failed", "cron", &event.cron(), &detail)
            )
        }
    }
}
