//! `ton_proof`: real proofs published by other projects, proofs signed here
//! for every wallet version (v5R1 also with its code as a library cell), and
//! one test per way to fail.

use ed25519_dalek::{Signer, SigningKey};

use super::*;
use crate::telegram::ed25519::Dalek;
use crate::ton::proof::{signed_digest, verify, MAX_FUTURE_SKEW, MAX_STATE_INIT_LEN};
use crate::ton::{Address, Network, ProofError, ProofRequest, ProofRules, VerifiedWallet};

/// A proof as the app receives it, owned.
#[derive(Clone)]
struct Proof {
    address: String,
    network: String,
    public_key: String,
    state_init: String,
    timestamp: u64,
    domain: String,
    domain_len: u32,
    signature: String,
    payload: String,
}

impl Proof {
    fn request(&self) -> ProofRequest<'_> {
        ProofRequest {
            address: &self.address,
            network: &self.network,
            public_key: &self.public_key,
            wallet_state_init: &self.state_init,
            timestamp: self.timestamp,
            domain: &self.domain,
            domain_len: self.domain_len,
            signature: &self.signature,
            payload: &self.payload,
        }
    }

    fn check(&self, rules: &ProofRules<'_>) -> Result<VerifiedWallet, ProofError> {
        pollster::block_on(verify(&self.request(), rules, &Dalek))
    }
}

const NOW: u64 = 1_750_000_000;
const DOMAIN: &str = "shop.example";

fn domains() -> Vec<String> {
    vec!["other.example".into(), DOMAIN.into()]
}

fn rules(domains: &[String]) -> ProofRules<'_> {
    ProofRules {
        domains,
        now: NOW,
        max_age: 900,
        network: Network::Mainnet,
    }
}

fn key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

/// A proof signed here as a wallet of `version` signs it.
fn signed(version: WalletVersion, library: bool, workchain: i32, key: &SigningKey) -> Proof {
    let public = key.verifying_key().to_bytes();
    let init = state_init(version, &public, library);
    let address = Address {
        workchain,
        hash: init.hash(),
    };
    let payload = "9f1c2e4a6b8d0f13";
    let digest = signed_digest(&address, DOMAIN, NOW - 10, payload);
    Proof {
        address: address.to_raw(),
        network: "-239".into(),
        public_key: hex::encode(public),
        state_init: bag::to_base64(&init),
        timestamp: NOW - 10,
        domain: DOMAIN.into(),
        domain_len: DOMAIN.len() as u32,
        signature: b64(&key.sign(&digest).to_bytes()),
        payload: payload.into(),
    }
}

fn v4() -> Proof {
    signed(WalletVersion::V4R2, false, 0, &key(1))
}

// Public proofs: data copied from other projects' code, signed by real wallets.

