//! Native micro-benchmarks of the identity checks beside the machine's own
//! SHA-256 speed (the same `sha2` crate), so the report can say how far each
//! check is from the hashing it cannot avoid. A plain harness (no criterion):
//! each case runs for a fixed time after a warm-up and reports ns per call.
//!
//! `cargo bench --bench native` prints a table; with `BENCH_OUT=<file>` it also
//! writes the figures as JSON for `bench/run.mjs`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ed25519_dalek::{Signer, SigningKey};
use hmac::{Hmac, Mac};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use tma_pay::telegram::ed25519::Dalek;
use tma_pay::telegram::init_data::{verify_hmac, verify_signature};
use tma_pay::telegram::{login_widget, BotKeys, BotToken};

const NOW: u64 = 1_700_000_000;
const TOKEN: &str = "4242:E2E_test-token";
const BOT_ID: u64 = 7_342_037_359;
const USER: &str = r#"{"id":279058397,"first_name":"Vladislav","last_name":"Kibenko","username":"vdkfrost","language_code":"ru","is_premium":true,"allows_write_to_pm":true,"photo_url":"https:\/\/t.me\/i\/userpic\/320\/4FPEE4tmP3ATHa57u6MqTDih13LTOiMoKoLDRG4PnSA.svg"}"#;

/// Calls per batch so that one batch of `f` takes about a millisecond.
fn calibrate(f: &mut dyn FnMut()) -> u64 {
    let mut n = 1;
    loop {
        let t = Instant::now();
        for _ in 0..n {
            f();
        }
        if t.elapsed() > Duration::from_millis(1) {
            return n;
        }
        n *= 2;
    }
}

/// Nanoseconds per call of each of `fs`, the fastest of many one-millisecond
/// batches taken in turn over about a second: on a shared machine, another
/// process preempting some batches then skews neither the figure nor the
/// ratio between the functions.
fn time_all(fs: &mut [&mut dyn FnMut()]) -> Vec<f64> {
    let sizes: Vec<u64> = fs.iter_mut().map(|f| calibrate(*f)).collect();
    let mut best = vec![f64::MAX; fs.len()];
    let start = Instant::now();
    while start.elapsed() < Duration::from_millis(400 * fs.len() as u64) {
        for (i, f) in fs.iter_mut().enumerate() {
            let t = Instant::now();
            for _ in 0..sizes[i] {
                f();
            }
            best[i] = best[i].min(t.elapsed().as_nanos() as f64 / sizes[i] as f64);
        }
    }
    best
}

fn time<R>(mut f: impl FnMut() -> R) -> f64 {
    time_all(&mut [&mut || {
        black_box(f());
    }])[0]
}

/// SHA-256 compressions of HMAC-SHA256 over `len` bytes with a key of at most
/// 64 bytes: the key's ipad and opad blocks, the padded message, the outer digest.
fn hmac_blocks(len: usize) -> usize {
    2 + sha256_blocks(len) + 1
}

/// SHA-256 compressions of a plain digest of `len` bytes (with its padding).
fn sha256_blocks(len: usize) -> usize {
    (len + 9).div_ceil(64)
}

