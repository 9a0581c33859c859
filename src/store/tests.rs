//! Both stores through the same operations, held to the same results: the D1
//! store's SQL on SQLite, the KV store's Rust on [`MemoryKv`]. Where they
//! differ on purpose (KV prunes by expiry), the test says so.

use pollster::block_on;

use super::d1::D1Store;
use super::kv::KvStore;
use super::memory::MemoryKv;
use super::sqlite::Sqlite;
use super::{Outcome, Owed, Store};
use crate::i18n::Lang;
use crate::shop::access::{AccessLink, Member};
use crate::shop::export::Filter;
use crate::shop::outbox::{self, Outgoing, Settle, LEASE};
use crate::shop::ton::TonWallet;
use crate::shop::{Order, OrderStatus, Payment, Product};

const T0: u64 = 1_750_000_000;
const DAY: i64 = 86_400;

fn d1() -> D1Store<Sqlite> {
    D1Store::new(Sqlite::new())
}

fn kv() -> KvStore<MemoryKv> {
    KvStore::new(MemoryKv::default())
}

/// Runs the generic async `scenario` on a fresh D1 store and a fresh KV
/// store, requires equal results, and returns them.
macro_rules! on_both {
    ($scenario:ident) => {{
        let a = block_on($scenario(&d1()));
        let b = block_on($scenario(&kv()));
        assert_eq!(
            a, b,
            "the D1 store (left) and the KV store (right) disagree"
        );
        a
    }};
}

fn order(id: &str, user: i64, product: &str, at: u64) -> Order {
    let period = product.starts_with("sub").then_some(2_592_000);
    Order::new(id.into(), user, &Product::stars(product, 5, period), at)
}

fn payment(order: &str, charge: &str, at: u64, until: Option<i64>, first: bool) -> Payment {
    Payment {
        telegram_payment_charge_id: charge.into(),
        provider_payment_charge_id: String::new(),
        order_id: order.into(),
        user_id: 7,
        currency: "XTR".into(),
        amount: 5,
        paid_at: at,
        subscription_expiration_date: until,
        is_recurring: until.is_some(),
        is_first_recurring: first,
        refunded_at: None,
        raw_update: format!("{{\"charge\":\"{charge}\"}}"),
    }
}

fn message(id: &str) -> Outgoing {
    outbox::notice(id, 42, "hello", Some("o1"))
}

async fn orders_are_stored_and_listed_newest_first<S: Store>(s: &S) -> Vec<String> {
    for (id, at) in [("a", T0), ("c", T0 + 3), ("b", T0 + 2)] {
        s.insert_order(&order(id, 7, "pack", at)).await.unwrap();
    }
    s.insert_order(&order("x", 8, "pack", T0)).await.unwrap();
    assert_eq!(s.order("a").await.unwrap(), Some(order("a", 7, "pack", T0)));
    // The buyer's language is kept with the order, however it was inserted.
    let zh = Order {
        language: Lang::ZH,
        username: Some("Ann_B".into()),
        ..order("z", 9, "pack", T0)
    };
    assert!(s.insert_pending_order(&zh, 10).await.unwrap());
    assert_eq!(s.order("z").await.unwrap(), Some(zh.clone()));
    assert_eq!(s.orders_for_user(9, 5).await.unwrap(), [zh]);
    assert_eq!(s.order("nope").await.unwrap(), None);
    let listed = s.orders_for_user(7, 2).await.unwrap();
    listed.into_iter().map(|o| o.id).collect()
}

#[test]
fn orders_are_stored_and_listed_newest_first_test() {
    assert_eq!(
        on_both!(orders_are_stored_and_listed_newest_first),
        ["c", "b"]
    );
}

async fn a_payment_applies_once<S: Store>(s: &S) -> (Vec<Outcome>, Option<Order>, bool, bool) {
    s.insert_order(&order("o1", 7, "pack", T0)).await.unwrap();
    let p = payment("o1", "c1", T0 + 5, None, false);
    let first = s.record_payment(&p, Some(10), T0 + 5, None).await.unwrap();
    let again = s.record_payment(&p, Some(11), T0 + 9, None).await.unwrap();
    assert_eq!(first.order, again.order, "a redelivery changes nothing");
    assert!(
        !s.claim_update(10, T0).await.unwrap(),
        "its update counts as processed"
    );
    let stored = s.payments(10).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!((stored[0].order_id.as_str(), stored[0].amount), ("o1", 5));
    (
        vec![first.outcome, again.outcome],
        first.order,
        first.owed.is_none(),
        again.owed.is_none(),
    )
}

