//! A watched server's keyspace notifications as ledger rows, and their summary by cause and
//! by key prefix.
//!
//! The rows go through the same `ledger.csv` writer as a simulated run's, so a real ledger can
//! be set beside a simulated one. Notifications name the key, the database and the event, not
//! who caused it: expiry and eviction are the server's, a `del` (DEL, UNLINK, GETDEL, the last
//! element of an aggregate removed), `rename_from` and `move_from` some client's. Events that
//! remove nothing (`set`, `expire`, `hset`…) are counted apart. Flushes send no per-key
//! notification, so a watch cannot see them.

use std::collections::BTreeMap;

use crate::sim::keyspace::keys::KeyTable;
use crate::sim::ledger::{Actor, Cause, Detail, EntryKind, KeyId, LedgerEntry, NodeId};

/// One notification, `at_us` after the watch began.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observed {
    pub at_us: u64,
    pub db: u32,
    pub event: String,
    pub key: String,
}

/// The client names a watched ledger's actors refer to: notifications do not say which client.
pub const CLIENT_NAMES: [&str; 1] = ["client"];

/// What a watch saw.
pub struct Watched {
    pub keys: KeyTable,
    /// One row per removal, in arrival order.
    pub entries: Vec<LedgerEntry>,
    /// Events that remove no key, by name.
    pub other_events: BTreeMap<String, u64>,
}

/// The removal an event is, and who did it.
fn removal(event: &str) -> Option<(Cause, Actor)> {
    match event {
        "expired" => Some((Cause::Expired, Actor::SERVER)),
        "evicted" => Some((Cause::Evicted, Actor::SERVER)),
        "del" | "rename_from" | "move_from" => Some((Cause::Deleted, Actor::client(0))),
        _ => None,
    }
}

/// Turns notifications into ledger rows for node 0.
pub fn ledger(events: &[Observed], source: &str) -> Watched {
    let mut ids: BTreeMap<&str, u32> = BTreeMap::new();
    let mut names = Vec::new();
    let mut entries = Vec::new();
    let mut other_events = BTreeMap::new();
    for event in events {
        let Some((cause, actor)) = removal(&event.event) else {
            *other_events.entry(event.event.clone()).or_insert(0) += 1;
            continue;
        };
        let id = *ids.entry(event.key.as_str()).or_insert_with(|| {
            names.push(event.key.clone());
            names.len() as u32 - 1
        });
        entries.push(LedgerEntry {
            time_us: event.at_us,
            node: NodeId(0),
            db: event.db,
            key: KeyId(id),
            kind: EntryKind::Removal,
            cause,
            actor,
            detail: Detail::None,
        });
    }
    Watched {
        keys: KeyTable::from_names(source, names),
        entries,
        other_events,
    }
}

/// Removals by cause, then by key prefix (most first), over `seconds`.
pub fn summary_text(watched: &Watched, seconds: u64) -> String {
    let mut by_cause: BTreeMap<&str, u64> = BTreeMap::new();
    let mut by_group: BTreeMap<usize, BTreeMap<&str, u64>> = BTreeMap::new();
    for entry in &watched.entries {
        *by_cause.entry(entry.cause.name()).or_insert(0) += 1;
        let group = watched.keys.group_of(entry.key);
        *by_group
            .entry(group)
            .or_default()
            .entry(entry.cause.name())
            .or_insert(0) += 1;
    }
    let total = watched.entries.len() as u64;
    let mut out = format!("keys removed in {seconds} s of watching: {total}\n");
    if total > 0 {
        out.push_str("\nkeys removed, by cause\n");
        for (cause, count) in most_first(&by_cause) {
            out.push_str(&format!(
                "  {cause:<20} {count:>10}   {}/s\n",
                crate::diagnose::reason::per_second(count, Some(seconds))
            ));
        }
        out.push_str("\nkey prefixes, by keys removed\n");
        let mut groups: Vec<(usize, u64)> = by_group
            .iter()
            .map(|(group, causes)| (*group, causes.values().sum()))
            .collect();
        groups.sort_by_key(|(group, count)| (std::cmp::Reverse(*count), *group));
        for (group, count) in groups {
            let causes = most_first(&by_group[&group])
                .into_iter()
                .map(|(cause, n)| format!("{cause} {n}"))
                .collect::<Vec<_>>()
                .join(", ");
            let label = &watched.keys.groups()[group];
            out.push_str(&format!("  {label:<24} {count:>10}   {causes}\n"));
        }
    }
    if !watched.other_events.is_empty() {
        let other = watched
            .other_events
            .iter()
            .map(|(event, n)| format!("{event} {n}"))
            .collect::<Vec<_>>()
            .join(", ");
        out.push_str(&format!(
            "\nother notifications (no key removed): {other}\n"
        ));
    }
    out
}

fn most_first<'a>(counts: &BTreeMap<&'a str, u64>) -> Vec<(&'a str, u64)> {
    let mut list: Vec<(&str, u64)> = counts.iter().map(|(k, v)| (*k, *v)).collect();
    list.sort_by_key(|(name, count)| (std::cmp::Reverse(*count), *name));
    list
}

/// The `notify-keyspace-events` flags a watch needs (keyevent channel, generic commands,
/// expired, evicted), added to `current`; `None` when `current` already has them.
pub fn flags_needed(current: &str) -> Option<String> {
    let all = current.contains('A');
    let needed: Vec<char> = ['E', 'g', 'x', 'e']
        .into_iter()
        // `A` stands for every class (g, x, e among them) but not for a channel (`E`).
        .filter(|flag| !(current.contains(*flag) || (all && *flag != 'E')))
        .collect();
    if needed.is_empty() {
        return None;
    }
    let mut flags = current.to_string();
    flags.extend(needed);
    Some(flags)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn observed(at_us: u64, event: &str, key: &str) -> Observed {
        Observed {
            at_us,
            db: 0,
            event: event.to_string(),
            key: key.to_string(),
        }
    }

    #[test]
    fn removals_become_rows_and_the_rest_are_counted() {
        let events = [
            observed(1, "expired", "session:1"),
            observed(2, "set", "session:1"),
            observed(3, "evicted", "cart:9"),
            observed(4, "del", "session:1"),
        ];
        let watched = ledger(&events, "127.0.0.1:6379");
        let causes: Vec<Cause> = watched.entries.iter().map(|e| e.cause).collect();
        assert_eq!(causes, [Cause::Expired, Cause::Evicted, Cause::Deleted]);
        assert_eq!(watched.entries[0].key, watched.entries[2].key);
        assert_eq!(watched.keys.name(watched.entries[1].key), "cart:9");
        assert_eq!(watched.other_events["set"], 1);
        let summary = summary_text(&watched, 10);
        assert!(summary.contains("session:"), "{summary}");
        assert!(summary.contains("expired 1"), "{summary}");
    }

    #[test]
    fn flags_are_added_only_when_missing() {
        assert_eq!(flags_needed(""), Some("Egxe".to_string()));
        assert_eq!(flags_needed("xE"), Some("xEge".to_string()));
        assert_eq!(flags_needed("AE"), None);
        assert_eq!(flags_needed("gxeE"), None);
        assert_eq!(flags_needed("AK"), Some("AKE".to_string()));
    }
}
