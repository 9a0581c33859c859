//! Against `tonlib-core` (ston-fi), the library this module stands in for:
//! the same random cell trees hash, nest and serialize to the same bytes,
//! each parses the other's bags, and addresses, wallets' state inits and
//! jetton messages come out the same.

use std::collections::HashMap;
use std::sync::Arc;

use num_bigint::BigUint;
use tonlib_core::cell::{BagOfCells, Cell as TlCell, CellBuilder as TlBuilder, EitherCellLayout};
use tonlib_core::message::{JettonTransferNotificationMessage, TonMessage};
use tonlib_core::tlb_types::primitives::either::{EitherRef, EitherRefLayout};
use tonlib_core::tlb_types::tep::jetton::JettonTransferMessage;
use tonlib_core::tlb_types::tlb::TLB;
use tonlib_core::wallet::mnemonic::KeyPair;
use tonlib_core::wallet::version_helper::VersionHelper;
use tonlib_core::wallet::wallet_version::WalletVersion as TlVersion;
use tonlib_core::{TonAddress, TonHash};

use super::*;
use crate::ton::address::{Address, Flags};
use crate::ton::cell::CellBuilder;
use crate::ton::payload::{self, Body, JettonTransfer};

/// xorshift64*: deterministic, so a failure repeats.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn bytes<const N: usize>(&mut self) -> [u8; N] {
        core::array::from_fn(|_| self.next() as u8)
    }
}

/// A random tree whose cells all differ (each starts with its own 16-bit id),
/// so that both libraries must order it breadth first.
fn random_tree(rng: &mut Rng, id: &mut u64, depth: u32) -> Cell {
    let mut b = CellBuilder::new();
    b.store_uint(16, *id).unwrap();
    *id += 1;
    let bits = rng.below(1023 - 16 + 1) as usize;
    for _ in 0..bits {
        b.store_bit(rng.below(2) == 1).unwrap();
    }
    let refs = if depth == 0 { 0 } else { rng.below(5) };
    for _ in 0..refs {
        b.store_ref(random_tree(rng, id, depth - 1)).unwrap();
    }
    b.build().unwrap()
}

/// A random graph that reuses cells (and has duplicate ones): only the
/// hashes and what each parses of the other's bag must agree.
fn random_dag(rng: &mut Rng) -> Cell {
    let mut pool: Vec<Arc<Cell>> = Vec::new();
    for _ in 0..40 {
        let mut b = CellBuilder::new();
        let bits = [0, 1, 7, 8, 9, 1023][rng.below(6) as usize];
        for _ in 0..bits {
            b.store_bit(rng.below(4) == 0).unwrap();
        }
        for _ in 0..rng.below(5).min(pool.len() as u64) {
            let pick = pool.len() - 1 - rng.below(pool.len().min(6) as u64) as usize;
            b.store_ref(pool[pick].clone()).unwrap();
        }
        pool.push(Arc::new(b.build().unwrap()));
    }
    (**pool.last().unwrap()).clone()
}

/// The same cell built by `tonlib-core` (each distinct cell once).
fn to_tonlib(c: &Cell) -> Arc<TlCell> {
    fn convert(c: &Cell, done: &mut HashMap<[u8; 32], Arc<TlCell>>) -> Arc<TlCell> {
        if let Some(t) = done.get(&c.hash()) {
            return t.clone();
        }
        let refs = c.refs().iter().map(|r| convert(r, done)).collect();
        let exotic = c.kind() == crate::ton::CellKind::Library;
        let t = Arc::new(TlCell::new(c.bits().to_vec(), c.bit_len(), refs, exotic).unwrap());
        done.insert(c.hash(), t.clone());
        t
    }
    convert(c, &mut HashMap::new())
}

fn tl_hash(c: &TlCell) -> [u8; 32] {
    c.cell_hash().as_slice().try_into().unwrap()
}

#[test]
fn random_trees_agree_with_tonlib_byte_for_byte() {
    let mut rng = Rng(0x5eed_1234_abcd_ef01);
    for round in 0..200 {
        let mut id = 0;
        let ours = random_tree(&mut rng, &mut id, (round % 4) as u32);
        let theirs = to_tonlib(&ours);
        assert_eq!(ours.hash(), tl_hash(&theirs), "round {round}");
        assert_eq!(ours.depth(), theirs.cell_depth(), "round {round}");

        let our_boc = bag::serialize(&ours);
        let their_boc = BagOfCells::from_root((*theirs).clone())
            .serialize(true)
            .unwrap();
        assert_eq!(our_boc, their_boc, "round {round}");

        let parsed = BagOfCells::parse(&our_boc).unwrap().single_root().unwrap();
        assert_eq!(tl_hash(&parsed), ours.hash());
        assert_eq!(bag::parse(&their_boc).unwrap(), ours);
    }
}

#[test]
fn random_graphs_with_shared_cells_agree_with_tonlib() {
    let mut rng = Rng(0x0dd_ba11);
    for round in 0..200 {
        let ours = random_dag(&mut rng);
        let theirs = to_tonlib(&ours);
        assert_eq!(ours.hash(), tl_hash(&theirs), "round {round}");
        assert_eq!(ours.depth(), theirs.cell_depth(), "round {round}");
        let parsed = BagOfCells::parse(&bag::serialize(&ours))
            .unwrap()
            .single_root()
            .unwrap();
        assert_eq!(tl_hash(&parsed), ours.hash());
        let their_boc = BagOfCells::from_root((*theirs).clone())
            .serialize(true)
            .unwrap();
        assert_eq!(bag::parse(&their_boc).unwrap().hash(), ours.hash());
    }
}