#[test]
fn a_payment_applies_once_test() {
    let (outcomes, order, _, _) = on_both!(a_payment_applies_once);
    assert_eq!(outcomes, [Outcome::Applied, Outcome::AlreadyDone]);
    let order = order.unwrap();
    assert_eq!(
        (order.status, order.paid_at),
        (OrderStatus::Paid, Some(T0 + 5))
    );
    assert_eq!(order.telegram_payment_charge_id.as_deref(), Some("c1"));
}

/// Payments applied in the order given, with refunds (`None` charge = refund
/// of the first charge) in between: how the order ends up.
async fn apply_all<S: Store>(
    s: &S,
    steps: &[(Option<&str>, u64, Option<i64>, bool)],
) -> Option<Order> {
    s.insert_order(&order("o", 7, "sub", T0)).await.unwrap();
    let mut first_charge = None;
    for (i, (charge, at, until, first)) in steps.iter().enumerate() {
        match charge {
            Some(c) => {
                first_charge.get_or_insert(*c);
                let p = payment("o", c, *at, *until, *first);
                s.record_payment(&p, Some(i as i64), *at, None)
                    .await
                    .unwrap();
            }
            None => {
                let c = first_charge.expect("a refund after a payment");
                s.record_refund(c, *at).await.unwrap();
            }
        }
    }
    s.order("o").await.unwrap()
}

/// Every order of a few renewals (some delivered twice, out of order), with
/// and without a refund: the SQL rule and the Rust rule agree on each.
#[test]
fn the_sql_and_the_rust_payment_rules_agree_on_every_sequence() {
    let until = |n: i64| Some(T0 as i64 + n * 30 * DAY);
    let steps: Vec<(Option<&str>, u64, Option<i64>, bool)> = vec![
        (Some("c1"), T0 + 1, until(1), true),
        (Some("c2"), T0 + 30 * DAY as u64, until(2), false),
        (Some("c3"), T0 + 60 * DAY as u64, until(3), false),
        (Some("c2"), T0 + 30 * DAY as u64, until(2), false),
        (None, T0 + 61 * DAY as u64, None, false),
    ];
    let mut runs = 0;
    // Every ordering of every subset of the steps, keeping each run short.
    let n = steps.len();
    for mask in 1u32..(1 << n) {
        let picked: Vec<_> = (0..n)
            .filter(|i| mask & (1 << i) != 0)
            .map(|i| steps[i])
            .collect();
        for order in permutations(picked.len()) {
            let seq: Vec<_> = order.iter().map(|&i| picked[i]).collect();
            if seq.first().is_some_and(|s| s.0.is_none()) {
                continue; // a refund needs a payment before it
            }
            let a = block_on(apply_all(&d1(), &seq));
            let b = block_on(apply_all(&kv(), &seq));
            assert_eq!(a, b, "{seq:?}");
            runs += 1;
        }
    }
    assert_eq!(
        runs, 260,
        "every ordering of every subset that starts with a payment"
    );
}

fn permutations(n: usize) -> Vec<Vec<usize>> {
    if n == 0 {
        return vec![vec![]];
    }
    let mut out = Vec::new();
    for rest in permutations(n - 1) {
        for at in 0..=rest.len() {
            let mut p = rest.clone();
            p.insert(at, n - 1);
            out.push(p);
        }
    }
    out
}

/// Records a payment with goods owed for `product` and `user`: how many of
/// them this call queued, or `None` when they were not owed.
async fn owing<S: Store>(
    s: &S,
    order: &str,
    charge: &str,
    product: &str,
    user: i64,
) -> Option<usize> {
    let goods = [message(&format!("goods:{order}"))];
    let owed = Owed {
        product_id: product,
        user_id: user,
        messages: &goods,
    };
    let p = payment(order, charge, T0 + 1, None, false);
    let r = s
        .record_payment(&p, Some(1), T0 + 1, Some(owed))
        .await
        .unwrap();
    r.owed.map(|q| q.len())
}

async fn goods_are_queued_only_for_the_order_the_invoice_named<S: Store>(
    s: &S,
) -> Vec<Option<usize>> {
    for id in ["o1", "o2", "o3"] {
        s.insert_order(&order(id, 7, "pack", T0)).await.unwrap();
    }
    vec![
        // Owed for another product or buyer: not queued, the caller decides.
        owing(s, "o1", "c1", "other", 7).await,
        owing(s, "o2", "c2", "pack", 8).await,
        // A payment for an order that does not exist owes nothing here.
        owing(s, "ghost", "c3", "pack", 7).await,
        owing(s, "o3", "c4", "pack", 7).await,
        // Delivered again: it still holds, and nothing is queued twice.
        owing(s, "o3", "c4", "pack", 7).await,
    ]
}

