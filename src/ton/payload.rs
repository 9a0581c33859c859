//! Message bodies: the ones we build for a wallet to send (a text comment for
//! TON, a jetton transfer for USDT) and the ones we read from incoming
//! messages (a text comment, a jetton transfer notification).
//!
//! - A text comment is a cell of 32 zero bits (op 0), then the UTF-8 text;
//!   text that does not fit continues in the cell's one reference, and so on
//!   ("snake" data; a cell holds 127 whole bytes, the first 123 after the op).
//! - TEP-74 (jettons), in TL-B:
//!
//! ```text
//! transfer#0f8a7ea5 query_id:uint64 amount:(VarUInteger 16) destination:MsgAddress
//!   response_destination:MsgAddress custom_payload:(Maybe ^Cell)
//!   forward_ton_amount:(VarUInteger 16) forward_payload:(Either Cell ^Cell)
//!   = InternalMsgBody;
//! transfer_notification#7362d09c query_id:uint64 amount:(VarUInteger 16)
//!   sender:MsgAddress forward_payload:(Either Cell ^Cell) = InternalMsgBody;
//! ```
//!
//! `Either Cell ^Cell` is a 0 bit then the payload in the rest of this cell,
//! or a 1 bit then the payload in the next reference. A jetton wallet passes
//! the transfer's forward payload on to the notification unchanged.

use std::sync::Arc;

use super::{boc, Address, Cell, CellBuilder, Error, Slice};

pub const OP_COMMENT: u32 = 0;
pub const OP_JETTON_TRANSFER: u32 = 0x0f8a_7ea5;
pub const OP_TRANSFER_NOTIFICATION: u32 = 0x7362_d09c;

/// Whole bytes in a cell (1023 bits).
const CELL_BYTES: usize = 127;

/// A text comment cell (see the module doc). Fails only for a text so long
/// (about 130 KB) that its chain of cells would nest deeper than 1024.
pub fn comment_cell(text: &str) -> Result<Cell, Error> {
    let bytes = text.as_bytes();
    let first = bytes.len().min(CELL_BYTES - 4);
    let (head, tail) = bytes.split_at(first);
    // Build the chain from its last cell back to the first.
    let mut next: Option<Cell> = None;
    for chunk in tail.chunks(CELL_BYTES).rev() {
        next = Some(cell_of(&[], chunk, next)?);
    }
    cell_of(&OP_COMMENT.to_be_bytes(), head, next)
}

/// `prefix` and `bytes` (at most 127 together), then `next` if any.
fn cell_of(prefix: &[u8], bytes: &[u8], next: Option<Cell>) -> Result<Cell, Error> {
    let mut b = CellBuilder::new();
    b.store_bytes(prefix)?.store_bytes(bytes)?;
    if let Some(next) = next {
        b.store_ref(next)?;
    }
    b.build()
}

/// A text comment as a base64 bag of cells, for `sendTransaction`'s `payload`.
pub fn comment(text: &str) -> Result<String, Error> {
    Ok(boc::to_base64(&comment_cell(text)?))
}

/// A jetton transfer the buyer's wallet sends to its own jetton wallet.
#[derive(Debug, Clone, Copy)]
pub struct JettonTransfer<'a> {
    pub query_id: u64,
    /// In the jetton's smallest units (for USDT, millionths).
    pub amount: u64,
    /// The new owner: our wallet.
    pub destination: &'a Address,
    /// Where the excess TON goes: the buyer's wallet.
    pub response_destination: &'a Address,
    /// Nanotons forwarded with the notification; at least 1, or no
    /// notification is sent.
    pub forward_ton_amount: u64,
    /// The forward payload's text comment.
    pub comment: &'a str,
}

/// The transfer's body cell; the comment goes in a reference (as wallets put
/// it). Fails only as [`comment_cell`] does.
pub fn jetton_transfer_cell(t: &JettonTransfer<'_>) -> Result<Cell, Error> {
    let mut b = CellBuilder::new();
    b.store_uint(32, OP_JETTON_TRANSFER.into())?
        .store_uint(64, t.query_id)?
        .store_coins(t.amount.into())?
        .store_address(Some(t.destination))?
        .store_address(Some(t.response_destination))?
        .store_bit(false)? // custom_payload: nothing
        .store_coins(t.forward_ton_amount.into())?
        .store_bit(true)? // forward_payload: in a reference
        .store_ref(comment_cell(t.comment)?)?;
    b.build()
}

/// [`jetton_transfer_cell`] as a base64 bag of cells.
pub fn jetton_transfer(t: &JettonTransfer<'_>) -> Result<String, Error> {
    Ok(boc::to_base64(&jetton_transfer_cell(t)?))
}

/// An incoming message's body, as far as payments care.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    /// No bits and no references: a plain transfer.
    Empty,
    /// A text comment.
    Comment(String),
    TransferNotification(TransferNotification),
    /// Any other op, or too short to have one.
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferNotification {
    pub query_id: u64,
    /// In the jetton's smallest units.
    pub amount: u128,
    /// The previous owner, who sent the jettons.
    pub sender: Option<Address>,
    /// The forward payload's text comment, when it is one.
    pub comment: Option<String>,
}

/// Reads a message body. Fails on a comment or notification that does not
/// follow its layout, or a comment that is not UTF-8.
pub fn read_body(body: &Cell) -> Result<Body, Error> {
    if body.bit_len() == 0 && body.refs().is_empty() {
        return Ok(Body::Empty);
    }
    let mut s = body.parse();
    if s.remaining_bits() < 32 {
        return Ok(Body::Other);
    }
    match s.load_uint(32)? as u32 {
        OP_COMMENT => Ok(Body::Comment(read_text(s)?)),
        OP_TRANSFER_NOTIFICATION => {
            let query_id = s.load_uint(64)?;
            let amount = s.load_coins()?;
            let sender = s.load_address()?;
            let comment = if s.load_bit()? {
                let payload = s.load_ref()?;
                read_comment(payload.parse())?
            } else {
                read_comment(s)?
            };
            Ok(Body::TransferNotification(TransferNotification {
                query_id,
                amount,
                sender,
                comment,
            }))
        }
        _ => Ok(Body::Other),
    }
}

/// [`read_body`] of a base64 bag of cells (toncenter's `message_content.body`).
pub fn read_body_base64(text: &str) -> Result<Body, Error> {
    read_body(&boc::parse_base64(text)?)
}

/// A forward payload's text comment: `None` when it is empty or not a comment.
fn read_comment(mut payload: Slice<'_>) -> Result<Option<String>, Error> {
    if payload.remaining_bits() < 32 || payload.load_uint(32)? != OP_COMMENT as u64 {
        return Ok(None);
    }
    read_text(payload).map(Some)
}

/// The rest of `s` and the chain of cells after it, as UTF-8 text.
fn read_text(mut s: Slice<'_>) -> Result<String, Error> {
    let mut bytes = Vec::new();
    loop {
        if !s.remaining_bits().is_multiple_of(8) {
            return Err(Error("a text comment is whole bytes"));
        }
        bytes.extend(s.load_bytes(s.remaining_bits() / 8)?);
        let next: &Arc<Cell> = match s.remaining_refs() {
            0 => break,
            1 => s.load_ref()?,
            _ => return Err(Error("a text comment continues in one reference")),
        };
        s = next.parse();
    }
    String::from_utf8(bytes).map_err(|_| Error("the comment is not UTF-8"))
}
