//! Wallets: the codes' hashes against the docs' table, identification by code
//! or library, the key at each version's offset, and the state init's shape.

use super::*;
use crate::ton::cell::CellBuilder;
use crate::ton::wallet::StateInit;

#[test]
fn the_code_data_hashes_to_the_docs_table() {
    for v in WalletVersion::ALL {
        assert_eq!(code(v).hash(), v.code_hash(), "{v:?}");
        assert_eq!(WalletVersion::of_code(&code(v)), Some(v));
    }
    // And the table itself, as ton-blockchain/docs `history.mdx` writes it.
    assert_eq!(
        hex::encode(WalletVersion::V4R2.code_hash()),
        "feb5ff6820e2ff0d9483e7e0d62c817d846789fb4ae580c878866d959dabd5c0"
    );
}

#[test]
fn a_library_cell_is_identified_by_the_code_it_stands_for() {
    for v in WalletVersion::ALL {
        assert_eq!(
            WalletVersion::of_code(&Cell::library(&v.code_hash())),
            Some(v)
        );
    }
    assert_eq!(WalletVersion::of_code(&Cell::library(&[0; 32])), None);
    // An ordinary cell whose data is a library cell's is not one.
    let mut b = CellBuilder::new();
    b.store_uint(8, 2).unwrap();
    b.store_bytes(&WalletVersion::V5R1.code_hash()).unwrap();
    assert_eq!(WalletVersion::of_code(&b.build().unwrap()), None);
}

#[test]
fn other_code_is_no_wallet() {
    assert_eq!(
        WalletVersion::of_code(&CellBuilder::new().build().unwrap()),
        None
    );
    // v4R1's code hash (ton-blockchain/docs `history.mdx`) is not supported.
    let v4r1 = Cell::library(&{
        let mut h = [0; 32];
        hex::decode_to_slice(
            "64dd54805522c5be8a9db59cea0105ccf0d08786ca79beb8cb79e880a8d7322d",
            &mut h,
        )
        .unwrap();
        h
    });
    assert_eq!(WalletVersion::of_code(&v4r1), None);
}

#[test]
fn the_public_key_is_read_at_each_versions_offset() {
    let key: [u8; 32] = core::array::from_fn(|i| i as u8 + 1);
    for v in WalletVersion::ALL {
        assert_eq!(v.public_key(&wallet_data(v, &key)).unwrap(), key, "{v:?}");
    }
    // Read at the wrong offset, the key is shifted.
    let v5 = wallet_data(WalletVersion::V5R1, &key);
    assert_ne!(WalletVersion::V4R2.public_key(&v5).unwrap(), key);
}

#[test]
fn data_too_short_for_the_version_is_refused() {
    let mut b = CellBuilder::new();
    b.store_uint(64, 0).unwrap().store_bytes(&[1; 31]).unwrap();
    b.store_uint(7, 0).unwrap();
    let short = b.build().unwrap();
    for v in WalletVersion::ALL {
        assert!(v.public_key(&short).is_err(), "{v:?}");
    }
}

#[test]
fn a_state_init_is_exactly_code_and_data() {
    let si = state_init(WalletVersion::V4R2, &[9; 32], false);
    let parsed = StateInit::from_cell(&si).unwrap();
    assert_eq!(*parsed.code, code(WalletVersion::V4R2));
    assert_eq!(parsed.to_cell().unwrap(), si);

    let some_code = || std::sync::Arc::new(code(WalletVersion::V3R2));
    let shape = |bits: u64, len: usize, refs: usize| {
        let mut b = CellBuilder::new();
        b.store_uint(len, bits).unwrap();
        for _ in 0..refs {
            b.store_ref(some_code()).unwrap();
        }
        b.build().unwrap()
    };
    assert!(StateInit::from_cell(&shape(0b00110, 5, 2)).is_some());
    for (bits, len, refs) in [
        (0b00111, 5, 3), // and a library
        (0b00100, 5, 1), // code only
        (0b10110, 5, 2), // a split depth flag
        (0b001100, 6, 2),
        (0b00110, 5, 3),
    ] {
        assert!(
            StateInit::from_cell(&shape(bits, len, refs)).is_none(),
            "{bits:b}/{len}/{refs}"
        );
    }
}

#[test]
fn a_fresh_v4r2_wallet_has_the_address_its_public_proof_names() {
    // The raw address of a fresh v4R2 wallet of the public key in
    // swapcoffee/ui-sdk `src/main.ts` (84f90270) is the one it was signed for.
    let mut key = [0; 32];
    hex::decode_to_slice(
        "a3e1e5811d634985c82132c636fc7fbfef831bbfcf1593dc35f8291fe2c4af2c",
        &mut key,
    )
    .unwrap();
    assert_eq!(
        hash_hex(&state_init(WalletVersion::V4R2, &key, false)),
        "e82b785a9f11c271ce0418a921aa3fa255a98f6cff88be610b8ce2df66ed3ba6"
    );
}