#[test]
fn goods_are_queued_only_for_the_order_the_invoice_named_test() {
    assert_eq!(
        on_both!(goods_are_queued_only_for_the_order_the_invoice_named),
        [None, None, None, Some(1), Some(0)]
    );
}

async fn a_refund_is_recorded_once<S: Store>(s: &S) -> (Vec<Outcome>, OrderStatus, Option<u64>) {
    s.insert_order(&order("o1", 7, "pack", T0)).await.unwrap();
    let p = payment("o1", "c1", T0 + 1, None, false);
    s.record_payment(&p, Some(1), T0 + 1, None).await.unwrap();
    let outcomes = vec![
        s.record_refund("c1", T0 + 5).await.unwrap(),
        s.record_refund("c1", T0 + 9).await.unwrap(),
        s.record_refund("unknown", T0 + 9).await.unwrap(),
    ];
    // A payment Telegram reports again after the refund leaves it refunded.
    let late = payment("o1", "c9", T0 + 10, None, false);
    s.record_payment(&late, Some(2), T0 + 10, None)
        .await
        .unwrap();
    let o = s.order("o1").await.unwrap().unwrap();
    let refunded_at = s
        .payments(10)
        .await
        .unwrap()
        .into_iter()
        .find(|p| p.telegram_payment_charge_id == "c1")
        .and_then(|p| p.refunded_at);
    (outcomes, o.status, refunded_at)
}

#[test]
fn a_refund_is_recorded_once_test() {
    let (outcomes, status, at) = on_both!(a_refund_is_recorded_once);
    assert_eq!(
        outcomes,
        [Outcome::Applied, Outcome::AlreadyDone, Outcome::AlreadyDone]
    );
    assert_eq!((status, at), (OrderStatus::Refunded, Some(T0 + 5)));
}

