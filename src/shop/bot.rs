//! What the bot says in chat: its commands and their replies.

use url::Url;

use super::catalog::Catalog;
use super::checkout::format_price;
use crate::i18n::Lang;
use crate::telegram::types::{BotCommand, InlineButton, InlineKeyboard, WebAppInfo};

/// The commands registered with `setMyCommands` by `/api/admin/setup`, in `lang`.
pub fn commands(lang: Lang) -> Vec<BotCommand> {
    [
        ("start", "commands.start"),
        ("paysupport", "commands.paysupport"),
        ("terms", "commands.terms"),
        ("help", "commands.help"),
    ]
    .into_iter()
    .map(|(command, key)| BotCommand {
        command,
        description: lang.text(key),
    })
    .collect()
}

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

/// The reply to a command, in the user's `lang`. `app_url` is the Mini App
/// (this deployment's page). `/start buy_<product id>` (the deep link
/// `t.me/<bot>?start=buy_<id>`) answers with that product and a button that
/// opens it in the Mini App.
pub fn reply(
    command: &str,
    arg: &str,
    app_url: &Url,
    catalog: &Catalog,
    lang: Lang,
) -> (String, Option<InlineKeyboard>) {
    let wanted = arg
        .strip_prefix("buy_")
        .and_then(|id| catalog.get(id))
        .filter(|_| command == "start");
    if let Some(p) = wanted {
        let price = format_price(&p.currency, p.amount);
        let mut url = app_url.clone();
        url.query_pairs_mut().append_pair("product", &p.id);
        let card = [
            ("title", p.title.get(lang)),
            ("price", &price),
            ("description", p.description.get(lang)),
        ];
        return (
            lang.fill("bot.product", &card),
            web_app_button(lang.fill("bot.buy_for", &[("price", &price)]), url),
        );
    }
    match command {
        "start" => (
            lang.text("bot.welcome").into(),
            web_app_button(lang.text("bot.open_shop").into(), app_url.clone()),
        ),
        "paysupport" => (lang.text("bot.paysupport").into(), None),
        "terms" => (lang.text("bot.terms").into(), None),
        _ => (lang.text("bot.help").into(), None),
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
        let (text, kb) = reply("start", "buy_sticker_pack", &shop(), &catalog(), Lang::EN);
        assert!(text.starts_with("Sticker pack, ⭐ 50"), "{text}");
        let button = &kb.unwrap().inline_keyboard[0][0];
        assert_eq!(button.text, "Buy for ⭐ 50");
        assert_eq!(
            button.web_app.as_ref().unwrap().url,
            "https://shop.example/?product=sticker_pack"
        );
        // An unknown product is a plain welcome.
        let (text, _) = reply("start", "buy_nothing", &shop(), &catalog(), Lang::EN);
        assert!(text.contains("Welcome"));
    }

    #[test]
    fn start_opens_the_mini_app_and_the_rest_answer_in_words() {
        let c = catalog();
        let reply = |cmd| reply(cmd, "", &shop(), &c, Lang::EN);
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
        assert!(commands(Lang::EN).iter().any(|c| c.command == "paysupport"));
    }

    #[test]
    fn a_chinese_user_is_answered_in_chinese() {
        let c = catalog();
        let (text, kb) = reply("start", "", &shop(), &c, Lang::ZH);
        assert!(text.starts_with("欢迎光临"), "{text}");
        assert_eq!(kb.unwrap().inline_keyboard[0][0].text, "🛍 进入商店");
        let (card, kb) = reply("start", "buy_sticker_pack", &shop(), &c, Lang::ZH);
        assert!(card.starts_with("贴纸包，⭐ 50\n十二张"), "{card}");
        assert_eq!(kb.unwrap().inline_keyboard[0][0].text, "购买 · ⭐ 50");
        assert!(reply("paysupport", "", &shop(), &c, Lang::ZH)
            .0
            .contains("订单号"));
        assert!(reply("terms", "", &shop(), &c, Lang::ZH)
            .0
            .starts_with("购买须知"));
        assert!(reply("help", "", &shop(), &c, Lang::ZH)
            .0
            .contains("/start"));
        let zh = commands(Lang::ZH);
        let en = commands(Lang::EN);
        // The same commands, described in each language.
        assert_eq!(
            zh.iter().map(|c| c.command).collect::<Vec<_>>(),
            en.iter().map(|c| c.command).collect::<Vec<_>>()
        );
        assert_eq!(zh[0].description, "进入商店");
        assert_eq!(en[0].description, "Open the shop");
    }
}
