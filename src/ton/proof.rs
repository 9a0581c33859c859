//! The `ton_proof` check: that the user controls the TON wallet they connected
//! (TON Connect's "Address proof signature"; ton-blockchain/docs
//! `how-to/ton-proof.mdx`).
//!
//! The wallet signs, with Ed25519, `SHA-256(0xFF 0xFF ‖ "ton-connect" ‖
//! SHA-256(message))` where
//!
//! ```text
//! message = "ton-proof-item-v2/" ‖ workchain:int32 BE ‖ address hash (32)
//!         ‖ domain length:uint32 LE ‖ domain ‖ timestamp:uint64 LE ‖ payload
//! ```
//!
//! The key is not taken on trust: it is read from the wallet's state init,
//! whose hash must be the address, and whose code must be a standard wallet's.
//! The signature does not cover the network, so that is checked separately.
//!
//! A [`VerifiedWallet`] can only be obtained from [`verify`]. The payload (our
//! nonce) is the caller's to check and consume before calling it.

use std::fmt;

use base64::Engine;
use sha2::{Digest, Sha256};

use super::wallet::StateInit;
use super::{boc, Address, Network, WalletVersion, BASE64};
use crate::telegram::ed25519::Ed25519Verifier;

/// TON Connect's limits (ton-blockchain/docs `how-to/ton-proof.mdx`).
pub const MAX_PAYLOAD_LEN: usize = 128;
pub const MAX_DOMAIN_LEN: usize = 128;
/// A standard wallet's state init is about 1 KB of base64; larger is refused unread.
pub const MAX_STATE_INIT_LEN: usize = 4096;
/// How far in the future a proof's timestamp may be (the phone's clock may run fast).
pub const MAX_FUTURE_SKEW: u64 = 300;

const PROOF_PREFIX: &[u8] = b"ton-proof-item-v2/";
const CONNECT_PREFIX: &[u8] = b"ton-connect";

/// A proof as TON Connect hands it to the app: `account` and `proof` fields.
#[derive(Debug, Clone, Copy)]
pub struct ProofRequest<'a> {
    /// `account.address`, raw: `"0:…"`.
    pub address: &'a str,
    /// `account.network`: `"-239"` (mainnet) or `"-3"` (testnet).
    pub network: &'a str,
    /// `account.publicKey`, hex.
    pub public_key: &'a str,
    /// `account.walletStateInit`, a base64 bag of cells.
    pub wallet_state_init: &'a str,
    pub timestamp: u64,
    pub domain: &'a str,
    pub domain_len: u32,
    /// base64, 64 bytes.
    pub signature: &'a str,
    pub payload: &'a str,
}

/// What the app accepts.
#[derive(Debug, Clone, Copy)]
pub struct ProofRules<'a> {
    /// The hosts wallets may sign (the manifest `url`'s host).
    pub domains: &'a [String],
    /// Unix time in seconds.
    pub now: u64,
    /// The oldest a proof may be, in seconds; 0 turns the time checks off.
    pub max_age: u64,
    pub network: Network,
}

/// Why a proof was refused. `code()` is the stable API error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProofError {
    Malformed(&'static str),
    DomainMismatch,
    Expired,
    AddressMismatch,
    UnsupportedWallet,
    PublicKeyMismatch,
    InvalidSignature,
    WrongNetwork,
}

impl ProofError {
    pub fn code(&self) -> &'static str {
        match self {
            ProofError::Malformed(_) => "malformed_ton_proof",
            ProofError::DomainMismatch => "domain_mismatch",
            ProofError::Expired => "ton_proof_expired",
            ProofError::AddressMismatch => "address_mismatch",
            ProofError::UnsupportedWallet => "unsupported_wallet",
            ProofError::PublicKeyMismatch => "public_key_mismatch",
            ProofError::InvalidSignature => "invalid_ton_proof",
            ProofError::WrongNetwork => "wrong_network",
        }
    }
}

impl fmt::Display for ProofError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProofError::Malformed(why) => write!(f, "ton_proof is malformed: {why}"),
            ProofError::DomainMismatch => f.write_str("ton_proof is for another domain"),
            ProofError::Expired => f.write_str("ton_proof is outside its time window"),
            ProofError::AddressMismatch => {
                f.write_str("the wallet's state init is not the address's")
            }
            ProofError::UnsupportedWallet => f.write_str("the wallet is not a standard wallet"),
            ProofError::PublicKeyMismatch => {
                f.write_str("the public key is not the one in the wallet's state")
            }
            ProofError::InvalidSignature => f.write_str("ton_proof signature is invalid"),
            ProofError::WrongNetwork => f.write_str("the wallet is on another network"),
        }
    }
}

