//! Sends what the outbox holds: leased messages go out one by one and each
//! outcome is stored. A delivery that fails is reported to the operator, once
//! per order. Used by the webhook (right after a payment) and the scheduled job
//! (retries).
//!
//! The bot's quota comes first: once Telegram answers 429, nothing more of the
//! batch is sent; the rest is put off until its `retry_after` has passed, and
//! every retry lands at its own second ([`outbox::spread`]).

use serde_json::Value;

use super::access as http_access;
use super::Platform;
use crate::config::Settings;
use crate::shop::access;
use crate::shop::notice::{self, AccessWork};
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

/// Sends leased messages and stores each outcome. A delivery or access work
/// that fails is reported to the operators; the messages access work leaves
/// owed (a buyer's link, a removed member's notice) are queued and sent after.
/// Messages put off because Telegram asked the bot to wait count as retrying.
pub async fn send<P: Platform>(
    platform: &P,
    settings: &Settings,
    store: &P::Store,
    leased: Vec<Queued>,
) -> Tally {
    let mut tally = Tally::default();
    let mut after = Vec::new();
    // Set when Telegram asks the bot to wait: until then nothing more is sent.
    let mut wait_until = None;
    for q in leased {
        let done = next(platform, settings, store, &q, &mut wait_until).await;
        match &done.settle {
            Settle::Sent => tally.sent += 1,
            Settle::Retry { .. } | Settle::Deferred { .. } => tally.retrying += 1,
            Settle::Failed { .. } => tally.failed += 1,
        }
        after.extend(report(settings, &q, &done.settle));
        after.extend(done.then);
        if let Err(e) = store
            .settle(&q.message.id, &done.settle, platform.now())
            .await
        {
            // The lease runs out and the message is tried again: a sent one may repeat.
            platform.log(&format!(
                "outbox {}: could not store the outcome: {e}",
                q.message.id
            ));
        }
    }
    if !after.is_empty() {
        // Reports and follow-ups are plain messages: they report nothing
        // themselves and leave nothing owed, so this does not loop.
        match store.enqueue(&after, platform.now()).await {
            Ok(leased) => {
                for q in leased {
                    let done = next(platform, settings, store, &q, &mut wait_until).await;
                    if let Err(e) = store
                        .settle(&q.message.id, &done.settle, platform.now())
                        .await
                    {
                        platform.log(&format!("outbox {}: {e}", q.message.id));
                    }
                }
            }
            Err(e) => platform.log(&format!("could not queue reports and follow-ups: {e}")),
        }
    }
    tally
}

/// The operator notices a failed delivery or access work calls for, once per
/// order and outcome.
fn report(settings: &Settings, q: &Queued, settle: &Settle) -> Vec<Outgoing> {
    let (Settle::Retry { error, .. } | Settle::Failed { error }, Some(order_id)) =
        (settle, &q.message.order_id)
    else {
        return Vec::new();
    };
    let retrying = matches!(settle, Settle::Retry { .. });
    let lang = settings.admin_language;
    let outcome = if retrying { "retrying" } else { "failed" };
    let (key, text) = match (q.message.kind, q.message.method.as_str()) {
        (Kind::Delivery, _) => (
            format!("delivery_{outcome}:{order_id}"),
            notice::delivery_failed(lang, order_id, q.message.chat_id, error, retrying),
        ),
        (Kind::Access, method) => {
            let what = if method == access::REMOVE {
                AccessWork::Removal
            } else {
                AccessWork::Grant
            };
            let text =
                notice::access_failed(lang, what, order_id, q.message.chat_id, error, retrying);
            (format!("access_{outcome}:{}", q.message.id), text)
        }
        (Kind::Notice, _) => return Vec::new(),
    };
    settings.operators().notices(&key, &text, Some(order_id))
}

/// How a leased message settles: put off (not sent) while Telegram has asked
/// the bot to wait, else attempted, a retry moved by its spread; a 429 sets
/// `wait_until` for the rest.
async fn next<P: Platform>(
    platform: &P,
    settings: &Settings,
    store: &P::Store,
    q: &Queued,
    wait_until: &mut Option<u64>,
) -> http_access::Done {
    let spread = outbox::spread(&q.message.id);
    if let Some(until) = *wait_until {
        return http_access::Done::settled(Settle::Deferred { at: until + spread });
    }
    let mut done = attempt(platform, settings, store, q).await;
    if let Settle::Retry { at, .. } = &mut done.settle {
        *at += spread;
    }
    if let Some(secs) = done.wait {
        *wait_until = Some(platform.now() + secs);
    }
    done
}

async fn attempt<P: Platform>(
    platform: &P,
    settings: &Settings,
    store: &P::Store,
    q: &Queued,
) -> http_access::Done {
    let now = platform.now();
    let bot = match super::bot(platform, settings) {
        Ok(bot) => bot,
        Err(e) => {
            return http_access::Done::settled(Settle::Retry {
                at: now + outbox::backoff(q.attempts),
                error: e.message,
            })
        }
    };
    match q.message.method.as_str() {
        access::GRANT => return http_access::grant(platform, settings, store, &bot, q).await,
        access::REMOVE => return http_access::remove(platform, settings, store, &bot, q).await,
        _ => {}
    }
    match serde_json::from_str::<Value>(&q.message.params) {
        Err(_) => http_access::Done::settled(Settle::Failed {
            error: "stored parameters are not JSON".into(),
        }),
        Ok(params) => match bot.call::<Value>(&q.message.method, &params).await {
            Ok(_) => http_access::Done::settled(Settle::Sent),
            Err(e) => {
                platform.log(&format!("outbox {}: {e}", q.message.id));
                http_access::Done {
                    wait: flood_wait(&e),
                    ..http_access::Done::settled(after_failure(&e, q.attempts, now))
                }
            }
        },
    }
}
