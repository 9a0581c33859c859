//! Bags of cells: ton-core's vectors in all four layouts (with and without
//! index and CRC32C), round trips, and hostile input refused without a panic.

use super::*;
use crate::ton::boc::{parse, parse_base64, serialize, to_base64, MAX_LEN};
use crate::ton::cell::CellBuilder;

// From ton-core/ton-core `src/boc/cell/serialization.spec.ts` (e0ed8197):
// one tree each, serialized without index or CRC, with CRC, with index, with
// both; the hash is the root's (base64 there).
const TON_CORE_VECTORS: [([&str; 4], &str); 4] = [
    (
        [
            "te6ccgEBAQEAAgAAAA==",
            "te6cckEBAQEAAgAAAEysuc0=",
            "te6ccoEBAQEAAgAAAAA=",
            "te6ccsEBAQEAAgAAAAC1U5ck",
        ],
        "lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c=",
    ),
    (
        [
            "te6ccgEBAQEABwAACQHW80Vg",
            "te6cckEBAQEABwAACQHW80Vgb11ZoQ==",
            "te6ccoEBAQEABwAAAAkB1vNFYA==",
            "te6ccsEBAQEABwAAAAkB1vNFYMkX0oY=",
        ],
        "Rk+nt8kkAyN9S1v4H0zwFbGs2INwpMHvESvPQbrI6d0=",
    ),
    (
        [
            "te6ccgEBAgEADQABCDreaLEBAAgHW80V",
            "te6cckEBAgEADQABCDreaLEBAAgHW80VSW/75w==",
            "te6ccoEBAgEADQAABwEIOt5osQEACAdbzRU=",
            "te6ccsEBAgEADQAABwEIOt5osQEACAdbzRWZVy8t",
        ],
        "goaQYcsXO2c/gd3qvMo3ncEjzpbU7urNQ7hPDo0qC1c=",
    ),
    (
        [
            "te6ccgEBAgEADwADCDreaLEBAQEACAdbzRU=",
            "te6cckEBAgEADwADCDreaLEBAQEACAdbzRWpQD2p",
            "te6ccoEBAgEADwAACQMIOt5osQEBAQAIB1vNFQ==",
            "te6ccsEBAgEADwAACQMIOt5osQEBAQAIB1vNFT/vUE4=",
        ],
        "cks0wbfqFZE9/yb0sWMWQGoj0XBOLkUi+aX5xpJ6jjA=",
    ),
];

#[test]
fn ton_core_vectors_parse_in_every_layout_to_their_hash() {
    for (layouts, hash) in TON_CORE_VECTORS {
        for boc in layouts {
            assert_eq!(b64(&parse_base64(boc).unwrap().hash()), hash, "{boc}");
        }
    }
}

#[test]
fn serialize_writes_ton_cores_crc_layout_byte_for_byte() {
    for ([_, with_crc, _, _], _) in TON_CORE_VECTORS {
        assert_eq!(to_base64(&parse_base64(with_crc).unwrap()), with_crc);
    }
}

#[test]
fn a_library_cell_round_trips_in_ton_cores_layout() {
    // ton-core `serialization.spec.ts`: an ordinary cell referring to a library
    // cell, without CRC. We write the same cells with a CRC.
    let boc = unb64("te6ccgEBAgEALQABDv8AiNDtHtgBCEICGbgzd5nhZ9WhSM+4juFCvgMYJOtxthFdtTKIH6M/6SM=");
    let root = parse(&boc).unwrap();
    let lib = &root.refs()[0];
    assert_eq!(lib.kind(), crate::ton::CellKind::Library);
    assert_eq!(
        hex::encode(lib.library_hash().unwrap()),
        "19b8337799e167d5a148cfb88ee142be031824eb71b6115db532881fa33fe923"
    );
    let ours = serialize(&root);
    let mut expected = boc.clone();
    expected[4] |= 0x40; // has_crc32c
    assert_eq!(ours[..ours.len() - 4], expected[..]);
    assert_eq!(parse(&ours).unwrap().hash(), root.hash());
}

#[test]
fn ton_cores_state_init_golden_is_its_contract_address() {
    // ton-core `src/types/StateInit.spec.ts` and `src/address/contractAddress.spec.ts`
    // (e0ed8197): code x{01}, data x{02}; ton-core numbers the data cell first.
    let root = parse_base64("te6cckEBAwEACwACATQCAQACAgACAX/38hg=").unwrap();
    let address =
        crate::ton::Address::parse("EQCSY_vTjwGrlvTvkfwhinJ60T2oiwgGn3U7Tpw24kupIhHz").unwrap();
    assert_eq!(root.hash(), address.hash);
    // Our layout differs (code first) but holds the same cells.
    let again = parse(&serialize(&root)).unwrap();
    assert_eq!(again, root);
}

