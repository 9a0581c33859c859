//! The worker's words: each `static/locales/<code>.json` without the page's keys.
//!
//! One file per language holds the bot's words and the page's (src/i18n.rs). The page
//! fetches its file; the worker embeds it, and only needs its own keys (they have a dot:
//! `bot.welcome`), so this writes each file's dotted keys to `$OUT_DIR/locales/`, which
//! src/i18n.rs includes. The page's keys would otherwise add their weight to the upload.

use std::{env, fs, path::PathBuf};

fn main() {
    let src = PathBuf::from("static/locales");
    println!("cargo:rerun-if-changed=static/locales");
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR")).join("locales");
    fs::create_dir_all(&out).expect("create OUT_DIR/locales");
    for entry in fs::read_dir(&src).expect("static/locales") {
        let path = entry.expect("static/locales entry").path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let text = fs::read_to_string(&path).expect("read a language file");
        let words: serde_json::Map<String, serde_json::Value> = match serde_json::from_str(&text) {
            Ok(words) => words,
            Err(e) => panic!("{} is not a JSON object: {e}", path.display()),
        };
        let worker: serde_json::Map<_, _> =
            words.into_iter().filter(|(k, _)| k.contains('.')).collect();
        let json = serde_json::to_string(&worker).expect("serialize");
        fs::write(out.join(path.file_name().expect("a file name")), json).expect("write");
    }
}
