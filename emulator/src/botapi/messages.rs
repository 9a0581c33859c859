//! `sendMessage` and `sendDocument`: the checks on a message's parameters and its
//! `reply_markup`, and posting the message in the user's chat.

use std::sync::Arc;

use serde_json::{json, Value};

use crate::params::{ApiError, ApiResult, Params};
use crate::state::{now_unix, Ctx};

/// The `chat_id` of a send. Bots cannot start chats by @username with users;
/// only numeric ids of known users work.
fn chat_id(p: &Params) -> Result<i64, ApiError> {
    let chat = p
        .str("chat_id")?
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::bad("chat_id is empty"))?;
    chat.trim()
        .parse()
        .map_err(|_| ApiError::bad("chat not found"))
}

/// `sendMessage` parameters checked; returns (chat_id, text, entities, reply_markup).
pub fn validate_message(
    p: &Params,
) -> Result<(i64, String, Option<Value>, Option<Value>), ApiError> {
    let chat_id = chat_id(p)?;
    let text = p.str("text")?.unwrap_or_default();
    if text.trim().is_empty() {
        return Err(ApiError::bad("message text is empty"));
    }
    if text.encode_utf16().count() > 4096 {
        return Err(ApiError::bad("message is too long"));
    }
    if let Some(mode) = p.str("parse_mode")?.filter(|m| !m.is_empty()) {
        if !["html", "markdown", "markdownv2"].contains(&mode.to_ascii_lowercase().as_str()) {
            return Err(ApiError::bad(format!("unsupported parse_mode \"{mode}\"")));
        }
    }
    let entities = p.json("entities")?;
    if entities.as_ref().is_some_and(|e| !e.is_array()) {
        return Err(ApiError::bad("can't parse entities JSON object"));
    }
    let markup = p.json("reply_markup")?;
    if let Some(m) = &markup {
        validate_reply_markup(m)?;
    }
    Ok((chat_id, text, entities, markup))
}

fn validate_reply_markup(m: &Value) -> Result<(), ApiError> {
    let unparsable = || ApiError::bad("can't parse reply keyboard markup JSON object");
    let o = m.as_object().ok_or_else(unparsable)?;
    if let Some(rows) = o.get("inline_keyboard") {
        let rows = rows.as_array().ok_or_else(|| {
            ApiError::bad("field \"inline_keyboard\" of the InlineKeyboardMarkup must be an Array")
        })?;
        for row in rows {
            for button in row.as_array().ok_or_else(unparsable)? {
                if !button.get("text").is_some_and(Value::is_string) {
                    return Err(ApiError::bad("can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"));
                }
                if let Some(w) = button.get("web_app") {
                    if !w.get("url").is_some_and(Value::is_string) {
                        return Err(ApiError::bad("can't parse inline keyboard button: Field \"url\" must be of type String"));
                    }
                }
                if let Some(cb) = button.get("callback_data").and_then(Value::as_str) {
                    if cb.is_empty() || cb.len() > 64 {
                        return Err(ApiError::bad("BUTTON_DATA_INVALID"));
                    }
                }
            }
        }
    } else if !["keyboard", "remove_keyboard", "force_reply"]
        .iter()
        .any(|k| o.contains_key(*k))
    {
        return Err(unparsable());
    }
    Ok(())
}

pub(super) fn send_message(ctx: &Arc<Ctx>, p: &Params) -> ApiResult {
    let (chat_id, text, entities, markup) = validate_message(p)?;
    let mut content = json!({ "text": text });
    if let Some(e) = entities {
        content["entities"] = e;
    }
    post_as_bot(ctx, chat_id, content, markup)
}

/// Adds a message from the bot to a known user's chat: `content` plus the
/// sender, chat and date, and the inline keyboard if any.
fn post_as_bot(
    ctx: &Arc<Ctx>,
    chat_id: i64,
    mut content: Value,
    markup: Option<Value>,
) -> ApiResult {
    ctx.mutate(|s| {
        // Message.from carries only the plain User fields, not getMe's capabilities.
        let bot = s.bot_user.clone();
        let user = s
            .users
            .get(&chat_id)
            .cloned()
            .ok_or_else(|| ApiError::bad("chat not found"))?;
        content["from"] = bot;
        content["chat"] = user.chat();
        content["date"] = now_unix().into();
        // Only inline keyboards are part of the Message object; the others change the client UI.
        if let Some(m) = markup.filter(|m| m.get("inline_keyboard").is_some()) {
            content["reply_markup"] = m;
        }
        Ok(s.add_message(content))
    })
}

/// `sendDocument` with a `file_id` or an HTTP URL (uploads are not emulated): the message
/// carries a `document` whose `file_id` is what was sent, and the caption.
pub(super) fn send_document(ctx: &Arc<Ctx>, p: &Params) -> ApiResult {
    let chat_id = chat_id(p)?;
    let document = p
        .str("document")?
        .filter(|d| !d.trim().is_empty())
        .ok_or_else(|| ApiError::bad("there is no document in the request"))?;
    let caption = p.str("caption")?;
    if caption
        .as_ref()
        .is_some_and(|c| c.encode_utf16().count() > 1024)
    {
        return Err(ApiError::bad("message caption is too long"));
    }
    let markup = p.json("reply_markup")?;
    if let Some(m) = &markup {
        validate_reply_markup(m)?;
    }
    let unique: String = document
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(16)
        .collect();
    let mut content = json!({"document": {"file_id": document, "file_unique_id": unique}});
    if let Some(c) = caption.filter(|c| !c.is_empty()) {
        content["caption"] = c.into();
    }
    post_as_bot(ctx, chat_id, content, markup)
}
