//! A variant is the scenario with extra `--set` overrides (a policy, or any
//! `section.key=value`), so every variant is validated like the file itself. Variants run on the
//! current rayon pool and are collected in variant order, so what comes out is identical
//! whatever the number of threads.

use rayon::prelude::*;

use crate::scenario::{self, Overrides, ScenarioError};
use crate::sim::config::SimConfig;
use crate::sim::engine::{run, NoProgress, RunOutput};
use crate::sim::ledger::DiscardLedger;

/// One variant: its label (the overrides that make it) and its validated configuration.
#[derive(Debug, Clone)]
pub struct Variant {
    /// The varied values joined by spaces: "allkeys-lru 64mb".
    pub label: String,
    /// The overrides, `section.key=value` each, in axis order.
    pub sets: Vec<String>,
    pub config: SimConfig,
}

impl Variant {
    /// The varied values, in axis order.
    pub fn values(&self) -> Vec<String> {
        values_of(&self.sets).map(String::from).collect()
    }
}

/// The value of each `section.key=value`.
fn values_of(sets: &[String]) -> impl Iterator<Item = &str> {
    sets.iter()
        .map(|set| set.split_once('=').map_or(set.as_str(), |(_, value)| value))
}

/// The variants for a list of grid points (each a list of `--set`s), validated like the file.
pub fn build_variants(
    source_name: &str,
    text: &str,
    base: &Overrides,
    points: &[Vec<String>],
) -> Result<Vec<Variant>, ScenarioError> {
    let traces = scenario::TraceCache::default();
    points
        .iter()
        .map(|sets| {
            let overrides = Overrides {
                seed: base.seed,
                sets: base.sets.iter().chain(sets.iter()).cloned().collect(),
            };
            let config = scenario::parse_sharing(source_name, text, &overrides, &traces)?;
            Ok(Variant {
                label: values_of(sets).collect::<Vec<_>>().join(" "),
                sets: sets.clone(),
                config,
            })
        })
        .collect()
}

/// Runs every variant on the current rayon pool and keeps what `keep` takes from each output
/// (a sweep keeps its figures, not the whole output); results in variant order.
pub fn run_variants<T: Send>(
    variants: &[Variant],
    on_done: &(dyn Fn() + Sync),
    keep: impl Fn(usize, &Variant, RunOutput) -> T + Sync,
) -> Vec<T> {
    variants
        .par_iter()
        .enumerate()
        .map(|(index, variant)| {
            let output = run(&variant.config, &mut DiscardLedger, &mut NoProgress);
            on_done();
            keep(index, variant, output)
        })
        .collect()
}
