//! The server's integration tests, in one binary: cargo links the whole server once for all of
//! them instead of once per file. One module per area; the helpers they share are in `support`.
//!
//! Everything here runs in one process (under `cargo test`; `cargo nextest` runs each test in a
//! process of its own), so a test must not change process-wide state (environment variables,
//! the current directory, a global recorder or subscriber) and must not assume it is alone in
//! what such state records: the metrics recorder, for one, counts every test's servers.

mod billing;
mod chat;
mod cli;
mod crash;
mod crisis;
mod crisis_privacy;
mod e2e;
mod faults;
mod library;
mod limits;
mod mail;
mod openapi;
mod pages;
mod reports;
mod safety_plan;
mod scale_out;
mod server;
mod support;
