//! `report.json`: the run's figures as one JSON document.
//!
//! Object keys are sorted (serde_json's default map), numbers are integers or ratios rounded to
//! six decimals, so the document is byte-identical for the same scenario and seed. Only the
//! [`Invocation`] (the command line and vanish's version) depends on more: the same command gives
//! the same bytes.

use crate::sim::ledger::PerCause;
use serde_json::{json, Map, Value};

use crate::report::info::info_fields;
use crate::report::summary::{event_node, failures};
use crate::report::{ratio, reads_affected_by_cause, top_cause};
use crate::sim::config::SimConfig;
use crate::sim::engine::workload::PerFailure;
use crate::sim::engine::RunOutput;
use crate::sim::ledger::Cause;
use crate::sim::server::info::Role;

/// How a report was made: the command line as given (program name first) and the version of
/// vanish. `report.json` and `sweep.json` record it so a result can be traced to its command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    pub command_line: Vec<String>,
    pub vanish_version: String,
}

impl Invocation {
    /// The invocation of this build of vanish with `command_line`.
    pub fn new(command_line: Vec<String>) -> Invocation {
        Invocation {
            command_line,
            vanish_version: env!("CARGO_PKG_VERSION").to_string(),
        }
    }

    /// Adds `command_line` and `vanish_version` to a JSON object.
    pub fn add_to(&self, document: &mut Value) {
        document["command_line"] = json!(self.command_line);
        document["vanish_version"] = json!(self.vanish_version);
    }

    /// Reads back what [`Invocation::add_to`] wrote; a missing field is an error naming it.
    pub fn from_json(document: &Value) -> Result<Invocation, String> {
        let command_line = document["command_line"]
            .as_array()
            .and_then(|items| {
                items
                    .iter()
                    .map(|item| item.as_str().map(String::from))
                    .collect::<Option<Vec<String>>>()
            })
            .ok_or("command_line is missing or not a list of strings")?;
        let vanish_version = document["vanish_version"]
            .as_str()
            .ok_or("vanish_version is missing or not a string")?
            .to_string();
        Ok(Invocation {
            command_line,
            vanish_version,
        })
    }
}

/// Causes with a non-zero count, as an object keyed by cause name.
pub fn by_cause(counts: &PerCause<u64>) -> Map<String, Value> {
    Cause::ALL
        .iter()
        .filter(|cause| counts[**cause] > 0)
        .map(|cause| (cause.name().to_string(), json!(counts[cause])))
        .collect()
}

/// Key families ordered by how many keys they lost (removals other than overwrites), largest
/// first, then by prefix.
pub fn families_by_loss(output: &RunOutput) -> Vec<(usize, u64)> {
    let mut lost: Vec<(usize, u64)> = output
        .family_removals
        .iter()
        .enumerate()
        .map(|(family, counts)| {
            let total = Cause::ALL
                .iter()
                .filter(|cause| **cause != Cause::Overwritten)
                .map(|cause| counts[cause])
                .sum();
            (family, total)
        })
        .collect();
    lost.sort_by(|a, b| {
        b.1.cmp(&a.1)
            .then_with(|| output.keys.groups()[a.0].cmp(&output.keys.groups()[b.0]))
    });
    lost
}

/// Each client's counts.
fn clients_json(output: &RunOutput) -> Vec<Value> {
    output
        .clients
        .iter()
        .map(|(name, counts)| {
            json!({
                "name": name,
                "commands": counts.commands,
                "reads": counts.reads,
                "hits": counts.hits,
                "misses": counts.misses,
                "errors": counts.errors,
                "failed_reads": by_failure(&counts.failed_reads),
                "failed_writes": by_failure(&counts.failed_writes),
                "hit_ratio": ratio(counts.hits, counts.reads),
            })
        })
        .collect()
}

