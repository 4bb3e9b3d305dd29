//! Everything a run leaves behind: `report.json`, `ledger.csv`, `timeseries.csv`,
//! `info-<node>.txt`, and the terminal summary.
//!
//! Writers take any `io::Write`; only [`files`] touches the filesystem, and it writes each file
//! under a temporary name and renames it into place, so a failed run never leaves a half-written
//! report over a good one.

pub mod files;
pub mod info;
pub mod json;
pub mod ledger_csv;
pub mod summary;
pub mod timeseries;

/// A ratio for output: fixed precision, 0 when the denominator is 0.
pub fn ratio(numerator: u64, denominator: u64) -> f64 {
    if denominator == 0 {
        0.0
    } else {
        round6(numerator as f64 / denominator as f64)
    }
}

/// Rounds to 6 decimals so JSON numbers print the same on every machine.
pub fn round6(value: f64) -> f64 {
    (value * 1e6).round() / 1e6
}
