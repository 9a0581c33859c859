//! Who sends: a user's dev wallet (what a confirmed `sendTransaction` broadcasts) and payers
//! outside the emulator (the control API's payments, including the malicious ones).

use num_bigint::BigUint;
use tonlib_core::cell::{ArcCell, CellBuilder};
use tonlib_core::tlb_types::block::coins::Grams;
use tonlib_core::tlb_types::block::message::{CommonMsgInfo, ExtInMsgInfo, Message};
use tonlib_core::tlb_types::block::msg_address::{MsgAddrNone, MsgAddressExt};
use tonlib_core::tlb_types::primitives::either::{EitherRef, EitherRefLayout};
use tonlib_core::tlb_types::tep::jetton::JettonTransferMessage;
use tonlib_core::tlb_types::tlb::TLB;
use tonlib_core::{TonAddress, TonHash};

use super::cells::{boc_b64, comment_cell};
use super::chain::{internal_message_cell, OutSpec, FWD_FEE, WALLET_GAS};
use super::ledger::{empty, Ledger, Msg, Status};
use super::{format_decimal, TON};
use crate::state::now_unix;

/// TON a payer attaches to a jetton transfer, besides the forward amount (the jetton wallets'
/// gas; the rest comes back as the excess).
pub const JETTON_TRANSFER_TON: u128 = 50_000_000;

/// What is paid with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Asset {
    Ton,
    Usdt,
    /// A jetton whose master copies USDT's name and symbol.
    FakeUsdt,
}

impl Asset {
    pub fn parse(s: &str) -> Result<Asset, String> {
        match s.to_ascii_lowercase().as_str() {
            "ton" => Ok(Asset::Ton),
            "usdt" => Ok(Asset::Usdt),
            "fake_usdt" => Ok(Asset::FakeUsdt),
            other => Err(format!(
                "asset must be ton, usdt or fake_usdt, not {other:?}"
            )),
        }
    }
}

/// A payment from outside: `from` (a wallet the emulator does not hold keys for) pays `to`.
#[derive(Clone, Debug)]
pub struct Payment {
    pub from: TonAddress,
    pub to: TonAddress,
    pub asset: Asset,
    /// Nanotons or jetton units.
    pub amount: u128,
    pub comment: Option<String>,
    /// For jettons: TON forwarded with the notification (none is sent when 0).
    pub forward_ton_amount: u128,
    /// For TON: a bounceable message.
    pub bounce: bool,
    /// For jettons: the comment inside the transfer's cell, not in a reference.
    pub inline_payload: bool,
}

impl Ledger {
    /// The user's wallet sends `outs` (each with mode 3), signed, as a wallet app broadcasts:
    /// returns the external message's bag of cells (base64) and the trace's transactions.
    pub fn send_from_wallet(
        &mut self,
        user_id: i64,
        outs: Vec<OutSpec>,
        valid_until: u32,
    ) -> Result<(String, Vec<TonHash>), String> {
        let wallet = self.user_wallet(user_id);
        let address = wallet.address().clone();
        let account = self.account_mut(&address).clone();
        let needed: u128 = outs.iter().map(|o| o.value + FWD_FEE).sum::<u128>() + WALLET_GAS;
        if needed > account.balance {
            return Err(format!(
                "insufficient balance: {} TON needed with fees, the wallet holds {} TON",
                format_decimal(needed, 9),
                format_decimal(account.balance, 9)
            ));
        }
        let cells: Vec<ArcCell> = outs
            .iter()
            .map(|o| internal_message_cell(None, o, 0, 0).to_arc())
            .collect();
        let ext = wallet.external_message(account.seqno, valid_until, &cells)?;
        let parsed = Message::from_cell(&ext).map_err(|e| e.to_string())?;
        let init = parsed
            .init
            .map(|i| i.value.to_cell().expect("serializable").to_arc());
        let msg = external_msg(&address, ext.cell_hash(), parsed.body.value, init);
        let boc = boc_b64(&ext.to_arc());
        Ok((boc, self.run_external(msg, outs)))
    }

