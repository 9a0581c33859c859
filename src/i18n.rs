//! The languages the shop speaks and the words it says in each.
//!
//! The words live in `static/locales/<code>.json`: one flat JSON object per
//! language, key → text, with `{name}` placeholders. `static/` is the page's
//! assets directory, so the page reads the same files (`/locales/zh.json`).
//! The worker embeds its own keys of them (build.rs leaves the page's out) and
//! parses each once, at first use.
//!
//! Keys say who reads them: `bot.*` (replies to commands), `commands.*` (the
//! command list), `precheckout.*` (refusals Telegram shows on the payment
//! sheet), `receipt.*` and `goods.*` (after a payment), `access.*` (invite
//! links, join request offers, removals), `ton.*` (TON payments), `notice.*`
//! (the operator's notices, in `ADMIN_LANGUAGE`). The page's keys have no
//! dot, so both sets share a file without clashing: the page (`static/i18n.js`)
//! loads `/locales/<code>.json` at start and has no words of its own.
//!
//! Adding a language: its file in `static/locales/`, and its line in
//! [`LANGUAGES`]. A test holds every file to the same keys and placeholders.

use std::sync::OnceLock;

use serde_json::{Map, Value};

/// The worker's keys of `static/locales/<code>.json` (build.rs writes them).
macro_rules! worker_words {
    ($code:literal) => {
        include_str!(concat!(env!("OUT_DIR"), "/locales/", $code, ".json"))
    };
}

/// Every language: its code (ISO 639-1, what Telegram's `language_code`
/// starts with) and its words. English first: the fallback.
const LANGUAGES: &[(&str, &str)] = &[("en", worker_words!("en")), ("zh", worker_words!("zh"))];

/// A language the shop speaks: an index into [`LANGUAGES`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Lang(u8);

impl Lang {
    /// English, the default for anyone whose language the shop does not speak.
    pub const EN: Lang = Lang(0);
    /// Simplified Chinese.
    pub const ZH: Lang = Lang(1);

    /// The language of a tag such as Telegram's `language_code` (`en`,
    /// `zh-hans`, `zh_CN`, `ZH-TW`): its primary subtag, in any case. Every
    /// Chinese tag is Simplified Chinese, the only Chinese the shop writes.
    /// `None` for a language the shop does not speak.
    pub fn parse(tag: &str) -> Option<Lang> {
        let primary = tag.trim().split(['-', '_']).next().unwrap_or("");
        LANGUAGES
            .iter()
            .position(|(code, _)| code.eq_ignore_ascii_case(primary))
            .map(|i| Lang(i as u8))
    }

    /// The buyer's language from their `language_code`: English when it is
    /// missing or one the shop does not speak.
    pub fn of(tag: Option<&str>) -> Lang {
        tag.and_then(Lang::parse).unwrap_or_default()
    }

    /// Its code: `en`, `zh`.
    pub fn code(self) -> &'static str {
        LANGUAGES[self.0 as usize].0
    }

    /// Every language, English first.
    pub fn all() -> impl Iterator<Item = Lang> {
        (0..LANGUAGES.len()).map(|i| Lang(i as u8))
    }

    /// The codes, for messages: `en, zh`.
    pub fn codes() -> String {
        Lang::all().map(Lang::code).collect::<Vec<_>>().join(", ")
    }

    /// The text of `key`; English when this language lacks it (a test keeps
    /// that from happening), the key itself when English does too.
    pub fn text(self, key: &'static str) -> &'static str {
        let words = words();
        let found = words[self.0 as usize]
            .get(key)
            .or_else(|| words[0].get(key))
            .and_then(Value::as_str);
        debug_assert!(found.is_some(), "no text for {key:?}");
        found.unwrap_or(key)
    }

    /// The text of `key` with its `{name}` placeholders filled from `args`
    /// (values go in as they are; a placeholder without a value stays).
    pub fn fill(self, key: &'static str, args: &[(&str, &str)]) -> String {
        fill(self.text(key), args)
    }
}

/// Each language's words, parsed once.
fn words() -> &'static [Map<String, Value>] {
    static WORDS: OnceLock<Vec<Map<String, Value>>> = OnceLock::new();
    WORDS.get_or_init(|| {
        LANGUAGES
            .iter()
            .map(|(code, json)| match serde_json::from_str(json) {
                Ok(Value::Object(map)) => map,
                _ => panic!("static/locales/{code}.json is not a JSON object"),
            })
            .collect()
    })
}

