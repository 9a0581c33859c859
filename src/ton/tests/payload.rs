//! Message bodies: comments of every length, jetton transfers byte for byte
//! against published ones, and real transfer notifications read back.

use super::*;
use crate::ton::payload::{
    comment, comment_cell, jetton_transfer, read_body, read_body_base64, Body, JettonTransfer,
    TransferNotification, OP_TRANSFER_NOTIFICATION,
};
use crate::ton::{Address, CellBuilder};

fn read_comment(cell: &Cell) -> String {
    match read_body(cell).unwrap() {
        Body::Comment(text) => text,
        other => panic!("not a comment: {other:?}"),
    }
}

#[test]
fn comments_of_every_length_round_trip() {
    let texts = [
        String::new(),
        "order 42".into(),
        "a".repeat(123),
        "a".repeat(124),
        "b".repeat(123 + 127),
        "c".repeat(123 + 127 + 1),
        "é".repeat(300),               // 2-byte characters split across cells
        "💎 Ünïcödé 商店 ".repeat(40), // 4-, 2- and 3-byte characters
    ];
    for text in texts {
        let cell = comment_cell(&text).unwrap();
        assert_eq!(read_comment(&cell), text);
        assert_eq!(
            read_body_base64(&comment(&text).unwrap()).unwrap(),
            Body::Comment(text.clone())
        );
    }
}

#[test]
fn a_comment_fills_cells_of_127_bytes_after_its_op() {
    let one = comment_cell(&"a".repeat(123)).unwrap();
    assert_eq!((one.bit_len(), one.refs().len()), (32 + 123 * 8, 0));
    let two = comment_cell(&"a".repeat(124)).unwrap();
    assert_eq!((two.bit_len(), two.refs().len()), (32 + 123 * 8, 1));
    assert_eq!(two.refs()[0].bit_len(), 8);
    let three = comment_cell(&"a".repeat(123 + 127 + 1)).unwrap();
    assert_eq!(three.refs()[0].bit_len(), 127 * 8);
    assert_eq!(three.refs()[0].refs()[0].bit_len(), 8);
    assert_eq!(three.depth(), 2);
}

// Jetton transfers from pypi-data/pypi-mirror-321, package
// `ton-message-body-decoder` 0.0.1, `tests/test_jetton_transfers/
// test_jetton_transfer_payload_decoding.py` (ab54847c): the bags of cells
// and the fields they decode to there.

#[test]
fn a_jetton_transfer_is_byte_for_byte_a_published_one() {
    let cases = [
        (
            0,
            1,
            "UQAX5qMsA6OaJyhtJQocEKLinUvk1dTgnZRRxB-0omT-WHAv",
            "UQD7EmELlibbgmLLQ0japUp0eP3nEmAhTnITYg55gQnVG7ZS",
            10_000_000,
            "pytest transfer",
            "te6cckEBAgEAbAABqA+KfqUAAAAAAAAAABAYAC/NRlgHRzROUNpKFDghRcU6l8mrqcE7KKOIP2lEyfyxAD7EmELlibbgmLLQ0japUp0eP3nEmAhTnITYg55gQnVGxzEtAQEAJgAAAABweXRlc3QgdHJhbnNmZXLpA50E",
        ),
        (
            0,
            8_467_485,
            "UQD99S6qaAZS1wO-hmgJGCWOVW2NBnimobPw_SOo-7CR638T",
            "UQAPeOH4QovellIuByIMq9lyp_0bXhqHVDXGp46Wc5_QPYZ-",
            10_000_000,
            "testnet W$RYreg4wt£%$^)_# transfer",
            "te6cckEBAgEAggABrA+KfqUAAAAAAAAAADgTQdgB++pdVNAMpa4HfQzQEjBLHKrbGgzxTUNn4fpHUfdhI9cAA944fhCi96WUi4HIgyr2XKn/RteGodUNcanjpZzn9A9HMS0BAQBOAAAAAHRlc3RuZXQgVyRSWXJlZzR3dMKjJSReKV8jIHRyYW5zZmVyl+m69A==",
        ),
    ];
    for (query_id, amount, destination, response, forward, text, expected) in cases {
        let t = JettonTransfer {
            query_id,
            amount,
            destination: &Address::parse(destination).unwrap(),
            response_destination: &Address::parse(response).unwrap(),
            forward_ton_amount: forward,
            comment: text,
        };
        assert_eq!(jetton_transfer(&t).unwrap(), expected, "{text}");
    }
}

