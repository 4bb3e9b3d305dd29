//! From a real Redis to an answer: INFO dumps read (`info.rs`) into typed figures
//! (`snapshot.rs`), the reasoning from two snapshots to ranked causes (`reason.rs`) and its
//! text and JSON (`render.rs`), a scenario built from what the server says (`from_info.rs`),
//! and a watched server's removals as ledger rows (`watched.rs`).
//!
//! Everything here is pure: text in, values out. The live server is read by `crate::live`,
//! files by the binary. It sits above `scenario` (from-info writes and runs scenarios) and
//! beside `report`.

pub mod from_info;
pub mod info;
pub mod reason;
pub mod render;
pub mod snapshot;
pub mod watched;

#[cfg(test)]
mod tests;
