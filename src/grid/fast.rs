//! `sweep --fast`: the figures of a grid read off one-pass LRU curves, one curve per group of
//! variants that differ only in maxmemory.

use rayon::prelude::*;

use super::{Axis, Figures, Variant};
use crate::sim::config::{MaxmemoryPolicy, ReadFrom, SimConfig};
use crate::sim::reference::curve::{Distances, Sampling};

/// Runs the one-pass curve for every group of a grid (the axes other than maxmemory): one pass
/// per group, a row per size, following only `sampling`'s share of the keys when given. Only
/// lru-exact and allkeys-lru have a one-pass curve.
pub fn fast_rows(
    axes: &[Axis],
    runs: &[usize],
    variants: &[Variant],
    sampling: Option<Sampling>,
) -> Result<Vec<Figures>, String> {
    assert_eq!(runs.len(), variants.len(), "one run index per variant");
    let size_axis = axes
        .iter()
        .position(Axis::is_maxmemory)
        .ok_or("--fast computes the curve over maxmemory: vary server.maxmemory")?;
    for variant in variants {
        has_a_curve(&variant.config)?;
    }
    let (first_of_group, group_of_variant) = groups(variants, size_axis);
    let curves: Vec<Distances> = first_of_group
        .par_iter()
        .map(|&first| Distances::measure_sampled(&variants[first].config, sampling))
        .collect();
    Ok(runs
        .iter()
        .zip(variants)
        .zip(group_of_variant)
        .map(|((&run, variant), group)| {
            let curve = &curves[group];
            let point = curve.point(variant.config.server.maxmemory_bytes);
            Figures::from_curve(run, variant, &point, curve.cold_reads())
        })
        .collect())
}

/// Whether the one-pass curve can stand for a full run of this configuration.
fn has_a_curve(config: &SimConfig) -> Result<(), String> {
    // The curve is one node's request stream: events and replica reads change what it sees.
    let replica_reads = config
        .clients
        .iter()
        .any(|c| c.read_from != ReadFrom::Primary);
    if !config.events.is_empty() || replica_reads {
        return Err(format!(
            "--fast computes one node's curve from its requests alone; this scenario has {} \
             event(s){}; run without --fast",
            config.events.len(),
            if replica_reads {
                " and clients reading from replicas"
            } else {
                ""
            }
        ));
    }
    let policy = config.server.maxmemory_policy;
    if !matches!(
        policy,
        MaxmemoryPolicy::LruExact | MaxmemoryPolicy::AllkeysLru
    ) {
        return Err(format!(
            "--fast has a one-pass curve for lru-exact and allkeys-lru only, not {}; run without --fast",
            policy.as_str()
        ));
    }
    Ok(())
}

/// Groups variants by their values on the axes other than maxmemory, in order of first
/// appearance: the first variant of each group, and each variant's group.
fn groups(variants: &[Variant], size_axis: usize) -> (Vec<usize>, Vec<usize>) {
    let mut keys: Vec<Vec<String>> = Vec::new();
    let mut first_of_group = Vec::new();
    let mut group_of_variant = Vec::with_capacity(variants.len());
    for (index, variant) in variants.iter().enumerate() {
        let mut key = variant.values();
        key.remove(size_axis);
        let group = match keys.iter().position(|k| *k == key) {
            Some(group) => group,
            None => {
                keys.push(key);
                first_of_group.push(index);
                keys.len() - 1
            }
        };
        group_of_variant.push(group);
    }
    (first_of_group, group_of_variant)
}
