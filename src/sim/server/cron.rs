//! `serverCron` and `beforeSleep` of a node: the periodic work between commands — the LRU
//! clock refresh, clientsCron's trimming of fat query buffers, the slow and fast active expire cycles, and the resizing and incremental
//! rehashing of keyspace tables.

use crate::sim::cluster::replication::{ReplOp, PING_BYTES};
use crate::sim::keyspace::lru;
use crate::sim::ledger::Ledger;
use crate::sim::server::evict;
use crate::sim::server::expire::{CycleKind, CRON_DBS_PER_CALL};
use crate::sim::server::node::Node;

/// Buckets `dictRehashMilliseconds(d, 1)` moves in its millisecond (assumed ~10 ns a bucket).
const CRON_REHASH_BUCKETS: usize = 100_000;

impl Node {
    /// Period of serverCron in µs at the current hz.
    pub fn cron_period_us(&self) -> u64 {
        1_000_000 / u64::from(self.config.hz.max(1))
    }

    /// One serverCron tick.
    pub fn cron(&mut self, now_us: u64, ledger: &mut Ledger) {
        self.set_time(now_us);
        self.lru_clock = lru::lru_clock(self.unix_ms());
        self.clients_cron();
        // Only masters expire keys actively; replicas wait for the master's DELs.
        if self.config.active_expire_enabled && self.replica().is_none() {
            self.active_expire_cycle(CycleKind::Slow, ledger);
        }
        let ping_period_us = u64::from(self.config.repl_ping_replica_period_s) * 1_000_000;
        if let Some(stream) = self.stream_mut() {
            if now_us >= stream.last_ping_us + ping_period_us {
                stream.last_ping_us = now_us;
                stream.push(ReplOp::Ping, PING_BYTES);
            }
        }
        if let Some(durability) = self.durability.as_mut() {
            durability.cron(now_us);
        }
        self.resize_and_rehash();
        self.note_memory_peak();
    }

    /// beforeSleep: the fast expire cycle when its conditions hold, and the eviction timer's
    /// continuation while it is active.
    #[inline]
    pub fn before_sleep(&mut self, ledger: &mut Ledger) {
        if self.config.active_expire_enabled
            && self.expire_cycle.timelimit_exit
            && self.replica().is_none()
        {
            self.active_expire_cycle(CycleKind::Fast, ledger);
        }
        if self.evictor.is_running() {
            evict::continue_evictions(self, ledger);
        }
    }

    /// `databasesCron`'s resize and rehash part.
    fn resize_and_rehash(&mut self) {
        let dbnum = self.dbs.len() as u32;
        let dbs_per_call = CRON_DBS_PER_CALL.min(dbnum);
        for _ in 0..dbs_per_call {
            let database = &mut self.dbs[(self.resize_db % dbnum) as usize];
            database.main.shrink_if_sparse(true);
            database.expires.shrink_if_sparse(true);
            self.resize_db = self.resize_db.wrapping_add(1);
        }
        for _ in 0..dbs_per_call {
            let database = &mut self.dbs[(self.rehash_db % dbnum) as usize];
            if database.main.is_rehashing() {
                database.main.rehash(CRON_REHASH_BUCKETS);
                break;
            }
            if database.expires.is_rehashing() {
                database.expires.rehash(CRON_REHASH_BUCKETS);
                break;
            }
            self.rehash_db = (self.rehash_db + 1) % dbnum;
        }
    }
}