#[test]
fn wallet_codes_round_trip() {
    for v in WalletVersion::ALL {
        let code = code(v);
        let again = parse(&serialize(&code)).unwrap();
        assert_eq!(again, code, "{v:?}");
    }
}

#[test]
fn a_shared_cell_is_written_once() {
    let leaf = CellBuilder::new()
        .store_uint(8, 1)
        .unwrap()
        .build()
        .unwrap();
    let mid = CellBuilder::new()
        .store_ref(leaf.clone())
        .unwrap()
        .build()
        .unwrap();
    // root → [mid, leaf], mid → [leaf]: leaf must come after mid.
    let root = CellBuilder::new()
        .store_ref(mid)
        .unwrap()
        .store_ref(leaf)
        .unwrap()
        .build()
        .unwrap();
    let boc = serialize(&root);
    assert_eq!(boc[6], 3, "three distinct cells");
    assert_eq!(parse(&boc).unwrap(), root);
}

#[test]
fn a_wrong_crc_is_refused() {
    let mut boc = unb64("te6cckEBAgEADQABCDreaLEBAAgHW80VSW/75w==");
    assert!(parse(&boc).is_ok());
    let last = boc.len() - 1;
    boc[last] ^= 1;
    assert_eq!(
        parse(&boc).unwrap_err().0,
        "the bag of cells fails its CRC32C"
    );
    // A changed cell byte fails the CRC too.
    let mut boc = unb64("te6cckEBAgEADQABCDreaLEBAAgHW80VSW/75w==");
    boc[14] ^= 0x10;
    assert!(parse(&boc).is_err());
}

#[test]
fn every_truncation_and_every_extra_byte_is_refused() {
    for (layouts, _) in TON_CORE_VECTORS {
        for boc in layouts {
            let bytes = unb64(boc);
            for n in 0..bytes.len() {
                assert!(parse(&bytes[..n]).is_err(), "{boc} cut at {n}");
            }
            let mut longer = bytes.clone();
            longer.push(0);
            assert!(parse(&longer).is_err(), "{boc} with a trailing byte");
        }
    }
}

/// A bag without CRC of the given cells (each `d1 d2 data refs`, 1-byte
/// references), root 0.
fn raw_bag(cells: &[&[u8]]) -> Vec<u8> {
    let data: Vec<u8> = cells.concat();
    let mut boc = vec![0xb5, 0xee, 0x9c, 0x72, 0x01, 0x01, cells.len() as u8, 1, 0];
    boc.push(data.len() as u8);
    boc.push(0);
    boc.extend(data);
    boc
}

#[test]
fn hostile_layouts_are_refused() {
    let leaf: &[u8] = &[0x00, 0x02, 0xAA];
    assert!(parse(&raw_bag(&[&[0x01, 0x00, 0x01], leaf])).is_ok());
    let refused: [(&str, Vec<u8>); 9] = [
        ("a reference to itself", raw_bag(&[&[0x01, 0x00, 0x00]])),
        (
            "a reference backwards",
            raw_bag(&[leaf, &[0x01, 0x00, 0x00]]),
        ),
        (
            "a reference past the end",
            raw_bag(&[&[0x01, 0x00, 0x05], leaf]),
        ),
        (
            "five references",
            raw_bag(&[&[0x05, 0x00, 1, 1, 1, 1, 1], leaf]),
        ),
        ("a pruned branch", raw_bag(&[&[0x08, 0x02, 0x01]])),
        ("an empty exotic cell", raw_bag(&[&[0x08, 0x00]])),
        ("a level above 0", raw_bag(&[&[0x20, 0x02, 0xAA]])),
        ("stored hashes", raw_bag(&[&[0x10, 0x02, 0xAA]])),
        (
            "a library cell of the wrong length",
            raw_bag(&[&[0x08, 0x02, 0x02]]),
        ),
    ];
    for (what, boc) in refused {
        assert!(parse(&boc).is_err(), "{what}");
    }
    // d2 odd says the last byte is incomplete: it must hold a tag after data.
    for last in [0x00, 0x80] {
        assert_eq!(
            parse(&raw_bag(&[&[0x00, 0x01, last]])).unwrap_err().0,
            "a cell's last byte is not an incomplete byte"
        );
    }

    let mut two_roots = raw_bag(&[leaf, leaf]);
    two_roots[7] = 2;
    let mut absent = raw_bag(&[leaf, leaf]);
    absent[8] = 1;
    let mut root_outside = raw_bag(&[leaf]);
    root_outside[10] = 1;
    let mut wrong_total = raw_bag(&[leaf]);
    wrong_total[9] = 4;
    let mut huge_count = raw_bag(&[leaf]);
    huge_count[6] = 0xFF;
    let mut wide_refs = raw_bag(&[leaf]);
    wide_refs[4] = 0x05;
    let mut unknown_flags = raw_bag(&[leaf]);
    unknown_flags[4] |= 0x08;
    let mut cache_without_index = raw_bag(&[leaf]);
    cache_without_index[4] |= 0x20;
    let mut no_offsets = raw_bag(&[leaf]);
    no_offsets[5] = 0;
    let mut magic = raw_bag(&[leaf]);
    magic[0] = 0x68;
    for (what, boc) in [
        ("two roots", two_roots),
        ("absent cells", absent),
        ("a root outside the bag", root_outside),
        ("a wrong total size", wrong_total),
        ("more cells than bytes", huge_count),
        ("5-byte references", wide_refs),
        ("unknown flags", unknown_flags),
        ("cache bits without an index", cache_without_index),
        ("0-byte offsets", no_offsets),
        ("another magic", magic),
    ] {
        assert!(parse(&boc).is_err(), "{what}");
    }
}