async fn order_states_move_as_the_rules_say<S: Store>(s: &S) -> Vec<(String, OrderStatus, bool)> {
    s.insert_order(&order("old", 7, "pack", T0)).await.unwrap();
    s.insert_order(&order("new", 7, "pack", T0 + 100))
        .await
        .unwrap();
    s.insert_order(&order("bad", 7, "pack", T0)).await.unwrap();
    s.insert_order(&order("sub", 7, "sub", T0 + 100))
        .await
        .unwrap();
    s.mark_failed("bad").await.unwrap();
    assert_eq!(s.expire_pending(T0 + 50).await.unwrap(), 1, "only `old`");
    s.mark_failed("old").await.unwrap(); // failing is only for pending orders
    s.set_renewal_canceled("sub", true).await.unwrap();
    let mut out: Vec<_> = s
        .orders_for_user(7, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|o| (o.id, o.status, o.renewal_canceled))
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[test]
fn order_states_move_as_the_rules_say_test() {
    let states = on_both!(order_states_move_as_the_rules_say);
    assert_eq!(
        states,
        [
            ("bad".to_string(), OrderStatus::Failed, false),
            ("new".to_string(), OrderStatus::Pending, false),
            ("old".to_string(), OrderStatus::Expired, false),
            ("sub".to_string(), OrderStatus::Pending, true),
        ]
    );
}

async fn updates_are_claimed_once<S: Store>(s: &S) -> Vec<bool> {
    let mut out = vec![];
    for id in [5, 5, 6] {
        out.push(s.claim_update(id, T0).await.unwrap());
    }
    out
}

#[test]
fn updates_are_claimed_once_and_d1_prunes_old_ones() {
    assert_eq!(on_both!(updates_are_claimed_once), [true, false, true]);
    // KV lets `update:` keys expire by themselves; D1 deletes them.
    let s = d1();
    block_on(s.claim_update(1, T0)).unwrap();
    block_on(s.claim_update(2, T0 + 100)).unwrap();
    assert_eq!(block_on(s.prune_updates(T0 + 50)).unwrap(), 1);
    assert!(block_on(s.claim_update(1, T0 + 200)).unwrap(), "forgotten");
    assert_eq!(block_on(kv().prune_updates(T0 + 50)).unwrap(), 0);
}

async fn the_outbox_leases_retries_and_settles<S: Store>(s: &S) -> Vec<(String, u32)> {
    let (a, b) = (message("a"), message("b"));
    let leased = s.enqueue(&[a.clone(), b.clone()], T0).await.unwrap();
    assert_eq!(leased.len(), 2);
    assert!(
        s.enqueue(std::slice::from_ref(&a), T0)
            .await
            .unwrap()
            .is_empty(),
        "queued once"
    );
    // Leased to the first sender: nobody else may take them yet.
    assert!(s.lease_due(T0 + LEASE - 1, 10).await.unwrap().is_empty());
    s.settle(&a.id, &Settle::Sent, T0 + 1).await.unwrap();
    let retry = Settle::Retry {
        at: T0 + 60,
        error: "flood".into(),
    };
    s.settle(&b.id, &retry, T0 + 1).await.unwrap();
    let due = s.lease_due(T0 + 60, 10).await.unwrap();
    let mut out: Vec<_> = due
        .iter()
        .map(|q| (q.message.id.clone(), q.attempts))
        .collect();
    assert_eq!(due[0].message, b, "the message comes back as it was queued");
    let failed = Settle::Failed {
        error: "blocked".into(),
    };
    s.settle(&b.id, &failed, T0 + 61).await.unwrap();
    assert!(
        s.lease_due(T0 + 10_000, 10).await.unwrap().is_empty(),
        "sent and failed stay put"
    );
    out.push((
        "limit".into(),
        s.enqueue(&[message("c"), message("d")], T0)
            .await
            .unwrap()
            .len() as u32,
    ));
    out.push((
        "due".into(),
        s.lease_due(T0 + LEASE, 1).await.unwrap().len() as u32,
    ));
    out
}

#[test]
fn the_outbox_leases_retries_and_settles_test() {
    assert_eq!(
        on_both!(the_outbox_leases_retries_and_settles),
        [
            ("notice:b:42".to_string(), 2),
            ("limit".to_string(), 2),
            ("due".to_string(), 1)
        ]
    );
}

/// A flood wait: the message is not sent, comes back when Telegram said, and
/// the lease's attempt is given back; a settled message is left as it is.
async fn a_deferral_gives_its_attempt_back<S: Store>(s: &S) -> Vec<(String, u32)> {
    let (a, b) = (message("a"), message("b"));
    s.enqueue(&[a.clone(), b.clone()], T0).await.unwrap();
    s.settle(&a.id, &Settle::Sent, T0).await.unwrap();
    for m in [&a, &b] {
        s.settle(&m.id, &Settle::Deferred { at: T0 + 40 }, T0)
            .await
            .unwrap();
    }
    assert!(s.lease_due(T0 + 39, 10).await.unwrap().is_empty());
    let due = s.lease_due(T0 + 40, 10).await.unwrap();
    due.iter()
        .map(|q| (q.message.id.clone(), q.attempts))
        .collect()
}

#[test]
fn a_deferral_gives_its_attempt_back_test() {
    assert_eq!(
        on_both!(a_deferral_gives_its_attempt_back),
        [("notice:b:42".to_string(), 1)]
    );
}

/// `MAX_PENDING_ORDERS`: a user's pending orders up to the cap, then none;
/// other users, and orders no longer pending, do not count.
async fn pending_orders_are_capped_per_user<S: Store>(s: &S) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    let mut add = |id: &str, inserted: bool| out.push((id.to_owned(), inserted));
    for (i, id) in ["a", "b", "c"].iter().enumerate() {
        let o = order(id, 7, "pack", T0 + i as u64);
        add(id, s.insert_pending_order(&o, 2).await.unwrap());
    }
    let other = order("x", 8, "pack", T0);
    add("x", s.insert_pending_order(&other, 2).await.unwrap());
    assert_eq!(s.order("c").await.unwrap(), None, "refused: nothing stored");
    // A paid, a failed and an expired order leave room.
    s.record_payment(
        &payment("a", "c1", T0 + 5, None, false),
        Some(1),
        T0 + 5,
        None,
    )
    .await
    .unwrap();
    add(
        "d",
        s.insert_pending_order(&order("d", 7, "pack", T0 + 6), 2)
            .await
            .unwrap(),
    );
    s.mark_failed("d").await.unwrap();
    add(
        "e",
        s.insert_pending_order(&order("e", 7, "pack", T0 + 7), 2)
            .await
            .unwrap(),
    );
    add(
        "f",
        s.insert_pending_order(&order("f", 7, "pack", T0 + 8), 2)
            .await
            .unwrap(),
    );
    s.expire_pending(T0 + 8).await.unwrap();
    add(
        "g",
        s.insert_pending_order(&order("g", 7, "pack", T0 + 9), 2)
            .await
            .unwrap(),
    );
    let stored = s.orders_for_user(7, 100).await.unwrap();
    out.push((
        stored
            .iter()
            .map(|o| format!("{}:{}", o.id, o.status.as_str()))
            .collect::<Vec<_>>()
            .join(","),
        true,
    ));
    out
}

