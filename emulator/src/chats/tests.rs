//! Unit tests of chats on the state alone: rights, descriptions, link forms, joining rules,
//! bans, queries and the sweep, with the updates they queue.

use std::time::Duration;

use serde_json::{json, Value};

use super::joining::{answer_query, approve, canonical_link, show_web_app, tap};
use super::membership::{ban, ban_until, sweep, unban};
use super::spec::{BotRole, ChatSpec, DEFAULT_OWNER_ID};
use super::*;
use crate::config::Config;
use crate::state::UpdateStatus;

const CHAT: i64 = -1001234567890;
const BOT: i64 = 123456;

fn state_with(spec: ChatSpec) -> State {
    let config = Config {
        chats: vec![spec],
        ..Config::default()
    };
    State::new(&config, 1)
}

fn channel() -> State {
    state_with(ChatSpec::new(CHAT, "Insiders"))
}

fn add_link(s: &mut State, f: impl FnOnce(&mut InviteLink)) -> String {
    let mut l = InviteLink {
        invite_link: joining::new_link(),
        creator_id: BOT,
        name: None,
        expire_date: 0,
        member_limit: 0,
        creates_join_request: false,
        is_primary: false,
        is_revoked: false,
        subscription_period: 0,
        subscription_price: 0,
    };
    f(&mut l);
    let url = l.invite_link.clone();
    s.chat_mut(CHAT).links.push(l);
    url
}

/// The payloads of the queued updates of one kind.
fn updates(s: &State, kind: &str) -> Vec<Value> {
    s.updates
        .iter()
        .filter(|u| u.kind == kind)
        .map(|u| u.update[kind].clone())
        .collect()
}

#[test]
fn rights_follow_the_chat_type_and_refuse_typos() {
    let r = Rights::access_seller();
    let channel = r.to_api(ChatKind::Channel);
    assert_eq!(channel["can_invite_users"], true);
    assert_eq!(channel["can_restrict_members"], true);
    assert_eq!(channel["can_promote_members"], false);
    assert!(channel.contains_key("can_post_messages") && !channel.contains_key("can_pin_messages"));
    let group = r.to_api(ChatKind::Supergroup);
    assert!(group.contains_key("can_pin_messages") && !group.contains_key("can_post_messages"));
    // Any right implies can_manage_chat.
    assert_eq!(
        Rights::of(&["can_invite_users"]).to_api(ChatKind::Channel)["can_manage_chat"],
        true
    );
    assert_eq!(
        Rights::default().to_api(ChatKind::Channel)["can_manage_chat"],
        false
    );
    assert!(Rights::parse(&json!({"can_invite_user": true}))
        .unwrap_err()
        .contains("unknown"));
    assert!(Rights::parse(&json!({"can_invite_users": "yes"})).is_err());
    assert!(!Rights::parse(&json!({"can_invite_users": false}))
        .unwrap()
        .has("can_invite_users"));
    assert!(Rights::parse_list("can_invite_users+can_bogus").is_err());
}

#[test]
fn chat_flags_parse_with_defaults_for_an_access_channel() {
    let spec = ChatSpec::parse_flag("-1001234567890:Insiders").unwrap();
    assert_eq!(spec, ChatSpec::new(CHAT, "Insiders"));
    assert_eq!(spec.owner_id, DEFAULT_OWNER_ID);
    assert_eq!(spec.bot, BotRole::Administrator(Rights::access_seller()));
    let g = ChatSpec::parse_flag(
        "-1009:Club:supergroup,owner=42,rights=can_invite_users,guard,username=club_chat",
    )
    .unwrap();
    assert_eq!(
        (g.kind, g.owner_id, g.guard_bot, g.username.as_deref()),
        (ChatKind::Supergroup, 42, true, Some("club_chat"))
    );
    assert_eq!(
        g.bot,
        BotRole::Administrator(Rights::of(&["can_invite_users"]))
    );
    assert_eq!(
        ChatSpec::parse_flag("-1009:C:bot=none").unwrap().bot,
        BotRole::Absent
    );
    for bad in [
        "x:Title",
        "-1009:C:bot=owner",
        "-1009:C:bot=member,rights=can_invite_users",
        "-1009:C:colour=blue",
        "-1009:C:owner=me",
    ] {
        assert!(ChatSpec::parse_flag(bad).is_err(), "{bad}");
    }
    let v = |text: &str| ChatSpec::parse_flag(text).unwrap().validate(BOT);
    assert!(v("-1001234567890:Insiders").is_ok());
    assert!(v("-42:Basic group").unwrap_err().contains("-100"));
    assert!(v("-1009:").unwrap_err().contains("title"));
    assert!(v("-1009:C:bot=member").unwrap_err().contains("channel"));
    assert!(v("-1009:C:supergroup,bot=member").is_ok());
    assert!(v("-1009:C:owner=123456").unwrap_err().contains("owner_id"));
    assert!(v("-1009:C:username=1abc").unwrap_err().contains("username"));
}

