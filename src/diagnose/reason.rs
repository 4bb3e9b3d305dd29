//! From two INFO snapshots of one node to a ranked list of causes, as a troubleshooter reasons:
//! which counter moved, by how much, and what else explains it.
//!
//! Each cause is named as the ledger names it (`Cause::name`), with the keys it cost (an
//! estimate, or `None` when counters cannot say), the counters behind it and one next step.
//! Causes are ranked by keys, most first, those without an estimate last, ties by name, so the
//! order is the same on every run. A restart between the dumps resets the counters: the
//! figures then cover the time since the restart, and say so. A single dump is read against a
//! zero baseline at the server's start (its uptime is the interval).

use crate::diagnose::snapshot::{Calls, Snapshot};
use crate::sim::ledger::Cause;

/// A counter or a fact behind a cause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Evidence {
    Number(i64),
    Text(String),
}

/// One likely cause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The ledger's name for it.
    pub cause: &'static str,
    /// Keys (or reads, for `wrong-db`) it cost in the interval, estimated; `None` when the
    /// counters cannot say.
    pub keys: Option<u64>,
    /// (counter, value), sorted by counter.
    pub evidence: Vec<(String, Evidence)>,
    pub next_step: String,
}

/// What two dumps (or one) say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnosis {
    /// Seconds between the dumps (or since the start or the restart), when uptime is known.
    pub interval_s: Option<u64>,
    /// One dump only: figures since the server started.
    pub single: bool,
    /// The server restarted in between: figures since the restart.
    pub restarted: bool,
    /// The database the clients read from (`--db`, or the URL's).
    pub db: u32,
    pub causes: Vec<Finding>,
    /// What the counters cannot tell, for this interval.
    pub cannot_tell: Vec<String>,
    /// Sections needed and not in the dumps.
    pub not_available: Vec<String>,
}

/// Commands whose calls remove a key by name (estimated one key a call).
const KEY_REMOVERS: [&str; 5] = ["del", "unlink", "getdel", "rename", "move"];
/// Commands that remove elements, and the key with its last one (not counted as keys).
const ELEMENT_REMOVERS: [&str; 11] = [
    "hdel", "srem", "zrem", "lpop", "rpop", "spop", "zpopmin", "zpopmax", "lrem", "ltrim", "getex",
];
/// A replica whose last ACK is this old is behind (Redis's `lag` is 0 or 1 while healthy).
const REPLICA_LAG_S: u64 = 2;

/// The counters of the interval: after minus before, or after alone past a restart.
struct Interval<'a> {
    before: Option<&'a Snapshot>,
    after: &'a Snapshot,
    restarted: bool,
}

impl Interval<'_> {
    fn delta(&self, name: &str) -> Option<u64> {
        let after = self.after.counter(name)?;
        match self.baseline() {
            None => Some(after),
            // A counter the earlier dump lacks cannot be compared: not available, not zero.
            Some(before) => Some(after.saturating_sub(before.counter(name)?)),
        }
    }

    fn baseline(&self) -> Option<&Snapshot> {
        self.before.filter(|_| !self.restarted)
    }

    fn calls(&self, command: &str) -> Option<Calls> {
        let after = self.after.calls(command)?;
        // Without a baseline the counts run from the server's start; a baseline without
        // Commandstats leaves the interval's unknown.
        let before = match self.baseline() {
            Some(before) => before.calls(command)?,
            None => Calls::NONE,
        };
        Some(Calls {
            calls: after.calls.saturating_sub(before.calls),
            rejected: after.rejected.saturating_sub(before.rejected),
            failed: after.failed.saturating_sub(before.failed),
        })
    }

    fn errors(&self, code: &str) -> Option<u64> {
        let after = self.after.error_count(code)?;
        // A baseline without Errorstats leaves the interval's count unknown, not the total.
        match self.baseline() {
            Some(before) => Some(after.saturating_sub(before.error_count(code)?)),
            None => Some(after),
        }
    }

    fn rejected(&self) -> Option<u64> {
        let after = self.after.rejected_total()?;
        match self.baseline() {
            Some(before) => Some(after.saturating_sub(before.rejected_total()?)),
            None => Some(after),
        }
    }
}

