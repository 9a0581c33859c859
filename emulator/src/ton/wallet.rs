//! Each Telegram user's dev wallet: an Ed25519 key derived from the configured seed and the
//! user's id, the real wallet contract (v4R2 or v5R1 code and data, through `tonlib-core`), its
//! real address (the state init's hash), `ton_proof` signatures and the signed external
//! message a wallet broadcasts.
//!
//! The keys are for development only: anyone with the seed (the default one is public) can sign
//! for these wallets.

use ed25519_dalek::{Signer, SigningKey};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use tonlib_core::cell::{ArcCell, Cell};
use tonlib_core::tlb_types::block::state_init::StateInit;
use tonlib_core::tlb_types::tlb::TLB;
use tonlib_core::wallet::mnemonic::KeyPair;
use tonlib_core::wallet::ton_wallet::TonWallet;
use tonlib_core::wallet::version_helper::VersionHelper;
use tonlib_core::wallet::versioned::{
    DEFAULT_WALLET_ID, DEFAULT_WALLET_ID_V5R1, DEFAULT_WALLET_ID_V5R1_TESTNET,
};
use tonlib_core::wallet::wallet_version::WalletVersion;
use tonlib_core::{TonAddress, TonHash};

use super::{Network, TonConfig, WalletKind};

/// The prefix of the message a `ton_proof` signs (TON Connect).
const PROOF_PREFIX: &[u8] = b"ton-proof-item-v2/";
/// What precedes the message's hash in the signed digest.
const PROOF_DIGEST_PREFIX: &[u8] = b"\xff\xffton-connect";

#[derive(Clone)]
pub struct DevWallet {
    pub user_id: i64,
    pub kind: WalletKind,
    pub network: Network,
    key: SigningKey,
    inner: TonWallet,
}

impl DevWallet {
    /// The wallet of `user_id`: key = HMAC-SHA256(seed, "ton-wallet:<user_id>").
    pub fn derive(config: &TonConfig, user_id: i64) -> DevWallet {
        let mut mac = Hmac::<Sha256>::new_from_slice(&config.wallet_seed).expect("any length");
        mac.update(format!("ton-wallet:{user_id}").as_bytes());
        let key = SigningKey::from_bytes(&mac.finalize().into_bytes().into());
        let public = key.verifying_key().to_bytes();
        // NaCl's secret key is the seed followed by the public key.
        let key_pair = KeyPair {
            public_key: public.to_vec(),
            secret_key: [key.to_bytes(), public].concat(),
        };
        let (version, wallet_id) = match (config.wallet, config.network) {
            (WalletKind::V4R2, _) => (WalletVersion::V4R2, DEFAULT_WALLET_ID),
            (WalletKind::V5R1, Network::Mainnet) => (WalletVersion::V5R1, DEFAULT_WALLET_ID_V5R1),
            (WalletKind::V5R1, Network::Testnet) => {
                (WalletVersion::V5R1, DEFAULT_WALLET_ID_V5R1_TESTNET)
            }
        };
        let inner = TonWallet::new_with_params(version, key_pair, 0, wallet_id)
            .expect("the wallet codes ship with tonlib-core");
        DevWallet {
            user_id,
            kind: config.wallet,
            network: config.network,
            key,
            inner,
        }
    }

    pub fn address(&self) -> &TonAddress {
        &self.inner.address
    }

    pub fn public_key(&self) -> [u8; 32] {
        self.key.verifying_key().to_bytes()
    }

    pub fn wallet_id(&self) -> i32 {
        self.inner.wallet_id
    }

    /// The contract's code cell.
    pub fn code(&self) -> ArcCell {
        VersionHelper::get_code(self.inner.version)
            .expect("known version")
            .clone()
    }

    /// The initial data cell (seqno 0, the wallet id, the public key).
    pub fn data(&self) -> ArcCell {
        VersionHelper::get_data(self.inner.version, &self.inner.key_pair, self.wallet_id())
            .expect("known version")
            .to_arc()
    }

    /// `StateInit{code, data}` as a cell; its hash is the address.
    pub fn state_init(&self) -> ArcCell {
        StateInit::new(self.code(), self.data())
            .to_cell()
            .expect("serializable")
            .to_arc()
    }

    pub fn code_hash(&self) -> TonHash {
        super::cells::hash(&self.code())
    }

    /// Signs a `ton_proof` for an app at `domain`.
    pub fn sign_proof(&self, domain: &str, timestamp: u64, payload: &str) -> [u8; 64] {
        let msg = proof_message(self.address(), domain, timestamp, payload);
        self.key.sign(&proof_digest(&msg)).to_bytes()
    }

