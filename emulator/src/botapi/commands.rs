//! The bot's commands and menu button: `setMyCommands`, `getMyCommands`, `deleteMyCommands`
//! (a list per scope and language), `setChatMenuButton` and `getChatMenuButton`.

use serde_json::{json, Value};

use crate::params::{ApiError, ApiResult, Params};
use crate::state::Ctx;

/// `setMyCommands`: the list for one scope and language, as Telegram keeps them: each
/// `(scope, language_code)` pair has its own list, the default scope and no language when
/// absent.
pub(super) fn set_my_commands(ctx: &Ctx, p: &Params) -> ApiResult {
    let commands = validate_commands(p)?;
    let key = command_list_key(p)?;
    ctx.mutate(|s| s.commands.insert(key, commands));
    Ok(json!(true))
}

/// `getMyCommands`: the list set for exactly that scope and language, or `[]`.
pub(super) fn get_my_commands(ctx: &Ctx, p: &Params) -> ApiResult {
    let key = command_list_key(p)?;
    Ok(ctx
        .lock()
        .commands
        .get(&key)
        .cloned()
        .unwrap_or_else(|| json!([])))
}

/// `deleteMyCommands`: forgets the list of that scope and language.
pub(super) fn delete_my_commands(ctx: &Ctx, p: &Params) -> ApiResult {
    let key = command_list_key(p)?;
    ctx.mutate(|s| s.commands.remove(&key));
    Ok(json!(true))
}

/// Which command list a call names: its `scope` (a `BotCommandScope`, `default` when
/// absent) and `language_code` (empty, or two lowercase letters, as TDLib's
/// `validate_bot_language_code` requires: `zh-hans` or `ZH` is refused).
pub fn command_list_key(p: &Params) -> Result<(String, String), ApiError> {
    let language = p.str("language_code")?.unwrap_or_default();
    let two_letters = language.len() == 2 && language.bytes().all(|b| b.is_ascii_lowercase());
    if !language.is_empty() && !two_letters {
        return Err(ApiError::bad("invalid language code specified"));
    }
    let scope = match p.json("scope")? {
        None => "default".to_string(),
        Some(scope) => {
            let kind = scope.get("type").and_then(Value::as_str).unwrap_or("");
            let id = |field: &str| scope.get(field).map_or(String::new(), Value::to_string);
            match kind {
                "default" | "all_private_chats" | "all_group_chats" | "all_chat_administrators" => {
                    kind.to_string()
                }
                "chat" | "chat_administrators" => format!("{kind}:{}", id("chat_id")),
                "chat_member" => format!("{kind}:{}:{}", id("chat_id"), id("user_id")),
                _ => {
                    return Err(ApiError::bad(
                        "can't parse BotCommandScope: Unsupported type specified",
                    ))
                }
            }
        }
    };
    Ok((scope, language))
}

/// `setMyCommands`: at most 100 of `{command: [a-z0-9_]{1,32}, description: 1-256 chars}`.
pub fn validate_commands(p: &Params) -> Result<Value, ApiError> {
    let list = match p.json("commands")? {
        Some(Value::Array(a)) => a,
        Some(_) => return Err(ApiError::bad("can't parse commands JSON object")),
        None => return Err(ApiError::missing("commands")),
    };
    if list.len() > 100 {
        return Err(ApiError::bad("too many commands specified"));
    }
    for c in &list {
        let command = c
            .get("command")
            .and_then(Value::as_str)
            .ok_or_else(|| ApiError::bad("can't parse BotCommand"))?;
        let command = command.strip_prefix('/').unwrap_or(command);
        if command.is_empty()
            || command.len() > 32
            || !command
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        {
            return Err(ApiError::bad("BOT_COMMAND_INVALID"));
        }
        let d = c.get("description").and_then(Value::as_str).unwrap_or("");
        if d.is_empty() || d.chars().count() > 256 {
            return Err(ApiError::bad("BOT_COMMAND_DESCRIPTION_INVALID"));
        }
    }
    Ok(Value::Array(list))
}

/// `setChatMenuButton`: for one known user's chat with `chat_id`, else the default for all.
pub(super) fn set_chat_menu_button(ctx: &Ctx, p: &Params) -> ApiResult {
    let button = validate_menu_button(p)?;
    let chat_id = p.int("chat_id")?;
    let mut s = ctx.lock();
    match chat_id {
        Some(id) if !s.users.contains_key(&id) => return Err(ApiError::bad("chat not found")),
        Some(id) => {
            s.chat_menu_buttons.insert(id, button);
        }
        None => s.default_menu_button = Some(button),
    }
    Ok(json!(true))
}

/// `getChatMenuButton`: the chat's own button, else the default, else the commands list.
pub(super) fn get_chat_menu_button(ctx: &Ctx, p: &Params) -> ApiResult {
    let chat_id = p.int("chat_id")?;
    let s = ctx.lock();
    let b = chat_id
        .and_then(|id| s.chat_menu_buttons.get(&id).cloned())
        .or_else(|| s.default_menu_button.clone())
        .unwrap_or_else(|| json!({"type": "commands"}));
    Ok(b)
}

/// `setChatMenuButton`'s `menu_button` (default: `{"type":"default"}`).
pub fn validate_menu_button(p: &Params) -> Result<Value, ApiError> {
    let b = p
        .json("menu_button")?
        .unwrap_or_else(|| json!({"type": "default"}));
    match b.get("type").and_then(Value::as_str) {
        Some("default") | Some("commands") => Ok(b),
        Some("web_app") => {
            let text_ok = b
                .get("text")
                .and_then(Value::as_str)
                .is_some_and(|t| !t.is_empty());
            let url_ok = b
                .pointer("/web_app/url")
                .and_then(Value::as_str)
                .is_some_and(|u| u.starts_with("http://") || u.starts_with("https://"));
            if !text_ok {
                return Err(ApiError::bad(
                    "can't parse menu button: Field \"text\" must be non-empty",
                ));
            }
            if !url_ok {
                return Err(ApiError::bad(
                    "can't parse menu button: Web App URL is invalid",
                ));
            }
            Ok(b)
        }
        _ => Err(ApiError::bad(
            "can't parse menu button: Unsupported type specified",
        )),
    }
}
