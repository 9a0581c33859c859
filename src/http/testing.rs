//! `POST /api/test/panic`: a deliberate panic, so the end-to-end tests can prove
//! that a crash in the Rust code is contained (a JSON 500, and the next request
//! is served). It exists only when the `TEST_PANIC_ROUTE` setting is `1`, which
//! no deployment sets; otherwise it answers like any unknown route.

use super::{Platform, Request, Response};
use crate::config::Settings;
use crate::error::ApiError;
use crate::store::Store;

pub const SETTING: &str = "TEST_PANIC_ROUTE";

pub async fn panic<P: Platform>(
    platform: &P,
    settings: &Settings,
    req: &Request,
) -> Result<Response, ApiError> {
    if platform.setting(SETTING).as_deref() != Some("1") {
        return Err(ApiError::not_found(format!("no route for {}", req.path)));
    }
    // By default the panic comes after an await, as a real bug deep in a
    // handler would: then it unwinds through the runtime's task queue, not
    // the fetch call.
    if req.query != "when=now" {
        let _ = platform.store(settings.storage)?.order("-").await;
    }
    panic!("deliberate panic from {}", req.path)
}