/// A wallet whose owner signed our payload. Only [`verify`] makes one: the
/// private field keeps the rest of the crate from building one, which
/// `#[non_exhaustive]` would not.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(clippy::manual_non_exhaustive)]
pub struct VerifiedWallet {
    pub address: Address,
    pub network: Network,
    pub public_key: [u8; 32],
    pub version: WalletVersion,
    _verified: (),
}

/// Checks a proof, in the order ton-blockchain/docs recommends after the
/// payload: the shape of every field, the domain, the time window, the state
/// init against the address, the wallet's code, its public key, the signature,
/// the network.
pub async fn verify(
    req: &ProofRequest<'_>,
    rules: &ProofRules<'_>,
    verifier: &impl Ed25519Verifier,
) -> Result<VerifiedWallet, ProofError> {
    use ProofError::*;
    let address = Address::parse_raw(req.address)
        .map_err(|_| Malformed("the address is not workchain:hash"))?;
    let network = Network::parse(req.network).ok_or(Malformed("the network is not -239 or -3"))?;
    let mut public_key = [0u8; 32];
    hex::decode_to_slice(req.public_key, &mut public_key)
        .map_err(|_| Malformed("the public key is not 64 hex digits"))?;
    let signature: [u8; 64] = BASE64
        .decode(req.signature)
        .ok()
        .and_then(|s| s.try_into().ok())
        .ok_or(Malformed("the signature is not 64 bytes of base64"))?;
    if req.payload.len() > MAX_PAYLOAD_LEN {
        return Err(Malformed("the payload is longer than 128 bytes"));
    }
    if req.domain.len() > MAX_DOMAIN_LEN {
        return Err(Malformed("the domain is longer than 128 bytes"));
    }
    if req.wallet_state_init.len() > MAX_STATE_INIT_LEN {
        return Err(Malformed("the state init is longer than 4096 characters"));
    }

    if !rules.domains.iter().any(|d| d == req.domain) || req.domain_len as usize != req.domain.len()
    {
        return Err(DomainMismatch);
    }
    if rules.max_age > 0
        && (req.timestamp.saturating_add(rules.max_age) < rules.now
            || req.timestamp > rules.now.saturating_add(MAX_FUTURE_SKEW))
    {
        return Err(Expired);
    }

    let root = boc::parse_base64(req.wallet_state_init).map_err(|e| Malformed(e.0))?;
    if root.hash() != address.hash || !matches!(address.workchain, 0 | -1) {
        return Err(AddressMismatch);
    }
    let init = StateInit::from_cell(&root).ok_or(UnsupportedWallet)?;
    let version = WalletVersion::of_code(&init.code).ok_or(UnsupportedWallet)?;
    if version.public_key(&init.data).map_err(|e| Malformed(e.0))? != public_key {
        return Err(PublicKeyMismatch);
    }
    let digest = signed_digest(&address, req.domain, req.timestamp, req.payload);
    if !verifier
        .verify_ed25519(&public_key, &digest, &signature)
        .await
    {
        return Err(InvalidSignature);
    }
    if network != rules.network {
        return Err(WrongNetwork);
    }
    Ok(VerifiedWallet {
        address,
        network,
        public_key,
        version,
        _verified: (),
    })
}

/// What a wallet signs for a proof of `address` to `domain` (see the module doc).
pub fn signed_digest(address: &Address, domain: &str, timestamp: u64, payload: &str) -> [u8; 32] {
    let message = Sha256::new()
        .chain_update(PROOF_PREFIX)
        .chain_update(address.workchain.to_be_bytes())
        .chain_update(address.hash)
        .chain_update((domain.len() as u32).to_le_bytes())
        .chain_update(domain)
        .chain_update(timestamp.to_le_bytes())
        .chain_update(payload)
        .finalize();
    Sha256::new()
        .chain_update([0xFF, 0xFF])
        .chain_update(CONNECT_PREFIX)
        .chain_update(message)
        .finalize()
        .into()
}