/// nessshon/tonutils `examples/tonconnect/check_ton_proof.py` (5eec4267): a
/// mainnet v5R1 wallet's proof to github.com.
fn tonutils_v5r1() -> Proof {
    Proof {
        address: "0:83ae019a23a8162beaa5cb0ebdc56668b2eac6c6ba51808812915b206a152dc5".into(),
        network: "-239".into(),
        public_key: "79c446597dbf81b9987e9059de95dc557bcd9e2c431a6db1677768783d0b99f7".into(),
        state_init: "te6cckECFgEAArEAAgE0AgEAUYAAAAA///+IvOIjLL7fwNzMP0gs70ruKr3mzxYhjTbYs7u0PB6FzPugART/APSkE/S88sgLAwIBIAYEAQLyBQEeINcLH4IQc2lnbrry4Ip/EQIBSBAHAgEgCQgAGb5fD2omhAgKDrkPoCwCASANCgIBSAwLABGyYvtRNDXCgCAAF7Ml+1E0HHXIdcLH4AIBbg8OABmvHfaiaEAQ65DrhY/AABmtznaiaEAg65Drhf/AAtzQINdJwSCRW49jINcLHyCCEGV4dG69IYIQc2ludL2wkl8D4IIQZXh0brqOtIAg1yEB0HTXIfpAMPpE+Cj6RDBYvZFb4O1E0IEBQdch9AWDB/QOb6ExkTDhgEDXIXB/2zzgMSDXSYECgLmRMOBw4hIRAeaO8O2i7fshgwjXIgKDCNcjIIAg1yHTH9Mf0x/tRNDSANMfINMf0//XCgAK+QFAzPkQmiiUXwrbMeHywIffArNQB7Dy0IRRJbry4IVQNrry4Ib4I7vy0IgikvgA3gGkf8jKAMsfAc8Wye1UIJL4D95w2zzYEgP27aLt+wL0BCFukmwhjkwCIdc5MHCUIccAs44tAdcoIHYeQ2wg10nACPLgkyDXSsAC8uCTINcdBscSwgBSMLDy0InXTNc5MAGk6GwShAe78uCT10rAAPLgk+1V4tIAAcAAkVvg69csCBQgkXCWAdcsCBwS4lIQseMPINdKFRQTABCTW9sx4ddM0AByMNcsCCSOLSHy4JLSAO1E0NIAURO68tCPVFAwkTGcAYEBQNch1woA8uCO4sjKAFjPFsntVJPywI3iAJYB+kAB+kT4KPpEMFi68uCR7UTQgQFB1xj0BQSdf8jKAEAEgwf0U/Lgi44UA4MH9Fvy4Iwi1woAIW4Bs7Dy0JDiyFADzxYS9ADJ7VSiwRtT".into(),
        timestamp: 1_754_535_788,
        domain: "github.com".into(),
        domain_len: 10,
        signature: "d8GGkzgRbyPCiAt4a2EN+xiNK6fLHo/ptQdDT3YQcUD4cg3TUnE2Airf37y+xRkEP/aiQq38ytS4Ho4ZDHM5CQ==".into(),
        payload: "f85774c9762007d20000000068941ae3".into(),
    }
}

/// swapcoffee/ui-sdk `src/main.ts` (84f90270), in a comment: a v4R2 wallet's
/// proof to swap.coffee. The network is not given there; swap.coffee is a
/// mainnet app.
fn swapcoffee_v4r2() -> Proof {
    Proof {
        address: "0:e82b785a9f11c271ce0418a921aa3fa255a98f6cff88be610b8ce2df66ed3ba6".into(),
        network: "-239".into(),
        public_key: "a3e1e5811d634985c82132c636fc7fbfef831bbfcf1593dc35f8291fe2c4af2c".into(),
        state_init: "te6cckECFgEAAwQAAgE0ARUBFP8A9KQT9LzyyAsCAgEgAxACAUgEBwLm0AHQ0wMhcbCSXwTgItdJwSCSXwTgAtMfIYIQcGx1Z70ighBkc3RyvbCSXwXgA/pAMCD6RAHIygfL/8nQ7UTQgQFA1yH0BDBcgQEI9ApvoTGzkl8H4AXTP8glghBwbHVnupI4MOMNA4IQZHN0crqSXwbjDQUGAHgB+gD0BDD4J28iMFAKoSG+8uBQghBwbHVngx6xcIAYUATLBSbPFlj6Ahn0AMtpF8sfUmDLPyDJgED7AAYAilAEgQEI9Fkw7UTQgQFA1yDIAc8W9ADJ7VQBcrCOI4IQZHN0coMesXCAGFAFywVQA88WI/oCE8tqyx/LP8mAQPsAkl8D4gIBIAgPAgEgCQ4CAVgKCwA9sp37UTQgQFA1yH0BDACyMoHy//J0AGBAQj0Cm+hMYAIBIAwNABmtznaiaEAga5Drhf/AABmvHfaiaEAQa5DrhY/AABG4yX7UTQ1wsfgAWb0kK29qJoQICga5D6AhhHDUCAhHpJN9KZEM5pA+n/mDeBKAG3gQFImHFZ8xhAT48oMI1xgg0x/TH9MfAvgju/Jk7UTQ0x/TH9P/9ATRUUO68qFRUbryogX5AVQQZPkQ8qP4ACSkyMsfUkDLH1Iwy/9SEPQAye1U+A8B0wchwACfbFGTINdKltMH1AL7AOgw4CHAAeMAIcAC4wABwAORMOMNA6TIyx8Syx/L/xESExQAbtIH+gDU1CL5AAXIygcVy//J0Hd0gBjIywXLAiLPFlAF+gIUy2sSzMzJc/sAyEAUgQEI9FHypwIAcIEBCNcY+gDTP8hUIEeBAQj0UfKnghBub3RlcHSAGMjLBcsCUAbPFlAE+gIUy2oSyx/LP8lz+wACAGyBAQjXGPoA0z8wUiSBAQj0WfKnghBkc3RycHSAGMjLBcsCUAXPFlAD+gITy2rLHxLLP8lz+wAACvQAye1UAFEAAAAAKamjF6Ph5YEdY0mFyCEyxjb8f7/vgxu/zxWT3DX4KR/ixK8sQN9iJtU=".into(),
        timestamp: 1_731_927_983,
        domain: "swap.coffee".into(),
        domain_len: 11,
        signature: "Kbkns5rJg+TapCjBR7pT1vuu6rOsUDY69DuxNQvt3ZTQJY5cfCEV9t0QZvahOalavmB2kQXk6WphuHJkr+/2CA==".into(),
        payload: "tbhTOcnrO1NbBCZPsc9g2vge0R149ntX".into(),
    }
}

