//! The cause ledger: why each key vanished and how each read was answered.
//!
//! This module holds the ledger's vocabulary: causes, the rows ([`LedgerEntry`]) and what they
//! say ([`Detail`]), the [`LedgerSink`] trait, and the per-cause totals ([`LedgerTotals`],
//! [`PerCause`]). The core reports every removal of a key on a node and every classified read
//! through the [`Ledger`] recorder (`recorder.rs`), which keeps the totals itself so that a run
//! can report them without storing the ledger. Sinks live outside the core (the CLI streams the
//! rows into `ledger.csv`).

mod recorder;
pub mod watch;

pub use recorder::Ledger;

use crate::sim::config::{CommandKind, MaxmemoryPolicy};

/// A key's id in the scenario's key table (dense, from 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct KeyId(pub u32);

/// A node's index in the world (the primary is node 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeId(pub u16);

/// Who did something to a key: a client (by index), the scenario's operator events, or the
/// server itself (expiry, eviction).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Actor(pub u16);

impl Actor {
    pub const OPERATOR: Actor = Actor(u16::MAX - 1);
    pub const SERVER: Actor = Actor(u16::MAX);

    /// Clients an actor can name: the ids below the operator's and the server's.
    pub const CLIENTS_MAX: usize = Actor::OPERATOR.0 as usize;

    pub fn client(index: usize) -> Actor {
        // Validation refuses more clients, so a larger index is a bug, not input.
        assert!(
            index < Actor::CLIENTS_MAX,
            "client {index} beyond the {} an actor can name",
            Actor::CLIENTS_MAX
        );
        Actor(index as u16)
    }

    pub fn client_index(self) -> Option<usize> {
        (self.0 < Actor::OPERATOR.0).then_some(self.0 as usize)
    }
}

/// Why a key is gone, or why a read found nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum Cause {
    /// Removed by lazy or active expiry.
    Expired = 1,
    /// DEL, UNLINK, GETDEL, an EXPIRE with a non-positive TTL (the detail names the command).
    Deleted,
    /// FLUSHDB or FLUSHALL.
    Flushed,
    /// The value was replaced by another client's SET, or its type changed.
    Overwritten,
    /// Evicted under maxmemory.
    Evicted,
    /// A write refused with -OOM: the key was never stored.
    OomRejected,
    /// The read found nothing here, but the key exists in another database of the node.
    WrongDb,
    /// Nobody ever wrote the key (a cold miss).
    NeverWritten,
    /// A read on a replica before the write reached it: the primary has the key.
    ReplicaLag,
    /// Lost when the node crashed and restarted: persistence did not have it.
    Restart,
    /// A replica's key wiped by a full resync with its primary.
    ResyncFlush,
    /// A write the old primary acknowledged that the promoted replica never received.
    Failover,
    /// A write accepted by a primary after another was promoted in its place, discarded when
    /// it rejoined as a replica.
    SplitBrain,
    /// A write refused with -NOREPLICAS (`min-replicas-to-write` not met): never stored.
    NoreplicasRejected,
    // Removals by a replayed command that does not destroy the value (issue 12).
    /// RENAME or RENAMENX gave the value another name.
    Renamed,
    /// MOVE took the value to another database.
    Moved,
    /// The last field, element or member was removed (HDEL, LPOP, SREM, ZREM, SPOP...).
    Emptied,
}

impl Cause {
    pub const ALL: [Cause; 17] = [
        Cause::Expired,
        Cause::Deleted,
        Cause::Flushed,
        Cause::Overwritten,
        Cause::Evicted,
        Cause::OomRejected,
        Cause::WrongDb,
        Cause::NeverWritten,
        Cause::ReplicaLag,
        Cause::Restart,
        Cause::ResyncFlush,
        Cause::Failover,
        Cause::SplitBrain,
        Cause::NoreplicasRejected,
        Cause::Renamed,
        Cause::Moved,
        Cause::Emptied,
    ];
    pub const COUNT: usize = Cause::ALL.len();