#[test]
fn pending_orders_are_capped_per_user_test() {
    let s = |id: &str, ok| (id.to_string(), ok);
    assert_eq!(
        on_both!(pending_orders_are_capped_per_user),
        [
            s("a", true),
            s("b", true),
            s("c", false),
            s("x", true),
            s("d", true),
            s("e", true),
            s("f", false),
            s("g", true),
            s("g:pending,e:expired,d:failed,b:expired,a:paid", true),
        ]
    );
}

async fn the_export_filters_and_groups_charges<S: Store>(s: &S) -> Vec<(String, Vec<String>)> {
    for (id, at) in [("o1", T0), ("o2", T0 + 10), ("o3", T0 + 20)] {
        s.insert_order(&order(id, 7, "pack", at)).await.unwrap();
    }
    for (o, c) in [("o1", "c1"), ("o3", "c3"), ("o3", "c4")] {
        let p = payment(o, c, T0 + 30, None, false);
        s.record_payment(&p, Some(1), T0 + 30, None).await.unwrap();
    }
    let filter = Filter {
        status: Some(OrderStatus::Paid),
        since: Some(T0 + 5),
        limit: 10,
        ..Filter::default()
    };
    s.export(&filter)
        .await
        .unwrap()
        .into_iter()
        .map(|e| {
            let mut charges: Vec<_> = e
                .payments
                .into_iter()
                .map(|p| p.telegram_payment_charge_id)
                .collect();
            charges.sort();
            (e.order.id, charges)
        })
        .collect()
}

#[test]
fn the_export_filters_and_groups_charges_test() {
    assert_eq!(
        on_both!(the_export_filters_and_groups_charges),
        [("o3".to_string(), vec!["c3".to_string(), "c4".to_string()])]
    );
}

async fn the_export_searches_by_q_product_and_currency<S: Store>(s: &S) -> Vec<Vec<String>> {
    let named = |id: &str, user: i64, product: &str, name: Option<&str>| Order {
        username: name.map(str::to_owned),
        ..order(id, user, product, T0)
    };
    s.insert_order(&named("o1", 7, "pack", Some("Ann_B")))
        .await
        .unwrap();
    s.insert_order(&named("o2", 8, "pack", None)).await.unwrap();
    s.insert_order(&named("77", 9, "sub", Some("bob")))
        .await
        .unwrap();
    let mut ton = named("o4", 7, "gem", None);
    ton.currency = "TON".into();
    s.insert_order(&ton).await.unwrap();
    let mut out = Vec::new();
    for query in [
        "q=%40ann_b",
        "q=ANN_B",
        "q=7",
        "q=77",
        "q=o2",
        "q=ann",
        "product=pack",
        "currency=TON",
        "currency=XTR&q=7",
    ] {
        let (_, filter) = crate::shop::export::parse_query(query).unwrap();
        let mut ids: Vec<String> = s
            .export(&filter)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.order.id)
            .collect();
        ids.sort();
        out.push(ids);
    }
    out
}

#[test]
fn the_export_searches_by_q_product_and_currency_test() {
    let ids = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(
        on_both!(the_export_searches_by_q_product_and_currency),
        [
            ids(&["o1"]),
            ids(&["o1"]),
            ids(&["o1", "o4"]),
            // An order id that is a number, and a user id.
            ids(&["77"]),
            ids(&["o2"]),
            ids(&[]),
            ids(&["o1", "o2"]),
            ids(&["o4"]),
            ids(&["o1"]),
        ]
    );
}

async fn an_orders_messages_are_found_with_when_they_were_sent<S: Store>(
    s: &S,
) -> Vec<(String, String, Option<u64>)> {
    let other = outbox::notice("n:2", 42, "hi", Some("o2"));
    s.enqueue(&[message("a:1"), message("b:1"), other], T0)
        .await
        .unwrap();
    s.settle("notice:a:1:42", &Settle::Sent, T0 + 7)
        .await
        .unwrap();
    let mut out: Vec<_> = s
        .outbox_for_order("o1")
        .await
        .unwrap()
        .into_iter()
        .map(|t| (t.message.id, t.status, t.sent_at))
        .collect();
    out.sort();
    out
}

#[test]
fn an_orders_messages_are_found_with_when_they_were_sent_test() {
    assert_eq!(
        on_both!(an_orders_messages_are_found_with_when_they_were_sent),
        [
            (
                "notice:a:1:42".to_string(),
                "sent".to_string(),
                Some(T0 + 7)
            ),
            ("notice:b:1:42".to_string(), "pending".to_string(), None),
        ]
    );
}

