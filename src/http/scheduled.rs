//! The scheduled job (a Cron Trigger; `wrangler dev --test-scheduled` runs it
//! locally). Each step stands alone, so one failing never stops the others:
//! 1. pending orders older than `PENDING_ORDER_TTL` become `expired`;
//! 2. processed `update_id`s older than Telegram's 24 h retention are forgotten;
//! 3. messages owed (deliveries, notices) whose retry is due are sent;
//! 4. our Stars payments are reconciled with `getStarTransactions`, and any
//!    difference is reported to the operator (each distinct set once).

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::{admin, courier, Platform};
use crate::shop::notice;
use crate::store::Store;

/// Telegram keeps an undelivered update for 24 h: an older id cannot return.
const UPDATE_RETENTION: u64 = 86_400;
/// Messages retried per run; the rest wait for the next run.
const RETRY_BATCH: usize = 50;

#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    pub expired: usize,
    pub pruned: usize,
    pub sent: usize,
    pub retrying: usize,
    pub failed: usize,
    /// `None` when reconciliation could not run.
    pub differences: Option<usize>,
    /// What went wrong, one line per failed step (no secrets).
    pub errors: Vec<String>,
}

pub async fn run<P: Platform>(platform: &P) -> Report {
    let mut report = Report::default();
    let settings = match platform.settings() {
        Ok(s) => s,
        Err(e) => {
            report.errors.push(e.to_string());
            return report;
        }
    };
    let store = match platform.store(settings.storage) {
        Ok(s) => s,
        Err(e) => {
            report.errors.push(e.message);
            return report;
        }
    };
    let now = platform.now();
    match store
        .expire_pending(now.saturating_sub(settings.pending_order_ttl))
        .await
    {
        Ok(n) => report.expired = n,
        Err(e) => report.errors.push(format!("expire: {e}")),
    }
    match store
        .prune_updates(now.saturating_sub(UPDATE_RETENTION))
        .await
    {
        Ok(n) => report.pruned = n,
        Err(e) => report.errors.push(format!("prune: {e}")),
    }
    match store.lease_due(now, RETRY_BATCH).await {
        Ok(due) => {
            let t = courier::send(platform, &settings, store, due).await;
            (report.sent, report.retrying, report.failed) = (t.sent, t.retrying, t.failed);
        }
        Err(e) => report.errors.push(format!("outbox: {e}")),
    }
    match admin::differences(platform, &settings).await {
        Ok((_, differences)) => {
            report.differences = Some(differences.len());
            if !differences.is_empty() {
                let lines: Vec<String> = differences.iter().map(|d| d.line()).collect();
                let digest = Sha256::digest(lines.join("\n").as_bytes());
                let key = format!("reconcile:{}", &hex::encode(digest)[..16]);
                let text = notice::out_of_sync(settings.admin_language, &lines);
                let notices = settings.operators().notices(&key, &text, None);
                if let Err(e) = courier::queue_and_send(platform, &settings, store, &notices).await
                {
                    report.errors.push(format!("report differences: {e}"));
                }
            }
        }
        Err(e) => report.errors.push(format!("reconcile: {}", e.message)),
    }
    report
}
