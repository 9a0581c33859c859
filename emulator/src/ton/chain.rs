//! What a message does when it arrives: the receiving account's transaction, and the messages
//! that transaction sends, followed until the trace is done.
//!
//! Contracts are not run; each kind of account does what its contract does for the messages a
//! shop meets: a wallet accepts value, a jetton wallet handles `transfer` (from its owner only),
//! `internal_transfer` (from the master or a wallet of the same master) and its bounce, sends the
//! `transfer_notification` and the excess. A message to an undeployed account or hit by a
//! bounce rule fails, and when it was bounceable its value goes back as a bounced message.
//! Fees are flat amounts, paid by the account whose transaction it is.

use std::collections::VecDeque;

use tonlib_core::cell::{ArcCell, CellBuilder, EitherCellLayout};
use tonlib_core::message::{
    JettonTransferNotificationMessage, TonMessage, EXCESSES, JETTON_INTERNAL_TRANSFER,
    JETTON_TRANSFER,
};
use tonlib_core::tlb_types::block::coins::{CurrencyCollection, Grams};
use tonlib_core::tlb_types::block::message::{CommonMsgInfo, IntMsgInfo, Message};
use tonlib_core::tlb_types::block::state_init::StateInit;
use tonlib_core::tlb_types::primitives::either::{EitherRef, EitherRefLayout};
use tonlib_core::tlb_types::tep::jetton::{JettonInternalTransferMessage, JettonTransferMessage};
use tonlib_core::tlb_types::tlb::TLB;
use tonlib_core::{TonAddress, TonHash};

use super::cells::{bounce_body, to_u128};
use super::ledger::{
    jetton_wallet_state_init, tx_hash, Account, Compute, JettonTransfer, Kind, Ledger, Msg, Status,
    Tx,
};
use crate::state::{now_ms, now_unix};

/// Gas of a wallet's outgoing transaction.
pub const WALLET_GAS: u128 = 2_800_000;
/// Forwarding fee of one message, paid by its sender.
pub const FWD_FEE: u128 = 400_000;
/// Gas of a wallet receiving a message.
pub const RECEIVE_GAS: u128 = 120_000;
/// Gas of one jetton wallet transaction.
pub const JETTON_GAS: u128 = 8_000_000;
/// What a bounce costs the bounced value.
pub const BOUNCE_FEE: u128 = 1_000_000;

/// The exit codes of USDT's jetton wallet the emulator throws.
pub const EXIT_NOT_ENOUGH_JETTONS: i32 = 47;
pub const EXIT_NOT_ENOUGH_GAS: i32 = 48;
pub const EXIT_NOT_OWNER: i32 = 73;
pub const EXIT_NOT_VALID_WALLET: i32 = 74;
pub const EXIT_WRONG_OP: i32 = 0xffff;
pub const EXIT_CELL_UNDERFLOW: i32 = 9;

/// A message a contract sends, before it gets a logical time and a hash.
#[derive(Clone, Debug)]
pub struct OutSpec {
    pub destination: TonAddress,
    pub value: u128,
    pub bounce: bool,
    /// A bounced message (only the chain sends those).
    pub bounced: bool,
    pub body: ArcCell,
    pub init: Option<ArcCell>,
}

impl OutSpec {
    /// A message a wallet or contract sends (not a bounce).
    pub fn new(destination: TonAddress, value: u128, bounce: bool, body: ArcCell) -> OutSpec {
        OutSpec {
            destination,
            value,
            bounce,
            bounced: false,
            body,
            init: None,
        }
    }
}

/// What the receiving contract decided.
struct Effects {
    compute: Compute,
    outs: Vec<OutSpec>,
    gas: u128,
    /// Change of the account's jettons, applied when the compute phase succeeds.
    jettons: i128,
    jetton_transfer: Option<JettonTransfer>,
}

impl Effects {
    fn accept(gas: u128) -> Effects {
        Effects {
            compute: Compute::Success,
            outs: Vec::new(),
            gas,
            jettons: 0,
            jetton_transfer: None,
        }
    }

    fn fail(compute: Compute, gas: u128) -> Effects {
        Effects {
            compute,
            ..Effects::accept(gas)
        }
    }
}

/// What the transactions of one trace share.
struct Trace {
    id: Option<TonHash>,
    external: Option<TonHash>,
    mc_seqno: u32,
    final_at_ms: i64,
}

impl Ledger {
    fn start_trace(&mut self, external: Option<TonHash>) -> Trace {
        Trace {
            id: None,
            external,
            mc_seqno: self.next_block(),
            final_at_ms: now_ms() + self.config.finality.as_millis() as i64,
        }
    }

