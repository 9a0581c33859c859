//! Cells (ton-blockchain/docs `foundations/serialization/cells.mdx` and
//! `library.mdx`; the TVM whitepaper, 3.1): up to 1023 bits and up to 4
//! references to other cells. A [`Cell`] can only be made by [`CellBuilder::build`],
//! [`Cell::library`] or a bag of cells ([`super::boc::parse`]), all of which
//! check the limits and compute the cell's hash and depth once, bottom up, so
//! a cell shared by many parents is hashed once.
//!
//! Only level-0 cells exist here: ordinary cells and library cells (the
//! exotic cell a wallet's code may be, see `wallet`). Pruned branches and Merkle
//! cells, which give a cell a level above 0, are refused when a bag of cells is
//! read.

use std::fmt;
use std::sync::Arc;

use sha2::{Digest, Sha256};

use super::{Address, Error};

pub const MAX_BITS: usize = 1023;
pub const MAX_REFS: usize = 4;
/// The deepest a cell may be (`CellTraits::max_depth` in the TON node).
pub const MAX_DEPTH: u16 = 1024;

/// The first data byte of a library cell, its exotic cell type.
const LIBRARY_TYPE: u8 = 2;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CellKind {
    Ordinary,
    /// Exotic type 2: the byte 2, then the representation hash of a cell kept
    /// in the masterchain's libraries, which stands in for that cell.
    Library,
}

/// Two cells are equal when their hashes are: comparing the trees themselves
/// would take exponential time on a bag that shares cells.
#[derive(Clone)]
pub struct Cell {
    kind: CellKind,
    /// `ceil(bit_len / 8)` bytes, the bits after `bit_len` zero.
    bits: Vec<u8>,
    bit_len: usize,
    refs: Vec<Arc<Cell>>,
    hash: [u8; 32],
    depth: u16,
}

impl Cell {
    /// Checks the limits and computes the hash and depth. `bits` holds exactly
    /// `ceil(bit_len / 8)` bytes; bits past `bit_len` are cleared.
    pub(crate) fn new(
        kind: CellKind,
        mut bits: Vec<u8>,
        bit_len: usize,
        refs: Vec<Arc<Cell>>,
    ) -> Result<Cell, Error> {
        if bit_len > MAX_BITS {
            return Err(Error("a cell holds at most 1023 bits"));
        }
        if refs.len() > MAX_REFS {
            return Err(Error("a cell holds at most 4 references"));
        }
        if bits.len() != bit_len.div_ceil(8) {
            return Err(Error("cell data does not match its bit length"));
        }
        if !bit_len.is_multiple_of(8) {
            let last = bits.len() - 1;
            bits[last] &= 0xFF << (8 - bit_len % 8);
        }
        if kind == CellKind::Library
            && (bit_len != 8 + 256 || !refs.is_empty() || bits[0] != LIBRARY_TYPE)
        {
            return Err(Error("a library cell is the byte 2 and a 256-bit hash"));
        }
        let depth = match refs.iter().map(|r| r.depth).max() {
            None => 0,
            Some(d) if d < MAX_DEPTH => d + 1,
            Some(_) => return Err(Error("cells nest deeper than 1024")),
        };
        let mut cell = Cell {
            kind,
            bits,
            bit_len,
            refs,
            hash: [0; 32],
            depth,
        };
        cell.hash = cell.representation_hash();
        Ok(cell)
    }

    /// The library cell that stands for the cell with representation hash `hash`.
    pub fn library(hash: &[u8; 32]) -> Cell {
        let mut bits = vec![LIBRARY_TYPE];
        bits.extend_from_slice(hash);
        Cell::new(CellKind::Library, bits, 8 + 256, Vec::new()).expect("a valid library cell")
    }

    pub fn kind(&self) -> CellKind {
        self.kind
    }

    /// The data, `ceil(bit_len / 8)` bytes; the bits after `bit_len` are zero.
    pub fn bits(&self) -> &[u8] {
        &self.bits
    }

    pub fn bit_len(&self) -> usize {
        self.bit_len
    }

    pub fn refs(&self) -> &[Arc<Cell>] {
        &self.refs
    }

    /// The representation hash: what an address, a code hash or a library
    /// refers to.
    pub fn hash(&self) -> [u8; 32] {
        self.hash
    }

    /// 0 for a cell without references, else 1 + the deepest reference's depth.
    pub fn depth(&self) -> u16 {
        self.depth
    }

    /// For a library cell, the hash of the cell it stands for.
    pub fn library_hash(&self) -> Option<[u8; 32]> {
        match self.kind {
            CellKind::Library => self.bits[1..].try_into().ok(),
            CellKind::Ordinary => None,
        }
    }

