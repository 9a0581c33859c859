//! The subset of Bot API types tma-pay reads and writes. Unknown fields are
//! ignored so that new Bot API versions never break decoding.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Deserialize)]
pub struct Update {
    pub update_id: i64,
    #[serde(default)]
    pub message: Option<Message>,
    #[serde(default)]
    pub pre_checkout_query: Option<PreCheckoutQuery>,
    #[serde(default)]
    pub chat_join_request: Option<ChatJoinRequest>,
    #[serde(default)]
    pub chat_member: Option<ChatMemberUpdated>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct User {
    pub id: i64,
    #[serde(default)]
    pub is_bot: bool,
    #[serde(default)]
    pub first_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language_code: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Chat {
    pub id: i64,
    #[serde(default, rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub title: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Message {
    pub message_id: i64,
    #[serde(default)]
    pub from: Option<User>,
    pub chat: Chat,
    #[serde(default)]
    pub date: i64,
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub successful_payment: Option<SuccessfulPayment>,
    #[serde(default)]
    pub refunded_payment: Option<RefundedPayment>,
}

/// A request to join a chat (Bot API 10.1: with `query_id` when the bot is
/// assigned to process join requests, and must answer within 10 s).
#[derive(Debug, Clone, Deserialize)]
pub struct ChatJoinRequest {
    pub chat: Chat,
    pub from: User,
    /// A private chat with the requester, for messages until the request is handled.
    pub user_chat_id: i64,
    #[serde(default)]
    pub date: i64,
    #[serde(default)]
    pub query_id: Option<String>,
}

/// A change of a chat member's status.
#[derive(Debug, Clone, Deserialize)]
pub struct ChatMemberUpdated {
    pub chat: Chat,
    #[serde(default)]
    pub date: i64,
    pub new_chat_member: ChatMember,
}

/// A chat member: its status (`creator`, `administrator`, `member`,
/// `restricted`, `left`, `kicked`) and the user; `until_date` for a ban or a
/// membership bought through a subscription link.
#[derive(Debug, Clone, Deserialize)]
pub struct ChatMember {
    pub status: String,
    pub user: User,
    #[serde(default)]
    pub until_date: Option<i64>,
    #[serde(default)]
    pub can_invite_users: Option<bool>,
    #[serde(default)]
    pub can_restrict_members: Option<bool>,
}

/// `getChat`'s answer, what the shop reads of it.
#[derive(Debug, Clone, Deserialize)]
pub struct ChatInfo {
    pub id: i64,
    #[serde(default, rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub title: Option<String>,
}

/// An invite link, what the shop reads of it.
#[derive(Debug, Clone, Deserialize)]
pub struct ChatInviteLink {
    pub invite_link: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PreCheckoutQuery {
    pub id: String,
    pub from: User,
    pub currency: String,
    pub total_amount: i64,
    pub invoice_payload: String,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct SuccessfulPayment {
    pub currency: String,
    pub total_amount: i64,
    pub invoice_payload: String,
    pub telegram_payment_charge_id: String,
    #[serde(default)]
    pub provider_payment_charge_id: String,
    #[serde(default)]
    pub subscription_expiration_date: Option<i64>,
    #[serde(default)]
    pub is_recurring: bool,
    #[serde(default)]
    pub is_first_recurring: bool,
}

#[derive(Debug, Clone, Deserialize)]
pub struct RefundedPayment {
    pub currency: String,
    pub total_amount: i64,
    pub invoice_payload: String,
    pub telegram_payment_charge_id: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct LabeledPrice {
    pub label: String,
    pub amount: i64,
}

/// `createInvoiceLink` parameters.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct InvoiceLinkParams {
    pub title: String,
    pub description: String,
    pub payload: String,
    /// Empty for Telegram Stars.
    pub provider_token: String,
    pub currency: String,
    pub prices: Vec<LabeledPrice>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subscription_period: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub photo_url: Option<String>,
}

/// `sendMessage` parameters.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SendMessage {
    pub chat_id: i64,
    pub text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply_markup: Option<InlineKeyboard>,
}

/// `sendDocument` parameters: a `file_id` or an https URL, with a caption.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SendDocument {
    pub chat_id: i64,
    pub document: String,
    pub caption: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply_markup: Option<InlineKeyboard>,
}

/// An inline keyboard: rows of buttons, each opening a URL or a Mini App.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct InlineKeyboard {
    pub inline_keyboard: Vec<Vec<InlineButton>>,
}

impl InlineKeyboard {
    /// One button that opens `url` in the browser.
    pub fn link(text: &str, url: &str) -> InlineKeyboard {
        InlineKeyboard {
            inline_keyboard: vec![vec![InlineButton {
                text: text.into(),
                web_app: None,
                url: Some(url.into()),
            }]],
        }
    }

