//! vanish: a deterministic discrete-event simulator of Redis key disappearance.
//!
//! `sim` is the pure core; `scenario` turns TOML into its validated configuration; `report`
//! writes what a run produced. The binary (`src/main.rs`) is the only place that touches the
//! filesystem, the terminal and threads.

pub mod grid;
pub mod report;
pub mod scenario;
pub mod sim;
pub mod trace;
pub mod vopr;
