//! The terminal summary: one screen saying what was read, what was missed and why.

use crate::sim::ledger::PerCause;
use std::fmt::Write;

use crate::report::json::families_by_loss;
use crate::report::top_cause;
use crate::sim::cluster::sentinel::SentinelEvent;
use crate::sim::config::SimConfig;
use crate::sim::engine::workload::PerFailure;
use crate::sim::engine::RunOutput;
use crate::sim::ledger::Cause;

/// How many key prefixes the summary lists.
const TOP_PREFIXES: usize = 5;

/// 1234567 → "1,234,567".
pub fn thousands(value: u64) -> String {
    let digits = value.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (index, ch) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// Bytes in binary units with two decimals (as Redis's bytesToHuman, but spelled out).
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.2} {}", UNITS[unit])
    }
}

/// A duration in µs as the largest whole unit that divides it, else seconds with decimals.
pub fn human_duration(us: u64) -> String {
    for (unit, size) in [
        ("h", 3_600_000_000u64),
        ("m", 60_000_000),
        ("s", 1_000_000),
        ("ms", 1000),
    ] {
        if us >= size && us.is_multiple_of(size) {
            return format!("{}{unit}", us / size);
        }
    }
    format!("{:.3}s", us as f64 / 1e6)
}

fn percent(part: u64, whole: u64) -> String {
    if whole == 0 {
        "-".to_string()
    } else {
        format!("{:.1} %", part as f64 * 100.0 / whole as f64)
    }
}

/// One line per cause with a count, largest first, with its share of the total.
fn cause_table(out: &mut String, counts: &PerCause<u64>, when_empty: &str) {
    let total: u64 = counts.iter().sum();
    let mut causes: Vec<Cause> = Cause::ALL.to_vec();
    causes.sort_by_key(|cause| std::cmp::Reverse(counts[cause]));
    if total == 0 {
        let _ = writeln!(out, "  {when_empty}");
    }
    for cause in causes {
        let count = counts[cause];
        if count > 0 {
            let _ = writeln!(
                out,
                "  {:<20}{:>9}   {:>7}",
                cause.name(),
                thousands(count),
                percent(count, total)
            );
        }
    }
}

/// The Sentinel events that matter to a reader: the first `+odown` of each failover, the
/// promotion, aborted attempts, and old primaries turned into replicas.
pub(crate) fn sentinel_highlights(output: &RunOutput) -> Vec<&SentinelEvent> {
    let mut seen_odown = false;
    output
        .sentinel_log
        .iter()
        .filter(|event| match event.event {
            "+odown" => !std::mem::replace(&mut seen_odown, true),
            "+promoted-slave" => {
                seen_odown = false;
                true
            }
            "+convert-to-slave"
            | "-failover-abort-not-elected"
            | "-failover-abort-no-good-slave" => true,
            _ => false,
        })
        .collect()
}

/// The node an event names (an index into the run's nodes).
pub(crate) fn event_node<'a>(output: &'a RunOutput, event: &SentinelEvent) -> &'a str {
    &output.nodes[event.node].node
}

/// The run's timeline: operator events, faults and promotions, with the Sentinels'
/// highlights, in time order (at equal times a Sentinel's event first: the engine acts on what
/// it decided).
fn timeline(out: &mut String, output: &RunOutput) {
    let mut lines: Vec<(u64, u8, String)> = sentinel_highlights(output)
        .into_iter()
        .map(|event| {
            let what = format!(
                "sentinel {}  {} {}",
                event.sentinel,
                event.event,
                event_node(output, event)
            );
            (event.time_us, 0, what)
        })
        .chain(
            output
                .timeline
                .iter()
                .map(|(time_us, what)| (*time_us, 1, what.clone())),
        )
        .collect();
    if lines.is_empty() {
        return;
    }
    // Stable: each source keeps its own order at equal times.
    lines.sort_by_key(|(time_us, source, _)| (*time_us, *source));
    let _ = writeln!(out, "\ntimeline");
    for (time_us, _, what) in lines {
        let _ = writeln!(out, "  {:>10}  {what}", clock(time_us));
    }
    if let Some(note) = promotion_note(output) {
        for line in note.lines() {
            let _ = writeln!(out, "  {line}");
        }
    }
}