async fn payments_since_are_those_paid_or_refunded_since<S: Store>(s: &S) -> Vec<String> {
    for (o, c, at) in [
        ("o1", "c1", T0),
        ("o2", "c2", T0 + 10),
        ("o3", "c3", T0 + 20),
    ] {
        s.insert_order(&order(o, 7, "pack", at)).await.unwrap();
        let p = payment(o, c, at, None, false);
        s.record_payment(&p, None, at, None).await.unwrap();
    }
    s.record_refund("c1", T0 + 30).await.unwrap();
    let found = s.payments_since(T0 + 10, 100).await.unwrap();
    found
        .into_iter()
        .map(|p| p.telegram_payment_charge_id)
        .collect()
}

#[test]
fn payments_since_are_those_paid_or_refunded_since_test() {
    assert_eq!(
        on_both!(payments_since_are_those_paid_or_refunded_since),
        ["c3", "c2", "c1"]
    );
}

#[test]
fn a_payment_and_its_goods_take_one_d1_round_trip() {
    let s = d1();
    block_on(s.insert_order(&order("o1", 7, "pack", T0))).unwrap();
    let before = s.database().round_trips.get();
    let goods = [message("goods:o1")];
    let owed = Owed {
        product_id: "pack",
        user_id: 7,
        messages: &goods,
    };
    let p = payment("o1", "c1", T0 + 1, None, false);
    let r = block_on(s.record_payment(&p, Some(1), T0 + 1, Some(owed))).unwrap();
    assert_eq!(r.owed.map(|q| q.len()), Some(1));
    assert_eq!(s.database().round_trips.get() - before, 1);
    assert_eq!(s.database().count("outbox"), 1);
}

#[test]
fn a_failed_d1_batch_stores_nothing() {
    let s = d1();
    block_on(s.insert_order(&order("o1", 7, "pack", T0))).unwrap();
    s.database().broken.set(true);
    let p = payment("o1", "c1", T0 + 1, None, false);
    assert!(block_on(s.record_payment(&p, Some(1), T0 + 1, None)).is_err());
    s.database().broken.set(false);
    assert_eq!(s.database().count("payments"), 0);
    let o = block_on(s.order("o1")).unwrap().unwrap();
    assert_eq!(o.status, OrderStatus::Pending);
}

fn link(order: &str, user: i64, url: &str, at: u64) -> AccessLink {
    AccessLink {
        order_id: order.into(),
        chat_id: -1_001_234_567_890,
        user_id: user,
        invite_link: url.into(),
        app_url: "https://shop.example/".into(),
        created_at: at,
        revoked_at: None,
    }
}

async fn access_links_are_kept_once_and_revoked<S: Store>(s: &S) -> (String, Vec<String>, bool) {
    let first = s
        .save_access_link(&link("o1", 7, "https://t.me/+one", T0))
        .await
        .unwrap();
    // A retry that made a second link keeps the first.
    let again = s
        .save_access_link(&link("o1", 7, "https://t.me/+two", T0 + 1))
        .await
        .unwrap();
    assert_eq!(first, again);
    s.save_access_link(&link("o2", 7, "https://t.me/+three", T0 + 5))
        .await
        .unwrap();
    s.save_access_link(&link("o3", 8, "https://t.me/+four", T0))
        .await
        .unwrap();
    s.revoke_access_link("o1", T0 + 9).await.unwrap();
    s.revoke_access_link("o1", T0 + 99).await.unwrap();
    let mine: Vec<String> = s
        .access_links_for_user(7)
        .await
        .unwrap()
        .into_iter()
        .map(|l| l.order_id)
        .collect();
    let revoked = s.access_link("o1").await.unwrap().unwrap().revoked_at == Some(T0 + 9);
    (again.invite_link, mine, revoked)
}

#[test]
fn access_links_are_kept_once_and_revoked_test() {
    let (kept, mine, revoked) = on_both!(access_links_are_kept_once_and_revoked);
    assert_eq!(kept, "https://t.me/+one");
    assert_eq!(mine, ["o2", "o1"], "newest first, only the user's");
    assert!(revoked, "revoked once, at the first time");
}