    /// The external message a wallet broadcasts for `internal_messages` (each sent with mode 3),
    /// signed with this wallet's key; with the state init when `seqno` is 0 (not deployed yet).
    pub fn external_message(
        &self,
        seqno: u32,
        valid_until: u32,
        internal_messages: &[ArcCell],
    ) -> Result<Cell, String> {
        self.inner
            .create_external_msg(valid_until, seqno, seqno == 0, internal_messages)
            .map_err(|e| e.to_string())
    }
}

/// `"ton-proof-item-v2/" ‖ workchain (i32 BE) ‖ address hash ‖ domain length (u32 LE) ‖ domain
/// ‖ timestamp (u64 LE) ‖ payload`.
pub fn proof_message(address: &TonAddress, domain: &str, timestamp: u64, payload: &str) -> Vec<u8> {
    let mut m = PROOF_PREFIX.to_vec();
    m.extend_from_slice(&address.workchain.to_be_bytes());
    m.extend_from_slice(address.hash_part.as_slice());
    m.extend_from_slice(&(domain.len() as u32).to_le_bytes());
    m.extend_from_slice(domain.as_bytes());
    m.extend_from_slice(&timestamp.to_le_bytes());
    m.extend_from_slice(payload.as_bytes());
    m
}

/// `SHA-256(0xFFFF ‖ "ton-connect" ‖ SHA-256(message))`: what the Ed25519 signature covers.
pub fn proof_digest(message: &[u8]) -> [u8; 32] {
    let inner = Sha256::digest(message);
    let mut outer = Sha256::new();
    outer.update(PROOF_DIGEST_PREFIX);
    outer.update(inner);
    outer.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::{Signature, Verifier, VerifyingKey};

    /// The published code hashes of the wallet contracts (TON docs' wallet history).
    const V4R2_CODE_HASH: &str = "feb5ff6820e2ff0d9483e7e0d62c817d846789fb4ae580c878866d959dabd5c0";
    const V5R1_CODE_HASH: &str = "20834b7b72b112147e1b2fb457b84e74d1a30f04f737d4f62a668e9552d2b72f";

    fn config(kind: WalletKind) -> TonConfig {
        TonConfig {
            wallet: kind,
            ..TonConfig::default()
        }
    }

    #[test]
    fn the_address_is_the_hash_of_a_real_wallet_state_init() {
        for (kind, code_hash, key_bit) in [
            (WalletKind::V4R2, V4R2_CODE_HASH, 64),
            (WalletKind::V5R1, V5R1_CODE_HASH, 65),
        ] {
            let w = DevWallet::derive(&config(kind), 10001);
            assert_eq!(hex::encode(w.code_hash().as_slice()), code_hash);
            let init = w.state_init();
            assert_eq!(super::super::cells::hash(&init), w.address().hash_part);
            // The public key sits in the data cell where verifiers read it.
            let data = init.reference(1).unwrap();
            let mut p = data.parser();
            p.skip_bits(key_bit).unwrap();
            assert_eq!(p.load_bytes(32).unwrap(), w.public_key().to_vec());
        }
    }

    #[test]
    fn keys_depend_on_the_seed_and_the_user() {
        let a = DevWallet::derive(&config(WalletKind::V4R2), 1);
        let b = DevWallet::derive(&config(WalletKind::V4R2), 2);
        let other_seed = TonConfig {
            wallet_seed: [9; 32],
            ..config(WalletKind::V4R2)
        };
        assert_ne!(a.public_key(), b.public_key());
        assert_ne!(
            a.public_key(),
            DevWallet::derive(&other_seed, 1).public_key()
        );
        assert_eq!(
            a.address(),
            DevWallet::derive(&config(WalletKind::V4R2), 1).address()
        );
    }

    #[test]
    fn a_proof_verifies_over_the_digest_and_binds_the_domain() {
        let w = DevWallet::derive(&config(WalletKind::V4R2), 10001);
        let sig = w.sign_proof("shop.example", 1_700_000_000, "nonce-1");
        let key = VerifyingKey::from_bytes(&w.public_key()).unwrap();
        let digest = |domain: &str| {
            proof_digest(&proof_message(
                w.address(),
                domain,
                1_700_000_000,
                "nonce-1",
            ))
        };
        let sig = Signature::from_bytes(&sig);
        assert!(key.verify(&digest("shop.example"), &sig).is_ok());
        assert!(key.verify(&digest("evil.example"), &sig).is_err());
        let msg = proof_message(w.address(), "ab", 1, "p");
        assert_eq!(&msg[..18], b"ton-proof-item-v2/");
        assert_eq!(&msg[18..22], &[0, 0, 0, 0]);
        assert_eq!(&msg[54..58], &[2, 0, 0, 0]);
        assert_eq!(&msg[60..68], &[1, 0, 0, 0, 0, 0, 0, 0]);
    }
}
