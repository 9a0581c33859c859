//! What the operator is told (in `ADMIN_CHAT_IDS`, in `ADMIN_LANGUAGE`): each
//! paid order, refund, failed delivery and reconciliation difference.

use super::outbox::{self, Outgoing};
use crate::i18n::Lang;

/// Who is told: the operator chats (`ADMIN_CHAT_IDS`) and their language.
#[derive(Debug, Clone, Copy)]
pub struct Operators<'a> {
    pub chats: &'a [i64],
    pub lang: Lang,
}

impl Operators<'_> {
    /// `text` to every operator chat, once per `key` (e.g. `paid:<charge>`).
    pub fn notices(&self, key: &str, text: &str, order_id: Option<&str>) -> Vec<Outgoing> {
        self.chats
            .iter()
            .map(|chat| outbox::notice(key, *chat, text, order_id))
            .collect()
    }
}

/// A payment arrived. `what` is the product title, `price` already formatted.
pub fn paid(
    lang: Lang,
    what: &str,
    price: &str,
    user_id: i64,
    order_id: &str,
    renewal: bool,
) -> String {
    let key = if renewal {
        "notice.renewed"
    } else {
        "notice.paid"
    };
    let user = user_id.to_string();
    let args = [
        ("title", what),
        ("price", price),
        ("user", &user),
        ("order", order_id),
    ];
    lang.fill(key, &args)
}

/// To operators: transfers on chain for an order add up to less than its
/// price so far (the buyer is told what is missing).
pub fn underpaid(lang: Lang, order_id: &str, price: &str, received: &str, user_id: i64) -> String {
    let user = user_id.to_string();
    let args = [
        ("order", order_id),
        ("price", price),
        ("received", received),
        ("user", &user),
    ];
    lang.fill("notice.underpaid", &args)
}

/// To operators: a transfer on chain paid more than the price.
pub fn overpaid(lang: Lang, order_id: &str, price: &str, received: &str, user_id: i64) -> String {
    let user = user_id.to_string();
    let args = [
        ("order", order_id),
        ("price", price),
        ("received", received),
        ("user", &user),
    ];
    lang.fill("notice.overpaid", &args)
}

pub fn refunded(lang: Lang, order_id: &str, charge_id: &str) -> String {
    lang.fill(
        "notice.refunded",
        &[("order", order_id), ("charge", charge_id)],
    )
}

pub fn delivery_failed(
    lang: Lang,
    order_id: &str,
    user_id: i64,
    error: &str,
    retrying: bool,
) -> String {
    let key = if retrying {
        "notice.delivery_retrying"
    } else {
        "notice.delivery_failed"
    };
    let user = user_id.to_string();
    lang.fill(
        key,
        &[("order", order_id), ("user", &user), ("error", error)],
    )
}

/// Letting a buyer in (`grant`) or removing a member (`removal`) failed.
pub fn access_failed(
    lang: Lang,
    what: AccessWork,
    order_id: &str,
    user_id: i64,
    error: &str,
    retrying: bool,
) -> String {
    let action = match what {
        AccessWork::Grant => "notice.access_grant",
        AccessWork::Removal => "notice.access_removal",
    };
    let user = user_id.to_string();
    let action = lang.fill(action, &[("order", order_id), ("user", &user)]);
    let key = if retrying {
        "notice.access_retrying"
    } else {
        "notice.access_failed"
    };
    lang.fill(key, &[("action", &action), ("error", error)])
}

/// Which access work a notice is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessWork {
    Grant,
    Removal,
}

/// Setup found access chats where the bot cannot do its work.
pub fn access_rights_missing(lang: Lang, chats: &[String]) -> String {
    let head = lang.text("notice.access_rights_missing");
    format!("{head}\n{}", chats.join("\n"))
}

/// Reconciliation found `lines` (one per difference, at most a few shown).
pub fn out_of_sync(lang: Lang, lines: &[String]) -> String {
    const SHOWN: usize = 10;
    let count = lines.len().to_string();
    let mut text = lang.fill("notice.out_of_sync", &[("count", &count)]);
    for l in lines.iter().take(SHOWN) {
        text.push('\n');
        text.push_str(l);
    }
    if lines.len() > SHOWN {
        text.push_str("\n…");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_notice_speaks_the_operators_language() {
        let en = paid(Lang::EN, "Pack", "⭐ 50", 7, "o1", false);
        let zh = paid(Lang::ZH, "Pack", "⭐ 50", 7, "o1", false);
        assert!(en.contains("New sale") && en.contains("o1"), "{en}");
        assert!(zh.contains("新订单") && zh.contains("o1"), "{zh}");
        assert!(paid(Lang::EN, "P", "1", 7, "o", true).contains("renewed"));
        assert!(refunded(Lang::ZH, "o1", "c1").contains("退款"));
        assert!(delivery_failed(Lang::EN, "o1", 7, "blocked", false).contains("by hand"));
        let removal = access_failed(Lang::EN, AccessWork::Removal, "o1", 7, "no rights", false);
        assert!(
            removal.contains("Removing 7 (order o1)") && removal.contains("rights"),
            "{removal}"
        );
        assert!(access_failed(Lang::ZH, AccessWork::Grant, "o1", 7, "x", true).contains("将重试"));
        assert!(
            access_rights_missing(Lang::EN, &["-100 (Insiders): can_invite_users".into()])
                .contains("Insiders")
        );
        let many: Vec<String> = (0..12).map(|i| format!("d{i}")).collect();
        let text = out_of_sync(Lang::EN, &many);
        assert!(text.contains("12 difference") && text.contains("d9") && !text.contains("d10"));
        assert!(underpaid(Lang::ZH, "o1", "1 TON", "0.5 TON", 7).contains("差额"));
        assert!(overpaid(Lang::EN, "o1", "1 TON", "2 TON", 7).contains("difference"));
        assert!(out_of_sync(Lang::ZH, &many).contains("12 处不一致"));
    }
}
