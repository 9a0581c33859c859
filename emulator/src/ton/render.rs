//! Transactions, messages, jetton wallets and transfers as toncenter's API v3 writes them (the
//! field names, nulls and string-encoded numbers of its Go models): addresses raw with an
//! upper-case hash, hashes in standard base64, bodies as bags of cells.

use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use tonlib_core::cell::ArcCell;
use tonlib_core::message::{
    EXCESSES, JETTON_INTERNAL_TRANSFER, JETTON_TRANSFER, JETTON_TRANSFER_NOTIFICATION,
};
use tonlib_core::{TonAddress, TonHash};

use super::cells::{boc_b64, friendly, hash, hash_b64, opcode, opcode_text, raw, read_comment};
use super::ledger::{
    Account, Compute, JettonTransfer, Kind, Ledger, Msg, Status, Tx, JETTON_WALLET_CODE_HASH,
};

/// Gas price in the basechain, nanotons per gas unit (for `gas_used`).
const GAS_PRICE: u128 = 400;

/// toncenter's `finality` for a transaction that is (or is not yet) final.
pub fn finality(is_final: bool) -> &'static str {
    if is_final {
        "finalized"
    } else {
        "confirmed"
    }
}

fn zero_hash() -> String {
    hash_b64(&TonHash::from([0u8; 32]))
}

/// One transaction (`Transaction` in toncenter's models).
pub fn transaction(tx: &Tx, ledger: &Ledger, is_final: bool) -> Value {
    let state = |balance: u128, status: Status| account_state(ledger, &tx.account, balance, status);
    let mut v = json!({
        "account": raw(&tx.account),
        "hash": hash_b64(&tx.hash),
        "lt": tx.lt.to_string(),
        "now": tx.now,
        "mc_block_seqno": tx.mc_seqno,
        "trace_id": hash_b64(&tx.trace_id),
        "prev_trans_hash": tx.prev.as_ref().map_or_else(zero_hash, |(h, _)| hash_b64(h)),
        "prev_trans_lt": tx.prev.as_ref().map_or(0, |(_, lt)| *lt).to_string(),
        "orig_status": tx.orig_status.name(),
        "end_status": tx.end_status.name(),
        "total_fees": tx.total_fees.to_string(),
        "total_fees_extra_currencies": {},
        "description": description(tx),
        "block_ref": {"workchain": 0, "shard": "8000000000000000", "seqno": tx.mc_seqno + 7_000_000},
        "in_msg": message(&tx.in_msg),
        "out_msgs": tx.out_msgs.iter().map(message).collect::<Vec<_>>(),
        "account_state_before": state(tx.balance_before, tx.orig_status),
        "account_state_after": state(tx.balance_after, tx.end_status),
        "emulated": false,
        "finality": finality(is_final),
    });
    if let Some(h) = &tx.trace_external_hash {
        v["trace_external_hash"] = json!(hash_b64(h));
    }
    v
}

fn account_state(ledger: &Ledger, address: &TonAddress, balance: u128, status: Status) -> Value {
    let code_hash = match (ledger.accounts.get(address).map(|a| &a.kind), status) {
        (_, Status::Uninit) => None,
        (Some(Kind::Wallet { code_hash, .. }), _) => Some(hash_b64(code_hash)),
        (Some(Kind::JettonWallet { .. }), _) => Some(JETTON_WALLET_CODE_HASH.to_string()),
        _ => None,
    };
    let mut h = Sha256::new();
    h.update(address.hash_part.as_slice());
    h.update(balance.to_be_bytes());
    let state_hash: [u8; 32] = h.finalize().into();
    json!({
        "hash": hash_b64(&TonHash::from(state_hash)),
        "balance": balance.to_string(),
        "extra_currencies": {},
        "account_status": status.name(),
        "frozen_hash": null,
        "data_hash": null,
        "code_hash": code_hash,
    })
}

/// toncenter's `decoded_opcode` for the ops a shop meets.
fn decoded_opcode(op: u32) -> Option<&'static str> {
    match op {
        0 => Some("text_comment"),
        JETTON_TRANSFER => Some("jetton_transfer"),
        JETTON_INTERNAL_TRANSFER => Some("jetton_internal_transfer"),
        JETTON_TRANSFER_NOTIFICATION => Some("jetton_notify"),
        EXCESSES => Some("excess"),
        _ => None,
    }
}

