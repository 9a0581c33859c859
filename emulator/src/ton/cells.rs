//! Addresses in their forms, text comments and bags of cells, through `tonlib-core`.
//!
//! toncenter's API v3 writes addresses raw with an upper-case hash (`0:ABC…`), hashes as
//! standard base64, bodies as base64 bags of cells with a CRC (`te6cck…`); TON Connect writes
//! raw addresses in lower case and user-friendly ones url-safe.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use tonlib_core::cell::{ArcCell, BagOfCells, Cell, CellBuilder, TonCellError};
use tonlib_core::{TonAddress, TonHash};

/// An address in any of its forms (raw, or user-friendly in either base64 alphabet), with the
/// bounceable flag the user-friendly form carries (`None` for raw).
pub fn parse_address(s: &str) -> Option<(TonAddress, Option<bool>)> {
    let s = s.trim();
    if s.len() == 48 {
        let parsed = if s.contains('-') || s.contains('_') {
            TonAddress::from_base64_url_flags(s)
        } else {
            TonAddress::from_base64_std_flags(s)
        };
        return parsed
            .ok()
            .map(|(addr, non_bounceable, _testnet)| (addr, Some(!non_bounceable)));
    }
    TonAddress::from_hex_str(s).ok().map(|a| (a, None))
}

/// The address alone, any form.
pub fn address(s: &str) -> Option<TonAddress> {
    parse_address(s).map(|(a, _)| a)
}

/// toncenter's raw form: `0:` and the hash in upper-case hex.
pub fn raw(addr: &TonAddress) -> String {
    format!(
        "{}:{}",
        addr.workchain,
        hex::encode_upper(addr.hash_part.as_slice())
    )
}

/// TON Connect's raw form (`ton_addr.address`): lower-case hex.
pub fn raw_lower(addr: &TonAddress) -> String {
    format!(
        "{}:{}",
        addr.workchain,
        hex::encode(addr.hash_part.as_slice())
    )
}

/// The user-friendly url-safe form (`EQ…`/`UQ…`, `kQ…`/`0Q…` on testnet).
pub fn friendly(addr: &TonAddress, bounceable: bool, testnet: bool) -> String {
    addr.to_base64_url_flags(!bounceable, testnet)
}

/// The representation hash of a cell (through an `Arc` too, where `TLB::cell_hash` would
/// otherwise be picked).
pub fn hash(cell: &Cell) -> TonHash {
    cell.cell_hash()
}

/// A hash as toncenter writes it: standard base64 with padding.
pub fn hash_b64(hash: &TonHash) -> String {
    STANDARD.encode(hash.as_slice())
}

/// Reads a hash given as 64 hex digits or as base64 (either alphabet).
pub fn parse_hash(s: &str) -> Option<TonHash> {
    let s = s.trim().trim_start_matches("0x");
    let bytes = if s.len() == 64 {
        hex::decode(s).ok()?
    } else {
        let std = s.replace('-', "+").replace('_', "/");
        STANDARD.decode(std).ok()?
    };
    TonHash::try_from(bytes.as_slice()).ok()
}

/// A bag of cells with one root, base64, with the CRC32C toncenter's bodies carry.
pub fn boc_b64(cell: &ArcCell) -> String {
    let bytes = BagOfCells::new(std::slice::from_ref(cell))
        .serialize(true)
        .expect("serializable cell");
    STANDARD.encode(bytes)
}

/// The root cell of a base64 bag of cells (either alphabet, padding optional).
pub fn parse_boc(s: &str) -> Result<ArcCell, String> {
    let std = s.trim().replace('-', "+").replace('_', "/");
    let padded = match std.len() % 4 {
        0 => std,
        n => format!("{std}{}", "=".repeat(4 - n)),
    };
    let bytes = STANDARD
        .decode(padded)
        .map_err(|_| "not base64".to_string())?;
    BagOfCells::parse(&bytes)
        .and_then(|b| b.single_root())
        .map_err(|e| format!("not a bag of cells with one root: {e}"))
}