#[test]
fn library_cells_hash_as_in_tonlib() {
    let mut rng = Rng(7);
    for _ in 0..20 {
        let target: [u8; 32] = rng.bytes();
        let ours = Cell::library(&target);
        assert_eq!(ours.hash(), tl_hash(&to_tonlib(&ours)));
        assert!(to_tonlib(&ours).is_library());
    }
}

#[test]
fn addresses_format_and_parse_as_in_tonlib() {
    let mut rng = Rng(42);
    for _ in 0..200 {
        let ours = Address {
            workchain: [0, -1][rng.below(2) as usize],
            hash: rng.bytes(),
        };
        let theirs = TonAddress::new(ours.workchain, TonHash::from(ours.hash));
        assert_eq!(ours.to_raw(), theirs.to_hex());
        for (bounceable, testnet) in [(true, false), (false, false), (true, true), (false, true)] {
            let flags = Flags {
                bounceable,
                testnet,
            };
            let url = ours.to_friendly(flags, true);
            assert_eq!(url, theirs.to_base64_url_flags(!bounceable, testnet));
            let std = ours.to_friendly(flags, false);
            assert_eq!(std, theirs.to_base64_std_flags(!bounceable, testnet));
            assert_eq!(Address::parse_friendly(&url).unwrap(), (ours, flags));
            assert_eq!(Address::parse_friendly(&std).unwrap(), (ours, flags));
        }
    }
}

#[test]
fn wallet_state_inits_match_tonlibs() {
    let mut rng = Rng(99);
    let versions = [
        (WalletVersion::V3R1, TlVersion::V3R1, WALLET_ID),
        (WalletVersion::V3R2, TlVersion::V3R2, WALLET_ID),
        (WalletVersion::V4R2, TlVersion::V4R2, WALLET_ID),
        (WalletVersion::V5R1, TlVersion::V5R1, V5_WALLET_ID),
    ];
    for (ours, theirs, wallet_id) in versions {
        let key: [u8; 32] = rng.bytes();
        let pair = KeyPair {
            public_key: key.to_vec(),
            secret_key: vec![0; 64],
        };
        let code = VersionHelper::get_code(theirs).unwrap();
        let data = VersionHelper::get_data(theirs, &pair, wallet_id as i32).unwrap();
        assert_eq!(tl_hash(code), ours.code_hash(), "{ours:?}");
        assert_eq!(tl_hash(&data), wallet_data(ours, &key).hash(), "{ours:?}");
        assert_eq!(
            ours.public_key(
                &bag::parse(&BagOfCells::from_root(data).serialize(true).unwrap()).unwrap()
            )
            .unwrap(),
            key
        );
    }
}

#[test]
fn comments_and_jetton_transfers_match_tonlibs() {
    let mut rng = Rng(2024);
    for text in ["", "order 42", &"z".repeat(123), "💎 商店"] {
        let mut b = TlBuilder::new();
        b.store_u32(32, 0).unwrap().store_string(text).unwrap();
        assert_eq!(
            tl_hash(&b.build().unwrap()),
            payload::comment_cell(text).unwrap().hash(),
            "{text}"
        );
    }
    for _ in 0..50 {
        let destination = Address {
            workchain: 0,
            hash: rng.bytes(),
        };
        let response = Address {
            workchain: 0,
            hash: rng.bytes(),
        };
        let text = format!("order-{}", rng.next());
        let t = JettonTransfer {
            query_id: rng.next(),
            amount: rng.next() >> rng.below(64),
            destination: &destination,
            response_destination: &response,
            forward_ton_amount: rng.below(1 << 40),
            comment: &text,
        };
        let tonlib = JettonTransferMessage {
            query_id: t.query_id,
            amount: BigUint::from(t.amount),
            destination: TonAddress::new(0, TonHash::from(destination.hash)).to_msg_address(),
            response_destination: TonAddress::new(0, TonHash::from(response.hash)).to_msg_address(),
            custom_payload: None,
            forward_ton_amount: BigUint::from(t.forward_ton_amount),
            forward_payload: EitherRef {
                value: to_tonlib(&payload::comment_cell(&text).unwrap()),
                layout: EitherRefLayout::ToRef,
            },
        };
        assert_eq!(
            payload::jetton_transfer(&t).unwrap(),
            tonlib.to_boc_b64(true).unwrap()
        );
    }
}

#[test]
fn tonlibs_transfer_notifications_read_back() {
    let mut rng = Rng(31337);
    let mut counted = [0; 3];
    for i in 0..60 {
        let sender = TonAddress::new(0, TonHash::from(rng.bytes::<32>()));
        let amount = (rng.next() as u128 * rng.next() as u128) >> rng.below(100);
        let text = "é".repeat(i);
        let layout = [
            EitherCellLayout::Native,
            EitherCellLayout::ToRef,
            EitherCellLayout::ToCell,
        ][i % 3];
        let mut n = JettonTransferNotificationMessage::new(&sender, &BigUint::from(amount));
        n.query_id = rng.next();
        n.with_forward_payload(to_tonlib(&payload::comment_cell(&text).unwrap()));
        n.set_either_cell_layout(layout);
        let Ok(cell) = n.build() else {
            continue; // too long to go inline
        };
        let boc = BagOfCells::from_root(cell).serialize(true).unwrap();
        let Body::TransferNotification(read) =
            payload::read_body(&bag::parse(&boc).unwrap()).unwrap()
        else {
            panic!("not a notification");
        };
        assert_eq!(read.query_id, n.query_id);
        assert_eq!(read.amount, amount);
        assert_eq!(read.sender.unwrap().hash, *sender.hash_part.as_slice());
        assert_eq!(read.comment.as_deref(), Some(text.as_str()));
        counted[i % 3] += 1;
    }
    assert!(counted.iter().all(|&n| n > 5), "{counted:?}");
}