/// Diagnoses the interval between `before` and `after` (or `after` alone), reads going to
/// database `db`.
pub fn diagnose(before: Option<&Snapshot>, after: &Snapshot, db: u32) -> Diagnosis {
    let restarted = before.is_some_and(|b| restarted(b, after));
    let interval = Interval {
        before,
        after,
        restarted,
    };
    let interval_s = match interval.baseline() {
        Some(b) => after
            .counter("uptime_in_seconds")
            .zip(b.counter("uptime_in_seconds"))
            .map(|(a, b)| a.saturating_sub(b)),
        None => after.counter("uptime_in_seconds"),
    };
    let mut causes: Vec<Finding> = [
        expired(&interval, interval_s),
        evicted(&interval),
        deleted(&interval),
        flushed(&interval),
        rejected(&interval, "OOM", Cause::OomRejected),
        rejected(&interval, "NOREPLICAS", Cause::NoreplicasRejected),
        restart(&interval),
        failover(&interval),
        replica_lag(after),
        wrong_db(&interval, db),
    ]
    .into_iter()
    .flatten()
    .collect();
    causes.sort_by(|a, b| {
        (a.keys.is_none(), std::cmp::Reverse(a.keys), a.cause).cmp(&(
            b.keys.is_none(),
            std::cmp::Reverse(b.keys),
            b.cause,
        ))
    });
    let mut not_available: Vec<String> = after.missing.iter().map(|s| s.to_string()).collect();
    if let Some(before) = before {
        for section in &before.missing {
            if !not_available.iter().any(|s| s == section) {
                not_available.push(section.to_string());
            }
        }
    }
    not_available.sort();
    Diagnosis {
        interval_s,
        single: before.is_none(),
        restarted,
        db,
        cannot_tell: cannot_tell(&causes, after),
        causes,
        not_available,
    }
}

fn restarted(before: &Snapshot, after: &Snapshot) -> bool {
    let run_id_changed = before
        .text("run_id")
        .zip(after.text("run_id"))
        .is_some_and(|(b, a)| a != b);
    let uptime_fell = before
        .counter("uptime_in_seconds")
        .zip(after.counter("uptime_in_seconds"))
        .is_some_and(|(b, a)| a < b);
    run_id_changed || uptime_fell
}

fn number(name: &str, value: u64) -> (String, Evidence) {
    (name.to_string(), Evidence::Number(value as i64))
}

fn text(name: &str, value: &str) -> (String, Evidence) {
    (name.to_string(), Evidence::Text(value.to_string()))
}

fn finding(
    cause: Cause,
    keys: Option<u64>,
    mut evidence: Vec<(String, Evidence)>,
    next_step: String,
) -> Finding {
    evidence.sort_by(|a, b| a.0.cmp(&b.0));
    Finding {
        cause: cause.name(),
        keys,
        evidence,
        next_step,
    }
}

/// `count` per second over `seconds`, one decimal, without floats.
pub fn per_second(count: u64, seconds: Option<u64>) -> String {
    match seconds.filter(|s| *s > 0) {
        Some(seconds) => {
            let tenths = (u128::from(count) * 10 + u128::from(seconds) / 2) / u128::from(seconds);
            format!("{}.{}", tenths / 10, tenths % 10)
        }
        None => "?".to_string(),
    }
}

/// Milliseconds as seconds with one decimal.
fn seconds_text(ms: u64) -> String {
    format!("{}.{}", ms / 1000, (ms % 1000) / 100)
}

/// The mean `avg_ttl` over databases, weighted by their volatile keys.
fn average_ttl_ms(snapshot: &Snapshot) -> Option<u64> {
    let volatile: u64 = snapshot.dbs.values().map(|db| db.expires).sum();
    let weighted: u128 = snapshot
        .dbs
        .values()
        .map(|db| u128::from(db.expires) * u128::from(db.avg_ttl_ms))
        .sum();
    (volatile > 0).then(|| (weighted / u128::from(volatile)) as u64)
}

fn expired(interval: &Interval, seconds: Option<u64>) -> Option<Finding> {
    let keys = interval.delta("expired_keys").filter(|n| *n > 0)?;
    let rate = per_second(keys, seconds);
    let mut evidence = vec![
        number("expired_keys", keys),
        text("expired_keys_per_s", &rate),
    ];
    let next_step = match average_ttl_ms(interval.after) {
        Some(ttl) => {
            evidence.push(number("avg_ttl_ms", ttl));
            format!(
                "keys expire at {rate}/s while avg_ttl is {} s: check the TTLs your clients set",
                seconds_text(ttl)
            )
        }
        None => {
            format!("keys expire at {rate}/s: check the TTLs your clients set (no key has one now)")
        }
    };
    Some(finding(Cause::Expired, Some(keys), evidence, next_step))
}