/// b0mbdiggity/b0mbdiggity-nodejs-sandbox `dist/src/work/ton/verify.js`
/// (b5d577ea): a testnet v5R1 wallet's proof to ton-connect.github.io, its
/// state init a bag of cells with index and CRC32C, its payload a 215-byte
/// JWT (over the SDK's 128-byte limit).
fn sandbox_testnet_v5r1() -> Proof {
    Proof {
        address: "0:605893d6874139ae5cf8ca022a6b63ad9594ce704dd472d356db1be650ee090a".into(),
        network: "-3".into(),
        public_key: "b32332c92071d4f27d2d986ff97b3a601d01e9d0f6669f784c69ceb6018c1ded".into(),
        state_init: "te6ccsECFgEAArEAAAUAEgAXABwAjgCTAJgAnQCsALsAwADOANkA6ADsAP4BdAH0AkECfAKGArECATQBFQEU/wD0pBP0vPLICwICASADDgIBSAQFAtzQINdJwSCRW49jINcLHyCCEGV4dG69IYIQc2ludL2wkl8D4IIQZXh0brqOtIAg1yEB0HTXIfpAMPpE+Cj6RDBYvZFb4O1E0IEBQdch9AWDB/QOb6ExkTDhgEDXIXB/2zzgMSDXSYECgLmRMOBw4hEQAgEgBg0CASAHCgIBbggJABmtznaiaEAg65Drhf/AABmvHfaiaEAQ65DrhY/AAgFICwwAF7Ml+1E0HHXIdcLH4AARsmL7UTQ1woAgABm+Xw9qJoQICg65D6AsAQLyDwEeINcLH4IQc2lnbrry4Ip/EAHmjvDtou37IYMI1yICgwjXIyCAINch0x/TH9Mf7UTQ0gDTHyDTH9P/1woACvkBQMz5EJoolF8K2zHh8sCH3wKzUAew8tCEUSW68uCFUDa68uCG+CO78tCIIpL4AN4BpH/IygDLHwHPFsntVCCS+A/ecNs82BED9u2i7fsC9AQhbpJsIY5MAiHXOTBwlCHHALOOLQHXKCB2HkNsINdJwAjy4JMg10rAAvLgkyDXHQbHEsIAUjCw8tCJ10zXOTABpOhsEoQHu/Lgk9dKwADy4JPtVeLSAAHAAJFb4OvXLAgUIJFwlgHXLAgcEuJSELHjDyDXShITFACWAfpAAfpE+Cj6RDBYuvLgke1E0IEBQdcY9AUEnX/IygBABIMH9FPy4IuOFAODB/Rb8uCMItcKACFuAbOw8tCQ4shQA88WEvQAye1UAHIw1ywIJI4tIfLgktIA7UTQ0gBRE7ry0I9UUDCRMZwBgQFA1yHXCgDy4I7iyMoAWM8Wye1Uk/LAjeIAEJNb2zHh10zQAFGAAAAAP///iNmRmWSQOOp5PpbMN/y9nTAOgPToezNPvCY051sAxg72oEU1tz4=".into(),
        timestamp: 1_730_704_057,
        domain: "ton-connect.github.io".into(),
        domain_len: 21,
        signature: "Als2EvxZ8EAJD2ELlD40CuOaQu9Q8LDasHujJjSp7725DdF35agrrWQlwToWdKYzz0zYFa8M18LqfnFxZJOcBg==".into(),
        payload: "eyJhbGciOiJIUzI1NiJ9.eyJwYXlsb2FkIjoiYmMwODEwODI2YmIzMmYyMmMyMGQ5OTYzNGFhM2ViMWM1ZDg2OGMzM2ZmODJmMWY3ZWMzMDE1N2I5MDA4NDdlMyIsImlhdCI6MTczMDcwNDA0MiwiZXhwIjoxNzMwNzA0OTQyfQ.LujjRO9zHu8xCnqLZLKhZ_pR8PG6129dL1MehtyL13A".into(),
    }
}

