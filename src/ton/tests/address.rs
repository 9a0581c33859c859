//! Addresses: ton-core's vectors in every form, the CRCs' check values, and
//! the forms that must be refused.

use crate::ton::address::{Address, Flags};

// ton-core/ton-core `src/address/Address.spec.ts` (e0ed8197).
const RAW: &str = "0:2cf55953e92efbeadab7ba725c3f93a0b23f842cbba72d7b8e6f510a70e422e3";
const FORMS: [(&str, bool, bool, bool); 8] = [
    // (friendly, bounceable, testnet, url_safe)
    (
        "EQAs9VlT6S776tq3unJcP5Ogsj-ELLunLXuOb1EKcOQi4wJB",
        true,
        false,
        true,
    ),
    (
        "kQAs9VlT6S776tq3unJcP5Ogsj-ELLunLXuOb1EKcOQi47nL",
        true,
        true,
        true,
    ),
    (
        "EQAs9VlT6S776tq3unJcP5Ogsj+ELLunLXuOb1EKcOQi4wJB",
        true,
        false,
        false,
    ),
    (
        "kQAs9VlT6S776tq3unJcP5Ogsj+ELLunLXuOb1EKcOQi47nL",
        true,
        true,
        false,
    ),
    (
        "UQAs9VlT6S776tq3unJcP5Ogsj-ELLunLXuOb1EKcOQi41-E",
        false,
        false,
        true,
    ),
    (
        "0QAs9VlT6S776tq3unJcP5Ogsj-ELLunLXuOb1EKcOQi4-QO",
        false,
        true,
        true,
    ),
    (
        "UQAs9VlT6S776tq3unJcP5Ogsj+ELLunLXuOb1EKcOQi41+E",
        false,
        false,
        false,
    ),
    (
        "0QAs9VlT6S776tq3unJcP5Ogsj+ELLunLXuOb1EKcOQi4+QO",
        false,
        true,
        false,
    ),
];

#[test]
fn every_friendly_form_of_ton_cores_vector_parses_and_formats() {
    let raw = Address::parse_raw(RAW).unwrap();
    assert_eq!(raw.workchain, 0);
    assert_eq!(raw.to_raw(), RAW);
    assert_eq!(raw.to_string(), RAW);
    for (friendly, bounceable, testnet, url_safe) in FORMS {
        let flags = Flags {
            bounceable,
            testnet,
        };
        assert_eq!(raw.to_friendly(flags, url_safe), friendly);
        assert_eq!(Address::parse_friendly(friendly).unwrap(), (raw, flags));
        assert_eq!(Address::parse(friendly).unwrap(), raw);
    }
}

#[test]
fn the_masterchain_and_usdt_master_read_in_both_forms() {
    // ton-core `Address.spec.ts`: the masterchain's workchain is -1.
    let elector =
        Address::parse("-1:3333333333333333333333333333333333333333333333333333333333333333")
            .unwrap();
    assert_eq!(elector.workchain, -1);
    assert_eq!(elector.hash, [0x33; 32]);
    let back = elector.to_friendly(
        Flags {
            bounceable: true,
            testnet: false,
        },
        true,
    );
    assert_eq!(Address::parse(&back).unwrap(), elector);

    // USDT's master: TON.md (friendly) and nessshon/tonutils `tests/constants.py`
    // (d9124f06, raw).
    let usdt = Address::parse("EQCxE6mUtQJKFnGfaROTKOt1lZbDiiX1kCixRv7Nw2Id_sDs").unwrap();
    assert_eq!(
        usdt.to_raw(),
        "0:b113a994b5024a16719f69139328eb759596c38a25f59028b146fecdc3621dfe"
    );
}

#[test]
fn the_checksums_have_their_standard_check_values() {
    // ton-core `src/utils/crc16.spec.ts` and `crc32c.spec.ts`: "123456789".
    let crc16 = crc::Crc::<u16>::new(&crc::CRC_16_XMODEM);
    assert_eq!(crc16.checksum(b"123456789"), 0x31c3);
    let crc32c = crc::Crc::<u32>::new(&crc::CRC_32_ISCSI);
    assert_eq!(
        crc32c.checksum(b"123456789").to_le_bytes(),
        [0x83, 0x92, 0x06, 0xe3]
    );
}

#[test]
fn malformed_addresses_are_refused() {
    let refused = [
        // ton-core's: a 31-byte hash, a URL, a short friendly form, a mix.
        "0:2cf55953e92efbeadab7ba725c3f93a0b23f842cbba72d7b8e6f510a70e422",
        "0:2cf55953e92efbeadab7ba725c3f93a0b23f842cbba72d7b8e6f510a70e422e",
        "ton://EQAs9VlT6S776tq3unJcP5Ogsj-ELLunLXuOb1EKcOQi4wJB",
        "EQAs9VlT6S776tq3unJcP5Ogsj-ELLunLXuOb1EKcOQi4wJ",
        "0:EQDXDCFLXgiTrjGSNVBuvKPZVYlPn3J_u96xxLas3_yoRWRk",
        // Ours: a checksum one off, a workchain past int8, no hash.
        "EQAs9VlT6S776tq3unJcP5Ogsj-ELLunLXuOb1EKcOQi4wJC",
        "128:2cf55953e92efbeadab7ba725c3f93a0b23f842cbba72d7b8e6f510a70e422e3",
        "0:",
        "",
    ];
    for text in refused {
        assert!(Address::parse(text).is_err(), "{text}");
    }

    // Flags other than 0x11 and 0x51 (with or without 0x80), checksum right.
    let crc16 = crc::Crc::<u16>::new(&crc::CRC_16_XMODEM);
    for flags in [0x00, 0x10, 0x12, 0x31, 0x91 | 0x40 | 0x20] {
        let mut bytes = [0u8; 36];
        bytes[0] = flags;
        let crc = crc16.checksum(&bytes[..34]).to_be_bytes();
        bytes[34..].copy_from_slice(&crc);
        let text = super::b64(&bytes);
        assert_eq!(
            Address::parse_friendly(&text).unwrap_err().0,
            "unknown address flags"
        );
    }
}

#[test]
#[should_panic(expected = "int8 workchain")]
fn a_hand_built_workchain_past_int8_has_no_friendly_form() {
    let a = Address {
        workchain: 1000,
        hash: [0; 32],
    };
    a.to_friendly(
        Flags {
            bounceable: true,
            testnet: false,
        },
        true,
    );
}
