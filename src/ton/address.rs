//! Account addresses (TON docs, "Internal address formats"): a workchain and
//! the 256-bit hash of the account's state init.
//!
//! - raw: `<workchain in decimal>:<64 hex digits>`, e.g. `0:83ae…`;
//! - user-friendly: 36 bytes in base64 or base64url (48 characters): a flags
//!   byte (`0x11` bounceable, `0x51` non-bounceable, `+ 0x80` testnet only),
//!   the workchain as int8, the hash, and a CRC16-XMODEM of those 34 bytes,
//!   big-endian.
//!
//! Two forms of one address compare equal as [`Address`]es; the flags only
//! say how a wallet should send to it.

use std::fmt;

use base64::engine::general_purpose::{STANDARD, URL_SAFE};
use base64::Engine;

use super::Error;

const CRC16: crc::Crc<u16> = crc::Crc::<u16>::new(&crc::CRC_16_XMODEM);
const BOUNCEABLE: u8 = 0x11;
const NON_BOUNCEABLE: u8 = 0x51;
const TESTNET: u8 = 0x80;

/// An internal address. Every parser here yields a workchain that fits int8
/// (both forms and `MsgAddressInt` hold 8 bits of it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Address {
    pub workchain: i32,
    pub hash: [u8; 32],
}

/// How a user-friendly address asks to be sent to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flags {
    pub bounceable: bool,
    pub testnet: bool,
}

impl Address {
    /// Either form: raw when it has a `:`, else user-friendly (its flags dropped).
    pub fn parse(text: &str) -> Result<Address, Error> {
        if text.contains(':') {
            Address::parse_raw(text)
        } else {
            Address::parse_friendly(text).map(|(a, _)| a)
        }
    }

    /// `<workchain>:<64 hex digits>`.
    pub fn parse_raw(text: &str) -> Result<Address, Error> {
        let (wc, hex) = text
            .split_once(':')
            .ok_or(Error("a raw address is workchain:hash"))?;
        let workchain: i8 = wc
            .parse()
            .map_err(|_| Error("the workchain is not an int8"))?;
        let mut hash = [0u8; 32];
        hex::decode_to_slice(hex, &mut hash)
            .map_err(|_| Error("the address hash is not 64 hex digits"))?;
        Ok(Address {
            workchain: workchain.into(),
            hash,
        })
    }

    /// The 48-character base64 or base64url form, checksum checked.
    pub fn parse_friendly(text: &str) -> Result<(Address, Flags), Error> {
        let engine = if text.contains(['-', '_']) {
            &URL_SAFE
        } else {
            &STANDARD
        };
        let bytes: [u8; 36] = engine
            .decode(text)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or(Error("a user-friendly address is 36 bytes of base64"))?;
        if CRC16.checksum(&bytes[..34]).to_be_bytes() != bytes[34..] {
            return Err(Error("the address checksum does not match"));
        }
        let testnet = bytes[0] & TESTNET != 0;
        let bounceable = match bytes[0] & !TESTNET {
            BOUNCEABLE => true,
            NON_BOUNCEABLE => false,
            _ => return Err(Error("unknown address flags")),
        };
        let address = Address {
            workchain: (bytes[1] as i8).into(),
            hash: bytes[2..34].try_into().expect("32 bytes"),
        };
        Ok((
            address,
            Flags {
                bounceable,
                testnet,
            },
        ))
    }

    /// `<workchain>:<64 lowercase hex digits>`, as TON Connect and toncenter write it.
    pub fn to_raw(&self) -> String {
        format!("{}:{}", self.workchain, hex::encode(self.hash))
    }

    /// The user-friendly form (base64url when `url_safe`, as wallets show it).
    ///
    /// Panics if the workchain does not fit int8, which only an `Address`
    /// built by hand can have.
    pub fn to_friendly(&self, flags: Flags, url_safe: bool) -> String {
        let workchain =
            i8::try_from(self.workchain).expect("a user-friendly address has an int8 workchain");
        let mut bytes = [0u8; 36];
        bytes[0] = match flags.bounceable {
            true => BOUNCEABLE,
            false => NON_BOUNCEABLE,
        } | if flags.testnet { TESTNET } else { 0 };
        bytes[1] = workchain as u8;
        bytes[2..34].copy_from_slice(&self.hash);
        let crc = CRC16.checksum(&bytes[..34]);
        bytes[34..].copy_from_slice(&crc.to_be_bytes());
        if url_safe {
            URL_SAFE.encode(bytes)
        } else {
            STANDARD.encode(bytes)
        }
    }
}

/// The raw form.
impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_raw())
    }
}
