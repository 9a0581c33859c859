//! The parts of a request URL the core needs, cut from the URL string the runtime
//! serialized (scheme and host lower-cased, default port dropped, path and query
//! percent-encoded), so no URL parser has to run, or ship, for each request.

#[derive(Debug, PartialEq, Eq)]
pub struct UrlParts<'a> {
    /// `scheme://host[:port]`, without any user info.
    pub origin: String,
    /// At least `/`.
    pub path: &'a str,
    /// After `?`, without it; empty when there is none.
    pub query: &'a str,
}

/// `None` for a string without `scheme://`, which the runtime never hands over.
pub fn split(url: &str) -> Option<UrlParts<'_>> {
    let authority_start = url.find("://")? + 3;
    let rest = &url[authority_start..];
    let authority_len = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_len];
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let origin = format!("{}{host}", &url[..authority_start]);
    let rest = &rest[authority_len..];
    let rest = rest.split_once('#').map_or(rest, |(r, _)| r);
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    Some(UrlParts {
        origin,
        path: if path.is_empty() { "/" } else { path },
        query,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(url: &str) -> (String, &str, &str) {
        let p = split(url).unwrap();
        (p.origin, p.path, p.query)
    }

    #[test]
    fn cuts_origin_path_and_query() {
        assert_eq!(
            parts("https://shop.example/api/verify?a=1&b=%20"),
            ("https://shop.example".into(), "/api/verify", "a=1&b=%20")
        );
        assert_eq!(
            parts("http://127.0.0.1:8787/"),
            ("http://127.0.0.1:8787".into(), "/", "")
        );
        assert_eq!(
            parts("http://[::1]:8787?q"),
            ("http://[::1]:8787".into(), "/", "q")
        );
        assert_eq!(
            parts("https://u:p@h.example/x#frag?no"),
            ("https://h.example".into(), "/x", "")
        );
        assert_eq!(
            parts("https://h.example/a%3Fb?c=d?e"),
            ("https://h.example".into(), "/a%3Fb", "c=d?e")
        );
        assert!(split("no-scheme").is_none());
    }
}