/// Why the timeline and the Sentinels give two promotion times, when they do: the engine
/// promotes when the replica takes `REPLICAOF NO ONE`; a Sentinel logs `+promoted-slave` when
/// its next INFO of the replica (once a second) shows `role:master`, as Redis's Sentinel does.
/// Two lines, split by a newline.
pub(crate) fn promotion_note(output: &RunOutput) -> Option<String> {
    let (promoted_us, node) = output.timeline.iter().find_map(|(time_us, what)| {
        let name = what.strip_prefix("promoted ")?.split(' ').next()?;
        Some((*time_us, name))
    })?;
    let seen = output.sentinel_log.iter().find(|event| {
        event.event == "+promoted-slave"
            && event.time_us >= promoted_us
            && event_node(output, event) == node
    })?;
    Some(format!(
        "{node} took REPLICAOF NO ONE at {}; Sentinels log +promoted-slave {} later,\n\
         when their next INFO of it (once a second) shows role:master, as Redis's do.",
        clock(promoted_us),
        human_duration(seen.time_us - promoted_us)
    ))
}

/// `m:ss.mmm` on the virtual clock.
pub(crate) fn clock(us: u64) -> String {
    let ms = us / 1000;
    format!("{}:{:02}.{:03}", ms / 60_000, ms / 1000 % 60, ms % 1000)
}

/// The terminal summary of a run.
pub fn summary_text(config: &SimConfig, output: &RunOutput) -> String {
    let mut out = String::new();
    headline(&mut out, config, output);
    let _ = writeln!(out, "\nmisses by cause");
    cause_table(&mut out, &output.totals.misses_by_cause, "(no misses)");
    if output.totals.overwritten_hits > 0 {
        let _ = writeln!(
            out,
            "  hits on a value another client overwrote: {}",
            thousands(output.totals.overwritten_hits)
        );
    }
    let _ = writeln!(out, "\nkeys removed, by cause");
    cause_table(&mut out, &output.totals.removals_by_cause, "(none)");
    writes_lost_and_refused(&mut out, output);
    requests_failed(&mut out, output);
    timeline(&mut out, output);
    top_prefixes_lost(&mut out, output);
    crate::report::replay_notes::replay_notes_text(&mut out, config);
    node_lines(&mut out, output);
    out
}

/// The scenario, the read counts and the diagnosis.
fn headline(out: &mut String, config: &SimConfig, output: &RunOutput) {
    let _ = writeln!(
        out,
        "vanish · {} · seed {} · {} of virtual time",
        config.name,
        config.seed,
        human_duration(config.duration_us)
    );
    let _ = writeln!(
        out,
        "commands {}   reads {}   hits {}   misses {}   hit ratio {}",
        thousands(output.commands),
        thousands(output.reads),
        thousands(output.hits),
        thousands(output.misses),
        percent(output.hits, output.reads)
    );
    match top_cause(output) {
        Some((cause, reads)) => {
            let _ = writeln!(
                out,
                "diagnosis: `{}` cost the most reads ({} of {})",
                cause.name(),
                thousands(reads),
                thousands(output.reads)
            );
        }
        None => {
            let _ = writeln!(out, "diagnosis: no read missed");
        }
    }
}

/// Acknowledged writes lost, and writes refused (-NOREPLICAS, -OOM), when there are any.
fn writes_lost_and_refused(out: &mut String, output: &RunOutput) {
    if output.acknowledged_writes_lost > 0 {
        let _ = writeln!(
            out,
            "\nacknowledged writes lost: {} of {} ({})",
            thousands(output.acknowledged_writes_lost),
            thousands(output.acknowledged_writes),
            percent(output.acknowledged_writes_lost, output.acknowledged_writes)
        );
    }
    for (cause, error, why) in [
        (
            Cause::NoreplicasRejected,
            "-NOREPLICAS",
            "min-replicas-to-write not met",
        ),
        (Cause::OomRejected, "-OOM", "those keys were never stored"),
    ] {
        let refused = output.totals.rejected_by_cause[cause];
        if refused > 0 {
            let _ = writeln!(
                out,
                "\nwrites refused with {error}: {} ({why})",
                thousands(refused)
            );
        }
    }
}