    /// A trace that starts with the external message `ext` to a wallet, which sends `outs`.
    pub fn run_external(&mut self, ext: Msg, outs: Vec<OutSpec>) -> Vec<TonHash> {
        let mut trace = self.start_trace(Some(ext.hash.clone()));
        let lt = self.next_lt();
        let address = ext.destination.clone();
        let account = self.account_mut(&address).clone();
        let deploying = deploys(&ext, &address);
        let sent: u128 = outs.iter().map(|o| o.value + FWD_FEE).sum();
        let out_msgs = self.make_msgs(&address, lt, outs);
        let acc = self.account_mut(&address);
        acc.balance = acc.balance.saturating_sub(sent + WALLET_GAS);
        acc.seqno += 1;
        if deploying {
            acc.status = Status::Active;
        }
        let queue = out_msgs.clone();
        let effects = Effects::accept(WALLET_GAS);
        let first = self.record(&mut trace, &account, lt, ext, out_msgs, effects, false);
        self.deliver_all(&mut trace, vec![first], queue)
    }

    /// A trace that starts with an internal message from `source` (someone outside).
    pub fn run_internal(&mut self, source: &TonAddress, spec: OutSpec) -> Vec<TonHash> {
        let mut trace = self.start_trace(None);
        let lt = self.next_lt();
        let msgs = self.make_msgs(source, lt, vec![spec]);
        self.deliver_all(&mut trace, Vec::new(), msgs)
    }

    /// Delivers `queue` and whatever the deliveries send, in order; returns every transaction.
    fn deliver_all(
        &mut self,
        trace: &mut Trace,
        mut hashes: Vec<TonHash>,
        queue: Vec<Msg>,
    ) -> Vec<TonHash> {
        let mut queue = VecDeque::from(queue);
        while let Some(msg) = queue.pop_front() {
            let h = self.receive(trace, msg);
            let tx = self.txs.last().expect("just recorded");
            queue.extend(tx.out_msgs.iter().cloned());
            hashes.push(h);
        }
        hashes
    }

    /// The transaction of an internal message's receiver.
    fn receive(&mut self, trace: &mut Trace, msg: Msg) -> TonHash {
        let lt = self.next_lt();
        let account = self.account_mut(&msg.destination).clone();
        let effects = self.decide(&account, &msg);
        let ok = effects.compute == Compute::Success;
        let deploying = deploys(&msg, &account.address);
        let bounce = !ok && msg.bounce && !msg.bounced;
        let outs = if bounce {
            vec![OutSpec {
                bounced: true,
                ..OutSpec::new(
                    msg.source.clone().expect("internal"),
                    msg.value.saturating_sub(BOUNCE_FEE),
                    false,
                    bounce_body(&msg.body),
                )
            }]
        } else if ok {
            effects.outs.clone()
        } else {
            Vec::new()
        };
        let sent: u128 = if bounce {
            msg.value
        } else {
            outs.iter().map(|o| o.value + FWD_FEE).sum()
        };
        let out_msgs = self.make_msgs(&account.address, lt, outs);
        let acc = self.account_mut(&msg.destination);
        acc.balance = (acc.balance + msg.value).saturating_sub(sent + effects.gas);
        if ok {
            acc.jettons = (acc.jettons as i128 + effects.jettons).max(0) as u128;
            if deploying {
                acc.status = Status::Active;
            }
        }
        self.record(trace, &account, lt, msg, out_msgs, effects, bounce)
    }

    /// What the contract at `account` does with `msg`.
    fn decide(&mut self, account: &Account, msg: &Msg) -> Effects {
        if !msg.bounced {
            if let Some(rule) = self.take_bounce_rule(&account.address) {
                return match rule.exit_code {
                    Some(code) => Effects::fail(Compute::Failed(code), RECEIVE_GAS),
                    None => Effects::fail(Compute::Skipped("no_state"), 0),
                };
            }
        }
        if account.status == Status::Uninit && !deploys(msg, &account.address) {
            return Effects::fail(Compute::Skipped("no_state"), 0);
        }
        match &account.kind {
            Kind::JettonWallet { master, owner } => {
                let (master, owner) = (master.clone(), owner.clone());
                self.jetton_wallet_receives(account, &master, &owner, msg)
            }
            _ => Effects::accept(RECEIVE_GAS),
        }
    }

    /// A jetton wallet's answer to `msg` (USDT's jetton wallet's rules and exit codes).
    fn jetton_wallet_receives(
        &mut self,
        account: &Account,
        master: &TonAddress,
        owner: &TonAddress,
        msg: &Msg,
    ) -> Effects {
        let mut p = msg.body.parser();
        let op = p.load_u32(32).ok();
        if msg.bounced {
            // Our internal_transfer came back: the jettons are ours again.
            let refund = (op == Some(0xffff_ffff))
                .then(|| JettonBounce::read(&mut p))
                .flatten();
            let mut e = Effects::accept(JETTON_GAS);
            e.jettons = refund.unwrap_or(0) as i128;
            return e;
        }
        match op {
            Some(JETTON_TRANSFER) => self.jetton_transfer(account, master, owner, msg),
            Some(JETTON_INTERNAL_TRANSFER) => self.jetton_internal(master, owner, msg),
            _ => Effects::fail(Compute::Failed(EXIT_WRONG_OP), JETTON_GAS),
        }
    }

