//! Running variants of one scenario side by side: `vanish compare`.
//!
//! A variant is the scenario with extra `--set` overrides (a policy, or any `section.key=value`;
//! the grid of them comes from `sweep::grid`), so every variant is validated like the file
//! itself. Variants run on a rayon pool and their
//! results are collected in variant order, so the output is identical whatever the number of
//! threads.

use rayon::prelude::*;
use serde_json::{json, Value};

use crate::report::json::by_cause;
use crate::report::summary::thousands;
use crate::scenario::{self, Overrides, ScenarioError};
use crate::sim::config::SimConfig;
use crate::sim::engine::{run, NoProgress, RunOutput};
use crate::sim::ledger::{Cause, DiscardLedger};
use crate::sweep::SweepRow;

/// One variant: its label (the overrides that make it) and its validated configuration.
#[derive(Debug, Clone)]
pub struct Variant {
    pub label: String,
    pub sets: Vec<String>,
    pub config: SimConfig,
}

/// The variants for a list of grid points (each a list of `--set`s), validated like the file.
pub fn build_variants(
    source_name: &str,
    text: &str,
    base: &Overrides,
    points: &[Vec<String>],
) -> Result<Vec<Variant>, ScenarioError> {
    points
        .iter()
        .map(|sets| {
            let overrides = Overrides {
                seed: base.seed,
                sets: base.sets.iter().chain(sets.iter()).cloned().collect(),
            };
            let config = scenario::parse(source_name, text, &overrides)?;
            // The label shows just the varied values: "allkeys-lru 64mb".
            let label = sets
                .iter()
                .map(|set| set.split_once('=').map_or(set.as_str(), |(_, value)| value))
                .collect::<Vec<_>>()
                .join(" ");
            Ok(Variant {
                label,
                sets: sets.clone(),
                config,
            })
        })
        .collect()
}

/// Runs every variant on the current rayon pool; results in variant order.
pub fn run_variants(variants: &[Variant], on_done: &(dyn Fn() + Sync)) -> Vec<RunOutput> {
    variants
        .par_iter()
        .map(|variant| {
            let output = run(&variant.config, &mut DiscardLedger, &mut NoProgress);
            on_done();
            output
        })
        .collect()
}

/// Each variant's figures, as a sweep reports them.
fn figures(variants: &[Variant], outputs: &[RunOutput]) -> Vec<SweepRow> {
    variants
        .iter()
        .zip(outputs)
        .enumerate()
        .map(|(run, (variant, output))| SweepRow::new(run, variant, output))
        .collect()
}

/// The terminal table.
pub fn table(variants: &[Variant], outputs: &[RunOutput]) -> String {
    let width = variants
        .iter()
        .map(|v| v.label.len())
        .max()
        .unwrap_or(7)
        .max(7);
    // Runs that lose acknowledged writes (crashes, failovers, partitions) get that column.
    let losses = outputs.iter().any(|o| o.acknowledged_writes_lost > 0);
    let lost_header = if losses {
        format!("  {:>18}", "writes lost")
    } else {
        String::new()
    };
    let mut out = format!(
        "{:<width$}  {:>9}  {:>12}  {:>12}  {:>10}  {:>14}{lost_header}  top miss causes\n",
        "variant", "hit ratio", "misses", "evicted", "oom", "peak memory"
    );
    for ((variant, output), row) in variants.iter().zip(outputs).zip(figures(variants, outputs)) {
        let mut causes: Vec<(Cause, u64)> = Cause::ALL
            .iter()
            .map(|c| (*c, output.totals.misses_by_cause[c]))
            .filter(|(_, n)| *n > 0)
            .collect();
        causes.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let top: Vec<String> = causes
            .iter()
            .take(3)
            .map(|(c, n)| format!("{} {}", c.name(), thousands(*n)))
            .collect();
        let lost = if losses {
            format!(
                "  {:>18}",
                format!(
                    "{} ({:.1}%)",
                    thousands(row.acknowledged_writes_lost),
                    row.loss_rate() * 100.0
                )
            )
        } else {
            String::new()
        };
        out.push_str(&format!(
            "{:<width$}  {:>8.2}%  {:>12}  {:>12}  {:>10}  {:>14}{lost}  {}\n",
            variant.label,
            row.hit_ratio() * 100.0,
            thousands(row.misses),
            thousands(row.evicted_keys),
            thousands(row.oom_rejected),
            thousands(row.peak_used_memory),
            top.join(", ")
        ));
    }
    out
}

/// `compare.csv`.
pub fn write_csv<W: std::io::Write>(
    output: W,
    variants: &[Variant],
    outputs: &[RunOutput],
) -> std::io::Result<()> {
    let mut writer = csv::Writer::from_writer(output);
    let mut header: Vec<String> = [
        "variant",
        "maxmemory",
        "maxmemory_policy",
        "reads",
        "hits",
        "misses",
        "hit_ratio",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    header.extend(crate::report::cause_columns("misses"));
    header.extend(
        [
            "evicted_keys",
            "expired_keys",
            "oom_rejected",
            "peak_used_memory",
            "acknowledged_writes",
            "acknowledged_writes_lost",
            "loss_rate",
        ]
        .map(String::from),
    );
    writer
        .write_record(&header)
        .map_err(std::io::Error::other)?;
    for (variant, figures) in variants.iter().zip(figures(variants, outputs)) {
        let mut row = vec![
            variant.label.clone(),
            figures.maxmemory.to_string(),
            figures.maxmemory_policy.clone(),
            figures.reads.to_string(),
            figures.hits.to_string(),
            figures.misses.to_string(),
            format!("{:.6}", figures.hit_ratio()),
        ];
        row.extend(
            Cause::ALL
                .iter()
                .map(|cause| figures.misses_by_cause[cause].to_string()),
        );
        row.extend([
            figures.evicted_keys.to_string(),
            figures.expired_keys.to_string(),
            figures.oom_rejected.to_string(),
            figures.peak_used_memory.to_string(),
            figures.acknowledged_writes.to_string(),
            figures.acknowledged_writes_lost.to_string(),
            format!("{:.6}", figures.loss_rate()),
        ]);
        writer.write_record(&row).map_err(std::io::Error::other)?;
    }
    writer.flush()
}

/// `compare.json`.
pub fn to_json(variants: &[Variant], outputs: &[RunOutput]) -> Value {
    let rows: Vec<Value> = variants
        .iter()
        .zip(outputs)
        .zip(figures(variants, outputs))
        .map(|((variant, output), row)| {
            json!({
                "variant": variant.label,
                "sets": variant.sets,
                "maxmemory": row.maxmemory,
                "maxmemory_policy": row.maxmemory_policy,
                "reads": row.reads,
                "hits": row.hits,
                "misses": row.misses,
                "hit_ratio": row.hit_ratio(),
                "misses_by_cause": by_cause(&row.misses_by_cause),
                "evicted_keys": row.evicted_keys,
                "oom_rejected": row.oom_rejected,
                "peak_used_memory": row.peak_used_memory,
                "acknowledged_writes": row.acknowledged_writes,
                "acknowledged_writes_lost": row.acknowledged_writes_lost,
                "loss_rate": row.loss_rate(),
                "lost_writes_by_cause": by_cause(&output.totals.lost_writes_by_cause),
            })
        })
        .collect();
    json!({ "variants": rows })
}
