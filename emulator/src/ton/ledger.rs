//! The in-memory chain's records: accounts and their balances, jetton masters and wallets,
//! messages and transactions, and when each transaction becomes final.
//!
//! Addresses are real (a jetton wallet's is the hash of its state init, like a jetton master
//! computes it), and so are message hashes (the hash of the message's cell); a transaction's
//! hash is made up, as nothing here builds transaction cells.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use sha2::{Digest, Sha256};
use tonlib_core::cell::{ArcCell, Cell, CellBuilder};
use tonlib_core::tlb_types::block::state_init::StateInit;
use tonlib_core::tlb_types::tlb::TLB;
use tonlib_core::{TonAddress, TonHash};

use super::wallet::DevWallet;
use super::{TonConfig, USDT};
use crate::state::now_ms;

/// Code hash of the governed jetton wallet (USDT's), as toncenter's interface list has it.
/// Jetton wallets' state inits carry it as a library cell, as USDT's do.
pub const JETTON_WALLET_CODE_HASH: &str = "iUaPAseOVwgC45l5yFFvw43wfqdqSDV+BTbyuns+43s=";

/// What a jetton master says about its token (toncenter's `metadata`).
#[derive(Clone, Debug)]
pub struct JettonInfo {
    pub name: String,
    pub symbol: String,
    pub decimals: u32,
}

