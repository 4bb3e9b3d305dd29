//! What a trace client's loader did not replay (MONITOR traces): commands that touch no key,
//! refused arguments, unknown commands by name, lines that are not MONITOR lines. Shown in the
//! summary and in `report.json` (`trace_replay`) only when there is something to say, so that
//! a clean replay's report is unchanged.

use std::fmt::Write;

use serde_json::{json, Value};

use crate::report::summary::thousands;
use crate::sim::config::{ReplayNotes, SimConfig, Workload};

/// (client name, trace source, notes) of each trace client with something left out.
fn noted(config: &SimConfig) -> Vec<(&str, &str, &ReplayNotes)> {
    config
        .clients
        .iter()
        .filter_map(|client| match &client.workload {
            Workload::Trace(replay) if !replay.trace.notes.is_empty() => Some((
                client.name.as_str(),
                replay.trace.source.as_str(),
                &replay.trace.notes,
            )),
            _ => None,
        })
        .collect()
}

/// `report.json`'s `trace_replay`, or None when every line was replayed.
pub fn replay_notes_json(config: &SimConfig) -> Option<Value> {
    let noted = noted(config);
    if noted.is_empty() {
        return None;
    }
    let clients: Vec<Value> = noted
        .into_iter()
        .map(|(client, source, notes)| {
            let unknown: serde_json::Map<String, Value> = notes
                .unknown_commands
                .iter()
                .map(|(name, count)| (name.clone(), json!(count)))
                .collect();
            json!({
                "client": client,
                "trace": source,
                "keyless_lines": notes.keyless_lines,
                "refused_lines": notes.refused_lines,
                "unknown_commands": unknown,
                "non_monitor_lines": notes.foreign_lines,
                "first_non_monitor_line": notes.first_foreign.as_ref().map(|(line, text)| {
                    json!({ "line": line, "text": text })
                }),
            })
        })
        .collect();
    Some(Value::Array(clients))
}

/// `1 line`, `2 lines`.
fn count(n: u64, noun: &str) -> String {
    let plural = if n == 1 { "" } else { "s" };
    format!("{} {noun}{plural}", thousands(n))
}

/// The summary's lines about lines left out of a replay.
pub fn replay_notes_text(out: &mut String, config: &SimConfig) {
    for (client, source, notes) in noted(config) {
        let _ = writeln!(
            out,
            "\ntrace {source} (client {client}): lines not replayed"
        );
        if notes.keyless_lines > 0 {
            let _ = writeln!(
                out,
                "  {} touching no key (PING, MULTI, EVAL...)",
                count(notes.keyless_lines, "command")
            );
        }
        if notes.refused_lines > 0 {
            let _ = writeln!(
                out,
                "  {} with arguments Redis refuses",
                count(notes.refused_lines, "command")
            );
        }
        if !notes.unknown_commands.is_empty() {
            let listed: Vec<String> = notes
                .unknown_commands
                .iter()
                .map(|(name, count)| format!("{name} ×{}", thousands(*count)))
                .collect();
            let _ = writeln!(out, "  unknown commands: {}", listed.join(", "));
        }
        if let Some((line, text)) = &notes.first_foreign {
            let _ = writeln!(
                out,
                "  {} not a MONITOR line, the first at line {line}: {text:?}",
                count(notes.foreign_lines, "line")
            );
        }
    }
}