    /// One button that opens `url` as the Mini App.
    pub fn web_app(text: &str, url: &str) -> InlineKeyboard {
        InlineKeyboard {
            inline_keyboard: vec![vec![InlineButton {
                text: text.into(),
                web_app: Some(WebAppInfo { url: url.into() }),
                url: None,
            }]],
        }
    }
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct InlineButton {
    pub text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub web_app: Option<WebAppInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct WebAppInfo {
    pub url: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct BotCommand {
    pub command: &'static str,
    pub description: &'static str,
}

/// `getStarTransactions`: only what reconciliation needs.
#[derive(Debug, Clone, Deserialize)]
pub struct StarTransactions {
    pub transactions: Vec<StarTransaction>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct StarTransaction {
    /// For incoming payments, the `telegram_payment_charge_id`; a refund
    /// has the id of the payment it refunds.
    pub id: String,
    /// Whole Stars the transaction transferred (to the bot, for a payment).
    pub amount: i64,
    /// Billionths of a Star on top of `amount`, with its sign.
    #[serde(default)]
    pub nanostar_amount: i64,
    #[serde(default)]
    pub date: i64,
    /// Set for incoming payments (e.g. the paying user).
    #[serde(default)]
    pub source: Option<TransactionPartner>,
    /// Set for outgoing transfers such as refunds.
    #[serde(default)]
    pub receiver: Option<TransactionPartner>,
}

/// Billionths of a Star in a Star.
pub const NANOSTARS: i64 = 1_000_000_000;

impl StarTransaction {
    /// The amount in nanostars.
    pub fn nanostars(&self) -> i64 {
        self.amount * NANOSTARS + self.nanostar_amount
    }

    /// Who paid the bot, or whom the bot paid.
    pub fn partner(&self) -> Option<&TransactionPartner> {
        self.source.as_ref().or(self.receiver.as_ref())
    }

    /// The user partner's `transaction_type` (`invoice_payment`, …), else the
    /// partner's type (`fragment`, `affiliate_program`, …).
    pub fn transaction_type(&self) -> &str {
        self.partner()
            .map_or("", TransactionPartner::transaction_type)
    }

    /// The affiliate who received a commission through this transaction.
    pub fn affiliate(&self) -> Option<&AffiliateInfo> {
        self.partner()?.affiliate.as_ref()
    }
}

/// `TransactionPartner`: who is on the other side of a Star transaction.
/// Read as one flat record of the fields we use, so a partner type this build
/// does not know is just its `type`, never an error: `user` (with
/// `transaction_type`, and `affiliate` on a referred buyer's payment),
/// `affiliate_program` (a commission the bot earned), `chat`, `fragment`,
/// `telegram_ads`, `telegram_api`, `other`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct TransactionPartner {
    #[serde(rename = "type", default)]
    pub kind: String,
    /// For `user`: `invoice_payment`, `paid_media_payment`, `gift_purchase`,
    /// `premium_purchase`, `business_account_transfer`.
    #[serde(default)]
    pub transaction_type: Option<String>,
    #[serde(default)]
    pub affiliate: Option<AffiliateInfo>,
}

impl TransactionPartner {
    /// A user partner with its transaction type (tests build these).
    pub fn user(transaction_type: &str) -> TransactionPartner {
        TransactionPartner {
            kind: "user".into(),
            transaction_type: Some(transaction_type.into()),
            affiliate: None,
        }
    }

    /// The user partner's transaction type, else the partner's type.
    pub fn transaction_type(&self) -> &str {
        match (&*self.kind, &self.transaction_type) {
            ("user", Some(t)) => t,
            (kind, _) => kind,
        }
    }
}

/// `AffiliateInfo`: the commission an affiliate received through a payment
/// (negative on its refund).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AffiliateInfo {
    #[serde(default)]
    pub commission_per_mille: i64,
    #[serde(default)]
    pub amount: i64,
    #[serde(default)]
    pub nanostar_amount: i64,
}

impl AffiliateInfo {
    pub fn nanostars(&self) -> i64 {
        self.amount * NANOSTARS + self.nanostar_amount
    }
}

/// `StarAmount` (`getMyStarBalance`).
#[derive(Debug, Clone, Deserialize, serde::Serialize, PartialEq, Eq)]
pub struct StarAmount {
    pub amount: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nanostar_amount: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_a_payment_update_and_ignores_unknown_fields() {
        let raw = r#"{"update_id":10,"message":{"message_id":5,"date":1,"chat":{"id":7,"type":"private","new":1},
            "from":{"id":7,"is_bot":false,"first_name":"A","future_field":{"x":1}},
            "successful_payment":{"currency":"XTR","total_amount":50,"invoice_payload":"ord_1",
            "telegram_payment_charge_id":"stx1","provider_payment_charge_id":"","is_recurring":true,
            "is_first_recurring":true,"subscription_expiration_date":1700000000}}}"#;
        let u: Update = serde_json::from_str(raw).unwrap();
        let p = u.message.unwrap().successful_payment.unwrap();
        assert_eq!(p.total_amount, 50);
        assert!(p.is_first_recurring);
        assert_eq!(p.subscription_expiration_date, Some(1_700_000_000));
    }

