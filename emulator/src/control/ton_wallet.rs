//! The control API's TON Connect calls (`/control/ton/connect`, `…/restore`, `…/disconnect`,
//! `…/send`): what the client page forwards from the Mini App's injected wallet, and the
//! `sendTransaction` requests waiting for the user (`…/requests`, confirm, reject).

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use super::{bad, not_found, CtlResult, Shared};
use crate::state::{default_user, Ctx};
use crate::ton::connect::{self, RequestStatus, Sent};

pub fn router() -> Router<Arc<Ctx>> {
    Router::new()
        .route("/ton/connect", post(connect))
        .route("/ton/restore", post(restore))
        .route("/ton/disconnect", post(disconnect))
        .route("/ton/send", post(send))
        .route("/ton/connections", get(connections))
        .route("/ton/requests", get(requests))
        .route("/ton/requests/{id}", get(request))
        .route("/ton/requests/{id}/confirm", post(confirm))
        .route("/ton/requests/{id}/reject", post(reject))
}

#[derive(Deserialize)]
struct WalletCall {
    user_id: Option<i64>,
    /// The Mini App's origin (the page takes it from the message event).
    origin: String,
    request: Option<Value>,
}

impl WalletCall {
    fn user(&self) -> i64 {
        self.user_id.unwrap_or(default_user().id)
    }
}

async fn connect(State(ctx): Shared, Json(c): Json<WalletCall>) -> Json<Value> {
    let request = c.request.clone().unwrap_or(Value::Null);
    Json(connect::connect(&ctx, c.user(), &c.origin, &request).await)
}

async fn restore(State(ctx): Shared, Json(c): Json<WalletCall>) -> Json<Value> {
    Json(connect::restore(&ctx, c.user(), &c.origin))
}

async fn disconnect(State(ctx): Shared, Json(c): Json<WalletCall>) -> Json<Value> {
    Json(json!({"disconnected": connect::disconnect(&ctx, c.user(), &c.origin)}))
}

/// `{"response": …}` at once, or `{"request": …}` waiting for the user.
async fn send(State(ctx): Shared, Json(c): Json<WalletCall>) -> Json<Value> {
    let request = c.request.clone().unwrap_or(Value::Null);
    Json(match connect::send(&ctx, c.user(), &c.origin, &request) {
        Sent::Answer(v) => json!({"response": v}),
        Sent::Pending(r) => json!({"request": r}),
    })
}

#[derive(Deserialize)]
struct UserQuery {
    user_id: Option<i64>,
    status: Option<String>,
}

async fn connections(State(ctx): Shared, Query(q): Query<UserQuery>) -> Json<Value> {
    let s = ctx.lock();
    let list: Vec<_> = s
        .ton
        .sessions
        .connections
        .values()
        .filter(|c| q.user_id.is_none_or(|u| c.user_id == u))
        .collect();
    Json(json!(list))
}

async fn requests(State(ctx): Shared, Query(q): Query<UserQuery>) -> Json<Value> {
    let s = ctx.lock();
    let list: Vec<_> = s
        .ton
        .sessions
        .requests
        .iter()
        .filter(|r| q.user_id.is_none_or(|u| r.user_id == u))
        .filter(|r| {
            q.status
                .as_deref()
                .is_none_or(|st| json!(r.status) == json!(st))
        })
        .collect();
    Json(json!(list))
}

#[derive(Deserialize)]
struct WaitQuery {
    wait_ms: Option<u64>,
}

/// One request; with `wait_ms`, answers once it is decided or the time is up.
async fn request(
    State(ctx): Shared,
    Path(id): Path<String>,
    Query(q): Query<WaitQuery>,
) -> CtlResult {
    let deadline =
        tokio::time::Instant::now() + Duration::from_millis(q.wait_ms.unwrap_or(0).min(60_000));
    let mut rx = ctx.watch();
    loop {
        let r = ctx
            .lock()
            .ton
            .sessions
            .request(&id)
            .cloned()
            .ok_or_else(|| not_found("no such request"))?;
        if r.status != RequestStatus::Pending || tokio::time::Instant::now() >= deadline {
            return Ok(Json(json!(r)));
        }
        tokio::select! {
            _ = tokio::time::sleep_until(deadline) => {}
            _ = rx.changed() => {}
        }
    }
}

async fn confirm(State(ctx): Shared, Path(id): Path<String>) -> CtlResult {
    decide(&ctx, &id, true)
}

async fn reject(State(ctx): Shared, Path(id): Path<String>) -> CtlResult {
    decide(&ctx, &id, false)
}

fn decide(ctx: &Ctx, id: &str, confirm: bool) -> CtlResult {
    match connect::decide(ctx, id, confirm) {
        Ok(r) => Ok(Json(json!(r))),
        Err(e) if e == "no such request" => Err(not_found(e)),
        Err(e) => Err(bad(e)),
    }
}
