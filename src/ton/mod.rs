//! TON, pure: the cells, bags of cells and addresses that TON Connect and TON
//! payments exchange, the standard wallets' state, the `ton_proof` check, and
//! the message bodies we build (a comment, a jetton transfer) and read (a
//! comment, a jetton transfer notification).
//!
//! Written here rather than taken from `tonlib-core`, which does all of this
//! and much more: the rule and the measured sizes are in BENCHMARKS.md. So the
//! code stays plain, reads like the definitions it follows (the TON docs'
//! serialization of cells and bags of cells, TL-B for the messages), and
//! supports only what we use: ordinary and library cells at level 0, one root
//! per bag.

pub mod address;
pub mod boc;
pub mod cell;
pub mod payload;
pub mod proof;
pub mod wallet;

use std::fmt;

use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

pub use address::Address;
pub use cell::{Cell, CellBuilder, CellKind, Slice};
pub use proof::{ProofError, ProofRequest, ProofRules, VerifiedWallet};
pub use wallet::WalletVersion;

/// Why a cell, a bag of cells, an address or a field in one was refused (or,
/// for a builder, why what was asked does not fit a cell).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Error(pub &'static str);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for Error {}

/// Standard base64, as TON Connect and toncenter send bags of cells and
/// signatures: written with padding, read with or without.
pub(crate) const BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The TON network a wallet is on, as TON Connect names it (`CHAIN`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Network {
    Mainnet,
    Testnet,
}

impl Network {
    /// TON Connect's name: the network's global id as a string.
    pub fn parse(chain: &str) -> Option<Network> {
        match chain {
            "-239" => Some(Network::Mainnet),
            "-3" => Some(Network::Testnet),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Network::Mainnet => "-239",
            Network::Testnet => "-3",
        }
    }
}

#[cfg(test)]
pub(crate) mod tests;