#[test]
fn invite_links_are_recognised_in_every_client_form() {
    let want = Some("https://t.me/+AbC_d-9".to_string());
    for form in [
        "https://t.me/+AbC_d-9",
        "t.me/+AbC_d-9",
        "http://telegram.me/joinchat/AbC_d-9",
        "tg://join?invite=AbC_d-9",
        " https://t.me/+AbC_d-9?x=1 ",
    ] {
        assert_eq!(canonical_link(form), want, "{form}");
    }
    for not in [
        "https://t.me/$slug",
        "https://t.me/+",
        "https://example.com/+abc",
        "https://t.me/+a b",
    ] {
        assert_eq!(canonical_link(not), None, "{not}");
    }
    let l = joining::new_link();
    assert!(l.starts_with("https://t.me/+") && l.len() == "https://t.me/+".len() + 16);
}

#[test]
fn ban_lengths_outside_thirty_seconds_to_a_leap_year_are_forever() {
    let now = 1_000_000;
    assert_eq!(ban_until(0, now), 0);
    assert_eq!(ban_until(now + 29, now), 0);
    assert_eq!(ban_until(now + 30, now), now + 30);
    assert_eq!(ban_until(now + 366 * 86_400, now), now + 366 * 86_400);
    assert_eq!(ban_until(now + 366 * 86_400 + 1, now), 0);
    assert_eq!(ban_until(now - 100, now), 0);
}

#[test]
fn a_plain_link_joins_once_per_slot_and_reports_it() {
    let mut s = channel();
    let link = add_link(&mut s, |l| l.member_limit = 1);
    let out = tap(&mut s, 501, &link, Duration::from_secs(10));
    assert_eq!(out["result"], "joined", "{out}");
    assert_eq!(s.chat(CHAT).member(501).status, Status::Member);
    let cm = updates(&s, "chat_member");
    assert_eq!(cm.len(), 1);
    assert_eq!(cm[0]["old_chat_member"]["status"], "left");
    assert_eq!(cm[0]["new_chat_member"]["status"], "member");
    assert_eq!(cm[0]["from"]["id"], 501);
    assert_eq!(cm[0]["invite_link"]["invite_link"], link.as_str());
    // chat_member is not in the default allowed_updates: created, but filtered.
    assert_eq!(s.updates[0].status, UpdateStatus::Filtered);
    assert_eq!(
        tap(&mut s, 501, &link, Duration::ZERO)["result"],
        "already_member"
    );
    let full = tap(&mut s, 502, &link, Duration::ZERO);
    assert_eq!(
        (full["result"].as_str(), full["reason"].as_str()),
        (Some("failed"), Some("limit_reached"))
    );
    membership::leave(&mut s, CHAT, 501).unwrap();
    assert_eq!(tap(&mut s, 502, &link, Duration::ZERO)["result"], "joined");
}

#[test]
fn revoked_expired_and_unknown_links_fail_with_a_reason() {
    let mut s = channel();
    let revoked = add_link(&mut s, |l| l.is_revoked = true);
    let soon = s.chat_now() + 100;
    let expiring = add_link(&mut s, |l| l.expire_date = soon);
    let reason = |s: &mut State, l: &str| tap(s, 501, l, Duration::ZERO)["reason"].clone();
    assert_eq!(reason(&mut s, &revoked), "revoked");
    assert_eq!(reason(&mut s, "https://t.me/+nothing"), "invalid");
    assert_eq!(reason(&mut s, "not a link"), "invalid");
    s.clock_offset = 100;
    assert_eq!(reason(&mut s, &expiring), "expired");
    assert!(updates(&s, "chat_member").is_empty());
}

#[test]
fn no_chat_member_updates_without_an_administrator_bot() {
    let mut spec = ChatSpec::new(CHAT, "Insiders");
    spec.kind = ChatKind::Supergroup;
    spec.bot = BotRole::Member;
    let mut s = state_with(spec);
    let link = add_link(&mut s, |_| {});
    assert_eq!(tap(&mut s, 501, &link, Duration::ZERO)["result"], "joined");
    assert!(s.updates.is_empty());
}