    /// Someone outside pays: their wallet's transaction, then whatever the payment causes.
    /// They hold what they pay (the emulator tops them up first).
    pub fn pay_from_outside(&mut self, p: &Payment) -> Vec<TonHash> {
        let out = match p.asset {
            Asset::Ton => {
                let body = p.comment.as_deref().map_or_else(empty, comment_or_empty);
                OutSpec::new(p.to.clone(), p.amount, p.bounce, body)
            }
            Asset::Usdt | Asset::FakeUsdt => {
                let master = match p.asset {
                    Asset::Usdt => self.usdt_master(),
                    _ => self.fake_usdt_master(),
                };
                let own = self.jetton_wallet(&master, &p.from, Status::Active);
                let acc = self.account_mut(&own);
                acc.jettons = acc.jettons.max(p.amount);
                let payload = p.comment.as_deref().map(comment_or_empty);
                let body = jetton_transfer_body_in(
                    now_unix() as u64,
                    p.amount,
                    (&p.to, &p.from),
                    p.forward_ton_amount,
                    payload,
                    p.inline_payload,
                );
                OutSpec::new(own, JETTON_TRANSFER_TON + p.forward_ton_amount, true, body)
            }
        };
        let payer = self.account_mut(&p.from);
        payer.status = Status::Active;
        payer.balance = payer.balance.max(out.value + FWD_FEE + WALLET_GAS + TON);
        // Not signed: nobody outside checks a stranger's signature here.
        let mut body = CellBuilder::new();
        body.store_slice(&[0u8; 64]).expect("fits");
        let body = body.build().expect("fits").to_arc();
        let hash = external_cell(&p.from, &body).cell_hash();
        let msg = external_msg(&p.from, hash, body, None);
        self.run_external(msg, vec![out])
    }
}

/// An external message to `wallet` as the chain records it.
fn external_msg(wallet: &TonAddress, hash: TonHash, body: ArcCell, init: Option<ArcCell>) -> Msg {
    let norm = external_cell(wallet, &body).cell_hash();
    Msg {
        hash,
        source: None,
        destination: wallet.clone(),
        value: 0,
        fwd_fee: 0,
        bounce: false,
        bounced: false,
        body,
        init,
        created_lt: 0,
        created_at: now_unix(),
        hash_norm: Some(norm),
    }
}

/// The external message in normal form: no source, no import fee, no state init, the body
/// in a reference.
fn external_cell(wallet: &TonAddress, body: &ArcCell) -> tonlib_core::cell::Cell {
    let info = ExtInMsgInfo {
        src: MsgAddressExt::None(MsgAddrNone {}),
        dest: wallet.to_msg_address_int(),
        import_fee: Grams::new(0u32.into()),
    };
    let mut m = Message::new(CommonMsgInfo::ExtIn(info), body.clone());
    m.body.layout = EitherRefLayout::ToRef;
    m.to_cell().expect("serializable")
}

fn comment_or_empty(text: &str) -> ArcCell {
    comment_cell(text).unwrap_or_else(|_| empty())
}

/// A jetton `transfer` body, as a wallet app builds it for its user's own jetton wallet: no
/// custom payload, the forward payload (a comment) in a reference.
pub fn jetton_transfer_body(
    query_id: u64,
    amount: u128,
    destination: &TonAddress,
    response: &TonAddress,
    forward_ton_amount: u128,
    forward_payload: Option<ArcCell>,
) -> ArcCell {
    let to = (destination, response);
    jetton_transfer_body_in(
        query_id,
        amount,
        to,
        forward_ton_amount,
        forward_payload,
        false,
    )
}

/// The same, with the forward payload in the body's own cell when `inline` (both layouts of
/// `Either Cell ^Cell` occur; the notification keeps the one the transfer had).
pub fn jetton_transfer_body_in(
    query_id: u64,
    amount: u128,
    (destination, response): (&TonAddress, &TonAddress),
    forward_ton_amount: u128,
    forward_payload: Option<ArcCell>,
    inline: bool,
) -> ArcCell {
    let (value, layout) = match forward_payload {
        Some(p) if !inline => (p, EitherRefLayout::ToRef),
        Some(p) => (p, EitherRefLayout::ToCell),
        None => (empty(), EitherRefLayout::ToCell),
    };
    let message = |layout| JettonTransferMessage {
        query_id,
        amount: BigUint::from(amount),
        destination: destination.to_msg_address(),
        response_destination: response.to_msg_address(),
        custom_payload: None,
        forward_ton_amount: BigUint::from(forward_ton_amount),
        forward_payload: EitherRef {
            value: value.clone(),
            layout,
        },
    };
    // A payload too long for the body's cell goes in a reference after all.
    message(layout)
        .to_cell()
        .or_else(|_| message(EitherRefLayout::ToRef).to_cell())
        .expect("a reference always fits")
        .to_arc()
}
