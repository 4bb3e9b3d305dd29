//! What a node's persistence has made durable, and what a crash takes back (src/rdb.c,
//! src/aof.c, redis-fidelity.md 6).
//!
//! Rather than copying the dataset at every snapshot or fsync, the node keeps the before-image
//! of each key the first time it changes after the last durable point (an undo log). A crash of
//! the machine rolls those keys back: the dataset becomes what the RDB snapshot or the fsynced
//! AOF held. Durable points: `appendfsync always` makes every write durable before its reply;
//! `everysec` fsyncs once a second; `no` leaves it to the OS (about every 30 s); without AOF, a
//! BGSAVE when a save point's condition holds (modelled as instantaneous at fork time). With no
//! persistence at all, a restart is empty.

use crate::sim::config::{AppendFsync, PersistenceConfig};
use crate::sim::keyspace::db::Slot;
use crate::sim::keyspace::value::Aggregate;
use crate::sim::ledger::KeyId;

/// How often the OS flushes dirty pages when `appendfsync no`.
const OS_FLUSH_US: u64 = 30_000_000;
/// `appendfsync everysec`.
const EVERYSEC_US: u64 = 1_000_000;

/// A key as it was at the last durable point.
#[derive(Debug, Clone)]
pub struct BeforeImage {
    pub db: u32,
    pub key: KeyId,
    pub slot: Slot,
    pub aggregate: Option<Box<Aggregate>>,
}

#[derive(Debug, Clone)]
pub struct Durability {
    pub config: PersistenceConfig,
    undo: Vec<BeforeImage>,
    /// Per database, one bit per key: already in `undo`.
    recorded: Vec<Vec<u64>>,
    /// `rdb_changes_since_last_save`.
    pub dirty: u64,
    pub last_save_us: u64,
    pub last_durable_us: u64,
    /// Acknowledged client writes since the last durable point.
    pub writes_since_durable: u64,
    /// Acknowledged client writes since the start (what an empty restart loses).
    pub writes_total: u64,
    pub saves: u64,
    /// A SHUTDOWN wrote an RDB although no save point asked for one (`SHUTDOWN SAVE`): a
    /// restart loads it instead of starting empty.
    pub shutdown_snapshot: bool,
}

impl Durability {
    pub fn new(config: PersistenceConfig, databases: u32) -> Durability {
        Durability {
            config,
            undo: Vec::new(),
            recorded: vec![Vec::new(); databases as usize],
            dirty: 0,
            last_save_us: 0,
            last_durable_us: 0,
            writes_since_durable: 0,
            writes_total: 0,
            saves: 0,
            shutdown_snapshot: false,
        }
    }

    /// Whether before-images are worth keeping: not when every write is durable at once, nor
    /// when nothing is ever durable (a restart is then simply empty).
    fn keeps_undo(&self) -> bool {
        !self.starts_empty() && !self.every_write_durable()
    }

    /// Nothing durable exists: a restart starts with an empty dataset.
    pub fn starts_empty(&self) -> bool {
        self.config.is_none() && !self.shutdown_snapshot
    }

    /// SHUTDOWN's synchronous `rdbSave` before the process exits: everything is durable.
    pub fn shutdown_save(&mut self, now_us: u64) {
        self.dirty = 0;
        self.last_save_us = now_us;
        self.saves += 1;
        self.shutdown_snapshot = true;
        self.durable_point(now_us);
    }

    /// `appendonly yes` with `appendfsync always`: fsynced before each reply.
    fn every_write_durable(&self) -> bool {
        self.config.appendonly && self.config.appendfsync == AppendFsync::Always
    }

    /// Records `slot` as the key's durable state, unless it changed already since the last
    /// durable point.
    pub fn before_change(
        &mut self,
        db: u32,
        key: KeyId,
        slot: &Slot,
        aggregate: Option<&Aggregate>,
        key_capacity: usize,
    ) {
        if !self.keeps_undo() {
            return;
        }
        let bits = &mut self.recorded[db as usize];
        if bits.is_empty() {
            *bits = vec![0; key_capacity.div_ceil(64)];
        }
        let (word, bit) = (key.0 as usize / 64, 1u64 << (key.0 % 64));
        if bits[word] & bit != 0 {
            return;
        }
        bits[word] |= bit;
        self.undo.push(BeforeImage {
            db,
            key,
            slot: *slot,
            aggregate: aggregate.map(|a| Box::new(a.clone())),
        });
    }

    /// A client write was acknowledged.
    pub fn acknowledged_write(&mut self) {
        self.writes_total += 1;
        if !self.every_write_durable() {
            self.writes_since_durable += 1;
        }
    }