    pub fn name(self) -> &'static str {
        match self {
            Cause::Expired => "expired",
            Cause::Deleted => "deleted",
            Cause::Flushed => "flushed",
            Cause::Overwritten => "overwritten",
            Cause::Evicted => "evicted",
            Cause::OomRejected => "oom-rejected",
            Cause::WrongDb => "wrong-db",
            Cause::NeverWritten => "never-written",
            Cause::ReplicaLag => "replica-lag",
            Cause::Restart => "restart",
            Cause::ResyncFlush => "resync-flush",
            Cause::Failover => "failover",
            Cause::SplitBrain => "split-brain",
            Cause::NoreplicasRejected => "noreplicas-rejected",
            Cause::Renamed => "renamed",
            Cause::Moved => "moved",
            Cause::Emptied => "emptied",
        }
    }

    pub fn from_code(code: u8) -> Option<Cause> {
        Cause::ALL.into_iter().find(|cause| *cause as u8 == code)
    }

    /// The cause's place in a [`PerCause`]: its code less one (code 0 means "no cause").
    pub fn index(self) -> usize {
        self as usize - 1
    }
}

/// One value per cause, indexed by the cause itself, with no unused slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PerCause<T>([T; Cause::COUNT]);

impl<T: Default + Copy> Default for PerCause<T> {
    fn default() -> Self {
        PerCause([T::default(); Cause::COUNT])
    }
}

impl<T> PerCause<T> {
    /// The values in `Cause::ALL` order.
    pub fn iter(&self) -> std::slice::Iter<'_, T> {
        self.0.iter()
    }

    pub fn iter_mut(&mut self) -> std::slice::IterMut<'_, T> {
        self.0.iter_mut()
    }

    /// (cause, value) pairs in `Cause::ALL` order.
    pub fn by_cause(&self) -> impl Iterator<Item = (Cause, &T)> {
        Cause::ALL.into_iter().zip(self.0.iter())
    }
}

impl PerCause<u64> {
    pub fn total(&self) -> u64 {
        self.0.iter().sum()
    }
}

impl<T> std::ops::Index<Cause> for PerCause<T> {
    type Output = T;
    fn index(&self, cause: Cause) -> &T {
        &self.0[cause.index()]
    }
}

impl<T> std::ops::IndexMut<Cause> for PerCause<T> {
    fn index_mut(&mut self, cause: Cause) -> &mut T {
        &mut self.0[cause.index()]
    }
}

impl<T> std::ops::Index<&Cause> for PerCause<T> {
    type Output = T;
    fn index(&self, cause: &Cause) -> &T {
        &self.0[cause.index()]
    }
}

impl<T> IntoIterator for PerCause<T> {
    type Item = T;
    type IntoIter = std::array::IntoIter<T, { Cause::COUNT }>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

/// What a removal or a read record says beyond its cause.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detail {
    None,
    /// Expiry: the TTL the key was given (ms), who set it and when (ms after the run began;
    /// `vanish explain` tells it, the ledger's CSV does not), and whether the read path (lazy)
    /// or the active cycle removed it.
    Expiry {
        ttl_ms: u64,
        set_by: Actor,
        set_at_ms: u32,
        lazy: bool,
    },
    /// An explicit command removed the key.
    Command {
        command: CommandKind,
        by: Actor,
    },
    /// An operator or client flush.
    Flush {
        all: bool,
        by: Actor,
    },
    /// DEL issued by a scheduled event.
    OperatorDel,
    /// RENAME / RENAMENX (`to` is the new name) or MOVE (`to_db`): where the value went.
    Relocated {
        command: CommandKind,
        by: Actor,
        to: KeyId,
        to_db: u32,
    },
    /// An overwrite: who wrote the new value, who had written the old one, and whether the type
    /// changed.
    Overwrite {
        by: Actor,
        previous_writer: Actor,
        type_changed: bool,
    },
    /// A miss on a key removed earlier: when and by whom (the removal is its own ledger row).
    RemovedEarlier {
        at_us: u64,
        by: Actor,
    },
    /// A crash took the key back to its durable state (or to nothing).
    Restored,
    /// A wrong-db miss: the database where the key does exist.
    FoundInDb {
        db: u32,
    },
    /// A read that hit a value written by another client since the reader last wrote it.
    WrittenBy {
        writer: Actor,
    },
    /// An eviction: the policy, the victim's score (idle ms for LRU, the LFU counter, TTL ms
    /// left for volatile-ttl, next use for OPT, 0 for random and exact LRU), and memory then.
    Eviction {
        policy: MaxmemoryPolicy,
        score: u64,
        used_memory: u64,
        maxmemory: u64,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    /// A key left a node's keyspace (or, for overwrites, its value did).
    Removal,
    /// A client read found nothing.
    Miss,
    /// A client read found a value another client wrote over its own.
    OverwrittenHit,
    /// A write the server refused (OOM): the key was not stored.
    Rejected,
    /// An acknowledged write lost (a failover to a replica that never received it).
    LostWrite,
}

impl EntryKind {
    pub fn name(self) -> &'static str {
        match self {
            EntryKind::Removal => "removal",
            EntryKind::Miss => "miss",
            EntryKind::OverwrittenHit => "hit-overwritten",
            EntryKind::Rejected => "write-rejected",
            EntryKind::LostWrite => "write-lost",
        }
    }
}