/// used_memory, maxmemory, the policy, and what of used_memory is not the dataset.
fn memory_evidence(after: &Snapshot) -> Vec<(String, Evidence)> {
    let mut evidence = Vec::new();
    for name in [
        "used_memory",
        "maxmemory",
        "mem_clients_normal",
        "mem_clients_slaves",
        "mem_replication_backlog",
        "mem_total_replication_buffers",
        "mem_not_counted_for_evict",
    ] {
        if let Some(value) = after.counter(name) {
            evidence.push(number(name, value));
        }
    }
    if let Some(policy) = after.text("maxmemory_policy") {
        evidence.push(text("maxmemory_policy", policy));
    }
    evidence
}

/// Bytes in MiB with one decimal.
pub fn mib(bytes: u64) -> String {
    let tenths = (u128::from(bytes) * 10 + (1 << 19)) >> 20;
    format!("{}.{} MiB", tenths / 10, tenths % 10)
}

/// The sum of the dump's memory fields `names` in MiB, or which of them the dump lacks (an
/// older server, a section not dumped): a missing figure is said, never shown as 0.
fn mib_of(snapshot: &Snapshot, names: &[&str]) -> String {
    let values: Option<Vec<u64>> = names.iter().map(|name| snapshot.counter(name)).collect();
    match values {
        Some(values) => mib(values.iter().sum()),
        None => format!("({} not in the dump)", names.join(" + ")),
    }
}

fn evicted(interval: &Interval) -> Option<Finding> {
    let keys = interval.delta("evicted_keys").filter(|n| *n > 0)?;
    let after = interval.after;
    let mut evidence = memory_evidence(after);
    evidence.push(number("evicted_keys", keys));
    let policy = after.text("maxmemory_policy").unwrap_or("?");
    let next_step = format!(
        "used_memory {} reached maxmemory {} under {policy} (clients take {}, replication \
         buffers and backlog {}): raise maxmemory, or store less (smaller values, shorter TTLs)",
        mib_of(after, &["used_memory"]),
        mib_of(after, &["maxmemory"]),
        mib_of(after, &["mem_clients_normal"]),
        mib_of(after, &["mem_clients_slaves", "mem_replication_backlog"])
    );
    Some(finding(Cause::Evicted, Some(keys), evidence, next_step))
}

fn deleted(interval: &Interval) -> Option<Finding> {
    let mut keys = 0;
    let mut evidence = Vec::new();
    for command in KEY_REMOVERS {
        let calls = interval.calls(command)?;
        let done = calls.calls.saturating_sub(calls.failed + calls.rejected);
        if done > 0 {
            keys += done;
            evidence.push(number(&format!("cmdstat_{command}.calls"), done));
        }
    }
    let mut elements = 0;
    for command in ELEMENT_REMOVERS {
        let calls = interval.calls(command)?.calls;
        if calls > 0 {
            elements += calls;
            evidence.push(number(&format!("cmdstat_{command}.calls"), calls));
        }
    }
    if keys == 0 && elements == 0 {
        return None;
    }
    let next_step = format!(
        "{keys} DEL/UNLINK/GETDEL/RENAME/MOVE and {elements} element-removing calls: find the \
         client sending them (CLIENT LIST, ACL LOG, a brief MONITOR), or run `vanish watch` to \
         see which keys go"
    );
    let keys = (keys > 0).then_some(keys);
    Some(finding(Cause::Deleted, keys, evidence, next_step))
}

fn flushed(interval: &Interval) -> Option<Finding> {
    let all = interval.calls("flushall")?.calls;
    let db = interval.calls("flushdb")?.calls;
    let swap = interval.calls("swapdb")?.calls;
    if all + db + swap == 0 {
        return None;
    }
    let before = interval.baseline();
    let keys = if all > 0 {
        before.map(Snapshot::keys_total)
    } else if db > 0 {
        before.and_then(|before| largest_drop(before, interval.after))
    } else {
        None
    };
    let mut evidence = Vec::new();
    for (name, calls) in [("flushall", all), ("flushdb", db), ("swapdb", swap)] {
        if calls > 0 {
            evidence.push(number(&format!("cmdstat_{name}.calls"), calls));
        }
    }
    let next_step = format!(
        "FLUSHALL {all}, FLUSHDB {db} and SWAPDB {swap} times: keep them from applications \
         (ACL `-@dangerous`, or rename-command) and find who ran them (ACL LOG, the server log)"
    );
    Some(finding(Cause::Flushed, keys, evidence, next_step))
}

/// The largest fall in one database's key count.
fn largest_drop(before: &Snapshot, after: &Snapshot) -> Option<u64> {
    before
        .dbs
        .iter()
        .map(|(index, db)| {
            let now = after.dbs.get(index).map_or(0, |d| d.keys);
            db.keys.saturating_sub(now)
        })
        .max()
        .filter(|drop| *drop > 0)
}

