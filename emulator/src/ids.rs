//! Random identifiers shaped like Telegram's (opaque strings to the bot, but realistic).

const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    getrandom::getrandom(&mut b).expect("OS random source");
    b
}

/// `len` characters of the base64url alphabet.
pub fn token(len: usize) -> String {
    let mut out = String::with_capacity(len);
    while out.len() < len {
        for b in random_bytes::<32>() {
            if out.len() < len {
                out.push(ALPHABET[(b & 63) as usize] as char);
            }
        }
    }
    out
}

/// Decimal digits, first one non-zero (pre-checkout query ids are numeric strings).
pub fn digits(len: usize) -> String {
    let bytes = random_bytes::<32>();
    (0..len)
        .map(|i| {
            let d = bytes[i % 32].wrapping_add(i as u8) % 10;
            let d = if i == 0 && d == 0 { 1 } else { d };
            char::from(b'0' + d)
        })
        .collect()
}

/// Invoice link slug (the part after `https://t.me/$`).
pub fn invoice_slug() -> String {
    token(22)
}

/// A Stars charge id, `stx` + base64url, like the real ones.
pub fn stars_charge_id() -> String {
    format!("stx{}", token(60))
}

/// Telegram's charge id for card payments (`<digits>_<digits>`).
pub fn card_charge_id() -> String {
    format!("{}_{}", digits(10), digits(6))
}

/// A provider-side charge id, Stripe-looking.
pub fn provider_charge_id() -> String {
    format!("ch_{}", token(24).replace(['-', '_'], "x"))
}

/// Mini App `query_id`.
pub fn web_app_query_id() -> String {
    format!("AA{}", token(22))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_and_uniqueness() {
        let a = stars_charge_id();
        assert!(a.starts_with("stx") && a.len() == 63);
        assert_ne!(a, stars_charge_id());
        let d = digits(19);
        assert!(d.len() == 19 && d.bytes().all(|b| b.is_ascii_digit()) && !d.starts_with('0'));
        assert!(card_charge_id().contains('_'));
    }
}
