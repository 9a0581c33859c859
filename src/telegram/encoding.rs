//! Small codecs the protocol needs (hex, unpadded base64url, form decoding),
//! written here to keep the wasm free of general-purpose encoding crates.

/// Lower-case hex of `bytes`.
pub fn hex_encode(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

/// The value of each hex digit, 0xFF for other bytes: one load per digit on
/// the hot paths (escapes in launch data, the hash).
const HEX: [u8; 256] = {
    let mut t = [0xFF; 256];
    let mut c = 0;
    while c < 256 {
        t[c] = match c as u8 {
            b @ b'0'..=b'9' => b - b'0',
            b @ b'a'..=b'f' => b - b'a' + 10,
            b @ b'A'..=b'F' => b - b'A' + 10,
            _ => 0xFF,
        };
        c += 1;
    }
    t
};

/// The byte two hex digits spell, with one test for both.
pub fn hex_byte(hi: u8, lo: u8) -> Option<u8> {
    let (hi, lo) = (HEX[hi as usize], HEX[lo as usize]);
    ((hi | lo) <= 0xF).then_some(hi << 4 | lo)
}

/// Decodes exactly `out.len()` bytes of hex; `None` on any other input.
pub fn hex_decode_into(hex: &[u8], out: &mut [u8]) -> Option<()> {
    if hex.len() != out.len() * 2 {
        return None;
    }
    for (o, pair) in out.iter_mut().zip(hex.chunks_exact(2)) {
        *o = hex_byte(pair[0], pair[1])?;
    }
    Some(())
}

/// Decodes base64url (RFC 4648 §5), padded or not; `None` on invalid input.
pub fn base64url_decode(s: &str) -> Option<Vec<u8>> {
    let s = s.trim_end_matches('=');
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' | b'+' => 62,
            b'_' | b'/' => 63,
            _ => return None,
        } as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    // Six leftover bits can never come from whole bytes.
    if bits >= 6 {
        return None;
    }
    Some(out)
}

/// Encodes base64url without padding (what Telegram uses for `signature`).
pub fn base64url_encode(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut s = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = (chunk[0] as u32) << 16
            | (*chunk.get(1).unwrap_or(&0) as u32) << 8
            | *chunk.get(2).unwrap_or(&0) as u32;
        for i in 0..=chunk.len() {
            s.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    s
}

/// Decodes one `application/x-www-form-urlencoded` component: `+` is a space,
/// then `%XX`. `None` when a `%` escape is broken or the bytes are not UTF-8.
pub fn form_decode(s: &str) -> Option<String> {
    if !s.bytes().any(|b| b == b'%' || b == b'+') {
        return Some(s.to_owned());
    }
    let mut out = Vec::with_capacity(s.len());
    form_decode_into(s, &mut out)?;
    String::from_utf8(out).ok()
}

/// [`form_decode`] appending raw bytes to `out`, which the caller checks for
/// UTF-8; `None` when a `%` escape is broken.
fn form_decode_into(s: &str, out: &mut Vec<u8>) -> Option<()> {
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        // Copy the run up to the next escape in one go.
        let run = bytes[i..]
            .iter()
            .position(|&b| b == b'%' || b == b'+')
            .unwrap_or(bytes.len() - i);
        out.extend_from_slice(&bytes[i..i + run]);
        i += run;
        match bytes.get(i) {
            None => break,
            Some(b'+') => out.push(b' '),
            Some(_) => {
                let &[hi, lo] = bytes.get(i + 1..i + 3)? else {
                    return None;
                };
                out.push(hex_byte(hi, lo)?);
                i += 2;
            }
        }
        i += 1;
    }
    Some(())
}

/// Encodes a component for a form body or query string (the inverse of `form_decode`).
pub fn form_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => {
                out.push('%');
                out.push_str(&hex_encode(&[b]).to_ascii_uppercase());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trip() {
        let mut out = [0u8; 3];
        assert_eq!(hex_encode(&[0, 0xab, 0xff]), "00abff");
        assert_eq!(hex_decode_into(b"00ABff", &mut out), Some(()));
        assert_eq!(out, [0, 0xab, 0xff]);
        assert_eq!(hex_decode_into(b"00abf", &mut out), None);
        assert_eq!(hex_decode_into("00ab\u{e9}".as_bytes(), &mut out), None);
    }

    #[test]
    fn hex_byte_reads_exactly_the_hex_digits() {
        for hi in 0..=255u8 {
            for lo in 0..=255u8 {
                let digits = [hi, lo];
                let std = std::str::from_utf8(&digits)
                    .ok()
                    .filter(|s| s.bytes().all(|b| b.is_ascii_hexdigit()))
                    .and_then(|s| u8::from_str_radix(s, 16).ok());
                assert_eq!(hex_byte(hi, lo), std, "{hi:#x} {lo:#x}");
            }
        }
    }

    #[test]
    fn base64url_round_trip() {
        for len in 0..70 {
            let data: Vec<u8> = (0..len as u8).map(|i| i.wrapping_mul(37)).collect();
            assert_eq!(base64url_decode(&base64url_encode(&data)).unwrap(), data);
        }
        assert_eq!(base64url_encode(b"\xfb\xff"), "-_8");
        assert_eq!(base64url_decode("A"), None);
        assert_eq!(base64url_decode("ab!c"), None);
    }

    #[test]
    fn form_decoding() {
        assert_eq!(form_decode("a+b%20c%2B").unwrap(), "a b c+");
        assert_eq!(form_decode("%E4%BD%A0").unwrap(), "你");
        assert_eq!(form_decode("%zz"), None);
        assert_eq!(form_decode("%e"), None);
        assert_eq!(form_decode("%ff"), None);
        assert_eq!(
            form_decode(&form_encode("a b+c/你=&")).unwrap(),
            "a b+c/你=&"
        );
        assert_eq!(form_decode("+x%41yz+").unwrap(), " xAyz ");
        let mut out = b"k=".to_vec();
        assert_eq!(form_decode_into("v%2", &mut out), None);
        out.truncate(2);
        assert_eq!(form_decode_into("%C3%A9+ok", &mut out), Some(()));
        assert_eq!(out, "k=é ok".as_bytes());
    }
}