fn rejected(interval: &Interval, code: &str, cause: Cause) -> Option<Finding> {
    let count = interval.errors(code).filter(|n| *n > 0)?;
    let mut evidence = memory_evidence(interval.after);
    evidence.push(number(&format!("errorstat_{code}.count"), count));
    if let Some(rejected) = interval.rejected() {
        evidence.push(number("rejected_calls", rejected));
    }
    let policy = interval.after.text("maxmemory_policy").unwrap_or("?");
    let next_step = if cause == Cause::OomRejected {
        format!(
            "{count} writes refused with -OOM under {policy}: the keys were never stored; raise \
             maxmemory, or let the server evict (allkeys-lru; a volatile policy needs keys \
             with a TTL)"
        )
    } else {
        format!(
            "{count} writes refused with -NOREPLICAS: fewer than min-replicas-to-write replicas \
             acknowledged within min-replicas-max-lag; look at the replicas' links"
        )
    };
    Some(finding(cause, Some(count), evidence, next_step))
}

fn restart(interval: &Interval) -> Option<Finding> {
    if !interval.restarted {
        return None;
    }
    let before = interval.before?;
    let after = interval.after;
    let had = before.keys_total();
    // Redis before 7.0 does not print what its last load brought back; the keys it holds
    // now are then the closest figure, and the evidence says which was used.
    let (loaded_name, loaded) = match after.counter("rdb_last_load_keys_loaded") {
        Some(loaded) => ("rdb_last_load_keys_loaded", loaded),
        None => ("keys_after", after.keys_total()),
    };
    let mut evidence = vec![number("keys_before", had), number(loaded_name, loaded)];
    for (name, snapshot) in [("before", before), ("after", after)] {
        if let Some(run_id) = snapshot.text("run_id") {
            evidence.push(text(&format!("run_id_{name}"), run_id));
        }
        if let Some(uptime) = snapshot.counter("uptime_in_seconds") {
            evidence.push(number(&format!("uptime_in_seconds_{name}"), uptime));
        }
    }
    let next_step = format!(
        "the server restarted (run_id changed) and loaded {loaded} keys of the {had} it held: \
         find why in its log, and check persistence (save points, appendonly) if the keys \
         should have survived"
    );
    Some(finding(
        Cause::Restart,
        Some(had.saturating_sub(loaded)),
        evidence,
        next_step,
    ))
}

fn failover(interval: &Interval) -> Option<Finding> {
    let after = interval.after;
    let role_after = after.text("role")?;
    let role_before = interval.before.and_then(|b| b.text("role"));
    let promoted_at = after.second_repl_offset.filter(|offset| *offset >= 0);
    let changed = role_before.is_some_and(|before| before != role_after);
    let replid_moved = interval
        .before
        .and_then(|b| b.text("master_replid"))
        .zip(after.text("master_replid2"))
        .is_some_and(|(old, second)| old == second);
    if !(changed || (interval.before.is_none() && promoted_at.is_some()) || replid_moved) {
        return None;
    }
    let mut evidence = vec![text("role", role_after)];
    if let Some(before) = role_before {
        evidence.push(text("role_before", before));
    }
    for name in ["master_replid", "master_replid2"] {
        if let Some(value) = after.text(name) {
            evidence.push(text(name, value));
        }
    }
    if let Some(offset) = after.second_repl_offset {
        evidence.push(("second_repl_offset".to_string(), Evidence::Number(offset)));
    }
    let next_step = if role_after == "master" {
        format!(
            "this node was promoted (at replication offset {}): writes the old primary \
             acknowledged past that offset are lost; compare its master_repl_offset, and \
             consider min-replicas-to-write or WAIT for writes that must survive",
            promoted_at.map_or("?".to_string(), |o| o.to_string())
        )
    } else {
        "this node was demoted to a replica: the writes it accepted after another node was \
         promoted were discarded by its resynchronisation; check Sentinel's log for the failover"
            .to_string()
    };
    Some(finding(Cause::Failover, None, evidence, next_step))
}