fn content(cell: &ArcCell) -> Value {
    let decoded = read_comment(cell)
        .map(|c| json!({"@type": "text_comment", "comment": c, "type": "text_comment"}));
    json!({"hash": hash_b64(&hash(cell)), "body": boc_b64(cell), "decoded": decoded})
}

/// One message (`Message` in toncenter's models); an external one has no source or value.
pub fn message(m: &Msg) -> Value {
    let external = m.source.is_none();
    let op = opcode(&m.body);
    let internal = |v: Value| if external { Value::Null } else { v };
    let mut v = json!({
        "hash": hash_b64(&m.hash),
        "source": m.source.as_ref().map(raw),
        "destination": raw(&m.destination),
        "value": internal(json!(m.value.to_string())),
        "value_extra_currencies": internal(json!({})),
        "fwd_fee": internal(json!(m.fwd_fee.to_string())),
        "ihr_fee": internal(json!("0")),
        "extra_flags": internal(json!("0")),
        "created_lt": internal(json!(m.created_lt.to_string())),
        "created_at": internal(json!(m.created_at.to_string())),
        "opcode": op.map(opcode_text),
        "decoded_opcode": op.and_then(decoded_opcode),
        "ihr_disabled": internal(json!(true)),
        "bounce": internal(json!(m.bounce)),
        "bounced": internal(json!(m.bounced)),
        "import_fee": if external { json!("0") } else { Value::Null },
        "message_content": content(&m.body),
        "init_state": m.init.as_ref().map(|i| {
            json!({"hash": hash_b64(&hash(i)), "body": boc_b64(i), "decoded": null})
        }),
    });
    if let Some(h) = &m.hash_norm {
        v["hash_norm"] = json!(hash_b64(h));
    }
    v
}

fn description(tx: &Tx) -> Value {
    let external = tx.in_msg.source.is_none();
    let gas: u128 = tx.total_fees - tx.out_msgs.iter().map(|m| m.fwd_fee).sum::<u128>();
    let mut d = json!({
        "type": "ord",
        "aborted": tx.aborted,
        "destroyed": false,
        "credit_first": external || !tx.in_msg.bounce,
        "storage_ph": {"storage_fees_collected": "0", "status_change": "unchanged"},
    });
    if !external {
        d["credit_ph"] = json!({"credit": tx.in_msg.value.to_string()});
    }
    let vm = |success: bool, exit_code: i32| {
        json!({
            "skipped": false,
            "success": success,
            "msg_state_used": false,
            "account_activated": tx.orig_status != tx.end_status,
            "gas_fees": gas.to_string(),
            "gas_used": (gas / GAS_PRICE).to_string(),
            "gas_limit": if external { "0".to_string() } else { (tx.in_msg.value / GAS_PRICE).min(1_000_000).to_string() },
            "gas_credit": if external { json!("10000") } else { Value::Null },
            "mode": 0,
            "exit_code": exit_code,
            "vm_steps": 60 + 10 * tx.out_msgs.len(),
            "vm_init_state_hash": zero_hash(),
            "vm_final_state_hash": zero_hash(),
        })
    };
    d["compute_ph"] = match &tx.compute {
        Compute::Success => vm(true, 0),
        Compute::Failed(code) => vm(false, *code),
        Compute::Skipped(reason) => json!({"skipped": true, "reason": reason}),
    };
    let fwd: u128 = tx.out_msgs.iter().map(|m| m.fwd_fee).sum();
    if tx.compute == Compute::Success {
        let n = tx.out_msgs.len();
        d["action"] = json!({
            "success": true, "valid": true, "no_funds": false, "status_change": "unchanged",
            "total_fwd_fees": fwd.to_string(), "total_action_fees": (fwd / 3).to_string(),
            "result_code": 0, "tot_actions": n, "spec_actions": 0, "skipped_actions": 0,
            "msgs_created": n, "action_list_hash": zero_hash(),
            "tot_msg_size": {"cells": n.to_string(), "bits": (n * 700).to_string()},
        });
    }
    if tx.bounce_sent {
        d["bounce"] = json!({
            "type": "ok", "msg_size": {"cells": "1", "bits": "300"},
            "msg_fees": (fwd / 3).to_string(), "fwd_fees": (fwd - fwd / 3).to_string(),
        });
    }
    d
}

