//! The scheduled job (a Cron Trigger; `wrangler dev --test-scheduled` runs it
//! locally). Each step stands alone, so one failing never stops the others:
//! 1. pending orders older than `PENDING_ORDER_TTL` become `expired`;
//! 2. processed `update_id`s older than Telegram's 24 h retention are forgotten;
//! 3. chat access that ended (refunded, or a subscription lapsed past
//!    `ACCESS_GRACE`) is removed, once per order and cause;
//! 4. pending TON and USDT orders are settled from the shop wallet's
//!    transactions, and old `ton_proof` payloads are forgotten;
//! 5. messages owed (deliveries, notices, access work) whose retry is due are sent;
//! 6. our Stars payments are reconciled with `getStarTransactions`, and any
//!    difference is reported to the operator (each distinct set once).

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::access::removal_for;
use super::{admin, courier, Platform};
use crate::config::Settings;
use crate::shop::access;
use crate::shop::notice;
use crate::store::Store;
use crate::store::StoreError;

/// Telegram keeps an undelivered update for 24 h: an older id cannot return.
const UPDATE_RETENTION: u64 = 86_400;
/// Links checked per run for ended access. Wide, because a removal that
/// failed for good (the bot lost its rights) keeps its link open and is met
/// again on every run until the operator sees to it.
const ACCESS_BATCH: usize = 500;
/// Messages retried per run; the rest wait for the next run.
const RETRY_BATCH: usize = 50;

#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    pub expired: usize,
    pub pruned: usize,
    /// Removals of members whose access ended, queued this run.
    pub removals: usize,
    /// TON and USDT orders found paid on chain.
    pub ton_paid: usize,
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
    match ended_access(platform, &settings, store, now).await {
        Ok(n) => report.removals = n,
        Err(e) => report.errors.push(format!("access: {e}")),
    }
    match super::ton::sweep(platform, &settings, store).await {
        Ok(n) => report.ton_paid = n,
        Err(e) => report.errors.push(format!("ton: {}", e.message)),
    }
    match store.lease_due(now, RETRY_BATCH).await {
        Ok(due) => {
            let t = courier::send(platform, &settings, store, due).await;
            (report.sent, report.retrying, report.failed) = (t.sent, t.retrying, t.failed);
        }
        Err(e) => report.errors.push(format!("outbox: {e}")),
    }
    match admin::differences(platform, &settings).await {
        Ok(differences) => {
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

/// Queues (and sends) the removal of every member whose access ended; each is
/// queued once per order and cause, so a run that finds it again adds nothing.
async fn ended_access<P: Platform>(
    platform: &P,
    settings: &Settings,
    store: &P::Store,
    now: u64,
) -> Result<usize, StoreError> {
    let Ok(catalog) = settings.catalog() else {
        return Ok(0);
    };
    let grace = settings.access_grace;
    let candidates = store
        .ended_access(now.saturating_sub(grace), ACCESS_BATCH)
        .await?;
    let removals: Vec<_> = candidates
        .iter()
        .filter_map(|(order, link)| {
            let why = access::ended(order, now, grace)?;
            removal_for(catalog, order, why, &link.app_url)
        })
        .collect();
    let leased = store.enqueue(&removals, now).await?;
    let queued = leased.len();
    courier::send(platform, settings, store, leased).await;
    Ok(queued)
}
