//! `tma-emulator`: a local Telegram for developing and testing tma-pay offline.

use std::process::ExitCode;

use tma_pay_emulator::config::parse_args;

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (listen, config) = match parse_args(&args, |k| std::env::var(k).ok()) {
        Ok(v) => v,
        Err(msg) => {
            eprintln!("{msg}");
            return ExitCode::from(2);
        }
    };
    let listener = match tokio::net::TcpListener::bind(listen).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("tma-emulator: cannot listen on {listen}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let addr = listener.local_addr().unwrap_or(listen);
    let key = tma_pay_emulator::public_key_hex(&config)
        .map(|k| format!(", launch signing public key {k}"))
        .unwrap_or_default();
    println!(
        "tma-emulator listening on http://{addr} (Bot API http://{addr}/bot<token>/<method>); open http://{addr}/ to use the Mini App at {}{key}",
        config.app_url
    );
    tokio::select! {
        r = tma_pay_emulator::serve(config, listener) => {
            if let Err(e) = r {
                eprintln!("tma-emulator: {e}");
                return ExitCode::FAILURE;
            }
        }
        _ = tokio::signal::ctrl_c() => {}
    }
    ExitCode::SUCCESS
}
