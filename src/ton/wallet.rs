//! The standard wallets a `ton_proof` may come from, known by their code
//! (TON docs, `contracts/standard/wallets/history.mdx` and `v5.mdx`).
//!
//! A wallet's address is the hash of its state init, `StateInit` in TL-B
//! (`block.tlb`): for a wallet only code and data are present, so the root is
//! the 5 bits `0 0 1 1 0` (no split depth, no special, code, data, no
//! libraries) with the references `[code, data]`. The data starts with the
//! wallet's counters; the public key follows at a fixed bit per version.

use std::sync::Arc;

use super::{Cell, Error};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WalletVersion {
    V3R1,
    V3R2,
    V4R2,
    V5R1,
}

impl WalletVersion {
    pub const ALL: [WalletVersion; 4] = [
        WalletVersion::V3R1,
        WalletVersion::V3R2,
        WalletVersion::V4R2,
        WalletVersion::V5R1,
    ];

    /// The representation hash of the version's code.
    pub fn code_hash(self) -> [u8; 32] {
        let hex = match self {
            WalletVersion::V3R1 => {
                "b61041a58a7980b946e8fb9e198e3c904d24799ffa36574ea4251c41a566f581"
            }
            WalletVersion::V3R2 => {
                "84dafa449f98a6987789ba232358072bc0f76dc4524002a5d0918b9a75d2d599"
            }
            WalletVersion::V4R2 => {
                "feb5ff6820e2ff0d9483e7e0d62c817d846789fb4ae580c878866d959dabd5c0"
            }
            WalletVersion::V5R1 => {
                "20834b7b72b112147e1b2fb457b84e74d1a30f04f737d4f62a668e9552d2b72f"
            }
        };
        let mut hash = [0u8; 32];
        hex::decode_to_slice(hex, &mut hash).expect("64 hex digits");
        hash
    }

    /// Where the public key starts in the data cell: after `seqno:uint32
    /// wallet_id:uint32` (v3, v4), after `is_signature_allowed:bool seqno:uint32
    /// wallet_id:int32` (v5).
    pub fn public_key_offset(self) -> usize {
        match self {
            WalletVersion::V3R1 | WalletVersion::V3R2 | WalletVersion::V4R2 => 64,
            WalletVersion::V5R1 => 65,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            WalletVersion::V3R1 => "v3R1",
            WalletVersion::V3R2 => "v3R2",
            WalletVersion::V4R2 => "v4R2",
            WalletVersion::V5R1 => "v5R1",
        }
    }

    /// The version whose code this is: the cell's own hash, or for a library
    /// cell the hash of the code it stands for.
    pub fn of_code(code: &Cell) -> Option<WalletVersion> {
        let hash = code.library_hash().unwrap_or_else(|| code.hash());
        WalletVersion::ALL
            .into_iter()
            .find(|v| v.code_hash() == hash)
    }

    /// The public key in a data cell of this version.
    pub fn public_key(self, data: &Cell) -> Result<[u8; 32], Error> {
        let mut s = data.parse();
        let offset = self.public_key_offset();
        if s.remaining_bits() < offset + 256 {
            return Err(Error("the wallet data is too short for its version"));
        }
        for _ in 0..offset {
            s.load_bit()?;
        }
        Ok(s.load_bytes(32)?.try_into().expect("32 bytes"))
    }
}

/// A state init with code and data only: a wallet's.
#[derive(Debug, Clone)]
pub struct StateInit {
    pub code: Arc<Cell>,
    pub data: Arc<Cell>,
}

impl StateInit {
    /// `None` unless `root` is exactly code and data (see the module doc).
    pub fn from_cell(root: &Cell) -> Option<StateInit> {
        let mut s = root.parse();
        if root.bit_len() != 5 || root.refs().len() != 2 || s.load_uint(5).ok()? != 0b00110 {
            return None;
        }
        Some(StateInit {
            code: s.load_ref().ok()?.clone(),
            data: s.load_ref().ok()?.clone(),
        })
    }

    /// The root cell; its hash is the wallet's address hash. Fails only when
    /// the code or data already nests 1024 deep.
    pub fn to_cell(&self) -> Result<Cell, Error> {
        let mut b = super::CellBuilder::new();
        b.store_uint(5, 0b00110)?
            .store_ref(self.code.clone())?
            .store_ref(self.data.clone())?;
        b.build()
    }
}
