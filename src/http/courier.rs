//! Sends what the outbox holds: leased messages go out one by one and each
//! outcome is stored. A delivery that fails is reported to the operator, once
//! per order. Used by the webhook (right after a payment) and the scheduled job
//! (retries).

use serde_json::Value;

use super::Platform;
use crate::config::Settings;
use crate::shop::notice;
use crate::shop::outbox::{self, after_failure, Kind, Outgoing, Queued, Settle};
use crate::store::Store;

/// What a round of sending came to.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    pub sent: usize,
    pub retrying: usize,
    pub failed: usize,
}

/// Queues `messages` (idempotently) and sends those this call leased. A
/// storage failure is returned: the caller must not acknowledge what it could
/// not queue.
pub async fn queue_and_send<P: Platform>(
    platform: &P,
    settings: &Settings,
    store: &P::Store,
    messages: &[Outgoing],
) -> Result<Tally, crate::store::StoreError> {
    if messages.is_empty() {
        return Ok(Tally::default());
    }
    let leased = store.enqueue(messages, platform.now()).await?;
    Ok(send(platform, settings, store, leased).await)
}

/// Sends leased messages and stores each outcome.
pub async fn send<P: Platform>(
    platform: &P,
    settings: &Settings,
    store: &P::Store,
    leased: Vec<Queued>,
) -> Tally {
    let mut tally = Tally::default();
    let mut reports = Vec::new();
    for q in leased {
        let outcome = attempt(platform, settings, &q).await;
        match &outcome {
            Settle::Sent => tally.sent += 1,
            Settle::Retry { .. } => tally.retrying += 1,
            Settle::Failed { .. } => tally.failed += 1,
        }
        if q.message.kind == Kind::Delivery {
            if let (Settle::Retry { error, .. } | Settle::Failed { error }, Some(order_id)) =
                (&outcome, &q.message.order_id)
            {
                let retrying = matches!(outcome, Settle::Retry { .. });
                let text = notice::delivery_failed(
                    settings.admin_language,
                    order_id,
                    q.message.chat_id,
                    error,
                    retrying,
                );
                let key = if retrying {
                    "delivery_retrying"
                } else {
                    "delivery_failed"
                };
                reports.extend(settings.operators().notices(
                    &format!("{key}:{order_id}"),
                    &text,
                    Some(order_id),
                ));
            }
        }
        if let Err(e) = store.settle(&q.message.id, &outcome, platform.now()).await {
            // The lease runs out and the message is tried again: a sent one may repeat.
            platform.log(&format!(
                "outbox {}: could not store the outcome: {e}",
                q.message.id
            ));
        }
    }
    if !reports.is_empty() {
        // Reports about reports would loop; a failed report is only retried.
        match store.enqueue(&reports, platform.now()).await {
            Ok(leased) => {
                for q in leased {
                    let outcome = attempt(platform, settings, &q).await;
                    if let Err(e) = store.settle(&q.message.id, &outcome, platform.now()).await {
                        platform.log(&format!("outbox {}: {e}", q.message.id));
                    }
                }
            }
            Err(e) => platform.log(&format!("could not queue delivery reports: {e}")),
        }
    }
    tally
}

async fn attempt<P: Platform>(platform: &P, settings: &Settings, q: &Queued) -> Settle {
    let now = platform.now();
    let bot = match super::bot(platform, settings) {
        Ok(bot) => bot,
        Err(e) => {
            return Settle::Retry {
                at: now + outbox::backoff(q.attempts),
                error: e.message,
            }
        }
    };
    let params: Value = match serde_json::from_str(&q.message.params) {
        Ok(v) => v,
        Err(_) => {
            return Settle::Failed {
                error: "stored parameters are not JSON".into(),
            }
        }
    };
    match bot.call::<Value>(&q.message.method, &params).await {
        Ok(_) => Settle::Sent,
        Err(e) => {
            platform.log(&format!("outbox {}: {e}", q.message.id));
            after_failure(&e, q.attempts, now)
        }
    }
}