/// Addresses a transaction names (toncenter's address book covers these).
pub fn tx_addresses(tx: &Tx) -> Vec<TonAddress> {
    let mut v = vec![tx.account.clone()];
    v.extend(tx.in_msg.source.clone());
    v.extend(tx.out_msgs.iter().map(|m| m.destination.clone()));
    v
}

/// `{raw: {user_friendly, domain, interfaces}}`: wallets and unknown accounts get the
/// non-bounceable form, contracts the bounceable one (toncenter's rule).
pub fn address_book(ledger: &Ledger, addresses: &[TonAddress]) -> Value {
    let testnet = ledger.config.network.is_testnet();
    let mut book = Map::new();
    for a in addresses {
        let (bounceable, interfaces): (bool, Vec<&str>) = match ledger.accounts.get(a) {
            Some(Account {
                status: Status::Uninit,
                ..
            }) => (false, vec![]),
            Some(Account {
                kind: Kind::Wallet { .. },
                ..
            }) => (false, vec![ledger.config.wallet.interface()]),
            Some(Account {
                kind: Kind::JettonWallet { .. },
                ..
            }) => (true, vec!["jetton_wallet"]),
            Some(Account {
                kind: Kind::JettonMaster(_),
                ..
            }) => (true, vec!["jetton_master"]),
            _ => (false, vec![]),
        };
        book.insert(
            raw(a),
            json!({"user_friendly": friendly(a, bounceable, testnet), "domain": null, "interfaces": interfaces}),
        );
    }
    Value::Object(book)
}

/// `{raw master: {is_indexed, token_info}}` for the masters named.
pub fn metadata(ledger: &Ledger, masters: &[TonAddress]) -> Value {
    let mut out = Map::new();
    for m in masters {
        if let Some(Kind::JettonMaster(info)) = ledger.accounts.get(m).map(|a| &a.kind) {
            out.insert(
                raw(m),
                json!({"is_indexed": true, "token_info": [{
                    "valid": true, "type": "jetton_masters", "name": info.name,
                    "symbol": info.symbol, "extra": {"decimals": info.decimals.to_string()},
                }]}),
            );
        }
    }
    Value::Object(out)
}

/// A jetton wallet (`JettonWallet` in toncenter's models).
pub fn jetton_wallet(account: &Account) -> Option<Value> {
    let Kind::JettonWallet { master, owner } = &account.kind else {
        return None;
    };
    Some(json!({
        "address": raw(&account.address),
        "balance": account.jettons.to_string(),
        "owner": raw(owner),
        "jetton": raw(master),
        "last_transaction_lt": account.last_tx.as_ref().map_or(0, |(_, lt)| *lt).to_string(),
        "code_hash": JETTON_WALLET_CODE_HASH,
        "data_hash": zero_hash(),
    }))
}

/// A jetton transfer (`JettonTransfer` in toncenter's models), from the sender wallet's
/// transaction.
pub fn jetton_transfer(tx: &Tx, t: &JettonTransfer) -> Value {
    json!({
        "query_id": t.query_id.to_string(),
        "source": raw(&t.source),
        "destination": raw(&t.destination),
        "amount": t.amount.to_string(),
        "source_wallet": raw(&t.source_wallet),
        "jetton_master": raw(&t.master),
        "transaction_hash": hash_b64(&tx.hash),
        "transaction_lt": tx.lt.to_string(),
        "transaction_now": tx.now,
        "transaction_aborted": tx.aborted,
        "response_destination": t.response_destination.as_ref().map(raw),
        "custom_payload": t.custom_payload.as_ref().map(boc_b64),
        "decoded_custom_payload": null,
        "forward_ton_amount": t.forward_ton_amount.to_string(),
        "forward_payload": t.forward_payload.as_ref().map(boc_b64),
        "decoded_forward_payload": t.forward_payload.as_ref().and_then(|p| read_comment(p))
            .map(|c| json!({"@type": "text_comment", "comment": c, "type": "text_comment"})),
        "trace_id": hash_b64(&tx.trace_id),
    })
}
