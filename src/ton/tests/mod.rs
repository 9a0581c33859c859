//! TON: public vectors from other implementations' test suites (data only,
//! each with its source), proofs made here for every wallet version and every
//! way to fail, hostile bags of cells, and `tonlib-core` as a differential
//! reference.

mod address;
mod boc;
mod cell;
mod differential;
mod payload;
mod proof;
mod wallet;

use base64::Engine;

use super::{boc as bag, Cell, WalletVersion};

/// Wallet code, as data. v3R1 and v3R2: the last two wallet codes in
/// ton-core/ton-core `src/boc/cell/serialization.spec.ts` (e0ed8197), hex.
/// v4R2 and v5R1: ston-fi/tonlib-rs `core/resources/wallet/wallet_v4r2.code`
/// and `wallet_v5.code` (2f75dd94), base64. Their hashes are checked against
/// the docs' table in `wallet.rs`'s tests.
pub const V3R1_CODE_HEX: &str = "B5EE9C724101010100620000C0FF0020DD2082014C97BA9730ED44D0D70B1FE0A4F2608308D71820D31FD31FD31FF82313BBF263ED44D0D31FD31FD3FFD15132BAF2A15144BAF2A204F901541055F910F2A3F8009320D74A96D307D402FB00E8D101A4C8CB1FCB1FCBFFC9ED543FBE6EE0";
pub const V3R2_CODE_HEX: &str = "B5EE9C724101010100710000DEFF0020DD2082014C97BA218201339CBAB19F71B0ED44D0D31FD31F31D70BFFE304E0A4F2608308D71820D31FD31FD31FF82313BBF263ED44D0D31FD31FD3FFD15132BAF2A15144BAF2A204F901541055F910F2A3F8009320D74A96D307D402FB00E8D101A4C8CB1FCB1FCBFFC9ED5410BD6DAD";
pub const V4R2_CODE: &str = "te6cckECFAEAAtQAART/APSkE/S88sgLAQIBIAIDAgFIBAUE+PKDCNcYINMf0x/THwL4I7vyZO1E0NMf0x/T//QE0VFDuvKhUVG68qIF+QFUEGT5EPKj+AAkpMjLH1JAyx9SMMv/UhD0AMntVPgPAdMHIcAAn2xRkyDXSpbTB9QC+wDoMOAhwAHjACHAAuMAAcADkTDjDQOkyMsfEssfy/8QERITAubQAdDTAyFxsJJfBOAi10nBIJJfBOAC0x8hghBwbHVnvSKCEGRzdHK9sJJfBeAD+kAwIPpEAcjKB8v/ydDtRNCBAUDXIfQEMFyBAQj0Cm+hMbOSXwfgBdM/yCWCEHBsdWe6kjgw4w0DghBkc3RyupJfBuMNBgcCASAICQB4AfoA9AQw+CdvIjBQCqEhvvLgUIIQcGx1Z4MesXCAGFAEywUmzxZY+gIZ9ADLaRfLH1Jgyz8gyYBA+wAGAIpQBIEBCPRZMO1E0IEBQNcgyAHPFvQAye1UAXKwjiOCEGRzdHKDHrFwgBhQBcsFUAPPFiP6AhPLassfyz/JgED7AJJfA+ICASAKCwBZvSQrb2omhAgKBrkPoCGEcNQICEekk30pkQzmkD6f+YN4EoAbeBAUiYcVnzGEAgFYDA0AEbjJftRNDXCx+AA9sp37UTQgQFA1yH0BDACyMoHy//J0AGBAQj0Cm+hMYAIBIA4PABmtznaiaEAga5Drhf/AABmvHfaiaEAQa5DrhY/AAG7SB/oA1NQi+QAFyMoHFcv/ydB3dIAYyMsFywIizxZQBfoCFMtrEszMyXP7AMhAFIEBCPRR8qcCAHCBAQjXGPoA0z/IVCBHgQEI9FHyp4IQbm90ZXB0gBjIywXLAlAGzxZQBPoCFMtqEssfyz/Jc/sAAgBsgQEI1xj6ANM/MFIkgQEI9Fnyp4IQZHN0cnB0gBjIywXLAlAFzxZQA/oCE8tqyx8Syz/Jc/sAAAr0AMntVGliJeU=";
pub const V5R1_CODE: &str = "te6ccgECFAEAAoEAART/APSkE/S88sgLAQIBIAIDAgFIBAUBAvIOAtzQINdJwSCRW49jINcLHyCCEGV4dG69IYIQc2ludL2wkl8D4IIQZXh0brqOtIAg1yEB0HTXIfpAMPpE+Cj6RDBYvZFb4O1E0IEBQdch9AWDB/QOb6ExkTDhgEDXIXB/2zzgMSDXSYECgLmRMOBw4hAPAgEgBgcCASAICQAZvl8PaiaECAoOuQ+gLAIBbgoLAgFIDA0AGa3OdqJoQCDrkOuF/8AAGa8d9qJoQBDrkOuFj8AAF7Ml+1E0HHXIdcLH4AARsmL7UTQ1woAgAR4g1wsfghBzaWduuvLgin8PAeaO8O2i7fshgwjXIgKDCNcjIIAg1yHTH9Mf0x/tRNDSANMfINMf0//XCgAK+QFAzPkQmiiUXwrbMeHywIffArNQB7Dy0IRRJbry4IVQNrry4Ib4I7vy0IgikvgA3gGkf8jKAMsfAc8Wye1UIJL4D95w2zzYEAP27aLt+wL0BCFukmwhjkwCIdc5MHCUIccAs44tAdcoIHYeQ2wg10nACPLgkyDXSsAC8uCTINcdBscSwgBSMLDy0InXTNc5MAGk6GwShAe78uCT10rAAPLgk+1V4tIAAcAAkVvg69csCBQgkXCWAdcsCBwS4lIQseMPINdKERITAJYB+kAB+kT4KPpEMFi68uCR7UTQgQFB1xj0BQSdf8jKAEAEgwf0U/Lgi44UA4MH9Fvy4Iwi1woAIW4Bs7Dy0JDiyFADzxYS9ADJ7VQAcjDXLAgkji0h8uCS0gDtRNDSAFETuvLQj1RQMJExnAGBAUDXIdcKAPLgjuLIygBYzxbJ7VST8sCN4gAQk1vbMeHXTNA=";

