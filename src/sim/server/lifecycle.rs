//! The life of a node's process ([`Process`]: running, stopped, killed, or gone with its machine);
//! a restart from what persistence made durable; and the undo log persistence keeps of every
//! key's durable state before it changes.

use crate::sim::keyspace::dict::ExpandGuard;
use crate::sim::ledger::{Actor, Cause, Detail, EntryKind, KeyId, Ledger};
use crate::sim::server::connections::Connections;
use crate::sim::server::durability::BeforeImage;
use crate::sim::server::node::Node;
use crate::sim::server::process::Process;
use crate::sim::server::stats::{CommandStats, NodeStats};

impl Node {
    pub fn process(&self) -> Process {
        self.process
    }

    /// The process is running.
    pub fn is_running(&self) -> bool {
        self.process == Process::Running
    }

    /// The process is stopped (SIGSTOP).
    pub fn is_paused(&self) -> bool {
        self.process == Process::Paused
    }

    /// The process is gone (killed or crashed), until `restart`.
    pub fn is_down(&self) -> bool {
        matches!(self.process, Process::Killed | Process::MachineDown)
    }

    /// The machine is down too (a crash, not a kill).
    pub fn machine_down(&self) -> bool {
        self.process == Process::MachineDown
    }

    /// The machine fails: the process is gone until `restart`.
    pub fn crash(&mut self) {
        self.process = Process::MachineDown;
    }

    /// The process is killed; the machine stays up.
    pub fn kill(&mut self) {
        self.process = Process::Killed;
        if let Some(durability) = self.durability.as_mut() {
            durability.process_died(self.now_us);
        }
    }

    /// SIGSTOP. True if the process was running and is now stopped; a process already stopped
    /// or gone is left as it is.
    pub fn pause(&mut self) -> bool {
        let running = self.is_running();
        if running {
            self.process = Process::Paused;
        }
        running
    }

    /// SIGCONT: a stopped process runs again (a gone one stays gone).
    pub fn resume(&mut self) {
        if self.is_paused() {
            self.process = Process::Running;
        }
    }

    /// The process starts again from its persistence: keys changed since the last durable
    /// point go back to their durable state; without persistence the dataset is empty.
    /// `serving` says whether it was still the primary clients write to: one that was replaced
    /// loses no acknowledged write by rolling back, since what it acknowledged is on the new
    /// primary or was counted lost at the failover.
    pub fn restart(&mut self, serving: bool, ledger: &mut Ledger) {
        self.process = Process::Running;
        // A new process: INFO counters start again, and no client is connected (their pools
        // reconnect at their next round trip).
        self.stats = NodeStats::default();
        self.connections = Connections::default();
        self.commands = CommandStats::default();
        let Some(durability) = self.durability.as_mut() else {
            return;
        };
        let empty = durability.starts_empty();
        let (undo, lost) = durability.crash();
        if serving {
            self.acknowledged_writes_lost += lost;
        }
        if empty {
            for db in 0..self.dbs.len() as u32 {
                self.drop_all(db, Cause::Restart, Actor::SERVER, Detail::Restored, ledger);
            }
            return;
        }
        for image in undo.into_iter().rev() {
            self.roll_back(image, ledger);
        }
        self.evictor.rebuild_reference(&self.dbs);
    }

    /// One key back to its durable state: removed if it was absent then (a `restart` removal
    /// in the ledger), rewritten as it was otherwise.
    fn roll_back(&mut self, image: BeforeImage, ledger: &mut Ledger) {
        let (db, key) = (image.db, image.key);
        if self.dbs[db as usize].contains(key) {
            let key_len = self.key_len_for_memory(key);
            let now_us = self.now_us;
            self.dbs[db as usize].remove(key, key_len, Cause::Restart, Actor::SERVER, now_us);
            if !image.slot.is_present() {
                let entry = self.entry(
                    db,
                    key,
                    EntryKind::Removal,
                    Cause::Restart,
                    Actor::SERVER,
                    Detail::Restored,
                );
                ledger.record(entry, self.keys.group_of(key));
            }
        }
        if !image.slot.is_present() {
            return;
        }
        let key_len = self.key_len_for_memory(key);
        let guard = ExpandGuard::UNLIMITED;
        let database = &mut self.dbs[db as usize];
        database.add(key, key_len, image.slot.kind(), image.slot.value, &guard);
        if let Some(aggregate) = image.aggregate {
            database.insert_aggregate(key, *aggregate);
        }
        if image.slot.is_volatile() {
            database.set_expire(
                key,
                image.slot.expire_unix_ms,
                image.slot.ttl_by(),
                image.slot.changed_since_start_ms,
                &guard,
            );
        }
        let slot = database.slot_mut(key);
        slot.actor = image.slot.actor;
        slot.set_lru(image.slot.lru());
    }

    /// Keeps the key's durable state before it changes (the undo log of persistence).
    pub(super) fn before_change(&mut self, db: u32, key: KeyId) {
        let capacity = self.keys.len();
        if let Some(durability) = self.durability.as_mut() {
            let database = &self.dbs[db as usize];
            durability.before_change(
                db,
                key,
                database.slot(key),
                database.aggregate(key),
                capacity,
            );
        }
    }
}
