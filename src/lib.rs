//! deskprov: an HTTPS provisioning server for SIP desk phones and DECT base stations.
//!
//! ARCHITECTURE.md maps the modules and follows one phone request through them.

pub mod access;
pub mod admin;
pub mod admission;
pub mod app;
pub mod audit;
pub mod backup;
pub mod body;
pub mod cli;
pub mod client;
pub mod client_cert;
pub mod clock;
pub mod config;
pub mod console;
pub mod device_events;
pub mod digest;
pub mod domain;
pub mod error;
pub mod firmware;
#[doc(hidden)]
pub mod fuzzing;
pub mod health;
pub mod hotdesk;
pub mod identify;
pub mod keys;
pub mod local;
pub mod local_ca;
pub mod locale;
pub mod mail;
pub mod metrics;
pub mod model;
pub mod models;
pub mod notify;
pub mod ops;
pub mod phonebook;
pub mod portal;
pub mod provision;
pub mod proxy_protocol;
pub mod render;
pub mod render_cache;
pub mod respond;
pub mod server;
pub mod settings;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod templates;
pub mod tls;
pub mod vendors;