/// `n` cells, each referring to the next, with 2-byte references.
fn chain(n: usize) -> Vec<u8> {
    let mut data = Vec::new();
    for next in 1..n {
        data.extend([0x01, 0x00]);
        data.extend((next as u16).to_be_bytes());
    }
    data.extend([0x00, 0x00]);
    let mut boc = vec![0xb5, 0xee, 0x9c, 0x72, 0x02, 0x02];
    // cells, roots, absent, total size, root index
    for v in [n, 1, 0, data.len(), 0] {
        boc.extend((v as u16).to_be_bytes());
    }
    boc.extend(data);
    boc
}

#[test]
fn a_chain_deeper_than_1024_is_refused() {
    assert_eq!(parse(&chain(1025)).unwrap().depth(), 1024);
    assert_eq!(
        parse(&chain(1026)).unwrap_err().0,
        "cells nest deeper than 1024"
    );
}

#[test]
fn a_bag_sharing_cells_at_every_level_is_handled_in_linear_time() {
    // 300 cells, each referring 4 times to the next: 4^299 paths from the
    // root. Parsing, writing, comparing and printing must not follow them.
    let n = 300;
    let mut data = Vec::new();
    for next in 1..n {
        data.extend([0x04, 0x00]);
        data.extend((next as u16).to_be_bytes().repeat(4));
    }
    data.extend([0x00, 0x00]);
    let mut boc = vec![0xb5, 0xee, 0x9c, 0x72, 0x02, 0x02];
    for v in [n, 1, 0, data.len(), 0] {
        boc.extend((v as u16).to_be_bytes());
    }
    boc.extend(data);
    let root = parse(&boc).unwrap();
    assert_eq!(root.depth(), 299);
    let mut written = serialize(&root);
    written.truncate(written.len() - 4);
    written[4] &= !0x40; // our CRC flag
    assert_eq!(written, boc);
    assert_eq!(parse(&serialize(&root)).unwrap(), root);
    assert!(format!("{root:?}").len() < 2000);
}

#[test]
fn larger_than_16_kib_is_refused_unread() {
    let mut boc = unb64("te6cckEBAQEAAgAAAEysuc0=");
    boc.resize(MAX_LEN + 1, 0);
    assert_eq!(
        parse(&boc).unwrap_err().0,
        "the bag of cells is larger than 16 KiB"
    );
    assert!(parse_base64(&"A".repeat(MAX_LEN / 3 * 4 + 8)).is_err());
    assert!(parse_base64("not base64!").is_err());
}

/// Every single-byte change and every cut of real bags: never a panic, and
/// whatever still parses round-trips to the same hash.
#[test]
fn mutated_bags_never_panic() {
    let mut samples: Vec<Vec<u8>> = TON_CORE_VECTORS
        .iter()
        .flat_map(|(layouts, _)| layouts.iter().map(|b| unb64(b)))
        .collect();
    samples.push(hex::decode(V3R2_CODE_HEX).unwrap());
    samples.push(unb64(V4R2_CODE));
    for boc in samples {
        for i in 0..boc.len() {
            for x in [0x01, 0x80, 0xFF] {
                let mut m = boc.clone();
                m[i] ^= x;
                if let Ok(c) = parse(&m) {
                    assert_eq!(parse(&serialize(&c)).unwrap().hash(), c.hash());
                }
            }
        }
    }
}