/// `text` with `{name}` placeholders replaced from `args`.
pub fn fill(text: &str, args: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(text.len() + 32);
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let value = after
            .find('}')
            .and_then(|close| Some((args.iter().find(|(k, _)| *k == &after[..close])?, close)));
        match value {
            Some(((_, v), close)) => {
                out.push_str(v);
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The `{name}` placeholders in `text`, sorted, each once.
pub fn placeholders(text: &str) -> Vec<&str> {
    let mut names: Vec<&str> = text
        .split('{')
        .skip(1)
        .filter_map(|s| {
            let name = &s[..s.find('}')?];
            let word =
                !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
            word.then_some(name)
        })
        .collect();
    names.sort_unstable();
    names.dedup();
    names
}

impl serde::Serialize for Lang {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

/// Read leniently: a stored code the shop no longer speaks is English.
impl<'de> serde::Deserialize<'de> for Lang {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Lang, D::Error> {
        let code = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Ok(Lang::of(Some(&code)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn every_chinese_tag_is_simplified_chinese_and_the_rest_english() {
        for tag in [
            "zh",
            "ZH",
            "zh-hans",
            "zh-Hans",
            "zh-cn",
            "zh-CN",
            "zh_CN",
            "zh-sg",
            "zh-hant",
            "zh-TW",
            "zh-hk",
            "zh_HK",
            "zh-Hant-TW",
            " zh ",
        ] {
            assert_eq!(Lang::parse(tag), Some(Lang::ZH), "{tag}");
            assert_eq!(Lang::of(Some(tag)), Lang::ZH, "{tag}");
        }
        for tag in ["en", "EN", "en-US", "en_GB"] {
            assert_eq!(Lang::parse(tag), Some(Lang::EN), "{tag}");
        }
        for tag in [
            "fr", "ru", "", "z", "zho", "zhx", "-zh", "english", "chinese",
        ] {
            assert_eq!(Lang::parse(tag), None, "{tag}");
            assert_eq!(Lang::of(Some(tag)), Lang::EN, "{tag}");
        }
        assert_eq!(Lang::of(None), Lang::EN);
        assert_eq!(Lang::default(), Lang::EN);
        assert_eq!((Lang::EN.code(), Lang::ZH.code()), ("en", "zh"));
        assert_eq!(Lang::codes(), "en, zh");
    }

    /// Each language's whole file, the page's keys and the worker's.
    fn files() -> Vec<Map<String, Value>> {
        LANGUAGES
            .iter()
            .map(|(code, _)| {
                let path = format!("{}/static/locales/{code}.json", env!("CARGO_MANIFEST_DIR"));
                match serde_json::from_str(&std::fs::read_to_string(&path).unwrap()) {
                    Ok(Value::Object(map)) => map,
                    _ => panic!("{path} is not a JSON object"),
                }
            })
            .collect()
    }

    /// The worker carries its own keys of each file, all of them, and none of
    /// the page's.
    #[test]
    fn the_worker_embeds_exactly_its_own_keys() {
        for (lang, (file, embedded)) in Lang::all().zip(files().iter().zip(words())) {
            let own: Map<String, Value> = file
                .iter()
                .filter(|(k, _)| k.contains('.'))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            assert!(!own.is_empty() && own.len() < file.len());
            assert_eq!(embedded, &own, "{}", lang.code());
        }
    }

    #[test]
    fn every_language_file_has_every_key_with_the_same_placeholders() {
        let words = files();
        let english = &words[0];
        assert!(!english.is_empty());
        for lang in Lang::all() {
            let theirs = &words[lang.0 as usize];
            let keys = |m: &Map<String, Value>| m.keys().cloned().collect::<BTreeSet<_>>();
            let missing: Vec<_> = keys(english).difference(&keys(theirs)).cloned().collect();
            let extra: Vec<_> = keys(theirs).difference(&keys(english)).cloned().collect();
            assert!(
                missing.is_empty() && extra.is_empty(),
                "static/locales/{}.json: missing {missing:?}, not in English {extra:?}",
                lang.code()
            );
            for (key, text) in theirs {
                let text = text
                    .as_str()
                    .unwrap_or_else(|| panic!("{}.json: {key} is not a string", lang.code()));
                assert!(
                    !text.trim().is_empty(),
                    "{}.json: {key} is empty",
                    lang.code()
                );
                let en = english[key].as_str().expect("checked above");
                assert_eq!(
                    placeholders(text),
                    placeholders(en),
                    "{}.json: {key} has other placeholders than English",
                    lang.code()
                );
            }
        }
    }

    /// Every `"prefix.key"` the worker's code names is in the files, and
    /// every worker key in the files is named somewhere (page keys have no dot).
    #[test]
    fn the_code_names_only_keys_the_files_have_and_every_worker_key_is_used() {
        const PREFIXES: &[&str] = &[
            "bot.",
            "commands.",
            "precheckout.",
            "receipt.",
            "goods.",
            "access.",
            "ton.",
            "notice.",
        ];
        let mut source = String::new();
        let mut dirs = vec![std::path::PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/src"
        ))];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    source.push_str(&std::fs::read_to_string(&path).unwrap());
                }
            }
        }
        let named: BTreeSet<&str> = source
            .split('"')
            .filter(|s| {
                PREFIXES
                    .iter()
                    .any(|p| s.len() > p.len() && s.starts_with(p))
                    && s.len() < 64
                    && s.bytes()
                        .all(|b| b.is_ascii_lowercase() || b == b'_' || b == b'.')
            })
            .collect();
        let english = &words()[0];
        for key in &named {
            assert!(english.contains_key(*key), "{key} is not in en.json");
        }
        for key in english.keys().filter(|k| k.contains('.')) {
            assert!(
                PREFIXES.iter().any(|p| key.starts_with(p)),
                "{key}: a worker key starts with one of {PREFIXES:?}"
            );
            assert!(named.contains(key.as_str()), "{key} is never used");
        }
    }

    /// The page's JavaScript, every module of `static/` but the vendored ones.
    fn page_sources() -> Vec<(std::path::PathBuf, String)> {
        let mut out = Vec::new();
        let mut dirs = vec![std::path::PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/static"
        ))];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    if !path.ends_with("vendor") {
                        dirs.push(path);
                    }
                } else if path.extension().is_some_and(|e| e == "js") {
                    // The code, without its comments (which quote texts to explain them).
                    let text = std::fs::read_to_string(&path)
                        .unwrap()
                        .lines()
                        .filter(|l| {
                            let l = l.trim_start();
                            !(l.starts_with("//") || l.starts_with('*') || l.starts_with("/*"))
                        })
                        .collect::<Vec<_>>()
                        .join("\n");
                    out.push((path, text));
                }
            }
        }
        assert!(out.len() > 5, "static/*.js not found");
        out
    }

    /// The page's words are only in the files: no module carries a table of
    /// its own (as i18n.js once did) or any page text written out in full.
    #[test]
    fn the_page_has_no_words_of_its_own() {
        let sources = page_sources();
        let i18n = &sources
            .iter()
            .find(|(p, _)| p.ends_with("static/i18n.js"))
            .expect("static/i18n.js")
            .1;
        for table in ["const en =", "const zh =", "STRINGS", "appTitle:"] {
            assert!(!i18n.contains(table), "static/i18n.js holds words: {table}");
        }
        assert!(i18n.contains("/locales/"), "static/i18n.js loads the files");
        let files = files();
        for lang in Lang::all() {
            for (key, text) in &files[lang.0 as usize] {
                let Some(text) = text.as_str() else { continue };
                // Short texts (`Premium`, `TON`) may well be code; whole phrases are not.
                if key.contains('.') || text.chars().count() < 16 {
                    continue;
                }
                for (path, source) in &sources {
                    for quote in ['\'', '"', '`'] {
                        assert!(
                            !source.contains(&format!("{quote}{text}{quote}")),
                            "{}: the text of {key} ({}) is written out; use t('{key}')",
                            path.display(),
                            lang.code()
                        );
                    }
                }
            }
        }
    }

    /// Every key the page names with `t('…')` or `data-i18n="…"` is a page key
    /// of the files (tsc checks the same for the modules).
    #[test]
    fn the_page_names_only_keys_the_files_have() {
        let english = &files()[0];
        let mut sources = page_sources();
        sources.push((
            "static/index.html".into(),
            include_str!("../static/index.html").to_owned(),
        ));
        let mut named = 0;
        for (path, source) in &sources {
            for opener in [
                "t('",
                "data-i18n=\"",
                "data-i18n-label=\"",
                "data-i18n-title=\"",
            ] {
                for (at, _) in source.match_indices(opener) {
                    // `t(` itself, not the end of `onEvent(`.
                    let before = source[..at].chars().next_back().unwrap_or(' ');
                    if before.is_ascii_alphanumeric() || before == '_' || before == '.' {
                        continue;
                    }
                    let rest = &source[at + opener.len()..];
                    let key: String = rest
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .collect();
                    if key.is_empty() {
                        continue;
                    }
                    named += 1;
                    assert!(
                        !key.contains('.') && english.contains_key(&key),
                        "{}: {key} is not a page key of en.json",
                        path.display()
                    );
                }
            }
        }
        assert!(named > 50, "only {named} keys found in the page");
    }

    #[test]
    fn placeholders_are_filled_verbatim() {
        assert_eq!(
            fill("{a} and {b}", &[("a", "1"), ("b", "{a}")]),
            "1 and {a}"
        );
        assert_eq!(fill("{missing} {", &[("a", "1")]), "{missing} {");
        assert_eq!(fill("no braces", &[]), "no braces");
        assert_eq!(fill("{a}{a}", &[("a", "x")]), "xx");
        assert_eq!(placeholders("{b} {a} {b} {not one} {}"), ["a", "b"]);
        assert_eq!(
            Lang::ZH.fill("receipt.paid_no_order", &[("price", "⭐ 5")]),
            "✅ 付款成功：⭐ 5。谢谢惠顾！"
        );
    }

    #[test]
    fn a_language_reads_and_writes_as_its_code() {
        assert_eq!(serde_json::to_string(&Lang::ZH).unwrap(), "\"zh\"");
        let read: Lang = serde_json::from_str("\"zh-hans\"").unwrap();
        assert_eq!(read, Lang::ZH);
        let unknown: Lang = serde_json::from_str("\"fr\"").unwrap();
        assert_eq!(unknown, Lang::EN);
    }
}
