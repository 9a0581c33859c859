//! What the bot says in chat: its commands and their replies.

use url::Url;

use super::catalog::Catalog;
use super::checkout::format_price;
use crate::telegram::types::{BotCommand, InlineButton, InlineKeyboard, WebAppInfo};

/// The commands registered with `setMyCommands` by `/api/admin/setup`.
pub const COMMANDS: &[BotCommand] = &[
    BotCommand {
        command: "start",
        description: "Open the shop",
    },
    BotCommand {
        command: "paysupport",
        description: "Help with a payment",
    },
    BotCommand {
        command: "terms",
        description: "Terms of sale",
    },
    BotCommand {
        command: "help",
        description: "What this bot can do",
    },
];

const PAYSUPPORT: &str = "Need help with a payment? Reply here with your order id (shown in the shop under \"My orders\") \
and what went wrong, and we will answer within 24 hours. Purchases made with Telegram Stars can be refunded by us; \
Telegram support cannot help with purchases made in this bot.";

const TERMS: &str = "Terms of sale: prices are shown before you pay and charged in Telegram Stars or by card. \
Digital goods are delivered right after payment. Subscriptions renew every 30 days until cancelled; you can cancel \
any time and keep access until the end of the paid period. If something you bought does not work, use /paysupport \
and we will fix it or refund you.";

const HELP: &str =
    "This bot sells digital goods.\n/start opens the shop\n/paysupport gets help with a payment\n\
/terms shows the terms of sale";

/// The command in a message text (`/start@MyBot param` → `start`), lower-cased.
pub fn command_of(text: &str) -> Option<(String, &str)> {
    let rest = text.strip_prefix('/')?;
    let (word, arg) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    let name = word.split('@').next().unwrap_or("");
    if name.is_empty() {
        return None;
    }
    Some((name.to_ascii_lowercase(), arg.trim()))
}

fn web_app_button(text: String, url: Url) -> Option<InlineKeyboard> {
    Some(InlineKeyboard {
        inline_keyboard: vec![vec![InlineButton {
            text,
            web_app: Some(WebAppInfo { url: url.into() }),
            url: None,
        }]],
    })
}

/// The reply to a command. `app_url` is the Mini App (this deployment's page).
/// `/start buy_<product id>` (the deep link `t.me/<bot>?start=buy_<id>`)
/// answers with that product and a button that opens it in the Mini App.
pub fn reply(
    command: &str,
    arg: &str,
    app_url: &Url,
    catalog: &Catalog,
) -> (String, Option<InlineKeyboard>) {
    let wanted = arg
        .strip_prefix("buy_")
        .and_then(|id| catalog.get(id))
        .filter(|_| command == "start");
    if let Some(p) = wanted {
        let price = format_price(&p.currency, p.amount);
        let mut url = app_url.clone();
        url.query_pairs_mut().append_pair("product", &p.id);
        return (
            format!("{}, {price}\n{}", p.title, p.description),
            web_app_button(format!("Buy for {price}"), url),
        );
    }
    match command {
        "start" => (
            "Welcome! Tap the button below to open the shop and pay with Telegram Stars.".into(),
            web_app_button("🛍 Open the shop".into(), app_url.clone()),
        ),
        "paysupport" => (PAYSUPPORT.into(), None),
        "terms" => (TERMS.into(), None),
        _ => (HELP.into(), None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_commands() {
        assert_eq!(command_of("/start"), Some(("start".into(), "")));
        assert_eq!(
            command_of("/START@ShopBot buy_x"),
            Some(("start".into(), "buy_x"))
        );
        assert_eq!(command_of("hello"), None);
        assert_eq!(command_of("/"), None);
    }

    fn shop() -> Url {
        Url::parse("https://shop.example").unwrap()
    }

    fn catalog() -> Catalog {
        Catalog::load(None, crate::telegram::TelegramEnv::Production).unwrap()
    }

    #[test]
    fn start_with_a_product_opens_that_product() {
        let (text, kb) = reply("start", "buy_sticker_pack", &shop(), &catalog());
        assert!(text.starts_with("Sticker pack, ⭐ 50"), "{text}");
        let button = &kb.unwrap().inline_keyboard[0][0];
        assert_eq!(button.text, "Buy for ⭐ 50");
        assert_eq!(
            button.web_app.as_ref().unwrap().url,
            "https://shop.example/?product=sticker_pack"
        );
        // An unknown product is a plain welcome.
        let (text, _) = reply("start", "buy_nothing", &shop(), &catalog());
        assert!(text.contains("Welcome"));
    }

    #[test]
    fn start_opens_the_mini_app_and_the_rest_answer_in_words() {
        let c = catalog();
        let reply = |cmd| reply(cmd, "", &shop(), &c);
        let (text, kb) = reply("start");
        assert!(text.contains("Welcome"));
        assert_eq!(
            kb.unwrap().inline_keyboard[0][0]
                .web_app
                .as_ref()
                .unwrap()
                .url,
            "https://shop.example/"
        );
        assert!(reply("paysupport").0.contains("payment"));
        assert!(reply("terms").0.contains("Terms"));
        assert_eq!(reply("whatever").0, reply("help").0);
        assert!(COMMANDS.iter().any(|c| c.command == "paysupport"));
    }
}
