//! Logging. Nothing that logs may carry a secret: SIP and provisioning passwords, PINs,
//! tokens and Authorization headers are never passed to a log macro, and [`crate::domain::Secret`]
//! prints as `[redacted]` if one ever is.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// Logs to standard error; `RUST_LOG` overrides `default_filter`.
pub fn init(default_filter: &str) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
}
