//! Cells: hashes from ton-core's test suite, the builder's limits, and the
//! slice reading back what the builder stored.

use std::sync::Arc;

use sha2::Digest;

use super::*;
use crate::ton::cell::{CellBuilder, CellKind, MAX_DEPTH};
use crate::ton::{Address, Error};

fn cell(f: impl FnOnce(&mut CellBuilder) -> Result<&mut CellBuilder, Error>) -> Cell {
    let mut b = CellBuilder::new();
    f(&mut b).unwrap();
    b.build().unwrap()
}

// Hashes from ton-core/ton-core `src/boc/cell/serialization.spec.ts` (e0ed8197),
// base64 there.

#[test]
fn an_empty_cell_has_ton_cores_hash() {
    let c = CellBuilder::new().build().unwrap();
    assert_eq!(
        b64(&c.hash()),
        "lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c="
    );
    assert_eq!(c.depth(), 0);
}

#[test]
fn byte_aligned_and_unaligned_bits_hash_as_in_ton_core() {
    let aligned = cell(|b| b.store_uint(32, 123456789));
    assert_eq!(
        b64(&aligned.hash()),
        "keNT38owvINaYYHwYjE1R8HYk0c1NSMH72u+/aMJ+1c="
    );
    let unaligned = cell(|b| b.store_uint(34, 123456789));
    assert_eq!(unaligned.bit_len(), 34);
    assert_eq!(
        b64(&unaligned.hash()),
        "Rk+nt8kkAyN9S1v4H0zwFbGs2INwpMHvESvPQbrI6d0="
    );
}

#[test]
fn references_hash_with_their_depths_as_in_ton_core() {
    let child = Arc::new(cell(|b| b.store_uint(32, 123456789)));
    let one = cell(|b| b.store_uint(32, 987654321)?.store_ref(child.clone()));
    assert_eq!(
        b64(&one.hash()),
        "goaQYcsXO2c/gd3qvMo3ncEjzpbU7urNQ7hPDo0qC1c="
    );
    assert_eq!(one.depth(), 1);
    let three = cell(|b| {
        b.store_uint(32, 987654321)?
            .store_ref(child.clone())?
            .store_ref(child.clone())?
            .store_ref(child.clone())
    });
    assert_eq!(
        b64(&three.hash()),
        "cks0wbfqFZE9/yb0sWMWQGoj0XBOLkUi+aX5xpJ6jjA="
    );
}

#[test]
fn a_library_cell_is_exotic_and_names_its_target() {
    let target = [0xAB; 32];
    let lib = Cell::library(&target);
    assert_eq!(lib.kind(), CellKind::Library);
    assert_eq!(lib.bit_len(), 264);
    assert_eq!(lib.library_hash(), Some(target));
    // d1 = 8 (exotic, no references), d2 = 66 (33 whole bytes).
    let mut expected = vec![8, 66, 2];
    expected.extend([0xAB; 32]);
    let digest: [u8; 32] = sha2::Sha256::digest(&expected).into();
    assert_eq!(lib.hash(), digest);
    assert_eq!(cell(|b| b.store_bytes(&[2; 33])).library_hash(), None);
}

#[test]
fn the_builder_refuses_what_does_not_fit() {
    let mut b = CellBuilder::new();
    b.store_bytes(&[0; 127]).unwrap().store_uint(7, 0).unwrap();
    assert_eq!(b.bit_len(), 1023);
    assert!(b.store_bit(false).is_err());
    assert!(b.store_uint(1, 0).is_err());
    assert!(b.store_bytes(&[0]).is_err());
    assert!(b.store_coins(0).is_err());
    assert!(b.store_address(None).is_err());
    assert_eq!(b.bit_len(), 1023, "nothing stored by a refused call");

    let mut b = CellBuilder::new();
    for _ in 0..4 {
        b.store_ref(Cell::library(&[0; 32])).unwrap();
    }
    assert!(b.store_ref(Cell::library(&[0; 32])).is_err());

    let mut b = CellBuilder::new();
    assert!(b.store_uint(8, 256).is_err());
    assert!(b.store_uint(65, 0).is_err());
    assert!(b.store_uint(64, u64::MAX).is_ok());
    assert!(b.store_coins(1 << 120).is_err());
    assert!(b.store_coins((1 << 120) - 1).is_ok());
    let far = Address {
        workchain: 128,
        hash: [0; 32],
    };
    assert!(b.store_address(Some(&far)).is_err());
}

#[test]
fn coins_are_a_length_then_the_fewest_big_endian_bytes() {
    for (value, bits) in [
        (0u128, "0000"),
        (1, "0001 00000001"),
        (256, "0010 00000001 00000000"),
    ] {
        let c = cell(|b| b.store_coins(value));
        assert_eq!(bit_string(&c), bits.replace(' ', ""));
        assert_eq!(c.parse().load_coins().unwrap(), value);
    }
    let big = (1u128 << 120) - 1;
    assert_eq!(
        cell(|b| b.store_coins(big)).parse().load_coins().unwrap(),
        big
    );
}

fn bit_string(c: &Cell) -> String {
    let mut s = c.parse();
    (0..c.bit_len())
        .map(|_| if s.load_bit().unwrap() { '1' } else { '0' })
        .collect()
}

#[test]
fn the_slice_reads_back_what_the_builder_stored() {
    let me = Address {
        workchain: -1,
        hash: [7; 32],
    };
    let child = cell(|b| b.store_bit(true));
    let c = cell(|b| {
        b.store_uint(5, 0b10110)?
            .store_bytes(b"hi")?
            .store_coins(1_000_000_000)?
            .store_address(Some(&me))?
            .store_address(None)?
            .store_bit(true)?
            .store_ref(child.clone())
    });
    let mut s = c.parse();
    assert_eq!(s.load_uint(5).unwrap(), 0b10110);
    assert_eq!(s.load_bytes(2).unwrap(), b"hi");
    assert_eq!(s.load_coins().unwrap(), 1_000_000_000);
    assert_eq!(s.load_address().unwrap(), Some(me));
    assert_eq!(s.load_address().unwrap(), None);
    assert!(s.load_bit().unwrap());
    assert_eq!(s.remaining_bits(), 0);
    assert_eq!(**s.load_ref().unwrap(), child);
    assert!(s.load_bit().is_err());
    assert!(s.load_ref().is_err());
}

#[test]
fn external_variable_and_anycast_addresses_are_refused() {
    for prefix in [0b01u64, 0b11] {
        let c = cell(|b| b.store_uint(2, prefix)?.store_bytes(&[0; 40]));
        assert!(c.parse().load_address().is_err());
    }
    let anycast = cell(|b| b.store_uint(3, 0b101)?.store_bytes(&[0; 40]));
    assert!(anycast.parse().load_address().is_err());
    let short = cell(|b| b.store_uint(2, 0b10)?.store_bytes(&[0; 20]));
    assert!(short.parse().load_address().is_err());
}

#[test]
fn cells_nest_at_most_1024_deep() {
    let mut c = CellBuilder::new().build().unwrap();
    for _ in 0..MAX_DEPTH {
        c = cell(|b| b.store_ref(c.clone()));
    }
    assert_eq!(c.depth(), MAX_DEPTH);
    let mut b = CellBuilder::new();
    b.store_ref(c).unwrap();
    assert!(b.build().is_err());
}
