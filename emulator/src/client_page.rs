//! The page at `GET /` that plays the Telegram client (see `page.html`, README for element ids).

use axum::http::header;
use axum::response::IntoResponse;

pub const PAGE: &str = include_str!("page.html");

pub async fn page() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], PAGE)
}
