//! The scenario's key table: every key name a run can touch, as a dense id.
//!
//! Keys come in families occupying contiguous id ranges, so the hot path carries only a `KeyId`
//! and the name (or its length, which is all the memory model needs) is derived on demand.
//! Generated keys are `prefix + decimal id`; clients that share a prefix share keys. A trace
//! client's keys are the names its trace recorded, in the trace's order, so a record's key index
//! is also the key's local id; their lengths are stored, two bytes a key, to keep `key_len`
//! O(1). Generated families come first, so adding a trace client never renumbers generated keys.
//! Each trace client has its own family: a name a trace shares with another family is a second,
//! separate key (`lookup_all` finds every one).
//!
//! Reports count losses by key prefix ("groups"): a generated family is one group, named by its
//! prefix; a trace's keys are grouped by their names up to and including the first `:` (so
//! `session:42` and a generated `session:` family share a group), and names without one by the
//! trace they come from. A trace with more than `TRACE_GROUPS_MAX` prefixes folds the rest into
//! one group, so a trace of unique prefixes cannot grow the counters without bound.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, OnceLock};

use crate::sim::config::{ClientConfig, ReplayNotes, Trace, TraceRecords, Workload};
use crate::sim::keyspace::memory::decimal_len;
use crate::sim::ledger::KeyId;

/// The longest key name a trace may hold (its length must fit the stored `u16`).
pub const KEY_NAME_BYTES_MAX: usize = u16::MAX as usize;

/// What ends a key name's prefix, as Redis users write them (`user:42`), unless a trace
/// client's `prefix-separator` names another.
pub const PREFIX_SEPARATOR: &str = ":";

/// New prefix groups one trace may open; the rest share one "other prefixes" group.
pub const TRACE_GROUPS_MAX: usize = 1_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Family {
    /// Generated names are `prefix + local id`; empty for a trace family.
    pub prefix: String,
    /// First key id of the family.
    pub start: u32,
    pub count: u32,
    /// A trace client's recorded names; `None` for a generated family.
    pub names: Option<NamedKeys>,
    /// The prefix group of each of its keys.
    groups: FamilyGroups,
}

/// The prefix group of a family's keys: one for a generated family, one per key for a trace.
#[derive(Debug, Clone, PartialEq, Eq)]
enum FamilyGroups {
    One(u32),
    PerKey(Arc<[u32]>),
}

impl Family {
    /// How reports name the family: its prefix, or `trace <file>` for a replayed trace.
    pub fn label(&self) -> String {
        match &self.names {
            Some(names) => format!("trace {}", names.source()),
            None => self.prefix.clone(),
        }
    }
}

/// Explicit key names, shared with the trace they come from.
#[derive(Clone)]
pub struct NamedKeys {
    trace: Arc<Trace>,
    lengths: Arc<[u16]>,
    /// Local ids sorted by name, built on the first `lookup`: only operator events look names
    /// up, and sorting tens of millions of names is not worth doing for runs that never do.
    sorted: Arc<OnceLock<Vec<u32>>>,
}

impl NamedKeys {
    /// The trace's names, whose lengths must fit `KEY_NAME_BYTES_MAX` (the trace loader refuses
    /// longer ones).
    pub fn new(trace: Arc<Trace>) -> NamedKeys {
        let names = &trace.key_names;
        let lengths = (0..names.len() as u32)
            .map(|local| {
                let len = names.name_len(local);
                assert!(
                    len <= KEY_NAME_BYTES_MAX,
                    "trace key names are at most {KEY_NAME_BYTES_MAX} bytes"
                );
                len as u16
            })
            .collect();
        NamedKeys {
            trace,
            lengths,
            sorted: Arc::new(OnceLock::new()),
        }
    }

    /// Where the names came from (`Trace::source`).
    pub fn source(&self) -> &str {
        &self.trace.source
    }

    /// What ends a name's prefix in reports.
    pub fn separator(&self) -> &str {
        &self.trace.prefix_separator
    }

    pub fn name(&self, local: u32) -> Cow<'_, str> {
        self.trace.key_names.name(local)
    }

    /// Appends name `local` to `out`.
    #[inline]
    pub fn push_name(&self, local: u32, out: &mut String) {
        self.trace.key_names.push_name(local, out);
    }

    fn all_numbers(&self) -> bool {
        self.trace.key_names.all_numbers()
    }

    fn len_of(&self, local: u32) -> u64 {
        u64::from(self.lengths[local as usize])
    }

    fn prefetch_len(&self, local: u32) {
        if let Some(length) = self.lengths.get(local as usize) {
            crate::sim::keyspace::prefetch(length);
        }
    }

    fn lookup(&self, name: &str) -> Option<u32> {
        let names = &self.trace.key_names;
        let sorted = self.sorted.get_or_init(|| names.sorted());
        names.find(sorted, name)
    }
}