    /// A reader from the first bit and reference.
    pub fn parse(&self) -> Slice<'_> {
        Slice {
            cell: self,
            bit: 0,
            next_ref: 0,
        }
    }

    /// The two descriptor bytes, then the data with its completion tag (a 1
    /// bit after the last data bit when the bits do not fill the last byte).
    /// This is how a bag of cells stores a cell and what its hash starts with.
    ///
    /// `d1 = refs + 8·exotic + 32·level` (the level is always 0 here) and
    /// `d2 = floor(bits / 8) + ceil(bits / 8)`.
    pub(crate) fn descriptors_and_data(&self) -> Vec<u8> {
        let exotic = match self.kind {
            CellKind::Ordinary => 0,
            CellKind::Library => 8,
        };
        let d1 = self.refs.len() as u8 + exotic;
        let d2 = (self.bit_len / 8 + self.bit_len.div_ceil(8)) as u8;
        let mut out = Vec::with_capacity(2 + self.bits.len());
        out.extend_from_slice(&[d1, d2]);
        out.extend_from_slice(&self.bits);
        if !self.bit_len.is_multiple_of(8) {
            let last = out.len() - 1;
            out[last] |= 0x80 >> (self.bit_len % 8);
        }
        out
    }

    /// `SHA-256(d1 ‖ d2 ‖ data ‖ each reference's depth, u16 big-endian ‖
    /// each reference's hash)`.
    fn representation_hash(&self) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(self.descriptors_and_data());
        for r in &self.refs {
            h.update(r.depth.to_be_bytes());
        }
        for r in &self.refs {
            h.update(r.hash);
        }
        h.finalize().into()
    }
}

impl PartialEq for Cell {
    fn eq(&self, other: &Cell) -> bool {
        self.hash == other.hash
    }
}

impl Eq for Cell {}

/// The cell's own fields, its references by hash (a cell shared by many
/// parents would otherwise print many times).
impl fmt::Debug for Cell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let refs: Vec<String> = self.refs.iter().map(|r| hex::encode(r.hash)).collect();
        f.debug_struct("Cell")
            .field("kind", &self.kind)
            .field("bits", &hex::encode(&self.bits))
            .field("bit_len", &self.bit_len)
            .field("refs", &refs)
            .field("hash", &hex::encode(self.hash))
            .finish()
    }
}

/// Builds an ordinary cell, bit by bit. Each `store_*` fails, storing
/// nothing, when the value does not fit the cell or the field.
#[derive(Debug, Clone, Default)]
pub struct CellBuilder {
    bits: Vec<u8>,
    bit_len: usize,
    refs: Vec<Arc<Cell>>,
}

impl CellBuilder {
    pub fn new() -> CellBuilder {
        CellBuilder::default()
    }

    pub fn bit_len(&self) -> usize {
        self.bit_len
    }

    fn room_for(&self, bits: usize) -> Result<(), Error> {
        if self.bit_len + bits > MAX_BITS {
            return Err(Error("a cell holds at most 1023 bits"));
        }
        Ok(())
    }

    fn push_bit(&mut self, bit: bool) {
        if self.bit_len.is_multiple_of(8) {
            self.bits.push(0);
        }
        if bit {
            self.bits[self.bit_len / 8] |= 0x80 >> (self.bit_len % 8);
        }
        self.bit_len += 1;
    }

    pub fn store_bit(&mut self, bit: bool) -> Result<&mut Self, Error> {
        self.room_for(1)?;
        self.push_bit(bit);
        Ok(self)
    }

    /// `value` as an unsigned `bits`-bit integer, most significant bit first.
    pub fn store_uint(&mut self, bits: usize, value: u64) -> Result<&mut Self, Error> {
        if bits > 64 || (bits < 64 && value >> bits != 0) {
            return Err(Error("the value does not fit the field"));
        }
        self.room_for(bits)?;
        for i in (0..bits).rev() {
            self.push_bit((value >> i) & 1 == 1);
        }
        Ok(self)
    }

    pub fn store_bytes(&mut self, bytes: &[u8]) -> Result<&mut Self, Error> {
        self.room_for(bytes.len() * 8)?;
        for &b in bytes {
            for i in (0..8).rev() {
                self.push_bit((b >> i) & 1 == 1);
            }
        }
        Ok(self)
    }