/// Launch data as Telegram signs it: the HMAC `hash` and the Ed25519 `signature`,
/// its fields in the order Telegram's clients send them (not sorted, so the
/// check's sort does real work). Returns the query string and the bot's
/// data-check-string.
fn launch_data(key: &SigningKey) -> (String, String) {
    let auth_date = NOW.to_string();
    let mut fields = vec![
        ("query_id", "AAHdF6IQAAAAAN0XohDhrOrc"),
        ("user", USER),
        ("chat_instance", "-3788475317572404878"),
        ("chat_type", "private"),
        ("auth_date", auth_date.as_str()),
    ];
    let lines = |f: &[(&str, &str)]| {
        let mut f = f.to_vec();
        f.sort();
        f.iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let msg = format!("{BOT_ID}:WebAppData\n{}", lines(&fields));
    let signature = URL_SAFE_NO_PAD.encode(key.sign(msg.as_bytes()).to_bytes());
    fields.push(("signature", &signature));
    let dcs = lines(&fields);
    let secret = hmac(b"WebAppData", TOKEN.as_bytes());
    let hash = hex::encode(hmac(&secret, dcs.as_bytes()));
    let mut query: Vec<String> = fields
        .iter()
        .map(|(k, v)| {
            let v: String = form_urlencoded::byte_serialize(v.as_bytes()).collect();
            format!("{k}={v}")
        })
        .collect();
    query.push(format!("hash={hash}"));
    (query.join("&"), dcs)
}

/// The Login Widget's callback fields, signed, and their data-check-string.
fn widget_fields() -> (Map<String, Value>, String) {
    let mut v = json!({
        "id": 279058397, "first_name": "Vladislav", "last_name": "Kibenko", "username": "vdkfrost",
        "photo_url": "https://t.me/i/userpic/320/4FPEE4tmP3ATHa57u6MqTDih13LTOiMoKoLDRG4PnSA.jpg",
        "auth_date": NOW
    });
    let dcs = v
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| match v {
            Value::String(s) => format!("{k}={s}"),
            other => format!("{k}={other}"),
        })
        .collect::<Vec<_>>()
        .join("\n");
    let secret = Sha256::digest(TOKEN.as_bytes());
    v["hash"] = hex::encode(hmac(&secret, dcs.as_bytes())).into();
    (v.as_object().unwrap().clone(), dcs)
}

/// `HMAC_SHA256(key, msg)`.
fn hmac(key: &[u8], msg: &[u8]) -> [u8; 32] {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
    mac.update(msg);
    mac.finalize().into_bytes().into()
}

type Run<'a> = Box<dyn FnMut() + 'a>;

fn run<'a, R>(mut f: impl FnMut() -> R + 'a) -> Run<'a> {
    Box::new(move || {
        black_box(f());
    })
}

struct Case<'a> {
    name: &'static str,
    run: Run<'a>,
    input_bytes: usize,
    /// The SHA-256 work the check cannot avoid, alone (same crates, same bytes),
    /// and its compressions.
    sha256: Option<(Run<'a>, usize)>,
    /// Whether the "within 2 × the SHA-256 work" target applies.
    target: bool,
}