async fn ended_access_is_found<S: Store>(
    s: &S,
) -> Vec<(String, Option<crate::shop::access::Ended>)> {
    let sub = |id: &str| order(id, 7, "sub", T0);
    // Paid one-time, paid subscription (lapsed, and still running), refunded.
    for (o, p) in [
        (
            order("once", 7, "pack", T0),
            payment("once", "c_once", T0, None, false),
        ),
        (
            sub("lapsed"),
            payment("lapsed", "c_lapsed", T0, Some(T0 as i64 + 10), true),
        ),
        (
            sub("running"),
            payment("running", "c_running", T0, Some(T0 as i64 + 10_000), true),
        ),
        (
            order("refunded", 7, "pack", T0),
            payment("refunded", "c_refunded", T0, None, false),
        ),
    ] {
        s.insert_order(&o).await.unwrap();
        s.record_payment(&p, Some(1), T0, None).await.unwrap();
        s.save_access_link(&link(&o.id, 7, "https://t.me/+x", T0))
            .await
            .unwrap();
    }
    s.record_refund("c_refunded", T0 + 1).await.unwrap();
    // A removed member's link is revoked: never a candidate again.
    s.insert_order(&sub("gone")).await.unwrap();
    s.record_payment(
        &payment("gone", "c_gone", T0, Some(T0 as i64 + 10), true),
        Some(1),
        T0,
        None,
    )
    .await
    .unwrap();
    s.save_access_link(&link("gone", 7, "https://t.me/+x", T0))
        .await
        .unwrap();
    s.revoke_access_link("gone", T0 + 20).await.unwrap();
    let now = T0 + 1_000;
    let grace = 100;
    let mut due: Vec<_> = s
        .ended_access(now - grace, 100)
        .await
        .unwrap()
        .into_iter()
        .filter_map(|(o, _)| {
            let why = crate::shop::access::ended(&o, now, grace)?;
            Some((o.id, Some(why)))
        })
        .collect();
    due.sort_by(|a, b| a.0.cmp(&b.0));
    due
}

#[test]
fn ended_access_is_found_test() {
    use crate::shop::access::Ended;
    assert_eq!(
        on_both!(ended_access_is_found),
        [
            ("lapsed".to_string(), Some(Ended::Lapsed)),
            ("refunded".to_string(), Some(Ended::Refunded)),
        ]
    );
}

fn member(user: i64, status: &str, at: u64) -> Member {
    Member {
        chat_id: -1_001_234_567_890,
        user_id: user,
        status: status.into(),
        until_date: None,
        updated_at: at,
    }
}

async fn members_follow_the_latest_update<S: Store>(s: &S) -> Vec<(i64, String)> {
    let chat = -1_001_234_567_890;
    s.record_member(&member(7, "member", T0 + 10))
        .await
        .unwrap();
    // An older update delivered late changes nothing.
    s.record_member(&member(7, "left", T0 + 5)).await.unwrap();
    s.record_member(&member(8, "member", T0)).await.unwrap();
    s.record_member(&member(8, "kicked", T0 + 1)).await.unwrap();
    assert_eq!(s.member(chat, 9).await.unwrap(), None);
    assert!(s.member(chat, 7).await.unwrap().unwrap().is_in());
    s.members(chat)
        .await
        .unwrap()
        .into_iter()
        .map(|m| (m.user_id, m.status))
        .collect()
}

#[test]
fn members_follow_the_latest_update_test() {
    assert_eq!(
        on_both!(members_follow_the_latest_update),
        [(7, "member".to_string()), (8, "kicked".to_string())]
    );
}

async fn facts_and_queued_work_are_kept<S: Store>(
    s: &S,
) -> (Option<String>, Vec<(String, String)>) {
    s.set_fact("chat:-100", "{\"title\":\"A\"}", T0)
        .await
        .unwrap();
    s.set_fact("chat:-100", "{\"title\":\"B\"}", T0 + 1)
        .await
        .unwrap();
    assert_eq!(s.fact("missing").await.unwrap(), None);
    let removal = outbox::notice("x", 7, "bye", Some("o1"));
    let removal = Outgoing {
        id: "removal:o1:refunded".into(),
        ..removal
    };
    s.enqueue(&[removal, message("other")], T0).await.unwrap();
    let failed = Settle::Failed {
        error: "not enough rights".into(),
    };
    s.settle("removal:o1:refunded", &failed, T0 + 1)
        .await
        .unwrap();
    let removals = s
        .queued("removal:", 10)
        .await
        .unwrap()
        .into_iter()
        .map(|t| (t.message.id, t.status))
        .collect();
    (s.fact("chat:-100").await.unwrap(), removals)
}

#[test]
fn facts_and_queued_work_are_kept_test() {
    let (fact, removals) = on_both!(facts_and_queued_work_are_kept);
    assert_eq!(fact.as_deref(), Some("{\"title\":\"B\"}"));
    assert_eq!(
        removals,
        [("removal:o1:refunded".to_string(), "failed".to_string())]
    );
}