impl fmt::Debug for NamedKeys {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("NamedKeys")
            .field("source", &self.trace.source)
            .field("keys", &self.lengths.len())
            .finish()
    }
}

impl PartialEq for NamedKeys {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.trace, &other.trace) || self.trace.key_names == other.trace.key_names
    }
}

impl Eq for NamedKeys {}

#[derive(Debug, Clone, Default)]
pub struct KeyTable {
    families: Vec<Family>,
    total: u32,
    /// The label of each prefix group, in order of first appearance.
    groups: Vec<String>,
}

impl KeyTable {
    /// One family per distinct prefix of the generated clients, sized by the largest keyspace
    /// using it, in order of first appearance; then one family per trace client, in client
    /// order. Returns the table and, per client, the index of its family.
    pub fn from_clients(clients: &[ClientConfig]) -> (KeyTable, Vec<usize>) {
        let mut table = KeyTable::default();
        let mut counts: Vec<(String, u64)> = Vec::new();
        let mut family_of_client = Vec::with_capacity(clients.len());
        for client in clients {
            let Workload::Generated(generated) = &client.workload else {
                // Numbered below, once every generated family has its index.
                family_of_client.push(usize::MAX);
                continue;
            };
            let keyspace = &generated.keyspace;
            let prefix = &keyspace.prefix;
            let index = match counts.iter().position(|(p, _)| p == prefix) {
                Some(index) => {
                    counts[index].1 = counts[index].1.max(keyspace.keys);
                    index
                }
                None => {
                    counts.push((prefix.clone(), keyspace.keys));
                    counts.len() - 1
                }
            };
            family_of_client.push(index);
        }
        for (prefix, count) in counts {
            // Validation caps the total far below u32::MAX.
            table.push(prefix, count as u32, None);
        }
        for (client, family) in clients.iter().zip(&mut family_of_client) {
            if let Some(trace) = client.trace() {
                *family = table.families.len();
                let count = trace.key_names.len() as u32;
                table.push(String::new(), count, Some(NamedKeys::new(trace.clone())));
            }
        }
        table.assign_groups();
        (table, family_of_client)
    }

    /// One family of explicit names (a watched server's keys), grouped by prefix as a trace's.
    pub fn from_names(source: &str, names: Vec<String>) -> KeyTable {
        let count = names.len() as u32;
        let trace = Trace {
            source: source.to_string(),
            key_names: names.into_iter().collect(),
            records: TraceRecords::new(),
            read_through: false,
            per_record_db: false,
            notes: ReplayNotes::default(),
            prefix_separator: PREFIX_SEPARATOR.to_string(),
        };
        let mut table = KeyTable::default();
        table.push(String::new(), count, Some(NamedKeys::new(Arc::new(trace))));
        table.assign_groups();
        table
    }

    fn push(&mut self, prefix: String, count: u32, names: Option<NamedKeys>) {
        self.families.push(Family {
            prefix,
            start: self.total,
            count,
            names,
            groups: FamilyGroups::One(0),
        });
        self.total += count;
    }

    /// Groups every family's keys by prefix, generated families first (in order), then each
    /// trace's names in the trace's order.
    fn assign_groups(&mut self) {
        let mut groups = GroupLabels::default();
        for family in &mut self.families {
            family.groups = match &family.names {
                None => FamilyGroups::One(groups.id(&family.prefix)),
                // Numbers have no prefix: the whole trace is one group, without a table.
                Some(names) if names.all_numbers() && family.count > 0 => {
                    FamilyGroups::One(groups.id(&format!("trace {}", names.source())))
                }
                Some(names) => FamilyGroups::PerKey(trace_groups(names, family.count, &mut groups)),
            };
        }
        self.groups = groups.labels;
    }

    /// The prefix groups reports count losses by, by label.
    pub fn groups(&self) -> &[String] {
        &self.groups
    }

    /// The prefix group of a key.
    #[inline]
    pub fn group_of(&self, key: KeyId) -> usize {
        let family = &self.families[self.family_of(key)];
        match &family.groups {
            FamilyGroups::One(group) => *group as usize,
            FamilyGroups::PerKey(groups) => groups[(key.0 - family.start) as usize] as usize,
        }
    }

    pub fn len(&self) -> usize {
        self.total as usize
    }

    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    pub fn families(&self) -> &[Family] {
        &self.families
    }

    pub fn family(&self, index: usize) -> &Family {
        &self.families[index]
    }