    /// TL-B `VarUInteger 16` (`Coins`): the length in bytes in 4 bits, then
    /// the value in that many bytes, big-endian (no bytes for 0).
    pub fn store_coins(&mut self, value: u128) -> Result<&mut Self, Error> {
        let len = 16 - value.leading_zeros() as usize / 8;
        if len > 15 {
            return Err(Error("coins hold at most 120 bits"));
        }
        self.room_for(4 + len * 8)?;
        self.store_uint(4, len as u64)?;
        self.store_bytes(&value.to_be_bytes()[16 - len..])
    }

    /// TL-B `MsgAddress` for an internal address or none: `addr_none$00`, or
    /// `addr_std$10 anycast:(Maybe Anycast)=0 workchain_id:int8 address:bits256`.
    pub fn store_address(&mut self, address: Option<&Address>) -> Result<&mut Self, Error> {
        let Some(a) = address else {
            return self.store_uint(2, 0b00);
        };
        let workchain =
            i8::try_from(a.workchain).map_err(|_| Error("the workchain does not fit int8"))?;
        self.room_for(2 + 1 + 8 + 256)?;
        self.store_uint(2, 0b10)?
            .store_bit(false)?
            .store_uint(8, workchain as u8 as u64)?
            .store_bytes(&a.hash)
    }

    pub fn store_ref(&mut self, cell: impl Into<Arc<Cell>>) -> Result<&mut Self, Error> {
        if self.refs.len() == MAX_REFS {
            return Err(Error("a cell holds at most 4 references"));
        }
        self.refs.push(cell.into());
        Ok(self)
    }

    pub fn build(&self) -> Result<Cell, Error> {
        Cell::new(
            CellKind::Ordinary,
            self.bits.clone(),
            self.bit_len,
            self.refs.clone(),
        )
    }
}

/// Reads a cell's bits and references in order. Each `load_*` fails when the
/// cell has too few bits or references left, or the field's value is not one
/// this module supports.
#[derive(Debug, Clone)]
pub struct Slice<'a> {
    cell: &'a Cell,
    bit: usize,
    next_ref: usize,
}

impl<'a> Slice<'a> {
    pub fn remaining_bits(&self) -> usize {
        self.cell.bit_len - self.bit
    }

    pub fn remaining_refs(&self) -> usize {
        self.cell.refs.len() - self.next_ref
    }

    pub fn load_bit(&mut self) -> Result<bool, Error> {
        if self.remaining_bits() == 0 {
            return Err(Error("the cell has too few bits"));
        }
        let bit = self.cell.bits[self.bit / 8] & (0x80 >> (self.bit % 8)) != 0;
        self.bit += 1;
        Ok(bit)
    }

    /// An unsigned `bits`-bit integer (`bits` at most 64).
    pub fn load_uint(&mut self, bits: usize) -> Result<u64, Error> {
        assert!(bits <= 64, "load_uint reads at most 64 bits");
        if self.remaining_bits() < bits {
            return Err(Error("the cell has too few bits"));
        }
        let mut value = 0u64;
        for _ in 0..bits {
            value = value << 1 | self.load_bit()? as u64;
        }
        Ok(value)
    }

    pub fn load_bytes(&mut self, len: usize) -> Result<Vec<u8>, Error> {
        if self.remaining_bits() < len * 8 {
            return Err(Error("the cell has too few bits"));
        }
        (0..len).map(|_| Ok(self.load_uint(8)? as u8)).collect()
    }

    /// TL-B `VarUInteger 16`, see [`CellBuilder::store_coins`].
    pub fn load_coins(&mut self) -> Result<u128, Error> {
        let len = self.load_uint(4)? as usize;
        let bytes = self.load_bytes(len)?;
        Ok(bytes.iter().fold(0u128, |v, &b| v << 8 | b as u128))
    }

    /// TL-B `MsgAddress`: `None` for `addr_none`, the address for `addr_std`
    /// without anycast. External, variable-length and anycast addresses
    /// (which no wallet or jetton uses) are refused.
    pub fn load_address(&mut self) -> Result<Option<Address>, Error> {
        match self.load_uint(2)? {
            0b00 => Ok(None),
            0b10 => {
                if self.load_bit()? {
                    return Err(Error("anycast addresses are not supported"));
                }
                let workchain = self.load_uint(8)? as u8 as i8;
                let hash = self.load_bytes(32)?;
                Ok(Some(Address {
                    workchain: workchain.into(),
                    hash: hash.try_into().expect("32 bytes"),
                }))
            }
            _ => Err(Error("only internal standard addresses are supported")),
        }
    }

    pub fn load_ref(&mut self) -> Result<&'a Arc<Cell>, Error> {
        let r = self
            .cell
            .refs
            .get(self.next_ref)
            .ok_or(Error("the cell has too few references"))?;
        self.next_ref += 1;
        Ok(r)
    }
}
