//! Webhook delivery: one update at a time, in update_id order, retried with back-off until the
//! bot answers 2xx (Telegram's at-least-once contract). A 2xx reply carrying `"method"` is
//! executed as a Bot API call, as Telegram does.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::time::{sleep_until, Instant};

use crate::botapi::{self, CallEnv, Via};
use crate::params::{ApiError, Params};
use crate::state::{now_ms, now_unix, Attempt, Ctx, UpdateStatus};

/// Longest `Retry-After` honoured, so a confused bot cannot stall a test run for hours.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(120);
/// How much of a webhook reply is kept for `/control/updates`.
const KEPT_BODY: usize = 4000;

struct Job {
    update_id: i64,
    body: Vec<u8>,
    url: String,
    secret: Option<String>,
    failures: u32,
}

pub fn spawn(ctx: Arc<Ctx>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(run(ctx))
}

/// Takes the oldest pending update when a webhook is set, marking it as in flight.
fn next_job(ctx: &Ctx) -> Option<Job> {
    let mut s = ctx.lock();
    let hook = s.webhook.clone()?;
    let u = s
        .updates
        .iter()
        .filter(|u| u.status == UpdateStatus::Pending)
        .min_by_key(|u| u.update_id)?;
    let failures = u
        .attempts
        .iter()
        .rev()
        .take_while(|a| a.retry_in_ms.is_some())
        .count() as u32;
    let job = Job {
        update_id: u.update_id,
        body: serde_json::to_vec(&u.update).expect("serializable"),
        url: hook.url,
        secret: hook.secret_token,
        failures,
    };
    s.delivering = Some(job.update_id);
    Some(job)
}

/// base·2^(n-1), capped; `n` counts consecutive failures including this one.
pub fn backoff(base: Duration, cap: Duration, failures: u32) -> Duration {
    let factor = 1u32
        .checked_shl(failures.saturating_sub(1))
        .unwrap_or(u32::MAX);
    base.saturating_mul(factor).min(cap)
}

async fn run(ctx: Arc<Ctx>) {
    let mut rx = ctx.watch();
    loop {
        let Some(job) = next_job(&ctx) else {
            if rx.changed().await.is_err() {
                return;
            }
            continue;
        };
        let mut req = ctx
            .http
            .post(&job.url)
            .header("content-type", "application/json")
            .body(job.body.clone());
        if let Some(secret) = &job.secret {
            req = req.header("X-Telegram-Bot-Api-Secret-Token", secret);
        }
        let result = req.send().await;
        let mut attempt = Attempt {
            at_ms: now_ms(),
            url: job.url.clone(),
            http_status: None,
            error: None,
            response_body: None,
            retry_in_ms: None,
        };
        let mut reply: Option<Value> = None;
        let mut retry_after: Option<Duration> = None;
        match result {
            Ok(resp) => {
                let status = resp.status();
                attempt.http_status = Some(status.as_u16());
                retry_after = resp
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .map(|secs| Duration::from_secs(secs).min(MAX_RETRY_AFTER));
                let text = resp.text().await.unwrap_or_default();
                if status.is_success() {
                    reply = serde_json::from_str::<Value>(&text).ok();
                } else {
                    attempt.error = Some(format!(
                        "Wrong response from the webhook: {} {}",
                        status.as_u16(),
                        status.canonical_reason().unwrap_or("")
                    ));
                }
                attempt.response_body = Some(text.chars().take(KEPT_BODY).collect());
            }
            Err(e) => {
                attempt.error = Some(if e.is_timeout() {
                    "Read timeout expired".to_string()
                } else if e.is_connect() {
                    "Connection refused".to_string()
                } else {
                    format!("Connection error: {e}")
                });
            }
        }

        if attempt.error.is_none() {
            ctx.mutate(|s| {
                if let Some(u) = s.updates.iter_mut().find(|u| u.update_id == job.update_id) {
                    u.attempts.push(attempt);
                    u.status = UpdateStatus::Delivered;
                }
            });
            if let Some(reply) = reply {
                run_reply_method(&ctx, reply).await;
            }
            // Cleared only now so `/control/wait?for=idle` also covers the reply's method.
            ctx.mutate(|s| s.delivering = None);
            continue;
        }

        let delay = retry_after.unwrap_or_else(|| {
            backoff(
                ctx.config.retry_base,
                ctx.config.retry_cap,
                job.failures + 1,
            )
        });
        attempt.retry_in_ms = Some(delay.as_millis() as u64);
        ctx.mutate(|s| {
            if let Some(w) = s.webhook.as_mut().filter(|w| w.url == job.url) {
                w.last_error_date = Some(now_unix());
                w.last_error_message = attempt.error.clone();
            }
            if let Some(u) = s.updates.iter_mut().find(|u| u.update_id == job.update_id) {
                u.attempts.push(attempt);
            }
            s.delivering = None;
        });
        wait_before_retry(&ctx, &mut rx, &job, delay).await;
    }
}

/// Sleeps `delay`, cut short when the webhook changes or the update stops being pending
/// (dropped, or the bot switched to getUpdates).
async fn wait_before_retry(
    ctx: &Ctx,
    rx: &mut tokio::sync::watch::Receiver<u64>,
    job: &Job,
    delay: Duration,
) {
    let deadline = Instant::now() + delay;
    loop {
        tokio::select! {
            _ = sleep_until(deadline) => return,
            r = rx.changed() => {
                if r.is_err() {
                    return;
                }
                let s = ctx.lock();
                let same_hook = s.webhook.as_ref().is_some_and(|w| w.url == job.url);
                let still_pending = s
                    .updates
                    .iter()
                    .any(|u| u.update_id == job.update_id && u.status == UpdateStatus::Pending);
                if !same_hook || !still_pending {
                    return;
                }
            }
        }
    }
}

/// A webhook reply `{"method": "...", ...params}` is one Bot API call whose result nobody sees.
async fn run_reply_method(ctx: &Arc<Ctx>, reply: Value) {
    let Some(method) = reply
        .get("method")
        .and_then(Value::as_str)
        .map(str::to_string)
    else {
        return;
    };
    let params = Params::from_json(reply).without("method");
    let env = CallEnv {
        test_env: false,
        via: Via::WebhookResponse,
    };
    if botapi::allowed_in_webhook_reply(&method) {
        botapi::call_and_record(ctx, &method, &params, env).await;
    } else {
        // Telegram ignores these silently; the log says why nothing happened.
        let e = ApiError::bad(format!("method {method} can't be used in a webhook reply"));
        botapi::record_call(ctx, &method, &params, env, e.code, &e.body(), None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let b = Duration::from_millis(200);
        let cap = Duration::from_millis(5000);
        let ms: Vec<u128> = (1..=7).map(|n| backoff(b, cap, n).as_millis()).collect();
        assert_eq!(ms, vec![200, 400, 800, 1600, 3200, 5000, 5000]);
        assert_eq!(backoff(b, cap, 100), cap);
    }
}