/// The code of each version, parsed from the data above.
pub fn code(version: WalletVersion) -> Cell {
    match version {
        WalletVersion::V3R1 => bag::parse(&hex::decode(V3R1_CODE_HEX).unwrap()).unwrap(),
        WalletVersion::V3R2 => bag::parse(&hex::decode(V3R2_CODE_HEX).unwrap()).unwrap(),
        WalletVersion::V4R2 => bag::parse_base64(V4R2_CODE).unwrap(),
        WalletVersion::V5R1 => bag::parse_base64(V5R1_CODE).unwrap(),
    }
}

pub fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

pub fn unb64(text: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .unwrap()
}

pub fn hash_hex(cell: &Cell) -> String {
    hex::encode(cell.hash())
}

/// The default wallet id of mainnet wallets (v3, v4): 698983191.
pub const WALLET_ID: u64 = 0x29a9_a317;
/// v5R1's wallet id for mainnet, workchain 0, version 0, subwallet 0, as in
/// the state inits of the public proofs below: 0x7fffff11.
pub const V5_WALLET_ID: u64 = 0x7fff_ff11;

/// A new wallet's data cell: counters at zero, then the key (and for v4 and
/// v5 an empty plugins or extensions dictionary).
pub fn wallet_data(version: WalletVersion, key: &[u8; 32]) -> Cell {
    let mut b = crate::ton::CellBuilder::new();
    match version {
        WalletVersion::V3R1 | WalletVersion::V3R2 => {
            b.store_uint(32, 0)
                .unwrap()
                .store_uint(32, WALLET_ID)
                .unwrap();
            b.store_bytes(key).unwrap();
        }
        WalletVersion::V4R2 => {
            b.store_uint(32, 0)
                .unwrap()
                .store_uint(32, WALLET_ID)
                .unwrap();
            b.store_bytes(key).unwrap().store_bit(false).unwrap();
        }
        WalletVersion::V5R1 => {
            b.store_bit(true).unwrap();
            b.store_uint(32, 0)
                .unwrap()
                .store_uint(32, V5_WALLET_ID)
                .unwrap();
            b.store_bytes(key).unwrap().store_bit(false).unwrap();
        }
    }
    b.build().unwrap()
}

/// A new wallet's state init; with `library`, its code is the library cell
/// that stands for it.
pub fn state_init(version: WalletVersion, key: &[u8; 32], library: bool) -> Cell {
    let code = if library {
        Cell::library(&version.code_hash())
    } else {
        code(version)
    };
    crate::ton::wallet::StateInit {
        code: code.into(),
        data: wallet_data(version, key).into(),
    }
    .to_cell()
    .unwrap()
}

/// What TON Connect hands the app after a connection with `ton_proof`
/// (`{account, proof}`), from a v4R2 wallet whose key is `[seed; 32]`,
/// signing `payload` for `domain` at `timestamp`: for tests of the routes.
pub fn connect_items(seed: u8, domain: &str, timestamp: u64, payload: &str) -> serde_json::Value {
    use ed25519_dalek::{Signer, SigningKey};
    let key = SigningKey::from_bytes(&[seed; 32]);
    let public = key.verifying_key().to_bytes();
    let init = state_init(WalletVersion::V4R2, &public, false);
    let address = crate::ton::Address {
        workchain: 0,
        hash: init.hash(),
    };
    let digest = crate::ton::proof::signed_digest(&address, domain, timestamp, payload);
    serde_json::json!({
        "account": {
            "address": address.to_raw(),
            "chain": "-239",
            "publicKey": hex::encode(public),
            "walletStateInit": bag::to_base64(&init),
        },
        "proof": {
            "timestamp": timestamp,
            "domain": { "lengthBytes": domain.len(), "value": domain },
            "signature": b64(&key.sign(&digest).to_bytes()),
            "payload": payload,
        }
    })
}
