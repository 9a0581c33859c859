//! The chain's rules, without HTTP: what a payment leaves in the ledger, checked by reading
//! the bodies back the way a shop would.

use std::time::Duration;

use tonlib_core::message::{TonMessage, JETTON_TRANSFER_NOTIFICATION};
use tonlib_core::TonAddress;

use super::cells::{self, read_comment};
use super::chain::{OutSpec, EXIT_NOT_ENOUGH_JETTONS, EXIT_NOT_OWNER};
use super::ledger::{jetton_wallet_address, BounceRule, Compute, Ledger, Status, Tx};
use super::send::{jetton_transfer_body, Asset, Payment, JETTON_TRANSFER_TON};
use super::{format_decimal, parse_decimal, TonConfig, TON, USDT};
use tonlib_core::message::JettonTransferNotificationMessage;

fn ledger() -> Ledger {
    Ledger::new(&TonConfig {
        finality: Duration::from_secs(3600),
        ..TonConfig::default()
    })
}

fn shop() -> TonAddress {
    cells::address("0:1111111111111111111111111111111111111111111111111111111111111111").unwrap()
}

fn stranger() -> TonAddress {
    cells::address("0:2222222222222222222222222222222222222222222222222222222222222222").unwrap()
}

fn txs_of<'a>(l: &'a Ledger, hashes: &[tonlib_core::TonHash], account: &TonAddress) -> Vec<&'a Tx> {
    hashes
        .iter()
        .map(|h| l.tx(h).unwrap())
        .filter(|t| &t.account == account)
        .collect()
}

fn payment(asset: Asset, amount: u128, comment: &str) -> Payment {
    Payment {
        from: stranger(),
        to: shop(),
        asset,
        amount,
        comment: Some(comment.into()),
        forward_ton_amount: 1,
        bounce: true,
        inline_payload: false,
    }
}

#[test]
fn a_ton_payment_lands_on_the_receiver_with_its_comment_and_waits_for_finality() {
    let mut l = ledger();
    let hashes = l.pay_from_outside(&payment(Asset::Ton, 2 * TON, "order-1"));
    let got = txs_of(&l, &hashes, &shop());
    assert_eq!(got.len(), 1);
    let tx = got[0];
    assert_eq!(tx.in_msg.source, Some(stranger()));
    assert_eq!(tx.in_msg.value, 2 * TON);
    assert!(!tx.aborted && !tx.in_msg.bounced);
    assert_eq!(read_comment(&tx.in_msg.body).as_deref(), Some("order-1"));
    // The payer's own transaction comes first, from an external message.
    assert!(l.tx(&hashes[0]).unwrap().in_msg.source.is_none());
    let now = crate::state::now_ms();
    assert!(!Ledger::is_final(tx, now));
    assert_eq!(l.finalize(Some(&tx.trace_id.clone())), 2);
    assert!(Ledger::is_final(l.tx(&hashes[1]).unwrap(), now));
}

#[test]
fn a_usdt_payment_notifies_the_receiver_from_its_own_usdt_wallet() {
    let mut l = ledger();
    let hashes = l.pay_from_outside(&payment(Asset::Usdt, 25 * USDT, "order-2"));
    let usdt = l.usdt_master();
    let shop_wallet = jetton_wallet_address(&usdt, &shop());
    let got = txs_of(&l, &hashes, &shop());
    assert_eq!(got.len(), 1, "one notification to the shop");
    let n = got[0];
    assert_eq!(n.in_msg.source, Some(shop_wallet.clone()));
    let body = JettonTransferNotificationMessage::parse(&n.in_msg.body).unwrap();
    assert_eq!(
        cells::opcode(&n.in_msg.body),
        Some(JETTON_TRANSFER_NOTIFICATION)
    );
    assert_eq!(body.amount, (25 * USDT).into());
    assert_eq!(body.sender, stranger());
    assert_eq!(
        read_comment(&body.forward_payload).as_deref(),
        Some("order-2")
    );
    assert_eq!(l.jetton_balance(&usdt, &shop()), 25 * USDT);
    assert_eq!(l.accounts[&shop_wallet].status, Status::Active);
    // The excess goes back to the payer.
    assert_eq!(txs_of(&l, &hashes, &stranger()).len(), 2);
}

#[test]
fn a_fake_usdt_notification_comes_from_another_jetton_wallet() {
    let mut l = ledger();
    let hashes = l.pay_from_outside(&payment(Asset::FakeUsdt, 25 * USDT, "order-3"));
    let real = jetton_wallet_address(&l.usdt_master(), &shop());
    let n = txs_of(&l, &hashes, &shop())[0];
    let source = n.in_msg.source.clone().unwrap();
    assert_ne!(source, real);
    assert_eq!(
        source,
        jetton_wallet_address(&l.fake_master.clone().unwrap(), &shop())
    );
    assert_eq!(l.jetton_balance(&l.usdt_master(), &shop()), 0);
}