    /// The family index of a key.
    pub fn family_of(&self, key: KeyId) -> usize {
        self.families
            .partition_point(|family| family.start <= key.0)
            .saturating_sub(1)
    }

    /// The key of `local` within family `family`.
    #[inline]
    pub fn key(&self, family: usize, local: u64) -> KeyId {
        KeyId(self.families[family].start + local as u32)
    }

    /// Hints the CPU to load what [`KeyTable::key_len`] reads (a trace's name lengths).
    #[inline]
    pub fn prefetch_key_len(&self, key: KeyId) {
        let family = &self.families[self.family_of(key)];
        if let Some(names) = &family.names {
            names.prefetch_len(key.0 - family.start);
        }
    }

    /// Length of the key's name in bytes.
    #[inline]
    pub fn key_len(&self, key: KeyId) -> u64 {
        let family = &self.families[self.family_of(key)];
        let local = key.0 - family.start;
        match &family.names {
            None => family.prefix.len() as u64 + decimal_len(u64::from(local)),
            Some(names) => names.len_of(local),
        }
    }

    pub fn name(&self, key: KeyId) -> String {
        let mut name = String::new();
        self.push_name(key, &mut name);
        name
    }

    /// The number whose decimal is the key's name, when it is one (a numbered trace's keys, a
    /// generated family without a prefix): the ledger writes it straight into its output,
    /// with no name built and nothing to quote. Reading it costs one cache miss in a large
    /// trace, which a writer resolving a batch of rows at once overlaps.
    #[inline]
    pub fn number_name(&self, key: KeyId) -> Option<u64> {
        let family = &self.families[self.family_of(key)];
        let local = key.0 - family.start;
        match &family.names {
            None => family.prefix.is_empty().then_some(u64::from(local)),
            Some(names) => names.trace.key_names.number(local),
        }
    }

    /// [`KeyTable::number_name`] of each of `keys`, appended to `out`. With one family (a
    /// replayed trace) its numbers are found once, not once a key: the ledger's writer looks
    /// up millions, and the chase from table to trace to names was most of each lookup.
    pub fn number_names(&self, keys: impl Iterator<Item = KeyId>, out: &mut Vec<Option<u64>>) {
        let [family] = self.families.as_slice() else {
            out.extend(keys.map(|key| self.number_name(key)));
            return;
        };
        let start = family.start;
        match &family.names {
            Some(names) => match names.trace.key_names.numbers() {
                Some(numbers) => {
                    out.extend(keys.map(|key| Some(numbers[(key.0 - start) as usize])));
                }
                None => out.extend(keys.map(|_| None)),
            },
            None if family.prefix.is_empty() => {
                out.extend(keys.map(|key| Some(u64::from(key.0 - start))));
            }
            None => out.extend(keys.map(|_| None)),
        }
    }

    /// Appends the key's name to `out`: the ledger writes millions of names, without an
    /// allocation each.
    pub fn push_name(&self, key: KeyId, out: &mut String) {
        let family = &self.families[self.family_of(key)];
        let local = key.0 - family.start;
        match &family.names {
            None => {
                out.push_str(&family.prefix);
                out.push_str(itoa::Buffer::new().format(local));
            }
            Some(names) => names.push_name(local, out),
        }
    }

    /// The id of a key name, if the name belongs to the table (the first, if several families
    /// hold it).
    pub fn lookup(&self, name: &str) -> Option<KeyId> {
        self.lookup_all(name).next()
    }

    /// Every id named `name`, in family order: a trace may record a name that another trace, or
    /// a generated family, also has.
    pub fn lookup_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = KeyId> + 'a {
        self.families.iter().filter_map(move |family| {
            let local = match &family.names {
                Some(names) => names.lookup(name)?,
                None => generated_local(family, name)?,
            };
            Some(KeyId(family.start + local))
        })
    }
}

/// Group labels and their ids, in order of first appearance.
#[derive(Default)]
struct GroupLabels {
    ids: BTreeMap<String, u32>,
    labels: Vec<String>,
}

impl GroupLabels {
    /// The id of `label`, opening a group for it if it has none.
    fn id(&mut self, label: &str) -> u32 {
        if let Some(id) = self.ids.get(label) {
            return *id;
        }
        let id = self.labels.len() as u32;
        self.ids.insert(label.to_string(), id);
        self.labels.push(label.to_string());
        id
    }
}

