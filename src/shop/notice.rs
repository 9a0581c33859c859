//! What the operator is told (in `ADMIN_CHAT_IDS`, in `ADMIN_LANGUAGE`): each
//! paid order, refund, failed delivery and reconciliation difference.

use super::outbox::{self, Outgoing};

/// The operator's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    En,
    Zh,
}

impl Lang {
    pub fn parse(s: &str) -> Option<Lang> {
        match s.to_ascii_lowercase().as_str() {
            "en" => Some(Lang::En),
            "zh" => Some(Lang::Zh),
            _ => None,
        }
    }
}

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
    match (lang, renewal) {
        (Lang::En, false) => {
            format!("💰 New sale: {what}, {price}\nBuyer {user_id}, order {order_id}")
        }
        (Lang::En, true) => {
            format!("🔁 Subscription renewed: {what}, {price}\nBuyer {user_id}, order {order_id}")
        }
        (Lang::Zh, false) => format!("💰 新订单：{what}，{price}\n买家 {user_id}，订单 {order_id}"),
        (Lang::Zh, true) => {
            format!("🔁 订阅已续费：{what}，{price}\n买家 {user_id}，订单 {order_id}")
        }
    }
}

/// To operators: transfers on chain for an order add up to less than its
/// price so far (the buyer is told what is missing).
pub fn underpaid(lang: Lang, order_id: &str, price: &str, received: &str, user_id: i64) -> String {
    match lang {
        Lang::En => format!(
            "⏳ Order {order_id} has received {received} of {price} so far.\nBuyer {user_id} was told what is missing."
        ),
        Lang::Zh => format!(
            "⏳ 订单 {order_id} 目前收到 {received}，价格为 {price}。\n已告知买家 {user_id} 差额。"
        ),
    }
}

/// To operators: a transfer on chain paid more than the price.
pub fn overpaid(lang: Lang, order_id: &str, price: &str, received: &str, user_id: i64) -> String {
    match lang {
        Lang::En => format!(
            "⚠️ Order {order_id} was paid {received} for a price of {price}.\nBuyer {user_id}: return the difference if it was a mistake."
        ),
        Lang::Zh => format!(
            "⚠️ 订单 {order_id} 收到 {received}，价格为 {price}。\n买家 {user_id}：如属误付，请退还差额。"
        ),
    }
}

pub fn refunded(lang: Lang, order_id: &str, charge_id: &str) -> String {
    match lang {
        Lang::En => format!("↩️ Refunded: order {order_id} (charge {charge_id})"),
        Lang::Zh => format!("↩️ 已退款：订单 {order_id}（交易 {charge_id}）"),
    }
}

pub fn delivery_failed(
    lang: Lang,
    order_id: &str,
    user_id: i64,
    error: &str,
    retrying: bool,
) -> String {
    match (lang, retrying) {
        (Lang::En, true) => format!("⚠️ Delivery of order {order_id} to {user_id} failed ({error}); retrying"),
        (Lang::En, false) => format!("❌ Delivery of order {order_id} to {user_id} failed for good ({error}); deliver it by hand"),
        (Lang::Zh, true) => format!("⚠️ 订单 {order_id} 发货给 {user_id} 失败（{error}），将重试"),
        (Lang::Zh, false) => format!("❌ 订单 {order_id} 发货给 {user_id} 最终失败（{error}），请手动处理"),
    }
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
    let action = match (lang, what) {
        (Lang::En, AccessWork::Grant) => "Letting the buyer of order {order} ({user}) in",
        (Lang::En, AccessWork::Removal) => "Removing {user} (order {order}) from the chat",
        (Lang::Zh, AccessWork::Grant) => "为订单 {order} 的买家 {user} 开通入群",
        (Lang::Zh, AccessWork::Removal) => "将 {user}（订单 {order}）移出群组",
    }
    .replace("{order}", order_id)
    .replace("{user}", &user_id.to_string());
    match (lang, retrying) {
        (Lang::En, true) => format!("⚠️ {action} failed ({error}); retrying"),
        (Lang::En, false) => format!(
            "❌ {action} failed for good ({error}); check the bot's rights and do it by hand"
        ),
        (Lang::Zh, true) => format!("⚠️ {action}失败（{error}），将重试"),
        (Lang::Zh, false) => {
            format!("❌ {action}最终失败（{error}），请检查机器人的权限并手动处理")
        }
    }
}

/// Which access work a notice is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessWork {
    Grant,
    Removal,
}

/// Setup found access chats where the bot cannot do its work.
pub fn access_rights_missing(lang: Lang, chats: &[String]) -> String {
    let head = match lang {
        Lang::En => "🔐 The bot cannot manage these access chats; make it an administrator with the rights named:",
        Lang::Zh => "🔐 机器人无法管理以下付费群组，请将其设为管理员并授予所列权限：",
    };
    format!("{head}\n{}", chats.join("\n"))
}

/// Reconciliation found `lines` (one per difference, at most a few shown).
pub fn out_of_sync(lang: Lang, lines: &[String]) -> String {
    const SHOWN: usize = 10;
    let mut text = match lang {
        Lang::En => format!(
            "🔎 Reconciliation: {} difference(s) with Telegram",
            lines.len()
        ),
        Lang::Zh => format!("🔎 对账：与 Telegram 有 {} 处不一致", lines.len()),
    };
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
        let en = paid(Lang::En, "Pack", "⭐ 50", 7, "o1", false);
        let zh = paid(Lang::Zh, "Pack", "⭐ 50", 7, "o1", false);
        assert!(en.contains("New sale") && en.contains("o1"), "{en}");
        assert!(zh.contains("新订单") && zh.contains("o1"), "{zh}");
        assert!(paid(Lang::En, "P", "1", 7, "o", true).contains("renewed"));
        assert!(refunded(Lang::Zh, "o1", "c1").contains("退款"));
        assert!(delivery_failed(Lang::En, "o1", 7, "blocked", false).contains("by hand"));
        let removal = access_failed(Lang::En, AccessWork::Removal, "o1", 7, "no rights", false);
        assert!(
            removal.contains("Removing 7 (order o1)") && removal.contains("rights"),
            "{removal}"
        );
        assert!(access_failed(Lang::Zh, AccessWork::Grant, "o1", 7, "x", true).contains("将重试"));
        assert!(
            access_rights_missing(Lang::En, &["-100 (Insiders): can_invite_users".into()])
                .contains("Insiders")
        );
        let many: Vec<String> = (0..12).map(|i| format!("d{i}")).collect();
        let text = out_of_sync(Lang::En, &many);
        assert!(text.contains("12 difference") && text.contains("d9") && !text.contains("d10"));
        assert_eq!(Lang::parse("ZH"), Some(Lang::Zh));
        assert_eq!(Lang::parse("fr"), None);
    }
}