#[test]
fn bans_spare_owner_and_admins_and_unban_only_if_banned_keeps_members() {
    let mut s = channel();
    let link = add_link(&mut s, |_| {});
    tap(&mut s, 501, &link, Duration::ZERO);
    tap(&mut s, 502, &link, Duration::ZERO);
    let owner = ban(&mut s, CHAT, DEFAULT_OWNER_ID, 0, BOT).unwrap_err();
    assert_eq!(owner.description, "Bad Request: can't remove chat owner");
    let admin = ban(&mut s, CHAT, BOT, 0, BOT).unwrap_err();
    assert_eq!(
        admin.description,
        "Bad Request: user is an administrator of the chat"
    );
    ban(&mut s, CHAT, 501, 0, BOT).unwrap();
    assert_eq!(s.chat(CHAT).member(501).status, Status::Kicked);
    assert_eq!(tap(&mut s, 501, &link, Duration::ZERO)["reason"], "banned");
    unban(&mut s, CHAT, 502, true, BOT).unwrap();
    assert_eq!(s.chat(CHAT).member(502).status, Status::Member);
    unban(&mut s, CHAT, 501, true, BOT).unwrap();
    assert_eq!(s.chat(CHAT).member(501).status, Status::Left);
    unban(&mut s, CHAT, 502, false, BOT).unwrap();
    assert_eq!(s.chat(CHAT).member(502).status, Status::Left);
    let statuses: Vec<(Value, Value)> = updates(&s, "chat_member")
        .iter()
        .skip(2)
        .map(|u| {
            (
                u["old_chat_member"]["status"].clone(),
                u["new_chat_member"]["status"].clone(),
            )
        })
        .collect();
    assert_eq!(
        statuses,
        vec![
            (json!("member"), json!("kicked")),
            (json!("kicked"), json!("left")),
            (json!("member"), json!("left")),
        ]
    );
}

#[test]
fn subscriptions_and_timed_bans_end_when_the_clock_passes_them() {
    let mut s = channel();
    let sub = add_link(&mut s, |l| {
        l.subscription_period = 60;
        l.subscription_price = 25;
    });
    let joined = tap(&mut s, 501, &sub, Duration::ZERO);
    let until = s.chat_now() + 60;
    assert_eq!(joined["until_date"], until);
    assert_eq!(joined["paid"]["amount"], 25);
    assert_eq!(s.chat(CHAT).revenue.len(), 1);
    assert!(
        s.star_transactions.is_empty(),
        "the chat's Stars are not the bot's"
    );
    let later = s.chat_now() + 120;
    ban(&mut s, CHAT, 502, later, BOT).unwrap();
    assert!(sweep(&mut s).is_empty());
    s.clock_offset = 60;
    let ended = sweep(&mut s);
    assert_eq!(
        (ended.len(), ended[0].user_id, ended[0].now),
        (1, 501, Status::Left)
    );
    let last = updates(&s, "chat_member").pop().unwrap();
    assert_eq!(last["old_chat_member"]["until_date"], until);
    assert_eq!(last["new_chat_member"]["status"], "left");
    s.clock_offset = 120;
    assert_eq!(sweep(&mut s)[0].was, Status::Kicked);
    assert_eq!(s.chat(CHAT).member(502).status, Status::Left);
}

#[test]
fn a_guard_bots_query_expires_unless_the_mini_app_was_shown() {
    let mut spec = ChatSpec::new(CHAT, "Insiders");
    spec.guard_bot = true;
    let mut s = state_with(spec);
    let link = add_link(&mut s, |l| l.creates_join_request = true);
    let first = tap(&mut s, 501, &link, Duration::ZERO);
    let second = tap(&mut s, 502, &link, Duration::ZERO);
    let (q1, q2) = (
        first["query_id"].as_str().unwrap(),
        second["query_id"].as_str().unwrap(),
    );
    let requests = updates(&s, "chat_join_request");
    assert_eq!(requests[0]["query_id"], q1);
    assert_eq!(requests[0]["user_chat_id"], 501);
    assert_eq!(requests[0]["invite_link"]["pending_join_request_count"], 1);
    std::thread::sleep(Duration::from_millis(2));
    assert!(show_web_app(&mut s, q1, "https://app.example/").is_err());
    assert!(answer_query(&mut s, q2, "approve").is_err());
    // Past the deadline the request waits for the administrators.
    approve(&mut s, CHAT, 502, BOT).unwrap();
    assert_eq!(s.chat(CHAT).member(502).status, Status::Member);

    let third = tap(&mut s, 503, &link, Duration::from_secs(60));
    let q3 = third["query_id"].as_str().unwrap().to_string();
    show_web_app(&mut s, &q3, "https://app.example/").unwrap();
    s.join_queries.get_mut(&q3).unwrap().deadline = std::time::Instant::now();
    std::thread::sleep(Duration::from_millis(2));
    answer_query(&mut s, &q3, "queue").unwrap();
    assert!(s.chat(CHAT).request(503).is_some(), "queued requests stay");
    assert!(
        answer_query(&mut s, &q3, "approve").is_err(),
        "answered once"
    );
}