    #[test]
    fn star_transactions_read_partners_affiliates_and_unknown_types() {
        let raw = r#"{"transactions":[
            {"id":"stx1","amount":48,"nanostar_amount":125000000,"date":5,"source":{"type":"user",
             "transaction_type":"invoice_payment","user":{"id":7,"is_bot":false,"first_name":"A"},
             "affiliate":{"affiliate_user":{"id":9,"is_bot":false,"first_name":"B"},"commission_per_mille":125,
             "amount":6,"nanostar_amount":875000000},"invoice_payload":"o:p"}},
            {"id":"w1","amount":100,"date":6,"receiver":{"type":"fragment","withdrawal_state":{"type":"pending"}}},
            {"id":"a1","amount":3,"date":7,"source":{"type":"affiliate_program","commission_per_mille":100,
             "sponsor_user":{"id":1,"is_bot":true,"first_name":"S"}}},
            {"id":"x1","amount":1,"date":8,"source":{"type":"from_the_future","anything":[1]}},
            {"id":"g1","amount":-2,"nanostar_amount":-5,"date":9,"receiver":{"type":"user","transaction_type":"gift_purchase","user":{"id":7}}}
        ]}"#;
        let t: StarTransactions = serde_json::from_str(raw).unwrap();
        let [paid, withdrawal, commission, unknown, gift] = &t.transactions[..] else {
            panic!("five transactions");
        };
        assert_eq!(paid.nanostars(), 48_125_000_000);
        assert_eq!(paid.transaction_type(), "invoice_payment");
        let a = paid.affiliate().unwrap();
        assert_eq!(
            (a.commission_per_mille, a.nanostars()),
            (125, 6_875_000_000)
        );
        assert_eq!(withdrawal.transaction_type(), "fragment");
        assert_eq!(commission.transaction_type(), "affiliate_program");
        assert_eq!(unknown.transaction_type(), "from_the_future");
        assert_eq!(gift.transaction_type(), "gift_purchase");
        assert_eq!(gift.nanostars(), -2_000_000_005);
        assert!(gift.affiliate().is_none() && withdrawal.affiliate().is_none());
        let b: StarAmount = serde_json::from_str(r#"{"amount":-1,"nanostar_amount":-5}"#).unwrap();
        assert_eq!(b.nanostar_amount, Some(-5));
    }

    #[test]
    fn invoice_params_leave_out_what_is_unset() {
        let p = InvoiceLinkParams {
            title: "T".into(),
            description: "D".into(),
            payload: "p".into(),
            provider_token: String::new(),
            currency: "XTR".into(),
            prices: vec![LabeledPrice {
                label: "T".into(),
                amount: 5,
            }],
            subscription_period: None,
            photo_url: None,
        };
        let v = serde_json::to_value(&p).unwrap();
        assert!(v.get("subscription_period").is_none());
        assert_eq!(v["provider_token"], "");
        assert_eq!(v["prices"][0]["amount"], 5);
    }
}