// Notifications from the same package, `test_incoming_notification_decoding.py`.

#[test]
fn published_transfer_notifications_read_back() {
    let sender = Address::parse("UQAPeOH4QovellIuByIMq9lyp_0bXhqHVDXGp46Wc5_QPYZ-").unwrap();
    let cases = [
        (
            "te6cckEBAgEAUQABZHNi0JwAAAAAAAAAAEO5rKAIAB7xw/CFF70spFwORBlXsuVP+ja8NQ6oa41PHSznP6B7AQA0AAAAAHRlc3RuZXQgQUlPVFggdHJhbnNmZXI96LjF",
            1_000_000_000,
            "testnet AIOTX transfer",
        ),
        (
            "te6cckEBAgEAXgABZnNi0JwAAAAAAAAAAF6NSlEACAAe8cPwhRe9LKRcDkQZV7LlT/o2vDUOqGuNTx0s5z+gewEATAAAAAB0ZXN0bmV0IEFJT1RYIHlydCBhbm90aGVyIHRyYW5zZmVy0VckhA==",
            1_000_000_000_000,
            "testnet AIOTX yrt another transfer",
        ),
        (
            "te6cckEBAgEAXQABYnNi0JwAAAAAAAAAADgTQdgAHvHD8IUXvSykXA5EGVey5U/6Nrw1DqhrjU8dLOc/oHsBAE4AAAAAdGVzdG5ldCBXJFJZcmVnNHd0wqMlJF4pXyMgdHJhbnNmZXKEkLo7",
            8_467_485,
            "testnet W$RYreg4wt£%$^)_# transfer",
        ),
    ];
    for (boc, amount, text) in cases {
        assert_eq!(
            read_body_base64(boc).unwrap(),
            Body::TransferNotification(TransferNotification {
                query_id: 0,
                amount,
                sender: Some(sender),
                comment: Some(text.into()),
            })
        );
    }
}

/// A notification whose forward payload is `payload`: inline (Either bit 0,
/// its bits and references appended) or in a reference (bit 1).
fn notification(inline: bool, payload: &Cell) -> Cell {
    let sender = Address {
        workchain: 0,
        hash: [5; 32],
    };
    let mut b = CellBuilder::new();
    b.store_uint(32, OP_TRANSFER_NOTIFICATION.into()).unwrap();
    b.store_uint(64, 77)
        .unwrap()
        .store_coins(1_500_000)
        .unwrap();
    b.store_address(Some(&sender)).unwrap();
    if inline {
        b.store_bit(false).unwrap();
        let mut s = payload.parse();
        while s.remaining_bits() > 0 {
            b.store_bit(s.load_bit().unwrap()).unwrap();
        }
        for r in payload.refs() {
            b.store_ref(r.clone()).unwrap();
        }
    } else {
        b.store_bit(true)
            .unwrap()
            .store_ref(payload.clone())
            .unwrap();
    }
    b.build().unwrap()
}

fn notified_comment(body: &Cell) -> Option<String> {
    match read_body(body).unwrap() {
        Body::TransferNotification(n) => {
            assert_eq!((n.query_id, n.amount), (77, 1_500_000));
            n.comment
        }
        other => panic!("not a notification: {other:?}"),
    }
}

#[test]
fn a_forward_payload_comment_is_read_inline_or_from_its_reference() {
    for text in ["ord-1", &"x".repeat(200)] {
        let c = comment_cell(text).unwrap();
        assert_eq!(
            notified_comment(&notification(false, &c)).as_deref(),
            Some(text)
        );
    }
    // Inline, the comment starts mid-byte (32 + 64 + 28 + 267 + 1 bits in).
    let short = comment_cell("ord-1").unwrap();
    assert_eq!(
        notified_comment(&notification(true, &short)).as_deref(),
        Some("ord-1")
    );
}