fn main() {
    // The hashing limit: a large buffer, so padding and setup do not count.
    let buf = vec![0xa5u8; 64 * 1024];
    let big = time(|| Sha256::digest(black_box(&buf)));
    let ns_per_block = big / (buf.len() / 64) as f64;
    let one_block = time(|| Sha256::digest(black_box(&buf[..55])));

    let token = BotToken::parse(TOKEN).unwrap();
    // As `Settings` holds them: derived once, beside the token.
    let keys = BotKeys::derive(&token);
    let key = SigningKey::from_bytes(&[7u8; 32]);
    let public = key.verifying_key().to_bytes();
    let (raw, dcs) = launch_data(&key);
    let dcs = dcs.into_bytes();
    assert!(verify_hmac(&raw, &keys, NOW, 86_400).is_ok());
    // The Ed25519 check is async (the worker's goes through WebCrypto); natively
    // its future is ready at the first poll.
    let third_party =
        |raw: &str| pollster::block_on(verify_signature(raw, BOT_ID, &public, NOW, 86_400, &Dalek));
    assert!(third_party(&raw).is_ok());
    let secret = hmac(b"WebAppData", TOKEN.as_bytes());
    let widget_secret = Sha256::digest(TOKEN.as_bytes());
    let (widget, widget_dcs) = widget_fields();
    let widget_dcs = widget_dcs.into_bytes();
    assert!(login_widget::verify(&widget, &keys, NOW, 86_400).is_ok());
    let widget_json = serde_json::to_vec(&widget).unwrap();

    // Beside each check, the HMACs alone over the exact bytes it signs.
    let cases = vec![
        Case {
            name: "initData HMAC check, as /api/verify runs it (keys from Settings)",
            run: run(|| verify_hmac(black_box(&raw), &keys, NOW, 86_400)),
            input_bytes: raw.len(),
            sha256: Some((
                run(|| hmac(&secret, black_box(&dcs))),
                hmac_blocks(dcs.len()),
            )),
            target: true,
        },
        Case {
            name: "initData HMAC check, both keys derived too",
            run: run(|| verify_hmac(black_box(&raw), &BotKeys::derive(&token), NOW, 86_400)),
            input_bytes: raw.len(),
            sha256: Some((
                run(|| {
                    let widget_secret = Sha256::digest(TOKEN.as_bytes());
                    let secret = hmac(b"WebAppData", TOKEN.as_bytes());
                    (widget_secret, hmac(&secret, black_box(&dcs)))
                }),
                hmac_blocks(TOKEN.len()) + sha256_blocks(TOKEN.len()) + hmac_blocks(dcs.len()),
            )),
            target: false,
        },
        Case {
            name: "Login Widget check (fields already parsed)",
            run: run(|| login_widget::verify(black_box(&widget), &keys, NOW, 86_400)),
            input_bytes: widget_json.len(),
            sha256: Some((
                run(|| hmac(&widget_secret, black_box(&widget_dcs))),
                hmac_blocks(widget_dcs.len()),
            )),
            target: true,
        },
        Case {
            name: "Login Widget check, JSON body parsed too",
            run: run(|| {
                let m: Map<String, Value> =
                    tma_pay::json::from_bytes(black_box(&widget_json)).unwrap();
                login_widget::verify(&m, &keys, NOW, 86_400)
            }),
            input_bytes: widget_json.len(),
            sha256: Some((
                run(|| hmac(&widget_secret, black_box(&widget_dcs))),
                hmac_blocks(widget_dcs.len()),
            )),
            target: false,
        },
        Case {
            name: "initData Ed25519 check (third party)",
            run: run(|| third_party(black_box(&raw))),
            input_bytes: raw.len(),
            sha256: None,
            target: false,
        },
    ];
    // `BENCH_FILTER=<text>` runs only the cases whose name contains it (for `perf`).
    let filter = std::env::var("BENCH_FILTER").unwrap_or_default();

    println!(
        "SHA-256: {:.0} MB/s, {ns_per_block:.1} ns per block (a one-block digest: {one_block:.0} ns)",
        1e3 / ns_per_block * 64.0
    );
    let mut json_cases = Vec::new();
    for mut c in cases.into_iter().filter(|c| c.name.contains(&filter)) {
        let (ns, sha) = match c.sha256.as_mut() {
            Some((f, blocks)) => {
                let t = time_all(&mut [&mut c.run, f]);
                (t[0], Some((t[1], *blocks)))
            }
            None => (time_all(&mut [&mut c.run])[0], None),
        };
        let note = match sha {
            Some((sha_ns, b)) => format!(
                "{b} blocks; the HMAC alone {sha_ns:.0} ns: {:.2}×",
                ns / sha_ns
            ),
            None => "no SHA-256 (Ed25519 hashes with SHA-512)".into(),
        };
        println!(
            "{ns:>9.0} ns  {:<72} {:>4} B  {note}",
            c.name, c.input_bytes
        );
        let mut j = json!({
            "name": c.name, "ns": ns, "input_bytes": c.input_bytes, "target": c.target,
        });
        if let Some((sha_ns, b)) = sha {
            j["sha256_blocks"] = b.into();
            j["sha256_ns"] = sha_ns.into();
            j["sha256_ratio"] = (ns / sha_ns).into();
        }
        json_cases.push(j);
    }
    if let Ok(path) = std::env::var("BENCH_OUT") {
        let out = json!({
            "sha256": {
                "ns_per_block": ns_per_block,
                "mb_per_s": 1e3 / ns_per_block * 64.0,
                "one_block_digest_ns": one_block,
            },
            "cases": json_cases,
        });
        std::fs::write(&path, serde_json::to_string_pretty(&out).unwrap()).unwrap();
    }
}
