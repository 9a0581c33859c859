//! Bags of cells: any input is parsed or refused without a panic; a bag that
//! parses is written again and reads back to the same root hash, and what is
//! read from bags (message bodies, a wallet's state init and key) and from
//! text (addresses) never panics either.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tma_pay::ton::wallet::StateInit;
use tma_pay::ton::{boc, payload, Address, WalletVersion};

fuzz_target!(|data: &[u8]| {
    let _ = Address::parse(&String::from_utf8_lossy(data));
    let Ok(cell) = boc::parse(data) else {
        return;
    };
    let again = boc::parse(&boc::serialize(&cell)).expect("a bag we wrote reads back");
    assert_eq!(again.hash(), cell.hash());
    assert_eq!(again.depth(), cell.depth());
    assert_eq!(boc::parse_base64(&boc::to_base64(&cell)).unwrap().hash(), cell.hash());

    let _ = payload::read_body(&cell);
    if let Some(init) = StateInit::from_cell(&cell) {
        assert_eq!(init.to_cell().unwrap().hash(), cell.hash());
        if let Some(version) = WalletVersion::of_code(&init.code) {
            let _ = version.public_key(&init.data);
        }
    }
});