#[test]
fn a_forward_payload_that_is_no_comment_reads_as_none() {
    let empty = CellBuilder::new().build().unwrap();
    let other_op = CellBuilder::new()
        .store_uint(32, 0xdead_beef)
        .unwrap()
        .store_bytes(b"hi")
        .unwrap()
        .build()
        .unwrap();
    let short = CellBuilder::new()
        .store_uint(16, 0)
        .unwrap()
        .build()
        .unwrap();
    for payload in [&empty, &other_op, &short] {
        assert_eq!(notified_comment(&notification(true, payload)), None);
        assert_eq!(notified_comment(&notification(false, payload)), None);
    }
}

#[test]
fn bodies_that_are_neither_comment_nor_notification() {
    assert_eq!(
        read_body(&CellBuilder::new().build().unwrap()).unwrap(),
        Body::Empty
    );
    let short = CellBuilder::new()
        .store_uint(31, 0)
        .unwrap()
        .build()
        .unwrap();
    assert_eq!(read_body(&short).unwrap(), Body::Other);
    let t = JettonTransfer {
        query_id: 1,
        amount: 1,
        destination: &Address {
            workchain: 0,
            hash: [1; 32],
        },
        response_destination: &Address {
            workchain: 0,
            hash: [2; 32],
        },
        forward_ton_amount: 1,
        comment: "x",
    };
    assert_eq!(
        read_body_base64(&jetton_transfer(&t).unwrap()).unwrap(),
        Body::Other
    );
}

#[test]
fn broken_comments_and_notifications_are_refused() {
    let not_utf8 = CellBuilder::new()
        .store_uint(32, 0)
        .unwrap()
        .store_bytes(&[0xff, 0xfe])
        .unwrap()
        .build()
        .unwrap();
    let odd_bits = CellBuilder::new()
        .store_uint(36, 0)
        .unwrap()
        .build()
        .unwrap();
    let two_refs = CellBuilder::new()
        .store_uint(32, 0)
        .unwrap()
        .store_ref(comment_cell("a").unwrap())
        .unwrap()
        .store_ref(comment_cell("b").unwrap())
        .unwrap()
        .build()
        .unwrap();
    let truncated = CellBuilder::new()
        .store_uint(32, OP_TRANSFER_NOTIFICATION.into())
        .unwrap()
        .store_uint(64, 1)
        .unwrap()
        .build()
        .unwrap();
    let missing_ref = {
        let mut b = CellBuilder::new();
        b.store_uint(32, OP_TRANSFER_NOTIFICATION.into()).unwrap();
        b.store_uint(64, 1).unwrap().store_coins(5).unwrap();
        b.store_address(None).unwrap().store_bit(true).unwrap();
        b.build().unwrap()
    };
    for (what, body) in [
        ("not UTF-8", not_utf8.clone()),
        ("not whole bytes", odd_bits),
        ("two references", two_refs),
        ("a truncated notification", truncated),
        ("a payload reference missing", missing_ref),
        (
            "a forward comment not UTF-8",
            notification(false, &not_utf8),
        ),
    ] {
        assert!(read_body(&body).is_err(), "{what}");
    }
    assert!(read_body_base64("te6cc").is_err());
}

#[test]
fn a_comment_too_long_for_1024_nested_cells_is_refused() {
    let longest = "a".repeat(123 + 1024 * 127);
    assert_eq!(comment_cell(&longest).unwrap().depth(), 1024);
    let longer = format!("{longest}a");
    assert_eq!(
        comment_cell(&longer).unwrap_err().0,
        "cells nest deeper than 1024"
    );
    assert!(comment(&longer).is_err());
    let t = JettonTransfer {
        query_id: 1,
        amount: 1,
        destination: &Address {
            workchain: 0,
            hash: [1; 32],
        },
        response_destination: &Address {
            workchain: 0,
            hash: [2; 32],
        },
        forward_ton_amount: 1,
        comment: &longest,
    };
    // The transfer's body adds a level: the longest comment no longer fits.
    assert!(jetton_transfer(&t).is_err());
}