    fn jetton_transfer(
        &mut self,
        account: &Account,
        master: &TonAddress,
        owner: &TonAddress,
        msg: &Msg,
    ) -> Effects {
        if msg.source.as_ref() != Some(owner) {
            return Effects::fail(Compute::Failed(EXIT_NOT_OWNER), JETTON_GAS);
        }
        let Ok(t) = JettonTransferMessage::from_cell(&msg.body) else {
            return Effects::fail(Compute::Failed(EXIT_CELL_UNDERFLOW), JETTON_GAS);
        };
        let amount = to_u128(&t.amount);
        let forward = to_u128(&t.forward_ton_amount);
        let Ok(destination) = TonAddress::from_msg_address(t.destination.clone()) else {
            return Effects::fail(Compute::Failed(EXIT_CELL_UNDERFLOW), JETTON_GAS);
        };
        if amount > account.jettons {
            return Effects::fail(Compute::Failed(EXIT_NOT_ENOUGH_JETTONS), JETTON_GAS);
        }
        let needed = forward + 2 * JETTON_GAS + 2 * FWD_FEE + if forward > 0 { FWD_FEE } else { 0 };
        if msg.value < needed {
            return Effects::fail(Compute::Failed(EXIT_NOT_ENOUGH_GAS), JETTON_GAS);
        }
        let response = TonAddress::from_msg_address(t.response_destination.clone())
            .ok()
            .filter(|a| a != &TonAddress::NULL);
        let target = self.jetton_wallet(master, &destination, Status::Uninit);
        let internal = JettonInternalTransferMessage {
            query_id: t.query_id,
            amount: t.amount.clone(),
            from_address: owner.to_msg_address(),
            response_address: t.response_destination.clone(),
            fwd_amount: t.forward_ton_amount.clone(),
            either_forward_payload: t.forward_payload.clone(),
        };
        let mut e = Effects::accept(JETTON_GAS);
        e.jettons = -(amount as i128);
        e.outs.push(OutSpec {
            init: Some(jetton_wallet_state_init(master, &destination)),
            ..OutSpec::new(
                target,
                msg.value.saturating_sub(JETTON_GAS + FWD_FEE),
                true,
                internal.to_cell().expect("serializable").to_arc(),
            )
        });
        let payload = &t.forward_payload.value;
        e.jetton_transfer = Some(JettonTransfer {
            query_id: t.query_id,
            amount,
            source: owner.clone(),
            destination,
            source_wallet: account.address.clone(),
            master: master.clone(),
            response_destination: response,
            forward_ton_amount: forward,
            forward_payload: (payload.bit_len() > 0 || !payload.references().is_empty())
                .then(|| payload.clone()),
            custom_payload: t.custom_payload.as_ref().map(|c| c.0.clone()),
        });
        e
    }

    fn jetton_internal(&mut self, master: &TonAddress, owner: &TonAddress, msg: &Msg) -> Effects {
        let Ok(t) = JettonInternalTransferMessage::from_cell(&msg.body) else {
            return Effects::fail(Compute::Failed(EXIT_CELL_UNDERFLOW), JETTON_GAS);
        };
        let from = TonAddress::from_msg_address(t.from_address.clone()).unwrap_or(TonAddress::NULL);
        let sender = msg.source.clone().unwrap_or(TonAddress::NULL);
        let from_wallet = super::ledger::jetton_wallet_address(master, &from);
        if &sender != master && sender != from_wallet {
            return Effects::fail(Compute::Failed(EXIT_NOT_VALID_WALLET), JETTON_GAS);
        }
        let forward = to_u128(&t.fwd_amount);
        let mut left = msg.value.saturating_sub(JETTON_GAS);
        let mut e = Effects::accept(JETTON_GAS);
        e.jettons = to_u128(&t.amount) as i128;
        if forward > 0 {
            let layout = match t.either_forward_payload.layout {
                EitherRefLayout::ToRef => EitherCellLayout::ToRef,
                _ => EitherCellLayout::ToCell,
            };
            let mut n = JettonTransferNotificationMessage::new(&from, &t.amount);
            n.query_id = t.query_id;
            n.with_forward_payload(t.either_forward_payload.value.clone());
            n.set_either_cell_layout(layout);
            let body = n.build().expect("serializable").to_arc();
            e.outs
                .push(OutSpec::new(owner.clone(), forward, false, body));
            left = left.saturating_sub(forward + FWD_FEE);
        }
        let response = TonAddress::from_msg_address(t.response_address.clone())
            .ok()
            .filter(|a| a != &TonAddress::NULL);
        if let (Some(to), true) = (response, left > FWD_FEE) {
            let mut body = CellBuilder::new();
            body.store_u32(32, EXCESSES).expect("fits");
            body.store_u64(64, t.query_id).expect("fits");
            let body = body.build().expect("fits").to_arc();
            e.outs.push(OutSpec::new(to, left - FWD_FEE, false, body));
        }
        e
    }

