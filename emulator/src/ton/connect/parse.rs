//! Reading a `sendTransaction` request as a wallet does (`valid_until`, `network`, `from`,
//! `messages` with `address`, `amount`, `payload`, `stateInit`), and describing it for the
//! user's confirm panel.

use serde_json::{json, Value};
use tonlib_core::cell::ArcCell;
use tonlib_core::message::JETTON_TRANSFER;
use tonlib_core::tlb_types::tep::jetton::JettonTransferMessage;
use tonlib_core::tlb_types::tlb::TLB;
use tonlib_core::TonAddress;

use crate::ton::cells::to_u128;
use crate::ton::cells::{friendly, opcode, opcode_text, parse_address, parse_boc, read_comment};
use crate::ton::chain::{OutSpec, FWD_FEE, WALLET_GAS};
use crate::ton::format_decimal;
use crate::ton::ledger::{Kind, Ledger};
use crate::ton::wallet::DevWallet;

/// One message of the request, checked.
#[derive(Clone, Debug)]
pub struct WalletMessage {
    pub destination: TonAddress,
    pub amount: u128,
    /// From the address's form: a non-bounceable form makes a non-bounceable message.
    pub bounce: bool,
    pub payload: Option<ArcCell>,
    pub state_init: Option<ArcCell>,
}

impl WalletMessage {
    pub fn out(&self) -> OutSpec {
        OutSpec {
            init: self.state_init.clone(),
            ..OutSpec::new(
                self.destination.clone(),
                self.amount,
                self.bounce,
                self.payload
                    .clone()
                    .unwrap_or_else(crate::ton::ledger::empty),
            )
        }
    }
}

pub struct ParsedTransaction {
    pub valid_until: Option<i64>,
    pub messages: Vec<WalletMessage>,
}

/// Checks the request against `wallet` at time `now`; the error is for `BAD_REQUEST`.
pub fn parse_transaction(
    tx: &Value,
    wallet: &DevWallet,
    now: i64,
) -> Result<ParsedTransaction, String> {
    let valid_until = match tx.get("valid_until").or_else(|| tx.get("validUntil")) {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            v.as_i64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
                .ok_or("valid_until must be a number of seconds")?,
        ),
    };
    if valid_until.is_some_and(|t| t < now) {
        return Err("the transaction's validUntil has passed".into());
    }
    if let Some(network) = tx.get("network").and_then(Value::as_str) {
        if network != wallet.network.chain_id() {
            return Err(format!(
                "the wallet is on network {}, the request asks for {network}",
                wallet.network.chain_id()
            ));
        }
    }
    if let Some(from) = tx.get("from").and_then(Value::as_str) {
        if parse_address(from).map(|(a, _)| a).as_ref() != Some(wallet.address()) {
            return Err(format!("from {from} is not this wallet"));
        }
    }
    let list = tx
        .get("messages")
        .and_then(Value::as_array)
        .filter(|m| !m.is_empty())
        .ok_or("messages must be a non-empty array")?;
    if list.len() > wallet.kind.max_messages() {
        return Err(format!(
            "at most {} messages per transaction",
            wallet.kind.max_messages()
        ));
    }
    let messages = list
        .iter()
        .enumerate()
        .map(|(i, m)| parse_message(m).map_err(|e| format!("messages[{i}]: {e}")))
        .collect::<Result<_, _>>()?;
    Ok(ParsedTransaction {
        valid_until,
        messages,
    })
}

fn parse_message(m: &Value) -> Result<WalletMessage, String> {
    let text = m
        .get("address")
        .and_then(Value::as_str)
        .ok_or("address is required")?;
    let (destination, bounceable) = parse_address(text).ok_or("address is not an address")?;
    let amount = match m.get("amount") {
        Some(Value::String(s)) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
            s.parse().map_err(|_| "amount is too large")?
        }
        _ => return Err("amount must be a string of nanotons".into()),
    };
    let cell = |key: &str| -> Result<Option<ArcCell>, String> {
        match m.get(key).and_then(Value::as_str) {
            None => Ok(None),
            Some(b64) => parse_boc(b64).map(Some).map_err(|e| format!("{key}: {e}")),
        }
    };
    Ok(WalletMessage {
        destination,
        amount,
        bounce: bounceable.unwrap_or(true),
        payload: cell("payload")?,
        state_init: cell("stateInit")?,
    })
}

/// What the confirm panel shows about the request.
pub fn summary(l: &mut Ledger, user_id: i64, messages: &[WalletMessage]) -> Value {
    let wallet = l.user_wallet(user_id);
    let testnet = wallet.network.is_testnet();
    let total: u128 = messages.iter().map(|m| m.amount).sum();
    let fees = WALLET_GAS + FWD_FEE * messages.len() as u128;
    let balance = l.account_mut(wallet.address()).balance;
    let items: Vec<Value> = messages
        .iter()
        .map(|m| {
            json!({
                "to": friendly(&m.destination, m.bounce, testnet),
                "amount": m.amount.to_string(),
                "amount_ton": format_decimal(m.amount, 9),
                "bounce": m.bounce,
                "payload": describe(l, wallet.address(), m),
            })
        })
        .collect();
    json!({
        "from": friendly(wallet.address(), false, testnet),
        "messages": items,
        "total_ton": format_decimal(total, 9),
        "fee_ton": format_decimal(fees, 9),
        "balance_ton": format_decimal(balance, 9),
        "insufficient": total + fees > balance,
    })
}

/// A payload in words: nothing, a comment, a jetton transfer (of which jetton, to whom), or
/// some other op.
fn describe(l: &Ledger, sender: &TonAddress, m: &WalletMessage) -> Value {
    let Some(body) = &m.payload else {
        return json!({"kind": "empty"});
    };
    if let Some(comment) = read_comment(body) {
        return json!({"kind": "comment", "comment": comment});
    }
    let op = opcode(body);
    if op == Some(JETTON_TRANSFER) {
        if let Ok(t) = JettonTransferMessage::from_cell(body) {
            let (jetton, own, decimals) = match l.accounts.get(&m.destination).map(|a| &a.kind) {
                Some(Kind::JettonWallet { master, owner }) => {
                    let info = match l.accounts.get(master).map(|a| &a.kind) {
                        Some(Kind::JettonMaster(i)) => Some(i.clone()),
                        _ => None,
                    };
                    (
                        info.as_ref().map(|i| i.symbol.clone()),
                        owner == sender,
                        info.map_or(0, |i| i.decimals),
                    )
                }
                _ => (None, false, 0),
            };
            let to = TonAddress::from_msg_address(t.destination.clone()).ok();
            return json!({
                "kind": "jetton_transfer",
                "jetton": jetton,
                "own_jetton_wallet": own,
                "amount": to_u128(&t.amount).to_string(),
                "amount_text": format_decimal(to_u128(&t.amount), decimals),
                "to": to.map(|a| friendly(&a, false, l.config.network.is_testnet())),
                "forward_ton_amount": to_u128(&t.forward_ton_amount).to_string(),
                "comment": read_comment(&t.forward_payload.value),
            });
        }
    }
    json!({"kind": "body", "opcode": op.map(opcode_text)})
}
