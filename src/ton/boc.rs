//! Bags of cells: how cells travel as bytes (ton-blockchain/docs
//! `foundations/serialization/boc.mdx`):
//!
//! ```text
//! serialized_boc#b5ee9c72 has_idx:(## 1) has_crc32c:(## 1) has_cache_bits:(## 1)
//!   flags:(## 2) { flags = 0 } size:(## 3) { size <= 4 }
//!   off_bytes:(## 8) { off_bytes <= 8 }
//!   cells:(##(size * 8)) roots:(##(size * 8)) { roots >= 1 }
//!   absent:(##(size * 8)) { roots + absent <= cells }
//!   tot_cells_size:(##(off_bytes * 8))
//!   root_list:(roots * ##(size * 8))
//!   index:has_idx?(cells * ##(off_bytes * 8))
//!   cell_data:(tot_cells_size * [ uint8 ])
//!   crc32c:has_crc32c?uint32
//! ```
//!
//! Each cell is its two descriptor bytes and data ([`Cell`]'s
//! `descriptors_and_data`), then `refs` cell indices of `size` bytes; a cell
//! only refers to cells after it. The CRC32C, when present, covers every byte
//! before it and is stored little-endian.
//!
//! We read bags with exactly one root and no absent cells. The index, when
//! present, is skipped: the cells are read in order, which is all it would
//! tell us, and ton-core writes each cell's start offset where the docs
//! define its end offset, so checking it would refuse one or the other. We
//! write bags without an index, with a CRC32C.

use std::collections::HashMap;
use std::sync::Arc;

use base64::Engine;

use super::cell::{Cell, CellKind};
use super::{Error, BASE64};

const MAGIC: [u8; 4] = [0xb5, 0xee, 0x9c, 0x72];
const CRC32C: crc::Crc<u32> = crc::Crc::<u32>::new(&crc::CRC_32_ISCSI);

/// What we read is a wallet's state init or a message body, a few KB at most;
/// a larger bag is refused unread.
pub const MAX_LEN: usize = 16 * 1024;

/// Reads a bag of cells with one root.
pub fn parse(bytes: &[u8]) -> Result<Cell, Error> {
    if bytes.len() > MAX_LEN {
        return Err(Error("the bag of cells is larger than 16 KiB"));
    }
    let mut r = Reader { bytes, pos: 0 };
    if r.take(4)? != MAGIC {
        return Err(Error("not a bag of cells"));
    }
    let flags = r.uint(1)?;
    let (has_idx, has_crc, has_cache_bits) =
        (flags & 0x80 != 0, flags & 0x40 != 0, flags & 0x20 != 0);
    let size = (flags & 0x07) as usize;
    if flags & 0x18 != 0 || (has_cache_bits && !has_idx) {
        return Err(Error("unknown bag of cells flags"));
    }
    if !(1..=4).contains(&size) {
        return Err(Error("cell references of 1 to 4 bytes"));
    }
    if has_crc {
        // The CRC is the last 4 bytes: check it first, then read the rest.
        let Some(body_len) = bytes.len().checked_sub(4) else {
            return Err(Error("the bag of cells is truncated"));
        };
        let (body, crc) = bytes.split_at(body_len);
        if CRC32C.checksum(body).to_le_bytes() != crc {
            return Err(Error("the bag of cells fails its CRC32C"));
        }
        r.bytes = body;
    }
    let off_bytes = r.uint(1)? as usize;
    if !(1..=8).contains(&off_bytes) {
        return Err(Error("offsets of 1 to 8 bytes"));
    }
    let cells = r.uint(size)?;
    let roots = r.uint(size)?;
    let absent = r.uint(size)?;
    let total = r.uint(off_bytes)?;
    if roots != 1 || absent != 0 {
        return Err(Error("a bag of cells with one root and no absent cells"));
    }
    // Each cell takes at least 2 bytes: a count past that is a lie.
    if cells == 0 || cells > r.bytes.len() as u64 / 2 {
        return Err(Error("the bag of cells is truncated"));
    }
    let cells = cells as usize;
    let root = r.uint(size)? as usize;
    if root >= cells {
        return Err(Error("the root is not a cell of the bag"));
    }
    if has_idx {
        r.take(cells * off_bytes)?;
    }

    let start = r.pos;
    let mut raw = Vec::with_capacity(cells);
    for i in 0..cells {
        let (d1, d2) = (r.uint(1)? as usize, r.uint(1)? as usize);
        let refs = d1 & 7;
        let exotic = d1 & 8 != 0;
        if refs > 4 {
            return Err(Error("a cell holds at most 4 references"));
        }
        if d1 & 16 != 0 || d1 >> 5 != 0 {
            return Err(Error("only level-0 cells without stored hashes"));
        }
        let data = r.take(d2.div_ceil(2))?;
        let bit_len = if d2 % 2 == 0 {
            data.len() * 8
        } else {
            // The last byte is incomplete: its lowest 1 bit is the completion
            // tag, and at least one data bit comes before it.
            let last = data[data.len() - 1];
            if last == 0 || last == 0x80 {
                return Err(Error("a cell's last byte is not an incomplete byte"));
            }
            data.len() * 8 - 1 - last.trailing_zeros() as usize
        };
        let mut children = Vec::with_capacity(refs);
        for _ in 0..refs {
            let child = r.uint(size)? as usize;
            if child <= i || child >= cells {
                return Err(Error("a cell refers to itself, an earlier cell or none"));
            }
            children.push(child);
        }
        let kind = match (exotic, data.first()) {
            (false, _) => CellKind::Ordinary,
            (true, Some(2)) => CellKind::Library,
            (true, _) => return Err(Error("an exotic cell other than a library")),
        };
        raw.push((kind, data, bit_len, children));
    }
    if (r.pos - start) as u64 != total {
        return Err(Error("the cells' size is not the one declared"));
    }
    if r.pos != r.bytes.len() {
        return Err(Error("bytes after the bag of cells"));
    }

    // Build from the last cell to the first, so every reference already exists.
    let mut built: Vec<Option<Arc<Cell>>> = vec![None; cells];
    for (i, (kind, data, bit_len, children)) in raw.into_iter().enumerate().rev() {
        let refs = children
            .iter()
            .map(|&c| built[c].clone().expect("built before"))
            .collect();
        built[i] = Some(Arc::new(Cell::new(kind, data.to_vec(), bit_len, refs)?));
    }
    let root = built[root].take().expect("built");
    drop(built);
    Ok(Arc::try_unwrap(root).unwrap_or_else(|shared| (*shared).clone()))
}