    /// Gives `outs` their logical times (after `lt`), the current time and their hashes.
    pub fn make_msgs(&mut self, source: &TonAddress, lt: u64, outs: Vec<OutSpec>) -> Vec<Msg> {
        let now = now_unix();
        outs.into_iter()
            .enumerate()
            .map(|(i, o)| {
                let created_lt = lt + 1 + i as u64;
                self.next_lt = self.next_lt.max(created_lt);
                let hash =
                    internal_message_cell(Some(source), &o, created_lt, now as u32).cell_hash();
                Msg {
                    hash,
                    source: Some(source.clone()),
                    destination: o.destination,
                    value: o.value,
                    fwd_fee: FWD_FEE,
                    bounce: o.bounce,
                    bounced: o.bounced,
                    body: o.body,
                    init: o.init,
                    created_lt,
                    created_at: now,
                    hash_norm: None,
                }
            })
            .collect()
    }

    #[allow(clippy::too_many_arguments)]
    fn record(
        &mut self,
        trace: &mut Trace,
        before: &Account,
        lt: u64,
        in_msg: Msg,
        out_msgs: Vec<Msg>,
        effects: Effects,
        bounce_sent: bool,
    ) -> TonHash {
        let hash = tx_hash(&before.address, lt, &in_msg.hash);
        let trace_id = trace.id.get_or_insert(hash.clone()).clone();
        let after = self.account_mut(&before.address);
        let prev = after.last_tx.replace((hash.clone(), lt));
        let (balance_after, end_status) = (after.balance, after.status);
        let fwd: u128 = out_msgs.iter().map(|m| m.fwd_fee).sum();
        let tx = Tx {
            hash: hash.clone(),
            lt,
            now: now_unix(),
            account: before.address.clone(),
            aborted: effects.compute != Compute::Success,
            compute: effects.compute,
            in_msg,
            out_msgs,
            bounce_sent,
            total_fees: effects.gas + fwd,
            orig_status: before.status,
            end_status,
            balance_before: before.balance,
            balance_after,
            prev,
            trace_id,
            trace_external_hash: trace.external.clone(),
            mc_seqno: trace.mc_seqno,
            final_at_ms: trace.final_at_ms,
            jetton_transfer: effects.jetton_transfer,
        };
        self.txs.push(tx);
        hash
    }
}

/// Whether `msg` brings the state init of the account at `address` (its hash is the address).
fn deploys(msg: &Msg, address: &TonAddress) -> bool {
    msg.init
        .as_ref()
        .is_some_and(|i| super::cells::hash(i) == address.hash_part)
}

/// The cell of an internal message (what its hash is taken over).
pub fn internal_message_cell(
    source: Option<&TonAddress>,
    o: &OutSpec,
    created_lt: u64,
    created_at: u32,
) -> tonlib_core::cell::Cell {
    let info = IntMsgInfo {
        ihr_disabled: true,
        bounce: o.bounce,
        bounced: o.bounced,
        src: source.map_or(
            tonlib_core::tlb_types::block::msg_address::MsgAddress::NONE,
            TonAddress::to_msg_address,
        ),
        dest: o.destination.to_msg_address(),
        value: CurrencyCollection::new(o.value.into()),
        ihr_fee: Grams::new(0u32.into()),
        fwd_fee: Grams::new(if source.is_some() { FWD_FEE } else { 0 }.into()),
        created_lt,
        created_at,
    };
    let mut m = Message::new(CommonMsgInfo::Int(info), o.body.clone());
    if let Some(init) = o.init.as_ref().and_then(|i| StateInit::from_cell(i).ok()) {
        m.with_state_init(init);
    }
    m.body = EitherRef {
        value: o.body.clone(),
        layout: EitherRefLayout::ToRef,
    };
    m.to_cell().expect("serializable")
}

/// What a bounced `internal_transfer` still tells: its amount.
struct JettonBounce;

impl JettonBounce {
    fn read(p: &mut tonlib_core::cell::CellParser) -> Option<u128> {
        (p.load_u32(32).ok()? == JETTON_INTERNAL_TRANSFER).then_some(())?;
        p.load_u64(64).ok()?;
        p.load_coins().ok().map(|a| to_u128(&a))
    }
}