/// The rules a public proof was made for (`domains`: its own), 60 s after it.
fn rules_for<'a>(p: &Proof, domains: &'a [String], network: Network) -> ProofRules<'a> {
    ProofRules {
        domains,
        now: p.timestamp + 60,
        max_age: 900,
        network,
    }
}

#[test]
fn a_real_mainnet_v5r1_proof_verifies() {
    let p = tonutils_v5r1();
    let domains = vec![p.domain.clone()];
    let w = p.check(&rules_for(&p, &domains, Network::Mainnet)).unwrap();
    assert_eq!(w.version, WalletVersion::V5R1);
    assert_eq!(w.network, Network::Mainnet);
    assert_eq!(w.address.to_raw(), p.address);
    assert_eq!(hex::encode(w.public_key), p.public_key);
}

#[test]
fn a_real_v4r2_proof_verifies() {
    let p = swapcoffee_v4r2();
    let domains = vec![p.domain.clone()];
    let w = p.check(&rules_for(&p, &domains, Network::Mainnet)).unwrap();
    assert_eq!(w.version, WalletVersion::V4R2);
}

#[test]
fn a_real_testnet_proof_checks_out_but_its_payload_is_over_the_limit() {
    let p = sandbox_testnet_v5r1();
    let domains = vec![p.domain.clone()];
    assert_eq!(
        p.check(&rules_for(&p, &domains, Network::Testnet)),
        Err(ProofError::Malformed(
            "the payload is longer than 128 bytes"
        ))
    );
    // Everything but the payload's length holds: the indexed bag with its
    // CRC is the address's v5R1 state init, and the signature is the key's.
    let init = bag::parse_base64(&p.state_init).unwrap();
    let address = Address::parse_raw(&p.address).unwrap();
    assert_eq!(init.hash(), address.hash);
    let init = crate::ton::wallet::StateInit::from_cell(&init).unwrap();
    assert_eq!(
        WalletVersion::of_code(&init.code),
        Some(WalletVersion::V5R1)
    );
    let key = WalletVersion::V5R1.public_key(&init.data).unwrap();
    assert_eq!(hex::encode(key), p.public_key);
    let digest = signed_digest(&address, &p.domain, p.timestamp, &p.payload);
    let signature: [u8; 64] = unb64(&p.signature).try_into().unwrap();
    use crate::telegram::ed25519::Ed25519Verifier;
    assert!(pollster::block_on(
        Dalek.verify_ed25519(&key, &digest, &signature)
    ));
}

#[test]
fn a_public_proof_with_any_field_changed_is_refused() {
    let p = tonutils_v5r1();
    let domains = vec![p.domain.clone()];
    let rules = rules_for(&p, &domains, Network::Mainnet);
    let mut later = p.clone();
    later.timestamp += 1;
    let mut payload = p.clone();
    payload.payload.push('0');
    let mut address = p.clone();
    address.address = address.address.replace("0:83", "0:84");
    for (what, changed, error) in [
        ("timestamp", later, ProofError::InvalidSignature),
        ("payload", payload, ProofError::InvalidSignature),
        ("address", address, ProofError::AddressMismatch),
    ] {
        assert_eq!(changed.check(&rules), Err(error), "{what}");
    }
}

