//! Sends what the outbox holds: leased messages go out one by one and each
//! outcome is stored. A delivery that fails is reported to the operator, once
//! per order. Used by the webhook (right after a payment) and the scheduled job
//! (retries).
//!
//! The bot's quota comes first: once Telegram answers 429, nothing more of the
//! batch is sent; the rest is put off until its `retry_after` has passed, and
//! every retry lands at its own second ([`outbox::spread`]).

use serde_json::Value;

use super::Platform;
use crate::config::Settings;
use crate::shop::notice;
use crate::shop::outbox::{self, after_failure, flood_wait, Kind, Outgoing, Queued, Settle};
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

/// Sends leased messages and stores each outcome. Messages put off because
/// Telegram asked the bot to wait count as retrying.
pub async fn send<P: Platform>(
    platform: &P,
    settings: &Settings,
    store: &P::Store,
    leased: Vec<Queued>,
) -> Tally {
    let mut tally = Tally::default();
    let mut reports = Vec::new();
    // Set when Telegram asks the bot to wait: until then nothing more is sent.
    let mut wait_until = None;
    for q in leased {
        let outcome = next(platform, settings, &q, &mut wait_until).await;
        match &outcome {
            Settle::Sent => tally.sent += 1,
            Settle::Retry { .. } | Settle::Deferred { .. } => tally.retrying += 1,
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
                    let outcome = next(platform, settings, &q, &mut wait_until).await;
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

/// How a leased message settles: put off (not sent) while Telegram has asked
/// the bot to wait, else attempted; a 429 sets `wait_until` for the rest.
async fn next<P: Platform>(
    platform: &P,
    settings: &Settings,
    q: &Queued,
    wait_until: &mut Option<u64>,
) -> Settle {
    if let Some(until) = *wait_until {
        return Settle::Deferred {
            at: until + outbox::spread(&q.message.id),
        };
    }
    let (outcome, wait) = attempt(platform, settings, q).await;
    if let Some(secs) = wait {
        *wait_until = Some(platform.now() + secs);
    }
    outcome
}

/// One send: its outcome (a retry spread by the message's id), and how long
/// Telegram asked the bot to wait, if it did.
async fn attempt<P: Platform>(
    platform: &P,
    settings: &Settings,
    q: &Queued,
) -> (Settle, Option<u64>) {
    let now = platform.now();
    let spread = outbox::spread(&q.message.id);
    let bot = match super::bot(platform, settings) {
        Ok(bot) => bot,
        Err(e) => {
            let at = now + outbox::backoff(q.attempts) + spread;
            return (
                Settle::Retry {
                    at,
                    error: e.message,
                },
                None,
            );
        }
    };
    let params: Value = match serde_json::from_str(&q.message.params) {
        Ok(v) => v,
        Err(_) => {
            let error = "stored parameters are not JSON".into();
            return (Settle::Failed { error }, None);
        }
    };
    match bot.call::<Value>(&q.message.method, &params).await {
        Ok(_) => (Settle::Sent, None),
        Err(e) => {
            platform.log(&format!("outbox {}: {e}", q.message.id));
            let outcome = match after_failure(&e, q.attempts, now) {
                Settle::Retry { at, error } => Settle::Retry {
                    at: at + spread,
                    error,
                },
                other => other,
            };
            (outcome, flood_wait(&e))
        }
    }
}
