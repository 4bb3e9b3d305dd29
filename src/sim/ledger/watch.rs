//! One key followed through a run, for `vanish explain`: every command a client sends it, every
//! ledger row about it, each arrival of its changes on a replica, and the eviction pool at the
//! moment it is evicted, and the offsets behind a write a failover lost. The [`Ledger`](super::Ledger) holds the watch; with no key watched
//! every hook is one comparison of an empty list, so a normal run pays nothing measurable.

use crate::sim::config::CommandKind;
use crate::sim::ledger::{Actor, KeyId, LedgerEntry, NodeId};

/// What a command's reply was, in the ledger's own words (the server's `Reply` stays in the
/// server).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    Hit,
    Miss,
    Integer(i64),
    /// An error reply by its prefix (`OOM`, `WRONGTYPE`...).
    Error(&'static str),
}

/// One thing that happened to the watched key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WatchEvent {
    /// A client's command on the key.
    Command {
        time_us: u64,
        node: NodeId,
        db: u32,
        client: Actor,
        command: CommandKind,
        /// The value's length for a write that carries one.
        value_len: Option<u32>,
        /// The TTL a write sets, ms.
        ttl_ms: Option<u64>,
        outcome: Outcome,
        /// A primary's replication offset after the command (a replica's arrivals name the
        /// offsets they reached; a failover loses what the promoted replica had not).
        offset: Option<u64>,
    },
    /// A ledger row (a removal, a miss, a refused or lost write).
    Row(LedgerEntry),
    /// A change of the key reached a replica, at that replication offset.
    Arrival {
        time_us: u64,
        node: NodeId,
        offset: u64,
    },
    /// The eviction pool when the key was chosen as the victim (just before its eviction's
    /// row): the other candidates, each as (db, key, score) with the score as the ledger
    /// reports it (idle ms, LFU counter, TTL left). Empty for the random policies.
    Pool { candidates: Vec<(u32, KeyId, u64)> },
    /// The offsets behind a write lost at a promotion (just after its `write-lost` row): the
    /// write's replication offset on the old primary (`None` for a write that overflowed the
    /// replica's link and carries none) and the offset the promoted replica had reached.
    FailoverOffsets {
        write_offset: Option<u64>,
        promoted_offset: u64,
    },
}

/// The keys watched (the ids one name has, one per key family) and what happened to them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyWatch {
    keys: Vec<KeyId>,
    pub events: Vec<WatchEvent>,
}

impl KeyWatch {
    pub fn new(keys: Vec<KeyId>) -> KeyWatch {
        KeyWatch {
            keys,
            events: Vec::new(),
        }
    }

    /// Whether `key` is watched; free when nothing is.
    #[inline]
    pub fn watches(&self, key: KeyId) -> bool {
        !self.keys.is_empty() && self.keys.contains(&key)
    }

    pub fn is_active(&self) -> bool {
        !self.keys.is_empty()
    }

    pub fn note(&mut self, event: WatchEvent) {
        self.events.push(event);
    }
}
