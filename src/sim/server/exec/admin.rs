//! The operator's commands, issued by scheduled events or replicated from a master: FLUSHDB,
//! FLUSHALL, DEL of chosen keys, CONFIG SET.

use crate::sim::cluster::replication::{resp_bytes, ReplOp};
use crate::sim::config::ConfigChange;
use crate::sim::ledger::{Actor, Cause, Detail, KeyId, Ledger};
use crate::sim::server::command::{AdminCommand, CommandKind};
use crate::sim::server::evict;
use crate::sim::server::node::Node;
use crate::sim::server::stats::StatSlot;

impl Node {
    /// FLUSHDB (or one database of FLUSHALL): every key removed as `flushed`.
    pub fn flush_db(&mut self, db: u32, all: bool, by: Actor, ledger: &mut Ledger) -> u64 {
        if !all {
            if let Some(stream) = self.role.stream_mut() {
                stream.push(ReplOp::FlushDb { db, by }, resp_bytes(&[7]));
            }
        }
        if !self.dbs[db as usize].is_allocated() {
            return 0;
        }
        if self.durability.is_some() {
            for key in self.dbs[db as usize].keys_in_bucket_order() {
                self.before_change(db, key);
            }
        }
        self.drop_all(db, Cause::Flushed, by, Detail::Flush { all, by }, ledger)
    }

    /// FLUSHALL: every database flushed, replicated as one FLUSHALL.
    pub fn flush_all(&mut self, by: Actor, ledger: &mut Ledger) -> u64 {
        if let Some(stream) = self.role.stream_mut() {
            stream.push(ReplOp::FlushAll { by }, resp_bytes(&[8]));
        }
        (0..self.dbs.len() as u32)
            .map(|db| self.flush_db(db, true, by, ledger))
            .sum()
    }

    /// DEL from a scheduled event: lazy expiry first, as DEL does.
    pub fn operator_del(&mut self, db: u32, keys: &[KeyId], ledger: &mut Ledger) -> u64 {
        self.count_call(StatSlot::Command(CommandKind::Del));
        if !self.dbs[db as usize].is_allocated() {
            return 0;
        }
        let mut removed = 0;
        for &key in keys {
            if self.lookup(db, key, true, 0, ledger) {
                self.remove_key(
                    db,
                    key,
                    Cause::Deleted,
                    Actor::OPERATOR,
                    Detail::OperatorDel,
                    ledger,
                );
                removed += 1;
            }
        }
        removed
    }

    /// Counts an operator's command that a client could also send (FLUSHDB, SELECT).
    pub fn count_command(&mut self, command: CommandKind) {
        self.count_call(StatSlot::Command(command));
    }

    /// Counts an operator's command in Commandstats.
    pub fn count_admin(&mut self, command: AdminCommand) {
        self.count_call(StatSlot::Admin(command));
    }

    /// CONFIG SET. Lowering maxmemory starts evicting at once (`updateMaxmemory`).
    pub fn config_set(&mut self, change: ConfigChange, ledger: &mut Ledger) {
        self.count_admin(AdminCommand::ConfigSet);
        match change {
            ConfigChange::Maxmemory(bytes) => {
                self.config.maxmemory_bytes = bytes;
                if bytes != 0 && self.used_memory() > bytes {
                    evict::start_evicting(self, ledger);
                }
            }
            ConfigChange::MaxmemoryPolicy(policy) => self.config.maxmemory_policy = policy,
            ConfigChange::MaxmemorySamples(samples) => self.config.maxmemory_samples = samples,
            ConfigChange::MaxmemoryEvictionTenacity(t) => {
                self.config.maxmemory_eviction_tenacity = t
            }
            ConfigChange::LfuLogFactor(f) => self.config.lfu_log_factor = f,
            ConfigChange::LfuDecayTime(t) => self.config.lfu_decay_time = t,
            ConfigChange::Hz(hz) => self.config.hz = hz,
            ConfigChange::ActiveExpireEffort(e) => self.config.active_expire_effort = e,
            ConfigChange::MaxmemoryClients(limit) => self.set_maxmemory_clients(limit),
        }
    }
}