/// The group of each of a trace's keys: its name's prefix, the trace itself for a name without
/// one, and past `TRACE_GROUPS_MAX` new prefixes one group for the rest.
fn trace_groups(names: &NamedKeys, count: u32, groups: &mut GroupLabels) -> Arc<[u32]> {
    let whole = format!("trace {}", names.source());
    let other = format!("trace {} (other prefixes)", names.source());
    let mut opened = 0;
    let separator = names.separator();
    let mut name = String::new();
    (0..count)
        .map(|local| {
            name.clear();
            names.push_name(local, &mut name);
            let label = match name.find(separator) {
                Some(end) => &name[..end + separator.len()],
                None => whole.as_str(),
            };
            match groups.ids.get(label) {
                Some(id) => *id,
                None if opened < TRACE_GROUPS_MAX => {
                    opened += 1;
                    groups.id(label)
                }
                None => groups.id(&other),
            }
        })
        .collect()
}

/// The local id of `name` in a generated family: the prefix, then a canonical decimal in range.
fn generated_local(family: &Family, name: &str) -> Option<u32> {
    let digits = name.strip_prefix(family.prefix.as_str())?;
    let canonical = !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'));
    if !canonical {
        return None;
    }
    let local: u64 = digits.parse().ok()?;
    (local < u64::from(family.count)).then_some(local as u32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::config::*;

    fn client(prefix: &str, keys: u64) -> ClientConfig {
        let workload = GeneratedWorkload {
            rate: 1.0,
            arrivals: Arrivals::Poisson,
            keyspace: KeyspaceConfig {
                keys,
                prefix: prefix.to_string(),
                popularity: Popularity::Uniform,
            },
            commands: vec![(CommandKind::Get, 1)],
            value_size: ValueSize::Fixed(10),
            ttl: None,
            on_miss: OnMiss::None,
            fields: 16,
        };
        ClientConfig::new(prefix, Workload::Generated(workload))
    }

    fn trace_client(names: &[&str]) -> ClientConfig {
        let trace = Trace {
            source: "t.csv".to_string(),
            key_names: names.iter().map(|name| name.to_string()).collect(),
            records: Default::default(),
            read_through: false,
            per_record_db: false,
            notes: Default::default(),
            prefix_separator: ":".to_string(),
        };
        let workload = TraceWorkload {
            trace: Arc::new(trace),
            rate: None,
        };
        ClientConfig::new("", Workload::Trace(workload))
    }

    #[test]
    fn a_trace_can_name_its_own_prefix_separator() {
        let mut slash = trace_client(&["cart/1", "cart:2", "img/a/b", "plain"]);
        if let Workload::Trace(replay) = &mut slash.workload {
            Arc::make_mut(&mut replay.trace).prefix_separator = "/".to_string();
        }
        let (table, _) = KeyTable::from_clients(&[slash]);
        assert_eq!(table.groups(), ["cart/", "trace t.csv", "img/"]);
    }

    #[test]
    fn trace_keys_are_grouped_by_their_own_prefixes() {
        let clients = [
            client("session:", 3),
            trace_client(&["cart:1", "session:9", "42", "cart:2", "user:a:b"]),
        ];
        let (table, _) = KeyTable::from_clients(&clients);
        assert_eq!(
            table.groups(),
            ["session:", "cart:", "trace t.csv", "user:"]
        );
        let group = |name: &str| {
            let key = table.lookup_all(name).last().unwrap();
            table.groups()[table.group_of(key)].clone()
        };
        assert_eq!(group("cart:2"), "cart:");
        assert_eq!(
            group("session:9"),
            "session:",
            "shared with the generated family"
        );
        assert_eq!(group("42"), "trace t.csv", "a name without a prefix");
        assert_eq!(group("user:a:b"), "user:", "up to the first separator");
        assert_eq!(table.groups()[table.group_of(KeyId(0))], "session:");
    }

    #[test]
    fn a_trace_of_unique_prefixes_opens_a_bounded_number_of_groups() {
        let names: Vec<String> = (0..TRACE_GROUPS_MAX + 500)
            .map(|i| format!("p{i}:k"))
            .collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let (table, _) = KeyTable::from_clients(&[trace_client(&names)]);
        assert_eq!(table.groups().len(), TRACE_GROUPS_MAX + 1);
        let last = table.lookup(names[names.len() - 1]).unwrap();
        assert_eq!(
            table.groups()[table.group_of(last)],
            "trace t.csv (other prefixes)"
        );
        let first = table.lookup(names[0]).unwrap();
        assert_eq!(table.groups()[table.group_of(first)], "p0:");
    }

    #[test]
    fn a_numbered_trace_is_one_group_and_its_names_are_its_numbers() {
        let mut names = KeyNames::new();
        for number in [81_291, 0, 7] {
            names.push_number(number);
        }
        let trace = Trace {
            source: "t.og".to_string(),
            key_names: names,
            records: Default::default(),
            read_through: true,
            per_record_db: false,
            notes: ReplayNotes::default(),
            prefix_separator: PREFIX_SEPARATOR.to_string(),
        };
        let workload = TraceWorkload {
            trace: Arc::new(trace),
            rate: None,
        };
        let clients = [
            client("s:", 2),
            ClientConfig::new("", Workload::Trace(workload)),
        ];
        let (table, _) = KeyTable::from_clients(&clients);
        assert_eq!(table.groups(), ["s:", "trace t.og"]);
        assert_eq!(table.group_of(KeyId(4)), 1);
        assert_eq!(table.name(KeyId(2)), "81291");
        assert_eq!(table.key_len(KeyId(2)), 5);
        assert_eq!(table.lookup("7"), Some(KeyId(4)));
        assert_eq!(table.lookup("07"), None);
    }

    #[test]
    fn shared_prefixes_share_keys() {
        let clients = [client("a:", 10), client("b:", 5), client("a:", 20)];
        let (table, families) = KeyTable::from_clients(&clients);
        assert_eq!(families, vec![0, 1, 0]);
        assert_eq!(table.len(), 25);
        assert_eq!(table.family(1).start, 20);
        assert_eq!(table.name(KeyId(19)), "a:19");
        assert_eq!(table.name(KeyId(20)), "b:0");
        assert_eq!(table.family_of(KeyId(24)), 1);
        assert_eq!(table.key_len(KeyId(9)), 3);
        assert_eq!(table.key_len(KeyId(10)), 4);
    }

    #[test]
    fn lookup_accepts_only_canonical_names_in_range() {
        let (table, _) = KeyTable::from_clients(&[client("s:", 100)]);
        assert_eq!(table.lookup("s:42"), Some(KeyId(42)));
        assert_eq!(table.lookup("s:0"), Some(KeyId(0)));
        assert_eq!(table.lookup("s:042"), None);
        assert_eq!(table.lookup("s:100"), None);
        assert_eq!(table.lookup("s:"), None);
        assert_eq!(table.lookup("x:1"), None);
    }

    #[test]
    fn trace_families_follow_the_generated_ones_and_leave_them_unchanged() {
        let clients = [
            trace_client(&["user:9", "é", "a"]),
            client("a:", 10),
            trace_client(&["zz"]),
            client("b:", 5),
        ];
        let (table, families) = KeyTable::from_clients(&clients);
        let (generated, _) = KeyTable::from_clients(&[client("a:", 10), client("b:", 5)]);
        assert_eq!(&table.families()[..2], generated.families());
        assert_eq!(families, vec![2, 0, 3, 1]);
        assert_eq!(table.len(), 19);
        assert_eq!((table.family(2).start, table.family(3).start), (15, 18));
        assert_eq!(
            table.family(2).names.as_ref().map(NamedKeys::source),
            Some("t.csv")
        );
        assert_eq!(table.key(2, 1), KeyId(16));
        assert_eq!(table.name(KeyId(15)), "user:9");
        assert_eq!(table.name(KeyId(16)), "é");
        assert_eq!(table.name(KeyId(18)), "zz");
        assert_eq!(table.family_of(KeyId(17)), 2);
        assert_eq!(table.family_of(KeyId(18)), 3);
        assert_eq!(table.key_len(KeyId(15)), 6);
        assert_eq!(table.key_len(KeyId(16)), 2);
        assert_eq!(table.key_len(KeyId(14)), 3);
    }

    #[test]
    fn lookup_finds_named_keys_and_every_family_holding_a_name() {
        let clients = [
            client("k", 10),
            trace_client(&["k3", "b", "a"]),
            trace_client(&["a"]),
        ];
        let (table, _) = KeyTable::from_clients(&clients);
        assert_eq!(table.lookup("b"), Some(KeyId(11)));
        assert_eq!(table.lookup("a"), Some(KeyId(12)));
        assert_eq!(table.lookup("c"), None);
        assert_eq!(
            table.lookup_all("a").collect::<Vec<_>>(),
            [KeyId(12), KeyId(13)]
        );
        assert_eq!(
            table.lookup_all("k3").collect::<Vec<_>>(),
            [KeyId(3), KeyId(10)]
        );
    }

    #[test]
    fn named_families_debug_print_without_their_names() {
        let (table, _) = KeyTable::from_clients(&[trace_client(&["secret"])]);
        let printed = format!("{:?}", table.family(0));
        assert!(
            printed.contains("NamedKeys { source: \"t.csv\", keys: 1 }"),
            "{printed}"
        );
        assert!(!printed.contains("secret"));
    }
}
