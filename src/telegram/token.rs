//! Bot tokens, the HMAC keys a token stands for, and the Telegram environment
//! (production or test servers).

use std::fmt;

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// A bot token, `<bot_id>:<secret>`. Its `Debug` never prints the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct BotToken {
    raw: String,
    bot_id: u64,
}

impl BotToken {
    /// Accepts any `<digits>:<non-empty>`; the secret's length and alphabet are
    /// Telegram's business (test suites use tokens such as `42:TEST`).
    pub fn parse(raw: &str) -> Result<BotToken, &'static str> {
        let raw = raw.trim();
        let (id, secret) = raw.split_once(':').ok_or("expected <bot_id>:<secret>")?;
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
            return Err("the part before ':' must be the numeric bot id");
        }
        if secret.is_empty() || secret.bytes().any(|b| b.is_ascii_whitespace() || b == b'/') {
            return Err("the part after ':' must be a non-empty secret without spaces or '/'");
        }
        let bot_id = id.parse().map_err(|_| "the bot id is too large")?;
        Ok(BotToken {
            raw: raw.to_owned(),
            bot_id,
        })
    }

    pub fn bot_id(&self) -> u64 {
        self.bot_id
    }

    /// The whole token. Only for building Bot API URLs and keys: never log it.
    pub fn expose(&self) -> &str {
        &self.raw
    }

    /// `text` with the token's secret replaced by `***`: for text from outside
    /// (a Bot API error, say) that may quote a request URL.
    pub fn redact(&self, text: &str) -> String {
        let secret = &self.raw[self.raw.find(':').map_or(0, |i| i + 1)..];
        text.replace(secret, "***")
    }
}

impl fmt::Debug for BotToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BotToken({}:***)", self.bot_id)
    }
}

/// The two HMAC keys Telegram derives from a bot token. They depend on the
/// token alone, so the settings derive them once, beside the token; the checks
/// take them from there. `Debug` never prints them.
#[derive(Clone, PartialEq, Eq)]
pub struct BotKeys {
    /// `HMAC_SHA256(key = "WebAppData", message = bot_token)`: Mini App launch data.
    pub init_data: [u8; 32],
    /// `SHA256(bot_token)`: the Login Widget.
    pub login_widget: [u8; 32],
}

impl BotKeys {
    pub fn derive(token: &BotToken) -> BotKeys {
        let mut mac = Hmac::<Sha256>::new_from_slice(b"WebAppData").expect("HMAC takes any key");
        mac.update(token.expose().as_bytes());
        BotKeys {
            init_data: mac.finalize().into_bytes().into(),
            login_widget: Sha256::digest(token.expose().as_bytes()).into(),
        }
    }
}

impl fmt::Debug for BotKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BotKeys(..)")
    }
}

/// Which Telegram servers the bot lives on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TelegramEnv {
    #[default]
    Production,
    Test,
}

impl TelegramEnv {
    pub fn parse(s: &str) -> Result<TelegramEnv, &'static str> {
        match s.trim() {
            "production" | "prod" | "" => Ok(TelegramEnv::Production),
            "test" => Ok(TelegramEnv::Test),
            _ => Err("expected `production` or `test`"),
        }
    }

    /// Telegram's Ed25519 public key for third-party initData validation.
    pub fn public_key(self) -> [u8; 32] {
        match self {
            TelegramEnv::Production => {
                hex32("e7bf03a2fa4602af4580703d88dda5bb59f32ed8b02a56c187fe7d34caed242d")
            }
            TelegramEnv::Test => {
                hex32("40055058a4ee38156a06562e52eece92a771bcd8346a8c4615cb7376eddf72ec")
            }
        }
    }
}

fn hex32(s: &str) -> [u8; 32] {
    let mut out = [0u8; 32];
    hex::decode_to_slice(s, &mut out).expect("a valid built-in key");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ids_and_hides_the_secret() {
        let t = BotToken::parse("42:TEST").unwrap();
        assert_eq!(t.bot_id(), 42);
        assert_eq!(t.expose(), "42:TEST");
        assert!(!format!("{t:?}").contains("TEST"));
        assert_eq!(
            t.redact("cannot POST /bot42:TEST/x, /bot42%3ATEST/y"),
            "cannot POST /bot42:***/x, /bot42%3A***/y"
        );
    }

    #[test]
    fn keys_follow_the_token_and_are_never_printed() {
        let keys = BotKeys::derive(&BotToken::parse("42:TEST").unwrap());
        // Telegram's definitions, computed here from the primitives.
        let mut mac = Hmac::<Sha256>::new_from_slice(b"WebAppData").unwrap();
        mac.update(b"42:TEST");
        assert_eq!(
            keys.init_data,
            <[u8; 32]>::from(mac.finalize().into_bytes())
        );
        assert_eq!(
            keys.login_widget,
            <[u8; 32]>::from(Sha256::digest(b"42:TEST"))
        );
        let other = BotKeys::derive(&BotToken::parse("43:TEST").unwrap());
        assert_ne!(keys.init_data, other.init_data);
        assert_ne!(keys.login_widget, other.login_widget);
        assert_eq!(format!("{keys:?}"), "BotKeys(..)");
    }

    #[test]
    fn refuses_what_is_not_a_token() {
        for bad in [
            "",
            "42",
            ":abc",
            "abc:def",
            "42:",
            "42:a b",
            "99999999999999999999999:x",
        ] {
            assert!(BotToken::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn environments() {
        assert_eq!(TelegramEnv::parse("test"), Ok(TelegramEnv::Test));
        assert_eq!(
            TelegramEnv::parse("production"),
            Ok(TelegramEnv::Production)
        );
        assert!(TelegramEnv::parse("staging").is_err());
        assert_ne!(
            TelegramEnv::Test.public_key(),
            TelegramEnv::Production.public_key()
        );
    }
}