    fn durable_point(&mut self, now_us: u64) {
        for image in &self.undo {
            if let Some(bits) = self.recorded.get_mut(image.db as usize) {
                if let Some(word) = bits.get_mut(image.key.0 as usize / 64) {
                    *word = 0;
                }
            }
        }
        self.undo.clear();
        self.last_durable_us = now_us;
        self.writes_since_durable = 0;
    }

    /// serverCron's persistence work: BGSAVE on a save point, the AOF fsync cadence.
    pub fn cron(&mut self, now_us: u64) {
        let save_due = self.config.save_points.iter().any(|&(seconds, changes)| {
            self.dirty >= changes && now_us.saturating_sub(self.last_save_us) > seconds * 1_000_000
        });
        if save_due {
            self.dirty = 0;
            self.last_save_us = now_us;
            self.saves += 1;
            if !self.config.appendonly {
                self.durable_point(now_us);
            }
        }
        if self.config.appendonly {
            let period = match self.config.appendfsync {
                AppendFsync::Always => 0,
                AppendFsync::Everysec => EVERYSEC_US,
                AppendFsync::No => OS_FLUSH_US,
            };
            if now_us.saturating_sub(self.last_durable_us) >= period {
                self.durable_point(now_us);
            }
        }
    }

    /// The process died but the machine did not: the AOF had every acknowledged write in the
    /// page cache (written before the reply), so with AOF nothing is lost; an RDB-only node
    /// still goes back to its last snapshot.
    pub fn process_died(&mut self, now_us: u64) {
        if self.config.appendonly {
            self.durable_point(now_us);
        }
    }

    /// What a crash takes back: the before-images (newest state first undone), and how many
    /// acknowledged writes are lost. Leaves the log empty.
    pub fn crash(&mut self) -> (Vec<BeforeImage>, u64) {
        let lost = if self.starts_empty() {
            self.writes_total
        } else {
            self.writes_since_durable
        };
        let undo = std::mem::take(&mut self.undo);
        for bits in &mut self.recorded {
            bits.iter_mut().for_each(|word| *word = 0);
        }
        // The restarted process starts from what survived: a later crash loses only the writes
        // acknowledged after this one.
        self.writes_total = 0;
        self.writes_since_durable = 0;
        self.dirty = 0;
        (undo, lost)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_crash_without_persistence_loses_only_the_writes_since_the_first() {
        let config = PersistenceConfig {
            save_points: Vec::new(),
            appendonly: false,
            ..PersistenceConfig::default()
        };
        let mut durability = Durability::new(config, 1);
        for _ in 0..5 {
            durability.acknowledged_write();
        }
        assert_eq!(durability.crash().1, 5);
        for _ in 0..3 {
            durability.acknowledged_write();
        }
        assert_eq!(
            durability.crash().1,
            3,
            "the first five were counted already"
        );
    }

    #[test]
    fn save_points_need_both_changes_and_time() {
        let mut durability = Durability::new(PersistenceConfig::default(), 1);
        durability.dirty = 99;
        durability.cron(301_000_000);
        assert_eq!(
            durability.saves, 0,
            "300 s with 99 changes: the 300 100 point needs 100"
        );
        durability.dirty = 100;
        durability.cron(301_000_000);
        assert_eq!(durability.saves, 1);
        assert_eq!(durability.dirty, 0);
    }

    #[test]
    fn only_the_first_change_after_a_durable_point_is_recorded() {
        let config = PersistenceConfig {
            save_points: vec![],
            appendonly: true,
            appendfsync: AppendFsync::Everysec,
        };
        let mut durability = Durability::new(config, 1);
        let slot = Slot::EMPTY;
        durability.before_change(0, KeyId(3), &slot, None, 10);
        durability.before_change(0, KeyId(3), &slot, None, 10);
        durability.acknowledged_write();
        durability.acknowledged_write();
        let (undo, lost) = durability.crash();
        assert_eq!(undo.len(), 1);
        assert_eq!(lost, 2);
        durability.before_change(0, KeyId(3), &slot, None, 10);
        durability.cron(2_000_000);
        assert_eq!(durability.crash().0.len(), 0, "fsynced: nothing to undo");
    }

    #[test]
    fn appendfsync_always_loses_nothing() {
        let config = PersistenceConfig {
            save_points: vec![],
            appendonly: true,
            appendfsync: AppendFsync::Always,
        };
        let mut durability = Durability::new(config, 1);
        durability.before_change(0, KeyId(1), &Slot::EMPTY, None, 10);
        durability.acknowledged_write();
        assert_eq!(durability.crash().1, 0);
    }
}