fn replica_lag(after: &Snapshot) -> Option<Finding> {
    let mut evidence = Vec::new();
    let mut steps = Vec::new();
    if let Some(offset) = after.counter("master_repl_offset") {
        for (index, replica) in after.replicas.iter().enumerate() {
            let behind = offset.saturating_sub(replica.offset);
            if replica.lag_s < REPLICA_LAG_S && replica.state == "online" {
                continue;
            }
            let name = format!("slave{index}");
            evidence.push(number(&format!("{name}.bytes_behind"), behind));
            evidence.push(number(&format!("{name}.lag"), replica.lag_s));
            evidence.push(text(&format!("{name}.state"), &replica.state));
            steps.push(format!(
                "replica {} is {behind} bytes behind and last acknowledged {} s ago ({})",
                replica.address, replica.lag_s, replica.state
            ));
        }
    }
    if after.text("master_link_status") == Some("down") {
        evidence.push(text("master_link_status", "down"));
        steps.push("this replica's link to its primary is down".to_string());
    }
    if steps.is_empty() {
        return None;
    }
    let next_step = format!(
        "{}: reads sent there miss recent writes; read your own writes from the primary, and \
         find why it lags (network, a slow or stopped process)",
        steps.join("; ")
    );
    Some(finding(Cause::ReplicaLag, None, evidence, next_step))
}

fn wrong_db(interval: &Interval, db: u32) -> Option<Finding> {
    let misses = interval.delta("keyspace_misses").filter(|n| *n > 0)?;
    let after = interval.after;
    let here = after.dbs.get(&db).map_or(0, |d| d.keys);
    let (other, elsewhere) = after
        .dbs
        .iter()
        .filter(|(index, _)| **index != db)
        .map(|(index, d)| (*index, d.keys))
        .max_by_key(|(index, keys)| (*keys, std::cmp::Reverse(*index)))?;
    // Without the hits the interval cannot tell a wrong database from a cold cache.
    let hits = interval.delta("keyspace_hits")?;
    if elsewhere == 0 || (here > 0 && hits > 0) {
        return None;
    }
    let evidence = vec![
        number(&format!("db{db}.keys"), here),
        number(&format!("db{other}.keys"), elsewhere),
        number("keyspace_hits", hits),
        number("keyspace_misses", misses),
    ];
    let next_step = format!(
        "reads go to db{db}, which holds {here} keys, while db{other} holds {elsewhere}: check \
         the SELECT (or the URL's /db) of the clients that write and of those that read"
    );
    Some(finding(Cause::WrongDb, Some(misses), evidence, next_step))
}

fn cannot_tell(causes: &[Finding], after: &Snapshot) -> Vec<String> {
    let mut notes = vec![
        "which keys vanished: counters count, they do not name (`vanish watch` lists them)"
            .to_string(),
        "overwrites: a SET over another client's value leaves no counter".to_string(),
    ];
    let has = |name: &str| causes.iter().any(|c| c.cause == name);
    if has(Cause::Deleted.name()) {
        notes.push(
            "how many keys the delete commands removed: a call on a missing key counts, one \
             call may remove many, and element removals drop the key only with its last element"
                .to_string(),
        );
    }
    if has(Cause::Failover.name()) {
        notes.push(
            "how many writes the failover lost: that needs the old primary's offset at the \
             promotion"
                .to_string(),
        );
    }
    if !after.replicas.is_empty() || has(Cause::ReplicaLag.name()) {
        notes.push(
            "misses on replicas: a primary does not see them; diagnose each replica's own INFO"
                .to_string(),
        );
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnose::info::InfoDump;

    fn snapshot(text: &str) -> Snapshot {
        let text = text.replace('\n', "\r\n");
        Snapshot::from_dump(&InfoDump::parse("test", &text).expect("a dump")).expect("a snapshot")
    }

    #[test]
    fn a_baseline_without_the_stats_sections_leaves_the_interval_unknown() {
        let before = snapshot("# Server\nrun_id:a\nuptime_in_seconds:10\n");
        let after = snapshot(
            "# Server\nrun_id:a\nuptime_in_seconds:20\n# Commandstats\n\
             cmdstat_set:calls=7,usec=1,usec_per_call=0.1,rejected_calls=2,failed_calls=0\n\
             # Errorstats\nerrorstat_OOM:count=2\n",
        );
        let interval = Interval {
            before: Some(&before),
            after: &after,
            restarted: false,
        };
        assert_eq!(interval.errors("OOM"), None, "not the 2 since the start");
        assert_eq!(interval.rejected(), None);
        assert_eq!(interval.calls("set"), None);
        // Without a baseline the counts run from the server's start; an unlisted error or
        // command is none.
        let alone = Interval {
            before: None,
            after: &after,
            restarted: false,
        };
        assert_eq!(alone.errors("OOM"), Some(2));
        assert_eq!(alone.errors("NOREPLICAS"), Some(0));
        assert_eq!(alone.rejected(), Some(2));
        assert_eq!(alone.calls("get"), Some(Calls::NONE));
        assert_eq!(alone.calls("set").map(|c| c.calls), Some(7));
    }
}