async fn a_ton_payload_is_used_once_and_only_by_its_user<S: Store>(
    s: &S,
) -> (Vec<Option<u64>>, Option<u64>) {
    s.issue_ton_payload("p1", 7, T0).await.unwrap();
    s.issue_ton_payload("p2", 7, T0 + 100).await.unwrap();
    let uses = vec![
        s.consume_ton_payload("p1", 8, T0 + 1).await.unwrap(),
        s.consume_ton_payload("p1", 7, T0 + 2).await.unwrap(),
        s.consume_ton_payload("p1", 7, T0 + 3).await.unwrap(),
        s.consume_ton_payload("never", 7, T0 + 3).await.unwrap(),
    ];
    let p2 = s.consume_ton_payload("p2", 7, T0 + 101).await.unwrap();
    (uses, p2)
}

#[test]
fn a_ton_payload_is_used_once_and_only_by_its_user_test() {
    let (uses, p2) = on_both!(a_ton_payload_is_used_once_and_only_by_its_user);
    assert_eq!(uses, [None, Some(T0), None, None]);
    assert_eq!(p2, Some(T0 + 100));
}

#[test]
fn d1_prunes_old_ton_payloads() {
    // KV payloads expire by themselves instead.
    let s = d1();
    block_on(s.issue_ton_payload("old", 7, T0)).unwrap();
    block_on(s.issue_ton_payload("new", 7, T0 + 100)).unwrap();
    assert_eq!(block_on(s.prune_ton_payloads(T0 + 50)).unwrap(), 1);
    assert_eq!(
        block_on(s.consume_ton_payload("old", 7, T0 + 101)).unwrap(),
        None
    );
    assert_eq!(
        block_on(s.consume_ton_payload("new", 7, T0 + 101)).unwrap(),
        Some(T0 + 100)
    );
}

fn wallet(user: i64, address: &str) -> TonWallet {
    TonWallet {
        user_id: user,
        address: address.into(),
        friendly: format!("EQ{address}"),
        network: "-239".into(),
        public_key: "ab".repeat(32),
        version: "v4R2".into(),
        linked_at: T0,
    }
}

async fn a_wallet_is_linked_replaced_and_unlinked<S: Store>(
    s: &S,
) -> (Option<TonWallet>, Option<TonWallet>, bool, bool) {
    s.save_wallet(&wallet(7, "0:aa")).await.unwrap();
    s.save_wallet(&wallet(7, "0:bb")).await.unwrap();
    s.save_wallet(&wallet(8, "0:cc")).await.unwrap();
    let replaced = s.wallet(7).await.unwrap();
    let removed = s.remove_wallet(7).await.unwrap();
    let again = s.remove_wallet(7).await.unwrap();
    (replaced, s.wallet(7).await.unwrap(), removed, again)
}

#[test]
fn a_wallet_is_linked_replaced_and_unlinked_test() {
    let (replaced, after, removed, again) = on_both!(a_wallet_is_linked_replaced_and_unlinked);
    assert_eq!(replaced, Some(wallet(7, "0:bb")));
    assert_eq!(after, None);
    assert!(removed && !again);
}

async fn pending_ton_orders_are_found_oldest_first<S: Store>(s: &S) -> Vec<String> {
    let in_currency = |id: &str, currency: &str, at: u64| {
        let mut o = order(id, 7, "pack", at);
        o.currency = currency.into();
        o
    };
    for o in [
        in_currency("usdt", "USDT", T0 + 3),
        in_currency("ton", "TON", T0 + 2),
        in_currency("stars", "XTR", T0 + 1),
        in_currency("old", "TON", T0 - 10),
        in_currency("paid", "TON", T0 + 4),
    ] {
        s.insert_order(&o).await.unwrap();
    }
    let mut paid = payment("paid", "tx_hash", T0 + 5, None, false);
    paid.currency = "TON".into();
    s.record_payment(&paid, Some(1), T0 + 5, None)
        .await
        .unwrap();
    s.pending_ton_orders(T0, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|o| o.id)
        .collect()
}

#[test]
fn pending_ton_orders_are_found_oldest_first_test() {
    assert_eq!(
        on_both!(pending_ton_orders_are_found_oldest_first),
        ["ton", "usdt"]
    );
}

#[test]
fn a_ton_order_is_paid_by_one_transaction_only() {
    let s = d1();
    let mut o = order("o1", 7, "pack", T0);
    o.currency = "TON".into();
    block_on(s.insert_order(&o)).unwrap();
    let pay = |hash: &str, update: i64| {
        let mut p = payment("o1", hash, T0 + 1, None, false);
        p.currency = "TON".into();
        block_on(s.record_payment(&p, Some(update), T0 + 1, None))
            .unwrap()
            .outcome
    };
    assert_eq!(pay("hash_a", 1), Outcome::Applied);
    // A second transaction with the same comment is not a second payment.
    assert_ne!(pay("hash_b", 2), Outcome::Applied);
    assert_eq!(block_on(s.payments(10)).unwrap().len(), 1);
}