#[test]
fn proofs_from_every_wallet_version_verify() {
    let domains = domains();
    for version in WalletVersion::ALL {
        for workchain in [0, -1] {
            let p = signed(version, false, workchain, &key(7));
            let w = p.check(&rules(&domains)).unwrap();
            assert_eq!(w.version, version);
            assert_eq!(w.address.workchain, workchain);
            assert_eq!(w.public_key, key(7).verifying_key().to_bytes());
        }
    }
}

#[test]
fn a_v5r1_proof_with_its_code_as_a_library_cell_verifies() {
    let domains = domains();
    let p = signed(WalletVersion::V5R1, true, 0, &key(3));
    let w = p.check(&rules(&domains)).unwrap();
    assert_eq!(w.version, WalletVersion::V5R1);
    // The address is the hash of the state init with the library cell in it.
    let with_code = state_init(
        WalletVersion::V5R1,
        &key(3).verifying_key().to_bytes(),
        false,
    );
    assert_ne!(w.address.hash, with_code.hash());
}

#[test]
fn a_testnet_proof_verifies_when_testnet_is_expected() {
    let domains = domains();
    let mut p = v4();
    p.network = "-3".into();
    let rules = ProofRules {
        network: Network::Testnet,
        ..rules(&domains)
    };
    assert_eq!(p.check(&rules).unwrap().network, Network::Testnet);
}

#[test]
fn malformed_fields_are_refused_with_a_reason() {
    let domains = domains();
    type Change = fn(&mut Proof);
    let cases: [(&str, Change); 11] = [
        ("the address is not workchain:hash", |p| {
            p.address = "EQAs9VlT6S776tq3unJcP5Ogsj-ELLunLXuOb1EKcOQi4wJB".into()
        }),
        ("the network is not -239 or -3", |p| p.network = "-1".into()),
        ("the public key is not 64 hex digits", |p| {
            p.public_key.truncate(63)
        }),
        ("the signature is not 64 bytes of base64", |p| {
            p.signature = "not base64".into()
        }),
        ("the signature is not 64 bytes of base64", |p| {
            p.signature = b64(&[0; 63])
        }),
        ("the payload is longer than 128 bytes", |p| {
            p.payload = "x".repeat(129)
        }),
        ("the domain is longer than 128 bytes", |p| {
            p.domain = "d".repeat(129)
        }),
        ("the state init is longer than 4096 characters", |p| {
            p.state_init = "A".repeat(MAX_STATE_INIT_LEN + 4)
        }),
        ("the bag of cells is not base64", |p| {
            p.state_init = "te6cc!".into()
        }),
        ("not a bag of cells", |p| {
            p.state_init = b64(b"hello, world")
        }),
        ("the bag of cells fails its CRC32C", |p| {
            let mut boc = unb64(&p.state_init);
            let at = boc.len() - 1;
            boc[at] ^= 1;
            p.state_init = b64(&boc);
        }),
    ];
    for (reason, change) in cases {
        let mut p = v4();
        change(&mut p);
        assert_eq!(
            p.check(&rules(&domains)),
            Err(ProofError::Malformed(reason)),
            "{reason}"
        );
    }
    // 128 bytes of payload and of domain are within the limits: the checks
    // after the shape's refuse these.
    let mut p = v4();
    p.payload = "x".repeat(128);
    assert_eq!(p.check(&rules(&domains)), Err(ProofError::InvalidSignature));
    let mut p = v4();
    p.domain = "d".repeat(128);
    p.domain_len = 128;
    assert_eq!(p.check(&rules(&domains)), Err(ProofError::DomainMismatch));
}

#[test]
fn a_domain_not_allowed_is_refused() {
    let mut p = v4();
    p.domain = "evil.example".into();
    p.domain_len = p.domain.len() as u32;
    assert_eq!(p.check(&rules(&domains())), Err(ProofError::DomainMismatch));
    // Allowed domains are compared whole.
    p.domain = "shop.example.evil".into();
    p.domain_len = p.domain.len() as u32;
    assert_eq!(p.check(&rules(&domains())), Err(ProofError::DomainMismatch));
}

