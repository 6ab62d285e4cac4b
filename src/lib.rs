//! raqib (رقيب, "the observer"): an audit robot for government service centres.
//!
//! Data flow: config → registry → schedule (sweeps) → probe → store → score → alert/report.
//! Each module owns one step; see ARCHITECTURE.md for the map.

pub mod alert;
pub mod arabic;
pub mod bench;
pub mod config;
pub mod cron;
pub mod demo;
pub mod hijri;
pub mod lab;
pub mod logs;
pub mod probe;
pub mod redact;
pub mod registry;
pub mod report;
pub mod rng;
pub mod schedule;
pub mod score;
pub mod server;
pub mod store;
pub mod store_url;
pub mod verdict;