/// Every client's failed reads and failed writes, added up by kind.
pub(crate) fn failures(output: &RunOutput) -> (PerFailure<u64>, PerFailure<u64>) {
    let mut reads = PerFailure::default();
    let mut writes = PerFailure::default();
    for (_, counts) in &output.clients {
        reads.add(&counts.failed_reads);
        writes.add(&counts.failed_writes);
    }
    (reads, writes)
}

/// Requests that got an error or no answer, by kind (reads and writes apart), by client, and
/// the reads they leave out of hits and misses.
fn requests_failed(out: &mut String, output: &RunOutput) {
    let (reads, writes) = failures(output);
    let failed = reads.total() + writes.total();
    if failed == 0 {
        return;
    }
    let _ = writeln!(
        out,
        "\nrequests failed: {} of {} commands ({})",
        thousands(failed),
        thousands(output.commands),
        percent(failed, output.commands)
    );
    let _ = writeln!(out, "  {:<20}{:>9}  {:>9}", "", "reads", "writes");
    for (failure, read_count) in reads.iter() {
        let write_count = writes[failure];
        if read_count + write_count > 0 {
            let _ = writeln!(
                out,
                "  {:<20}{:>9}  {:>9}",
                failure.label(),
                thousands(*read_count),
                thousands(write_count)
            );
        }
    }
    let by_client: Vec<String> = output
        .clients
        .iter()
        .filter(|(_, counts)| counts.errors > 0)
        .map(|(name, counts)| format!("{name} {}", thousands(counts.errors)))
        .collect();
    let _ = writeln!(out, "  by client: {}", by_client.join(", "));
    let _ = writeln!(
        out,
        "  reads {} = hits {} + misses {} + failed {}",
        thousands(output.reads),
        thousands(output.hits),
        thousands(output.misses),
        thousands(reads.total())
    );
}

/// The key prefixes that lost the most keys, with their main causes.
fn top_prefixes_lost(out: &mut String, output: &RunOutput) {
    let lost: Vec<(usize, u64)> = families_by_loss(output)
        .into_iter()
        .filter(|(_, lost)| *lost > 0)
        .take(TOP_PREFIXES)
        .collect();
    if lost.is_empty() {
        return;
    }
    let _ = writeln!(out, "\ntop key prefixes lost");
    for (family, total) in lost {
        let counts = &output.family_removals[family];
        let mut parts: Vec<String> = Cause::ALL
            .iter()
            .filter(|cause| **cause != Cause::Overwritten && counts[**cause] > 0)
            .map(|cause| format!("{} {}", cause.name(), thousands(counts[cause])))
            .collect();
        parts.truncate(4);
        let _ = writeln!(
            out,
            "  {:<20}{:>12}   {}",
            output.keys.groups()[family],
            thousands(total),
            parts.join(", ")
        );
    }
}

/// Each node's memory, limit, keys and removals at the end.
fn node_lines(out: &mut String, output: &RunOutput) {
    for info in &output.nodes {
        let keys: u64 = info.keyspace.iter().map(|db| db.keys).sum();
        let expires: u64 = info.keyspace.iter().map(|db| db.expires).sum();
        let limit = if info.maxmemory == 0 {
            "no maxmemory".to_string()
        } else {
            format!(
                "maxmemory {} ({})",
                human_bytes(info.maxmemory),
                info.maxmemory_policy
            )
        };
        let _ = writeln!(
            out,
            "\n{}: used_memory {} (peak {}), {limit}; {} keys, {} with a TTL; expired {}, evicted {}",
            info.node,
            human_bytes(info.used_memory),
            human_bytes(info.used_memory_peak.max(info.used_memory)),
            thousands(keys),
            thousands(expires),
            thousands(info.expired_keys),
            thousands(info.evicted_keys)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn number_formats() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(human_bytes(1023), "1023 B");
        assert_eq!(human_bytes(1536), "1.50 KiB");
        assert_eq!(human_duration(600_000_000), "10m");
        assert_eq!(human_duration(1_500_000), "1500ms");
        assert_eq!(human_duration(1_500), "0.002s");
    }
}