#[test]
fn a_domain_length_other_than_the_domains_is_refused() {
    let mut p = v4();
    p.domain_len += 1;
    assert_eq!(p.check(&rules(&domains())), Err(ProofError::DomainMismatch));
}

#[test]
fn a_proof_older_than_max_age_is_expired() {
    let domains = domains();
    let p = v4(); // signed at NOW - 10
    let at = |now| ProofRules {
        now,
        ..rules(&domains)
    };
    assert!(p.check(&at(NOW - 10 + 900)).is_ok(), "exactly max_age old");
    assert_eq!(p.check(&at(NOW - 10 + 901)), Err(ProofError::Expired));
}

#[test]
fn a_proof_from_too_far_in_the_future_is_expired() {
    let domains = domains();
    let p = v4(); // signed at NOW - 10
    let at = |now| ProofRules {
        now,
        ..rules(&domains)
    };
    assert!(
        p.check(&at(NOW - 10 - MAX_FUTURE_SKEW)).is_ok(),
        "at the skew"
    );
    assert_eq!(
        p.check(&at(NOW - 11 - MAX_FUTURE_SKEW)),
        Err(ProofError::Expired)
    );
}

#[test]
fn max_age_0_turns_the_time_checks_off() {
    let domains = domains();
    let p = v4();
    for now in [0, NOW + 10 * 365 * 86_400] {
        let r = ProofRules {
            now,
            max_age: 0,
            ..rules(&domains)
        };
        assert!(p.check(&r).is_ok(), "now = {now}");
    }
}

#[test]
fn a_state_init_of_another_address_is_refused() {
    let mut p = v4();
    p.address = Address {
        workchain: 0,
        hash: [0x42; 32],
    }
    .to_raw();
    assert_eq!(
        p.check(&rules(&domains())),
        Err(ProofError::AddressMismatch)
    );
}

#[test]
fn a_workchain_other_than_0_or_minus_1_is_refused() {
    let p = signed(WalletVersion::V4R2, false, 1, &key(1));
    assert_eq!(
        p.check(&rules(&domains())),
        Err(ProofError::AddressMismatch)
    );
}

#[test]
fn code_that_is_no_standard_wallet_is_refused() {
    // v4R1 (retired) and an arbitrary contract, each with a v4-like data cell.
    let public = key(1).verifying_key().to_bytes();
    let unknown_codes = [
        Cell::library(&[0x64; 32]),
        crate::ton::CellBuilder::new()
            .store_uint(32, 0xdead_beef)
            .unwrap()
            .build()
            .unwrap(),
    ];
    for code in unknown_codes {
        let init = crate::ton::wallet::StateInit {
            code: code.into(),
            data: wallet_data(WalletVersion::V4R2, &public).into(),
        }
        .to_cell()
        .unwrap();
        let mut p = v4();
        p.address = Address {
            workchain: 0,
            hash: init.hash(),
        }
        .to_raw();
        p.state_init = bag::to_base64(&init);
        assert_eq!(
            p.check(&rules(&domains())),
            Err(ProofError::UnsupportedWallet)
        );
    }
}

#[test]
fn a_state_init_with_more_than_code_and_data_is_refused() {
    // A wallet's code and data, and a libraries dictionary: not a wallet's.
    let public = key(1).verifying_key().to_bytes();
    let mut b = crate::ton::CellBuilder::new();
    b.store_uint(5, 0b00111).unwrap();
    b.store_ref(code(WalletVersion::V4R2)).unwrap();
    b.store_ref(wallet_data(WalletVersion::V4R2, &public))
        .unwrap();
    b.store_ref(crate::ton::CellBuilder::new().build().unwrap())
        .unwrap();
    let init = b.build().unwrap();
    let mut p = v4();
    p.address = Address {
        workchain: 0,
        hash: init.hash(),
    }
    .to_raw();
    p.state_init = bag::to_base64(&init);
    assert_eq!(
        p.check(&rules(&domains())),
        Err(ProofError::UnsupportedWallet)
    );
}

