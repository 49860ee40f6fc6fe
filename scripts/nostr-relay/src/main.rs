//! A Nostr relay on loopback for development and tests. The relay itself (NIP-01 messages, signature
//! checks, dedupe by event id, `OK` replies with NIP-01 machine-readable prefixes) is rust-nostr's
//! `LocalRelay`; this file only turns command-line options into its builder.
//!
//! Options:
//!   --port N               listen on 127.0.0.1:N (default: any free port)
//!   --owner HEX            accept only events authored by or tagging this public key; others get
//!                          `OK false "blocked: event not related to owner of this relay"`
//!   --notes-per-minute N   per-connection write rate limit (default 1000000: tests publish in bursts)
//!   --max-events N         events kept in memory (default 1000000)
//!
//! Prints `NOSTR_RELAY=ws://127.0.0.1:PORT` once it accepts connections, then runs until SIGTERM/SIGINT.

use std::net::{IpAddr, Ipv4Addr};
use std::process::ExitCode;

use nostr_relay_builder::prelude::*;

struct Options {
    port: u16,
    owner: Option<PublicKey>,
    notes_per_minute: u32,
    max_events: usize,
}

fn parse(args: &[String]) -> std::result::Result<Options, String> {
    let mut opts = Options { port: 0, owner: None, notes_per_minute: 1_000_000, max_events: 1_000_000 };
    let mut i = 0;
    while i < args.len() {
        let value = args.get(i + 1).ok_or_else(|| format!("{} needs a value", args[i]))?;
        match args[i].as_str() {
            "--port" => opts.port = value.parse().map_err(|_| format!("bad --port {value}"))?,
            "--owner" => {
                opts.owner = Some(PublicKey::from_hex(value).map_err(|e| format!("bad --owner: {e}"))?)
            }
            "--notes-per-minute" => {
                opts.notes_per_minute = value.parse().map_err(|_| format!("bad --notes-per-minute {value}"))?
            }
            "--max-events" => {
                opts.max_events = value.parse().map_err(|_| format!("bad --max-events {value}"))?
            }
            other => return Err(format!("unknown option {other}")),
        }
        i += 2;
    }
    Ok(opts)
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let opts = match parse(&args) {
        Ok(opts) => opts,
        Err(message) => {
            eprintln!("nostr-relay: {message}");
            return ExitCode::from(2);
        }
    };
    let database = MemoryDatabase::with_opts(MemoryDatabaseOptions { events: true, max_events: Some(opts.max_events) });
    let mut builder = RelayBuilder::default()
        .addr(IpAddr::V4(Ipv4Addr::LOCALHOST))
        .port(opts.port)
        .database(database)
        .rate_limit(RateLimit { max_reqs: 500, notes_per_minute: opts.notes_per_minute });
    if let Some(owner) = opts.owner {
        builder = builder.mode(RelayBuilderMode::PublicKey(owner));
    }
    let relay = LocalRelay::new(builder);
    if let Err(e) = relay.run().await {
        eprintln!("nostr-relay: cannot start: {e}");
        return ExitCode::from(1);
    }
    println!("NOSTR_RELAY={}", relay.url().await);

    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("nostr-relay: cannot watch SIGTERM: {e}");
            return ExitCode::from(1);
        }
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    relay.shutdown();
    ExitCode::SUCCESS
}
