//! One run's figures, as `vanish sweep` and `vanish compare` report them: computed once from a
//! run's output, or from a point of the one-pass LRU curve.

use super::Variant;
use crate::sim::engine::RunOutput;
use crate::sim::ledger::{Cause, PerCause};
use crate::sim::reference::curve::CurvePoint;

/// One run's figures.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Figures {
    /// The run's index in the whole grid (a shard holds some of them).
    pub run: usize,
    /// The varied values, in axis order.
    pub values: Vec<String>,
    pub maxmemory: u64,
    pub maxmemory_policy: String,
    pub reads: u64,
    pub hits: u64,
    pub misses: u64,
    pub misses_by_cause: PerCause<u64>,
    pub evicted_keys: u64,
    pub expired_keys: u64,
    pub oom_rejected: u64,
    /// Keys removed for any reason but an overwrite.
    pub keys_lost: u64,
    pub acknowledged_writes: u64,
    pub acknowledged_writes_lost: u64,
    pub peak_used_memory: u64,
    /// Computed by the one-pass curve (`--fast`): only reads, hits and the split of misses into
    /// cold (never-written) and capacity (evicted) misses are known; the other counts are 0
    /// here and written as unknown.
    pub fast: bool,
}

impl Figures {
    /// The figures of a full run.
    pub fn new(run: usize, variant: &Variant, output: &RunOutput) -> Figures {
        let keys_lost = Cause::ALL
            .iter()
            .filter(|cause| **cause != Cause::Overwritten)
            .map(|cause| output.totals.removals_by_cause[cause])
            .sum();
        Figures {
            reads: output.reads,
            hits: output.hits,
            misses: output.misses,
            misses_by_cause: output.totals.misses_by_cause,
            evicted_keys: output.nodes.iter().map(|n| n.evicted_keys).sum(),
            expired_keys: output.nodes.iter().map(|n| n.expired_keys).sum(),
            oom_rejected: output.totals.rejected_by_cause[Cause::OomRejected],
            keys_lost,
            acknowledged_writes: output.acknowledged_writes,
            acknowledged_writes_lost: output.acknowledged_writes_lost,
            peak_used_memory: output.peak_used_memory,
            ..Figures::identity(run, variant)
        }
    }

    /// A row of the one-pass LRU curve: the reads that were never written miss at any size,
    /// the others that miss were evicted.
    pub fn from_curve(
        run: usize,
        variant: &Variant,
        point: &CurvePoint,
        cold_misses: u64,
    ) -> Figures {
        assert!(
            point.hits <= point.reads,
            "a curve point hits what it reads"
        );
        let misses = point.reads - point.hits;
        let mut misses_by_cause = PerCause::default();
        misses_by_cause[Cause::NeverWritten] = cold_misses.min(misses);
        misses_by_cause[Cause::Evicted] = misses - cold_misses.min(misses);
        Figures {
            reads: point.reads,
            hits: point.hits,
            misses,
            misses_by_cause,
            fast: true,
            ..Figures::identity(run, variant)
        }
    }

    /// Which run of which configuration, with no figures yet.
    fn identity(run: usize, variant: &Variant) -> Figures {
        Figures {
            run,
            values: variant.values(),
            maxmemory: variant.config.server.maxmemory_bytes,
            maxmemory_policy: variant.config.server.maxmemory_policy.as_str().to_string(),
            ..Figures::default()
        }
    }
}