#[derive(Clone, Debug)]
pub enum Kind {
    /// A Telegram user's dev wallet.
    Wallet {
        user_id: i64,
        code_hash: TonHash,
    },
    /// Anyone else: a wallet the emulator only sees from outside; it accepts what arrives.
    Plain,
    JettonMaster(JettonInfo),
    JettonWallet {
        master: TonAddress,
        owner: TonAddress,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Uninit,
    Active,
}

impl Status {
    pub fn name(self) -> &'static str {
        match self {
            Status::Uninit => "uninit",
            Status::Active => "active",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Account {
    pub address: TonAddress,
    pub kind: Kind,
    pub status: Status,
    /// Nanotons.
    pub balance: u128,
    /// A jetton wallet's jettons, in the token's smallest units.
    pub jettons: u128,
    /// A user wallet's next seqno.
    pub seqno: u32,
    pub last_tx: Option<(TonHash, u64)>,
}

#[derive(Clone, Debug)]
pub struct Msg {
    pub hash: TonHash,
    /// `None` for an external message (what a wallet app broadcasts).
    pub source: Option<TonAddress>,
    pub destination: TonAddress,
    pub value: u128,
    pub fwd_fee: u128,
    pub bounce: bool,
    pub bounced: bool,
    pub body: ArcCell,
    pub init: Option<ArcCell>,
    pub created_lt: u64,
    pub created_at: i64,
    /// The hash of the external message in normal form (toncenter's `hash_norm`).
    pub hash_norm: Option<TonHash>,
}

/// The compute phase's outcome.
#[derive(Clone, Debug, PartialEq)]
pub enum Compute {
    Success,
    /// The contract threw this exit code.
    Failed(i32),
    /// Not run, for this reason (`no_state`).
    Skipped(&'static str),
}

/// A jetton wallet's `transfer`, kept for `/api/v3/jetton/transfers`.
#[derive(Clone, Debug)]
pub struct JettonTransfer {
    pub query_id: u64,
    pub amount: u128,
    /// Owners.
    pub source: TonAddress,
    pub destination: TonAddress,
    pub source_wallet: TonAddress,
    pub master: TonAddress,
    pub response_destination: Option<TonAddress>,
    pub forward_ton_amount: u128,
    pub forward_payload: Option<ArcCell>,
    pub custom_payload: Option<ArcCell>,
}

#[derive(Clone, Debug)]
pub struct Tx {
    pub hash: TonHash,
    pub lt: u64,
    pub now: i64,
    pub account: TonAddress,
    pub in_msg: Msg,
    pub out_msgs: Vec<Msg>,
    pub compute: Compute,
    pub aborted: bool,
    /// The bounce phase ran (a bounced message went back).
    pub bounce_sent: bool,
    pub total_fees: u128,
    pub orig_status: Status,
    pub end_status: Status,
    pub balance_before: u128,
    pub balance_after: u128,
    pub prev: Option<(TonHash, u64)>,
    pub trace_id: TonHash,
    pub trace_external_hash: Option<TonHash>,
    pub mc_seqno: u32,
    /// Wall-clock milliseconds from which the transaction is final (0: final).
    pub final_at_ms: i64,
    pub jetton_transfer: Option<JettonTransfer>,
}

/// `/control/ton/bounce_next`: the next internal message to `address` (any when `None`) fails.
#[derive(Clone, Debug)]
pub struct BounceRule {
    pub address: Option<TonAddress>,
    /// The exit code the contract throws; `None`: the account acts undeployed (`no_state`).
    pub exit_code: Option<i32>,
}

pub struct Ledger {
    pub config: TonConfig,
    pub accounts: HashMap<TonAddress, Account>,
    pub txs: Vec<Tx>,
    pub wallets: BTreeMap<i64, DevWallet>,
    pub bounce_rules: Vec<BounceRule>,
    /// The fake USD₮ master, made on first use.
    pub fake_master: Option<TonAddress>,
    pub(super) next_lt: u64,
    next_block: u32,
}

impl Ledger {
    pub fn new(config: &TonConfig) -> Ledger {
        let mut ledger = Ledger {
            config: config.clone(),
            accounts: HashMap::new(),
            txs: Vec::new(),
            wallets: BTreeMap::new(),
            bounce_rules: Vec::new(),
            fake_master: None,
            next_lt: 60_000_000_000_000,
            next_block: 50_000_000,
        };
        let usdt = config.usdt_master.clone();
        ledger.add_master(usdt, usdt_info());
        ledger
    }

    fn add_master(&mut self, address: TonAddress, info: JettonInfo) {
        self.accounts.insert(
            address.clone(),
            Account::new(address, Kind::JettonMaster(info), Status::Active),
        );
    }

    /// A jetton master with USDT's name and symbol at another address: what a scammer pays
    /// with. Its wallets are real jetton wallets of that master.
    pub fn fake_usdt_master(&mut self) -> TonAddress {
        if let Some(m) = &self.fake_master {
            return m.clone();
        }
        let hash: [u8; 32] = Sha256::digest(b"tma-emulator fake USDT master").into();
        let address = TonAddress::new(0, TonHash::from(hash));
        self.add_master(address.clone(), usdt_info());
        self.fake_master = Some(address.clone());
        address
    }

    pub fn usdt_master(&self) -> TonAddress {
        self.config.usdt_master.clone()
    }

    pub fn next_lt(&mut self) -> u64 {
        self.next_lt += 1;
        self.next_lt
    }

    pub fn next_block(&mut self) -> u32 {
        self.next_block += 1;
        self.next_block
    }

    /// The account at `address`; an address never seen is someone's deployed wallet.
    pub fn account_mut(&mut self, address: &TonAddress) -> &mut Account {
        self.accounts
            .entry(address.clone())
            .or_insert_with(|| Account::new(address.clone(), Kind::Plain, Status::Active))
    }

    /// The user's dev wallet, made on first use with the starting TON (undeployed, as a new
    /// wallet is) and USDT (in a deployed USDT jetton wallet).
    pub fn user_wallet(&mut self, user_id: i64) -> DevWallet {
        if let Some(w) = self.wallets.get(&user_id) {
            return w.clone();
        }
        let w = DevWallet::derive(&self.config, user_id);
        let address = w.address().clone();
        let kind = Kind::Wallet {
            user_id,
            code_hash: w.code_hash(),
        };
        let mut account = Account::new(address.clone(), kind, Status::Uninit);
        account.balance = self.config.start_nanotons;
        self.accounts.insert(address.clone(), account);
        if self.config.start_usdt > 0 {
            let master = self.usdt_master();
            let jw = self.jetton_wallet(&master, &address, Status::Active);
            self.account_mut(&jw).jettons = self.config.start_usdt;
        }
        self.wallets.insert(user_id, w.clone());
        w
    }

    /// The jetton wallet of `owner` for `master`, recorded (with `status` if new).
    pub fn jetton_wallet(
        &mut self,
        master: &TonAddress,
        owner: &TonAddress,
        status: Status,
    ) -> TonAddress {
        let address = jetton_wallet_address(master, owner);
        let account = self.accounts.entry(address.clone()).or_insert_with(|| {
            let kind = Kind::JettonWallet {
                master: master.clone(),
                owner: owner.clone(),
            };
            Account::new(address.clone(), kind, Status::Uninit)
        });
        if status == Status::Active {
            account.status = Status::Active;
        }
        address
    }

    /// The jettons `owner` holds of `master` (0 without a wallet).
    pub fn jetton_balance(&self, master: &TonAddress, owner: &TonAddress) -> u128 {
        self.accounts
            .get(&jetton_wallet_address(master, owner))
            .map_or(0, |a| a.jettons)
    }

    pub fn is_final(tx: &Tx, now_ms: i64) -> bool {
        tx.final_at_ms <= now_ms
    }

    /// Makes final at once every transaction (or those of one trace or with one hash).
    pub fn finalize(&mut self, hash: Option<&TonHash>) -> usize {
        let now = now_ms();
        let mut n = 0;
        for tx in &mut self.txs {
            let hit = hash.is_none_or(|h| &tx.hash == h || &tx.trace_id == h);
            if hit && tx.final_at_ms > now {
                tx.final_at_ms = 0;
                n += 1;
            }
        }
        n
    }

    pub fn tx(&self, hash: &TonHash) -> Option<&Tx> {
        self.txs.iter().find(|t| &t.hash == hash)
    }

    /// Takes the first bounce rule that applies to a message arriving at `address`.
    pub fn take_bounce_rule(&mut self, address: &TonAddress) -> Option<BounceRule> {
        let i = self
            .bounce_rules
            .iter()
            .position(|r| r.address.as_ref().is_none_or(|a| a == address))?;
        Some(self.bounce_rules.remove(i))
    }
}

impl Account {
    pub fn new(address: TonAddress, kind: Kind, status: Status) -> Account {
        Account {
            address,
            kind,
            status,
            balance: 0,
            jettons: 0,
            seqno: 0,
            last_tx: None,
        }
    }
}

fn usdt_info() -> JettonInfo {
    JettonInfo {
        name: "Tether USD".into(),
        symbol: "USD₮".into(),
        decimals: USDT.ilog10(),
    }
}

/// A jetton wallet's state init: the wallet code as a library cell, and the data
/// `status:uint4 balance:Coins owner:MsgAddress master:MsgAddress` with a zero balance.
pub fn jetton_wallet_state_init(master: &TonAddress, owner: &TonAddress) -> ArcCell {
    let code_hash = super::cells::parse_hash(JETTON_WALLET_CODE_HASH).expect("valid hash");
    let mut code = CellBuilder::new();
    code.set_cell_is_exotic(true);
    code.store_u8(8, 2).expect("fits");
    code.store_slice(code_hash.as_slice()).expect("fits");
    let code = code.build().expect("a library cell").to_arc();
    let mut data = CellBuilder::new();
    data.store_u8(4, 0).expect("fits");
    data.store_coins(&0u32.into()).expect("fits");
    data.store_address(owner).expect("fits");
    data.store_address(master).expect("fits");
    let data = data.build().expect("fits").to_arc();
    StateInit::new(code, data)
        .to_cell()
        .expect("serializable")
        .to_arc()
}

/// Where `master` puts `owner`'s jetton wallet: the hash of its state init, in workchain 0.
pub fn jetton_wallet_address(master: &TonAddress, owner: &TonAddress) -> TonAddress {
    TonAddress::new(
        0,
        super::cells::hash(&jetton_wallet_state_init(master, owner)),
    )
}

/// A made-up transaction hash, unique for the account and logical time.
pub fn tx_hash(account: &TonAddress, lt: u64, in_msg: &TonHash) -> TonHash {
    let mut h = Sha256::new();
    h.update(b"tma-emulator tx");
    h.update(account.hash_part.as_slice());
    h.update(lt.to_be_bytes());
    h.update(in_msg.as_slice());
    let out: [u8; 32] = h.finalize().into();
    TonHash::from(out)
}

/// An empty cell.
pub fn empty() -> ArcCell {
    Arc::new(Cell::default())
}
