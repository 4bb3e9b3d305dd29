//! The active expire cycle (`activeExpireCycle`, src/expire.c in 7.0): a sequential sweep of
//! each database's expires dict from a persistent bucket cursor, 20 keys per loop, repeated while
//! more than 10 % of a loop's sample had expired, within a time budget.
//!
//! Real Redis measures its budget in wall-clock µs; vanish charges a fixed modelled cost per
//! bucket visited, key sampled and key deleted, so the budget binds at the same workloads and
//! the run stays deterministic.

use crate::sim::ledger::Ledger;
use crate::sim::server::node::Node;

/// `ACTIVE_EXPIRE_CYCLE_KEYS_PER_LOOP`.
const KEYS_PER_LOOP: u64 = 20;
/// `ACTIVE_EXPIRE_CYCLE_FAST_DURATION`, µs.
const FAST_DURATION_US: u64 = 1000;
/// `ACTIVE_EXPIRE_CYCLE_SLOW_TIME_PERC`.
const SLOW_TIME_PERC: u64 = 25;
/// `ACTIVE_EXPIRE_CYCLE_ACCEPTABLE_STALE`.
const ACCEPTABLE_STALE: u64 = 10;
/// `CRON_DBS_PER_CALL`.
pub const CRON_DBS_PER_CALL: u32 = 16;

/// Modelled cost of looking at one bucket of the expires table, ns.
const BUCKET_COST_NS: u64 = 5;
/// Modelled cost of checking one key's deadline, ns.
const SAMPLED_KEY_COST_NS: u64 = 100;
/// Modelled extra cost of deleting an expired key (free, DEL propagation), ns.
const EXPIRED_KEY_COST_NS: u64 = 900;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CycleKind {
    /// From cron, `hz` times per second.
    Slow,
    /// From beforeSleep, after a slow cycle ran out of time.
    Fast,
}

impl Node {
    /// One call of `activeExpireCycle(type)`.
    pub fn active_expire_cycle(&mut self, kind: CycleKind, ledger: &mut Ledger) {
        let effort = u64::from(self.config.active_expire_effort.saturating_sub(1));
        let keys_per_loop = KEYS_PER_LOOP + KEYS_PER_LOOP / 4 * effort;
        let fast_duration_us = FAST_DURATION_US + FAST_DURATION_US / 4 * effort;
        let slow_time_perc = SLOW_TIME_PERC + 2 * effort;
        let acceptable_stale = ACCEPTABLE_STALE.saturating_sub(effort);

        if kind == CycleKind::Fast {
            // Redis compares the stale *fraction* with a *percentage* here, so in practice only
            // a slow cycle that hit its time limit enables fast cycles. Reproduced as is.
            if !self.expire_cycle.timelimit_exit
                && self.stats.expired_stale_perc < acceptable_stale as f64
            {
                return;
            }
            if self.now_us < self.expire_cycle.last_fast_cycle_us + fast_duration_us * 2 {
                return;
            }
            self.expire_cycle.last_fast_cycle_us = self.now_us;
        }

        let dbnum = self.dbs.len() as u32;
        let mut dbs_per_call = CRON_DBS_PER_CALL.min(dbnum);
        if self.expire_cycle.timelimit_exit {
            dbs_per_call = dbnum;
        }
        let timelimit_us = match kind {
            CycleKind::Slow => {
                (slow_time_perc * 1_000_000 / u64::from(self.config.hz) / 100).max(1)
            }
            CycleKind::Fast => fast_duration_us,
        };
        self.expire_cycle.timelimit_exit = false;

        let now_ms = self.unix_ms();
        let mut total_sampled = 0u64;
        let mut total_expired = 0u64;
        let mut elapsed_ns = 0u64;
        let mut iteration = 0u64;
        let mut chain = std::mem::take(&mut self.scratch);

        for _ in 0..dbs_per_call {
            if self.expire_cycle.timelimit_exit {
                break;
            }
            let db = self.expire_cycle.current_db % dbnum;
            self.expire_cycle.current_db = self.expire_cycle.current_db.wrapping_add(1);
            loop {
                iteration += 1;
                let database = &mut self.dbs[db as usize];
                let volatile = database.volatile_count();
                if volatile == 0 {
                    database.avg_ttl_ms = 0;
                    break;
                }
                let slots = database.expires.slots();
                if slots > 4 && volatile * 100 / slots < 1 {
                    break;
                }
                let num = volatile.min(keys_per_loop);
                let max_buckets = num * 20;
                let (mut sampled, mut expired, mut checked_buckets) = (0u64, 0u64, 0u64);
                let (mut ttl_sum, mut ttl_samples) = (0i64, 0i64);
                while sampled < num && checked_buckets < max_buckets {
                    for table in 0..2 {
                        let database = &self.dbs[db as usize];
                        if table == 1 && !database.expires.is_rehashing() {
                            break;
                        }
                        chain.clear();
                        database
                            .expires
                            .bucket_keys(table, database.expires_cursor, &mut chain);
                        checked_buckets += 1;
                        for &key in chain.iter() {
                            let deadline = self.dbs[db as usize].slot(key).expire_unix_ms;
                            let ttl = deadline as i64 - now_ms as i64;
                            if now_ms > deadline {
                                self.expire_key(db, key, false, ledger);
                                expired += 1;
                            }
                            if ttl > 0 {
                                ttl_sum += ttl;
                                ttl_samples += 1;
                            }
                            sampled += 1;
                        }
                    }
                    let database = &mut self.dbs[db as usize];
                    database.expires_cursor = database.expires_cursor.wrapping_add(1);
                }
                total_expired += expired;
                total_sampled += sampled;
                let database = &mut self.dbs[db as usize];
                if ttl_samples > 0 {
                    let average = (ttl_sum / ttl_samples) as u64;
                    if database.avg_ttl_ms == 0 {
                        database.avg_ttl_ms = average;
                    }
                    database.avg_ttl_ms = (database.avg_ttl_ms / 50) * 49 + average / 50;
                }
                elapsed_ns += checked_buckets * BUCKET_COST_NS
                    + sampled * SAMPLED_KEY_COST_NS
                    + expired * EXPIRED_KEY_COST_NS;
                if iteration & 0xf == 0 && elapsed_ns / 1000 > timelimit_us {
                    self.expire_cycle.timelimit_exit = true;
                    self.stats.expired_time_cap_reached_count += 1;
                    break;
                }
                if !(sampled == 0 || expired * 100 / sampled > acceptable_stale) {
                    break;
                }
            }
        }
        self.scratch = chain;
        self.stats.expire_cycle_cpu_us += elapsed_ns / 1000;
        let current = if total_sampled > 0 {
            total_expired as f64 / total_sampled as f64
        } else {
            0.0
        };
        self.stats.expired_stale_perc = current * 0.05 + self.stats.expired_stale_perc * 0.95;
    }
}
