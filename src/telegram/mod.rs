//! The Telegram protocol, pure: launch data, the Login Widget, bot tokens, the Bot
//! API types we use and a small client over a pluggable transport.

pub mod client;
pub mod ed25519;
pub mod init_data;
pub mod login_widget;
pub mod token;
pub mod types;

pub use token::{BotKeys, BotToken, TelegramEnv};