/// A text comment: 32 zero bits, then the UTF-8 text, continued in a chain of references when
/// it does not fit (each cell holds at most 127 bytes).
pub fn comment_cell(text: &str) -> Result<ArcCell, TonCellError> {
    let bytes = text.as_bytes();
    let first = bytes.len().min(123);
    let mut chunks: Vec<&[u8]> = vec![&bytes[..first]];
    chunks.extend(bytes[first..].chunks(127));
    let mut tail: Option<ArcCell> = None;
    for (i, chunk) in chunks.iter().enumerate().rev() {
        let mut b = CellBuilder::new();
        if i == 0 {
            b.store_u32(32, 0)?;
        }
        b.store_slice(chunk)?;
        if let Some(next) = &tail {
            b.store_reference(next)?;
        }
        tail = Some(b.build()?.to_arc());
    }
    Ok(tail.expect("at least one chunk"))
}

/// The text of a comment body (op 0), when the body is one: whole bytes of valid UTF-8, each
/// cell of the chain with at most one reference.
pub fn read_comment(cell: &Cell) -> Option<String> {
    if opcode(cell) != Some(0) {
        return None;
    }
    let mut bytes = Vec::new();
    let mut current = cell;
    let mut skip = 4;
    loop {
        if !current.bit_len().is_multiple_of(8) || current.references().len() > 1 {
            return None;
        }
        bytes.extend_from_slice(&current.data()[skip..current.bit_len() / 8]);
        skip = 0;
        match current.references().first() {
            Some(next) => current = next,
            None => break,
        }
    }
    String::from_utf8(bytes).ok()
}

/// The first 32 bits of a body, the op code of an internal message.
pub fn opcode(cell: &Cell) -> Option<u32> {
    (cell.bit_len() >= 32).then(|| u32::from_be_bytes(cell.data()[..4].try_into().expect("4")))
}

/// toncenter's `opcode`: `0x` and eight hex digits.
pub fn opcode_text(op: u32) -> String {
    format!("0x{op:08x}")
}

/// The body of a bounced message: 32 one bits, then the first 256 bits of the original body.
pub fn bounce_body(original: &ArcCell) -> ArcCell {
    let bits = original.bit_len().min(256);
    let mut p = original.parser();
    let data = p.load_bits(bits).unwrap_or_default();
    let mut b = CellBuilder::new();
    b.store_u32(32, 0xffff_ffff).expect("fits");
    b.store_bits(bits, &data).expect("fits");
    b.build().expect("fits").to_arc()
}

/// A coins amount as `u128` (saturating: no real amount comes near).
pub fn to_u128(n: &num_bigint::BigUint) -> u128 {
    u128::try_from(n).unwrap_or(u128::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_round_trip_through_every_form() {
        let usdt = address(super::super::MAINNET_USDT).unwrap();
        assert_eq!(friendly(&usdt, true, false), super::super::MAINNET_USDT);
        let raw_form = raw(&usdt);
        assert!(raw_form.starts_with("0:B113A994"), "{raw_form}");
        assert_eq!(address(&raw_form), Some(usdt.clone()));
        assert_eq!(address(&raw_lower(&usdt)), Some(usdt.clone()));
        let (_, bounce) = parse_address(&friendly(&usdt, false, false)).unwrap();
        assert_eq!(bounce, Some(false));
        assert!(friendly(&usdt, true, true).starts_with("kQ"));
        assert!(address("0:1234").is_none());
        assert!(address("EQCxE6mUtQJKFnGfaROTKOt1lZbDiiX1kCixRv7Nw2Id_sDx").is_none());
    }

    #[test]
    fn comments_survive_a_bag_of_cells_and_long_ones_chain() {
        for text in ["order-42", &"é".repeat(150)] {
            let cell = comment_cell(text).unwrap();
            let back = parse_boc(&boc_b64(&cell)).unwrap();
            assert_eq!(read_comment(&back).as_deref(), Some(text));
        }
        assert!(comment_cell(&"x".repeat(200)).unwrap().references().len() == 1);
        let not_comment = CellBuilder::new()
            .store_u32(32, 0x7362d09c)
            .unwrap()
            .build()
            .unwrap();
        assert_eq!(read_comment(&not_comment), None);
        assert_eq!(opcode_text(0x0f8a7ea5), "0x0f8a7ea5");
    }

    #[test]
    fn bodies_are_bags_of_cells_with_a_crc() {
        let b64 = boc_b64(&comment_cell("hi").unwrap());
        assert!(b64.starts_with("te6cck"), "{b64}");
        let h = hash(&comment_cell("hi").unwrap());
        assert_eq!(parse_hash(&hash_b64(&h)), Some(h.clone()));
        assert_eq!(parse_hash(&hex::encode(h.as_slice())), Some(h));
    }
}
