//! Who is asking: Mini App users (`Authorization: tma <initData>`), the operator
//! (`Authorization: Bearer <ADMIN_TOKEN>`, or an operator's launch data) and Telegram (the webhook secret).

use super::{Platform, Request};
use crate::config::Settings;
use crate::error::ApiError;
use crate::telegram::init_data::{self, InitData, InitDataError, WebAppUser};

/// The raw launch data from `Authorization: tma <initData>`.
fn tma_header(req: &Request) -> Result<&str, ApiError> {
    let missing = || {
        ApiError::unauthorized(
            "missing_init_data",
            "send the launch data as `Authorization: tma <initData>`",
        )
    };
    let value = req.header("authorization").ok_or_else(missing)?;
    let (scheme, rest) = value.split_once(' ').ok_or_else(missing)?;
    if !scheme.eq_ignore_ascii_case("tma") || rest.trim().is_empty() {
        return Err(missing());
    }
    Ok(rest.trim())
}

/// Verified launch data of the caller (the bot's own HMAC check).
pub fn init_data<P: Platform>(
    platform: &P,
    settings: &Settings,
    req: &Request,
) -> Result<InitData, ApiError> {
    let raw = tma_header(req)?;
    let keys = settings.bot_keys()?;
    init_data::verify_hmac(raw, keys, platform.now(), settings.init_data_max_age).map_err(refused)
}

/// Launch data refused: 401 with the check's own code.
pub fn refused(e: InitDataError) -> ApiError {
    ApiError::unauthorized(e.code(), e.to_string())
}

/// The verified user, for routes that act on the caller's behalf.
pub fn user<P: Platform>(
    platform: &P,
    settings: &Settings,
    req: &Request,
) -> Result<WebAppUser, ApiError> {
    Ok(caller(platform, settings, req)?.0)
}

/// The verified user with the launch data they came with.
pub fn caller<P: Platform>(
    platform: &P,
    settings: &Settings,
    req: &Request,
) -> Result<(WebAppUser, InitData), ApiError> {
    let data = init_data(platform, settings, req)?;
    let user = data
        .user()
        .map_err(refused)?
        .ok_or_else(|| ApiError::unauthorized("missing_user", "the launch data has no user"))?;
    Ok((user, data))
}

/// Who passed the operator check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    /// `Authorization: Bearer <ADMIN_TOKEN>`.
    Token,
    /// `Authorization: tma <initData>` of a user in `ADMIN_CHAT_IDS`.
    User(i64),
}

/// Whether a verified user is one of the operators (`ADMIN_CHAT_IDS`). The
/// list also holds groups (negative ids) that hear notices; those are no user.
pub fn is_operator(settings: &Settings, user_id: i64) -> bool {
    user_id > 0 && settings.admin_chat_ids.contains(&user_id)
}

/// Every operator route: either the admin token as a bearer, or the launch
/// data of a user in `ADMIN_CHAT_IDS` (so the Mini App can be the operator's
/// console without holding the token). A bearer is closed (403) without
/// `ADMIN_TOKEN` and 401 when wrong; launch data is checked as on buyer
/// routes (401 when it fails) and a user who is not an operator gets 403
/// `not_operator`. Either way the route then acts the same.
pub fn operator<P: Platform>(
    platform: &P,
    settings: &Settings,
    req: &Request,
) -> Result<Operator, ApiError> {
    let scheme = req
        .header("authorization")
        .and_then(|v| v.split_once(' '))
        .map(|(scheme, _)| scheme);
    if scheme.is_some_and(|s| s.eq_ignore_ascii_case("tma")) {
        let (user, _) = caller(platform, settings, req)?;
        if !is_operator(settings, user.id) {
            return Err(ApiError::new(
                403,
                "not_operator",
                "this account is not one of the shop's operators",
            ));
        }
        return Ok(Operator::User(user.id));
    }
    bearer(settings, req)?;
    Ok(Operator::Token)
}

/// `Authorization: Bearer <ADMIN_TOKEN>`: closed (403) without `ADMIN_TOKEN`,
/// 401 without the right bearer.
fn bearer(settings: &Settings, req: &Request) -> Result<(), ApiError> {
    let expected = settings.admin_token().ok_or_else(|| {
        ApiError::new(
            403,
            "admin_disabled",
            "admin routes are off: set ADMIN_TOKEN to enable them",
        )
    })?;
    let given = req
        .header("authorization")
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .unwrap_or("");
    if given.is_empty() || !expected.matches(given) {
        return Err(ApiError::unauthorized(
            "invalid_admin_token",
            "send `Authorization: Bearer <ADMIN_TOKEN>` or an operator's launch data",
        ));
    }
    Ok(())
}

/// The webhook: Telegram sends `WEBHOOK_SECRET` in `X-Telegram-Bot-Api-Secret-Token`.
pub fn telegram(settings: &Settings, req: &Request) -> Result<(), ApiError> {
    let expected = settings.webhook_secret()?;
    match req.header("x-telegram-bot-api-secret-token") {
        Some(given) if expected.matches(given) => Ok(()),
        _ => Err(ApiError::unauthorized(
            "invalid_webhook_secret",
            "missing or wrong X-Telegram-Bot-Api-Secret-Token",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(auth: &str) -> Request {
        Request {
            headers: vec![("authorization".into(), auth.into())],
            ..Default::default()
        }
    }

    #[test]
    fn tma_scheme_is_required() {
        assert_eq!(tma_header(&req("tma a=b")).unwrap(), "a=b");
        assert_eq!(tma_header(&req("TMA  a=b ")).unwrap(), "a=b");
        for bad in ["Bearer a=b", "tma", "tma   ", "a=b"] {
            assert_eq!(
                tma_header(&req(bad)).unwrap_err().code,
                "missing_init_data",
                "{bad}"
            );
        }
        assert_eq!(tma_header(&Request::default()).unwrap_err().status, 401);
    }

    #[test]
    fn admin_is_closed_without_a_token_and_checks_the_bearer() {
        let none = Settings::parse(|_| None).unwrap();
        assert_eq!(bearer(&none, &req("Bearer x")).unwrap_err().status, 403);
        let s = Settings::parse(|k| (k == "ADMIN_TOKEN").then(|| "sesame".to_string())).unwrap();
        assert!(bearer(&s, &req("Bearer sesame")).is_ok());
        assert!(bearer(&s, &req("bearer sesame")).is_ok());
        for bad in ["Bearer sesam", "Bearer ", "sesame", "Basic sesame"] {
            assert_eq!(bearer(&s, &req(bad)).unwrap_err().status, 401, "{bad}");
        }
    }
}
