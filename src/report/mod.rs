//! Everything a run leaves behind: `report.json`, `ledger.csv`, `timeseries.csv`,
//! `info-<node>.txt`, and the terminal summary; and what a grid of runs leaves: `sweep.csv`,
//! `sweep.json`, `compare.csv`, `compare.json`, their tables and what they conclude.
//!
//! Writers take any `io::Write`; only [`files`] touches the filesystem, and it writes the whole
//! output folder beside the old one and swaps it in at the end, so a failed run never leaves a
//! half-written report over a good one, nor a new report mixed with an old one.

pub mod charts;
pub mod columns;
pub mod compare;
pub mod explain;
pub mod files;
pub mod html;
pub mod info;
pub mod json;
pub mod ledger_csv;
pub mod ledger_parquet;
pub mod ledger_row;
pub mod replay_notes;
pub mod summary;
pub mod sweep;
pub mod target;
pub mod timeseries;

use crate::sim::engine::RunOutput;
use crate::sim::ledger::Cause;
use crate::sim::ledger::PerCause;

/// CSV column names for a count per cause: `misses_expired`, `misses_never_written`, ...
pub fn cause_columns(prefix: &str) -> impl Iterator<Item = String> + '_ {
    Cause::ALL
        .iter()
        .map(move |cause| format!("{prefix}_{}", cause.name().replace('-', "_")))
}

/// Reads affected by each cause: misses, plus hits on a value another client overwrote.
pub fn reads_affected_by_cause(output: &RunOutput) -> PerCause<u64> {
    let mut affected = output.totals.misses_by_cause;
    affected[Cause::Overwritten] += output.totals.overwritten_hits;
    affected
}

/// The diagnosis: the cause that cost the most reads. Cold misses (`never-written`) are a cause
/// only when nothing else cost any read. Ties go to the earlier cause in `Cause::ALL`.
pub fn top_cause(output: &RunOutput) -> Option<(Cause, u64)> {
    let affected = reads_affected_by_cause(output);
    let best = Cause::ALL
        .iter()
        .filter(|cause| **cause != Cause::NeverWritten)
        .map(|cause| (*cause, affected[cause]))
        .filter(|(_, count)| *count > 0)
        .fold(None, |best: Option<(Cause, u64)>, candidate| match best {
            Some(current) if current.1 >= candidate.1 => Some(current),
            _ => Some(candidate),
        });
    best.or_else(|| {
        let cold = affected[Cause::NeverWritten];
        (cold > 0).then_some((Cause::NeverWritten, cold))
    })
}

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
