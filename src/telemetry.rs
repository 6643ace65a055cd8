//! Logging. Nothing that logs may carry a secret: SIP and provisioning passwords, PINs,
//! tokens and Authorization headers are never passed to a log macro, and [`crate::domain::Secret`]
//! prints as `[redacted]` if one ever is.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;
use tracing_subscriber::filter::Directive;

/// Dependencies whose verbose levels log values they handle: handlebars logs the whole render
/// context (SIP passwords) at debug, hyper and rustls log protocol details at trace. These caps
/// apply whatever RUST_LOG says.
const SECRET_SAFE_CAPS: &[&str] = &[
    "handlebars=warn",
    "hyper=debug",
    "rustls=info",
    "tokio_rustls=info",
];

/// Logs to standard error; `RUST_LOG` overrides `default_filter`.
///
/// `json`: one object per line, `{"timestamp", "level", "target", "fields": {"message", ...}}`
/// with the event's fields as they are named in the code (`mac`, `path`, `status`, `peer`, ...),
/// and no span list: the fields README documents, stable for log shippers.
pub fn init(default_filter: &str, format: LogFormat) {
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(filter(default_filter))
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => subscriber
            .with_ansi(std::io::stderr().is_terminal())
            .try_init(),
        LogFormat::Json => subscriber
            .json()
            .with_current_span(false)
            .with_span_list(false)
            .try_init(),
    };
}

/// `default_filter` (or RUST_LOG) with the secret-safe caps applied; the tests log through it.
pub fn filter(default_filter: &str) -> EnvFilter {
    let base = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    SECRET_SAFE_CAPS.iter().fold(base, |filter, cap| {
        filter.add_directive(cap.parse::<Directive>().expect("valid directive"))
    })
}
