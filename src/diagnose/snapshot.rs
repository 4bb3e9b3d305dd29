//! The INFO figures a diagnosis reasons about, taken out of a parsed dump once, typed.
//!
//! Absent fields stay `None` (an older server, a section not dumped); a field that is present
//! but malformed is refused with its line by [`InfoDump`].

use std::collections::BTreeMap;

use crate::diagnose::info::{InfoDump, InfoError};

/// Whole-number fields read by name.
const COUNTERS: [&str; 21] = [
    "uptime_in_seconds",
    "server_time_usec",
    "connected_clients",
    "connected_slaves",
    "used_memory",
    "used_memory_dataset",
    "maxmemory",
    "mem_clients_normal",
    "mem_clients_slaves",
    "mem_replication_backlog",
    "mem_total_replication_buffers",
    "mem_not_counted_for_evict",
    "rdb_last_load_keys_loaded",
    "aof_enabled",
    "expired_keys",
    "evicted_keys",
    "keyspace_hits",
    "keyspace_misses",
    "total_commands_processed",
    "master_repl_offset",
    "master_last_io_seconds_ago",
];

/// Textual fields read by name.
const TEXTS: [&str; 6] = [
    "run_id",
    "maxmemory_policy",
    "role",
    "master_replid",
    "master_replid2",
    "master_link_status",
];

/// One database's `dbN:keys=…,expires=…,avg_ttl=…` line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Db {
    pub keys: u64,
    pub expires: u64,
    pub avg_ttl_ms: u64,
}

/// One `cmdstat_<name>` line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Calls {
    pub calls: u64,
    pub rejected: u64,
    pub failed: u64,
}

impl Calls {
    /// A command never called.
    pub const NONE: Calls = Calls {
        calls: 0,
        rejected: 0,
        failed: 0,
    };
}

/// One `slaveN:ip=…,port=…,state=…,offset=…,lag=…` line seen from a primary.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Replica {
    pub address: String,
    pub state: String,
    pub offset: u64,
    pub lag_s: u64,
}

/// The figures of one dump.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snapshot {
    pub source: String,
    counters: BTreeMap<&'static str, u64>,
    texts: BTreeMap<&'static str, String>,
    pub second_repl_offset: Option<i64>,
    /// `None` when the dump has no Commandstats section.
    pub commands: Option<BTreeMap<String, Calls>>,
    /// `errorstat_<CODE>` counts; `None` without an Errorstats section.
    pub errors: Option<BTreeMap<String, u64>>,
    pub dbs: BTreeMap<u32, Db>,
    pub replicas: Vec<Replica>,
    /// Sections a diagnosis reads that the dump lacks.
    pub missing: Vec<&'static str>,
}

impl Snapshot {
    pub fn from_dump(dump: &InfoDump) -> Result<Snapshot, InfoError> {
        let mut snapshot = Snapshot {
            source: dump.source.clone(),
            second_repl_offset: dump.signed("second_repl_offset")?,
            missing: dump.missing_sections(),
            ..Snapshot::default()
        };
        for name in COUNTERS {
            if let Some(value) = dump.number(name)? {
                snapshot.counters.insert(name, value);
            }
        }
        for name in TEXTS {
            if let Some(value) = dump.text(name) {
                snapshot.texts.insert(name, value.trim().to_string());
            }
        }
        snapshot.commands = commands(dump)?;
        snapshot.errors = errors(dump)?;
        snapshot.dbs = databases(dump)?;
        snapshot.replicas = replicas(dump)?;
        Ok(snapshot)
    }

    pub fn counter(&self, name: &str) -> Option<u64> {
        self.counters.get(name).copied()
    }

    pub fn text(&self, name: &str) -> Option<&str> {
        self.texts.get(name).map(String::as_str)
    }

    /// Calls of one command (lower case, as Commandstats names it), 0 if never called.
    pub fn calls(&self, command: &str) -> Option<Calls> {
        let commands = self.commands.as_ref()?;
        // Commandstats lists a command only once it has been called.
        Some(match commands.get(command) {
            Some(calls) => *calls,
            None => Calls::NONE,
        })
    }

    /// Count of one error code (`OOM`), 0 if never replied.
    pub fn error_count(&self, code: &str) -> Option<u64> {
        let errors = self.errors.as_ref()?;
        // Errorstats lists an error only once it has been returned.
        Some(match errors.get(code) {
            Some(count) => *count,
            None => 0,
        })
    }

    pub fn keys_total(&self) -> u64 {
        self.dbs.values().map(|db| db.keys).sum()
    }

    /// `rejected_calls` over every command.
    pub fn rejected_total(&self) -> Option<u64> {
        let commands = self.commands.as_ref()?;
        Some(commands.values().map(|c| c.rejected).sum())
    }
}

fn commands(dump: &InfoDump) -> Result<Option<BTreeMap<String, Calls>>, InfoError> {
    if !dump.has_section("Commandstats") {
        return Ok(None);
    }
    let mut commands = BTreeMap::new();
    for name in dump.names_with_prefix("cmdstat_") {
        let Some(fields) = dump.subfields(name)? else {
            continue;
        };
        // `rejected_calls` and `failed_calls` came with Redis 6.2: before, none were counted.
        let since_6_2 = |key: &str| match fields.get(key) {
            Some(count) => *count,
            None => 0,
        };
        let calls = Calls {
            calls: dump.required_subfield(name, &fields, "calls")?,
            rejected: since_6_2("rejected_calls"),
            failed: since_6_2("failed_calls"),
        };
        commands.insert(name["cmdstat_".len()..].to_string(), calls);
    }
    Ok(Some(commands))
}

fn errors(dump: &InfoDump) -> Result<Option<BTreeMap<String, u64>>, InfoError> {
    if !dump.has_section("Errorstats") {
        return Ok(None);
    }
    let mut errors = BTreeMap::new();
    for name in dump.names_with_prefix("errorstat_") {
        if let Some(fields) = dump.subfields(name)? {
            let count = dump.required_subfield(name, &fields, "count")?;
            errors.insert(name["errorstat_".len()..].to_string(), count);
        }
    }
    Ok(Some(errors))
}

fn databases(dump: &InfoDump) -> Result<BTreeMap<u32, Db>, InfoError> {
    let mut dbs = BTreeMap::new();
    for name in dump.names_with_prefix("db") {
        let Ok(index) = name[2..].parse::<u32>() else {
            continue;
        };
        if dump.section_of(name) != Some("Keyspace") {
            continue;
        }
        if let Some(fields) = dump.subfields(name)? {
            let get = |key: &str| dump.required_subfield(name, &fields, key);
            dbs.insert(
                index,
                Db {
                    keys: get("keys")?,
                    expires: get("expires")?,
                    avg_ttl_ms: get("avg_ttl")?,
                },
            );
        }
    }
    Ok(dbs)
}

fn replicas(dump: &InfoDump) -> Result<Vec<Replica>, InfoError> {
    let mut replicas = Vec::new();
    for name in dump.names_with_prefix("slave") {
        if !name[5..].chars().all(|c| c.is_ascii_digit()) || name.len() == 5 {
            continue;
        }
        let Some(fields) = dump.subfields(name)? else {
            continue;
        };
        let text = |key| dump.text_subfield(name, key).unwrap_or("?");
        replicas.push(Replica {
            address: format!("{}:{}", text("ip"), text("port")),
            state: text("state").to_string(),
            offset: dump.required_subfield(name, &fields, "offset")?,
            lag_s: dump.required_subfield(name, &fields, "lag")?,
        });
    }
    Ok(replicas)
}
