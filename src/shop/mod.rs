//! The business, pure: what is for sale, orders and their states, what a buyer
//! owns, the messages the bot owes, and what to do with each Telegram update.

pub mod access;
pub mod bot;
pub mod catalog;
pub mod checkout;
pub mod entitlement;
pub mod export;
pub mod notice;
pub mod order;
pub mod outbox;
pub mod payment;
pub mod reconcile;
pub mod summary;
pub mod ton;

pub use catalog::{Catalog, Product};
pub use order::{Order, OrderStatus, Payload, Payment, Refund, RefundRefused};