/// [`parse`] of standard base64 (as TON Connect and toncenter send bags of
/// cells), with or without padding.
pub fn parse_base64(text: &str) -> Result<Cell, Error> {
    if text.len() > MAX_LEN.div_ceil(3) * 4 {
        return Err(Error("the bag of cells is larger than 16 KiB"));
    }
    let bytes = BASE64
        .decode(text)
        .map_err(|_| Error("the bag of cells is not base64"))?;
    parse(&bytes)
}

/// Writes `root` and every cell under it, each distinct cell once, with a
/// CRC32C and no index.
///
/// Cells are numbered root first, each after every cell that refers to it
/// (for a tree: breadth first, children in order, as `tonlib-core` does).
pub fn serialize(root: &Cell) -> Vec<u8> {
    // The distinct cells by hash, and how many references point at each.
    let mut index: HashMap<[u8; 32], usize> = HashMap::from([(root.hash(), 0)]);
    let mut cells: Vec<&Cell> = vec![root];
    let mut parents: Vec<usize> = vec![0];
    let mut next = 0;
    while next < cells.len() {
        for r in cells[next].refs() {
            match index.get(&r.hash()) {
                Some(&i) => parents[i] += 1,
                None => {
                    index.insert(r.hash(), cells.len());
                    cells.push(r);
                    parents.push(1);
                }
            }
        }
        next += 1;
    }

    // Kahn's order: a cell is numbered once every cell referring to it is.
    let mut order: Vec<&Cell> = Vec::with_capacity(cells.len());
    let mut position: HashMap<[u8; 32], usize> = HashMap::new();
    let mut queue = std::collections::VecDeque::from([root]);
    while let Some(cell) = queue.pop_front() {
        position.insert(cell.hash(), order.len());
        order.push(cell);
        for r in cell.refs() {
            let i = index[&r.hash()];
            parents[i] -= 1;
            if parents[i] == 0 {
                queue.push_back(r);
            }
        }
    }

    let size = bytes_for(order.len() as u64);
    let mut data = Vec::new();
    for cell in &order {
        data.extend(cell.descriptors_and_data());
        for r in cell.refs() {
            put_uint(&mut data, position[&r.hash()] as u64, size);
        }
    }
    let off_bytes = bytes_for(data.len() as u64);

    let mut out = MAGIC.to_vec();
    out.push(0x40 | size as u8); // has_crc32c, no index, no cache bits
    out.push(off_bytes as u8);
    put_uint(&mut out, order.len() as u64, size); // cells
    put_uint(&mut out, 1, size); // roots
    put_uint(&mut out, 0, size); // absent
    put_uint(&mut out, data.len() as u64, off_bytes);
    put_uint(&mut out, 0, size); // the root is cell 0
    out.extend(data);
    let crc = CRC32C.checksum(&out);
    out.extend(crc.to_le_bytes());
    out
}

/// [`serialize`] as standard base64 with padding.
pub fn to_base64(root: &Cell) -> String {
    BASE64.encode(serialize(root))
}

/// How many bytes `n` needs (at least 1).
fn bytes_for(n: u64) -> usize {
    (64 - n.leading_zeros() as usize).div_ceil(8).max(1)
}

fn put_uint(out: &mut Vec<u8>, value: u64, bytes: usize) {
    out.extend_from_slice(&value.to_be_bytes()[8 - bytes..]);
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], Error> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.bytes.len());
        let end = end.ok_or(Error("the bag of cells is truncated"))?;
        let out = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    /// A big-endian unsigned integer of `n` bytes (at most 8).
    fn uint(&mut self, n: usize) -> Result<u64, Error> {
        Ok(self.take(n)?.iter().fold(0, |v, &b| v << 8 | b as u64))
    }
}