#[test]
fn a_public_key_other_than_the_wallets_is_refused() {
    let mut p = v4();
    p.public_key = hex::encode(key(2).verifying_key().to_bytes());
    assert_eq!(
        p.check(&rules(&domains())),
        Err(ProofError::PublicKeyMismatch)
    );
}

#[test]
fn wallet_data_too_short_for_its_code_is_malformed() {
    let init = crate::ton::wallet::StateInit {
        code: code(WalletVersion::V4R2).into(),
        data: crate::ton::CellBuilder::new().build().unwrap().into(),
    }
    .to_cell()
    .unwrap();
    let mut p = v4();
    p.address = Address {
        workchain: 0,
        hash: init.hash(),
    }
    .to_raw();
    p.state_init = bag::to_base64(&init);
    assert_eq!(
        p.check(&rules(&domains())),
        Err(ProofError::Malformed(
            "the wallet data is too short for its version"
        ))
    );
}

#[test]
fn a_signature_by_another_key_is_refused() {
    let mut p = v4();
    let other = signed(WalletVersion::V4R2, false, 0, &key(2));
    p.signature = other.signature;
    assert_eq!(
        p.check(&rules(&domains())),
        Err(ProofError::InvalidSignature)
    );
}

#[test]
fn a_signature_over_other_fields_is_refused() {
    let domains = domains();
    let mut payload = v4();
    payload.payload = "another nonce".into();
    let mut timestamp = v4();
    timestamp.timestamp -= 1;
    let mut domain = v4();
    domain.domain = "other.example".into();
    domain.domain_len = domain.domain.len() as u32;
    for (what, p) in [
        ("payload", payload),
        ("timestamp", timestamp),
        ("domain", domain),
    ] {
        assert_eq!(
            p.check(&rules(&domains)),
            Err(ProofError::InvalidSignature),
            "{what}"
        );
    }
}

#[test]
fn a_proof_from_the_other_network_is_refused_last() {
    let mut p = v4();
    p.network = "-3".into();
    assert_eq!(p.check(&rules(&domains())), Err(ProofError::WrongNetwork));
    // The signature does not cover the network: only this check catches it.
    let mut bad = p.clone();
    bad.signature = signed(WalletVersion::V4R2, false, 0, &key(2)).signature;
    assert_eq!(
        bad.check(&rules(&domains())),
        Err(ProofError::InvalidSignature)
    );
}

#[test]
fn the_first_failing_check_in_order_is_reported() {
    let domains = domains();
    let mut p = v4();
    p.network = "-3".into(); // wrong network (7)
    p.signature = signed(WalletVersion::V4R2, false, 0, &key(2)).signature; // (6)
    p.public_key = hex::encode(key(2).verifying_key().to_bytes()); // (5)
    assert_eq!(
        p.check(&rules(&domains)),
        Err(ProofError::PublicKeyMismatch)
    );
    p.address = Address {
        workchain: 0,
        hash: [1; 32],
    }
    .to_raw(); // (3)
    assert_eq!(p.check(&rules(&domains)), Err(ProofError::AddressMismatch));
    p.timestamp = 1; // (2)
    assert_eq!(p.check(&rules(&domains)), Err(ProofError::Expired));
    p.domain_len = 0; // (1)
    assert_eq!(p.check(&rules(&domains)), Err(ProofError::DomainMismatch));
    p.payload = "x".repeat(200); // shape
    assert_eq!(
        p.check(&rules(&domains)),
        Err(ProofError::Malformed(
            "the payload is longer than 128 bytes"
        ))
    );
}

#[test]
fn every_error_has_its_api_code() {
    let codes = [
        (ProofError::Malformed("x"), "malformed_ton_proof"),
        (ProofError::DomainMismatch, "domain_mismatch"),
        (ProofError::Expired, "ton_proof_expired"),
        (ProofError::AddressMismatch, "address_mismatch"),
        (ProofError::UnsupportedWallet, "unsupported_wallet"),
        (ProofError::PublicKeyMismatch, "public_key_mismatch"),
        (ProofError::InvalidSignature, "invalid_ton_proof"),
        (ProofError::WrongNetwork, "wrong_network"),
    ];
    for (error, code) in codes {
        assert_eq!(error.code(), code);
        assert!(!error.to_string().is_empty());
    }
}
