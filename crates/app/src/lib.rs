//! # app
//!
//! The composition root shared by the `botpsicologo` server, the `botpsicologo-scheduler` and
//! xtask: typed [`settings`], the process-level adapters ([`system`] clock/ids/secrets,
//! [`crypto`] hashing and encryption, [`reports`] the usage-report files the scheduler writes and
//! the server serves), and [`database`] selection from `DATABASE_URL`.

pub mod adapters;
pub mod crypto;
pub mod database;
pub mod logging;
pub mod mail;
pub mod offline;
pub mod reports;
pub mod settings;
pub mod system;