/// Kinds of failure with a non-zero count, as an object keyed by kind (`timeout`, `refused`,
/// `readonly`, `noreplicas`, `oom`, `masterdown`, `wrongtype`, `not_an_integer`).
pub fn by_failure(counts: &PerFailure<u64>) -> Map<String, Value> {
    counts
        .iter()
        .filter(|(_, count)| **count > 0)
        .map(|(failure, count)| (failure.key().to_string(), json!(count)))
        .collect()
}

/// The run's operator events, faults and promotions.
fn timeline_json(output: &RunOutput) -> Vec<Value> {
    output
        .timeline
        .iter()
        .map(|(time_us, event)| json!({ "time_us": time_us, "event": event }))
        .collect()
}

/// Each key prefix's losses and misses, the largest loser first.
fn prefixes_json(output: &RunOutput) -> Vec<Value> {
    families_by_loss(output)
        .into_iter()
        .map(|(family, lost)| {
            json!({
                "prefix": output.keys.groups()[family],
                "keys_lost": lost,
                "removals_by_cause": by_cause(&output.family_removals[family]),
                "misses_by_cause": by_cause(&output.family_misses[family]),
            })
        })
        .collect()
}

/// Each node's role, process state and INFO figures.
fn nodes_json(output: &RunOutput) -> Vec<Value> {
    output
        .nodes
        .iter()
        .map(|info| {
            let role = match info.role {
                Role::Master => "primary",
                Role::Replica(_) => "replica",
            };
            json!({
                "name": info.node,
                "role": role,
                "process": info.process,
                "info": Value::Object(info_fields(info)),
            })
        })
        .collect()
}

/// The Sentinels' log, each event naming its node.
fn sentinel_log_json(output: &RunOutput) -> Vec<Value> {
    output
        .sentinel_log
        .iter()
        .map(|event| {
            json!({
                "time_us": event.time_us,
                "sentinel": event.sentinel,
                "event": event.event,
                "node": event_node(output, event),
            })
        })
        .collect()
}

/// `report.json`: the run's figures, its clients, key prefixes, nodes and Sentinel log.
pub fn report_json(config: &SimConfig, output: &RunOutput) -> Value {
    let diagnosis = match top_cause(output) {
        Some((cause, reads)) => json!({ "top_cause": cause.name(), "reads_affected": reads }),
        None => json!({ "top_cause": Value::Null, "reads_affected": 0 }),
    };
    let (failed_reads, failed_writes) = failures(output);
    let mut document = json!({
        "scenario": config.name,
        "diagnosis": diagnosis,
        "reads_affected_by_cause": by_cause(&reads_affected_by_cause(output)),
        "seed": config.seed,
        "duration_us": config.duration_us,
        "commands": output.commands,
        "reads": output.reads,
        "hits": output.hits,
        "misses": output.misses,
        "hit_ratio": ratio(output.hits, output.reads),
        "misses_by_cause": by_cause(&output.totals.misses_by_cause),
        "removals_by_cause": by_cause(&output.totals.removals_by_cause),
        "rejected_writes_by_cause": by_cause(&output.totals.rejected_by_cause),
        "overwritten_hits": output.totals.overwritten_hits,
        "peak_used_memory": output.peak_used_memory,
        "acknowledged_writes": output.acknowledged_writes,
        "acknowledged_writes_lost": output.acknowledged_writes_lost,
        "loss_rate": ratio(output.acknowledged_writes_lost, output.acknowledged_writes),
        "failed_reads": by_failure(&failed_reads),
        "failed_writes": by_failure(&failed_writes),
        "clients": clients_json(output),
        "key_prefixes": prefixes_json(output),
        "nodes": nodes_json(output),
        "sentinel_log": sentinel_log_json(output),
        "timeline": timeline_json(output),
    });
    if let (Some(notes), Some(object)) = (
        crate::report::replay_notes::replay_notes_json(config),
        document.as_object_mut(),
    ) {
        object.insert("trace_replay".to_string(), notes);
    }
    document
}
