//! The business, pure: what is for sale, orders and their states, and what to do
//! with each Telegram update.

pub mod bot;
pub mod catalog;
pub mod checkout;
pub mod order;

pub use catalog::{Catalog, Product};
pub use order::{Order, OrderStatus, Payment};