/// One ledger row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LedgerEntry {
    pub time_us: u64,
    pub node: NodeId,
    pub db: u32,
    pub key: KeyId,
    pub kind: EntryKind,
    pub cause: Cause,
    /// The reading client for misses and hits; the acting party for removals.
    pub actor: Actor,
    pub detail: Detail,
}

/// Receives ledger rows as the simulation produces them, in simulation order.
pub trait LedgerSink {
    fn record(&mut self, entry: &LedgerEntry);
}

/// A sink that keeps nothing (benchmarks, sweeps).
pub struct DiscardLedger;

impl LedgerSink for DiscardLedger {
    fn record(&mut self, _entry: &LedgerEntry) {}
}

impl LedgerSink for Vec<LedgerEntry> {
    fn record(&mut self, entry: &LedgerEntry) {
        self.push(*entry);
    }
}

/// Per-cause totals, kept by the core whatever the sink does.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LedgerTotals {
    pub removals_by_cause: PerCause<u64>,
    pub misses_by_cause: PerCause<u64>,
    pub rejected_by_cause: PerCause<u64>,
    pub lost_writes_by_cause: PerCause<u64>,
    pub overwritten_hits: u64,
}

impl LedgerTotals {
    pub fn add(&mut self, entry: &LedgerEntry) {
        match entry.kind {
            EntryKind::Removal => self.removals_by_cause[entry.cause] += 1,
            EntryKind::Miss => self.misses_by_cause[entry.cause] += 1,
            EntryKind::OverwrittenHit => self.overwritten_hits += 1,
            EntryKind::Rejected => self.rejected_by_cause[entry.cause] += 1,
            EntryKind::LostWrite => self.lost_writes_by_cause[entry.cause] += 1,
        }
    }

    pub fn misses(&self) -> u64 {
        self.misses_by_cause.iter().sum()
    }

    /// Rows the ledger has: one for each entry added.
    pub fn rows(&self) -> u64 {
        self.removals_by_cause.iter().sum::<u64>()
            + self.misses()
            + self.overwritten_hits
            + self.rejected_by_cause.iter().sum::<u64>()
            + self.lost_writes_by_cause.iter().sum::<u64>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cause_codes_round_trip_and_names_are_unique() {
        let mut names: Vec<&str> = Cause::ALL.iter().map(|c| c.name()).collect();
        for cause in Cause::ALL {
            assert_eq!(Cause::from_code(cause as u8), Some(cause));
            assert!(cause.index() < Cause::COUNT);
        }
        assert_eq!(Cause::from_code(0), None);
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Cause::ALL.len());
    }

    #[test]
    fn actors_distinguish_clients_from_the_operator_and_server() {
        assert_eq!(Actor::client(3).client_index(), Some(3));
        assert_eq!(Actor::OPERATOR.client_index(), None);
        assert_eq!(Actor::SERVER.client_index(), None);
    }
}