#[test]
fn a_bounce_rule_aborts_the_receiver_and_returns_the_value_bounced() {
    let mut l = ledger();
    l.bounce_rules.push(BounceRule {
        address: Some(shop()),
        exit_code: None,
    });
    let hashes = l.pay_from_outside(&payment(Asset::Ton, TON, "order-4"));
    let t = txs_of(&l, &hashes, &shop())[0];
    assert!(t.aborted && t.bounce_sent);
    assert_eq!(t.compute, Compute::Skipped("no_state"));
    assert!(!t.in_msg.bounced);
    let back = txs_of(&l, &hashes, &stranger());
    assert!(back[1].in_msg.bounced && !back[1].in_msg.bounce);
    assert_eq!(cells::opcode(&back[1].in_msg.body), Some(0xffff_ffff));
    // The rule was used up: the next payment lands.
    let hashes = l.pay_from_outside(&payment(Asset::Ton, TON, "order-4"));
    assert!(!txs_of(&l, &hashes, &shop())[0].aborted);
}

#[test]
fn a_non_bounceable_payment_to_an_undeployed_account_stays_there() {
    let mut l = ledger();
    l.account_mut(&shop()).status = Status::Uninit;
    let mut p = payment(Asset::Ton, TON, "x");
    p.bounce = false;
    let hashes = l.pay_from_outside(&p);
    let t = txs_of(&l, &hashes, &shop())[0];
    assert!(t.aborted && !t.bounce_sent);
    assert_eq!(l.accounts[&shop()].balance, TON);
}

#[test]
fn only_the_owner_moves_jettons_and_not_more_than_held() {
    let mut l = ledger();
    let user = l.user_wallet(7);
    let usdt = l.usdt_master();
    let own = jetton_wallet_address(&usdt, user.address());
    // The stranger tries to move the user's jettons.
    let body = jetton_transfer_body(1, USDT, &shop(), &stranger(), 1, None);
    let hashes = l.run_internal(&stranger(), OutSpec::new(own.clone(), TON, true, body));
    assert_eq!(
        l.tx(&hashes[0]).unwrap().compute,
        Compute::Failed(EXIT_NOT_OWNER)
    );
    // The user sends more than they hold: the jetton wallet refuses, the TON bounces back.
    let too_much = l.config.start_usdt + 1;
    let body = jetton_transfer_body(2, too_much, &shop(), user.address(), 1, None);
    let (_, hashes) = l
        .send_from_wallet(
            7,
            vec![OutSpec::new(own.clone(), JETTON_TRANSFER_TON, true, body)],
            u32::MAX,
        )
        .unwrap();
    let jt = txs_of(&l, &hashes, &own)[0];
    assert_eq!(jt.compute, Compute::Failed(EXIT_NOT_ENOUGH_JETTONS));
    assert!(txs_of(&l, &hashes, user.address())[1].in_msg.bounced);
    assert_eq!(l.jetton_balance(&usdt, user.address()), l.config.start_usdt);
}

#[test]
fn a_users_wallet_deploys_with_its_first_message_and_counts_seqno() {
    let mut l = ledger();
    let user = l.user_wallet(8);
    assert_eq!(l.accounts[user.address()].status, Status::Uninit);
    let out = OutSpec::new(shop(), TON, true, cells::comment_cell("a").unwrap());
    let (boc, hashes) = l.send_from_wallet(8, vec![out.clone()], u32::MAX).unwrap();
    let first = l.tx(&hashes[0]).unwrap();
    assert_eq!(
        (first.orig_status, first.end_status),
        (Status::Uninit, Status::Active)
    );
    assert!(first.in_msg.init.is_some());
    assert!(cells::parse_boc(&boc).is_ok());
    let (_, hashes) = l.send_from_wallet(8, vec![out], u32::MAX).unwrap();
    assert!(l.tx(&hashes[0]).unwrap().in_msg.init.is_none());
    assert_eq!(l.accounts[user.address()].seqno, 2);
    let spent = l.config.start_nanotons - l.accounts[user.address()].balance;
    assert!(spent > 2 * TON && spent < 2 * TON + TON / 10, "{spent}");
    let err = l
        .send_from_wallet(
            8,
            vec![OutSpec::new(
                shop(),
                100 * TON,
                true,
                super::ledger::empty(),
            )],
            u32::MAX,
        )
        .unwrap_err();
    assert!(err.contains("insufficient"), "{err}");
}

#[test]
fn decimal_amounts_parse_and_print() {
    assert_eq!(parse_decimal("1.5", 9), Ok(1_500_000_000));
    assert_eq!(parse_decimal("10", 6), Ok(10_000_000));
    assert!(parse_decimal("1.1234567", 6).is_err());
    assert!(parse_decimal("-1", 6).is_err() && parse_decimal("", 6).is_err());
    assert_eq!(format_decimal(1_500_000_000, 9), "1.5");
    assert_eq!(format_decimal(25_000_000, 6), "25");
}
