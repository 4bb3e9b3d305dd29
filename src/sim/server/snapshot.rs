//! Builds a node's INFO snapshot ([`NodeInfo`]) from its live state.

use crate::sim::server::info::{
    CommandStat, DbInfo, MasterLink, NodeInfo, ReplicaLine, ReplicaState, Role, SyncTransfer,
};
use crate::sim::server::node::{Node, EPOCH_UNIX_MS};
use crate::sim::server::process::Process;

/// Port of the first node; node i listens on BASE_PORT + i.
const BASE_PORT: u16 = 6379;

impl Node {
    /// Commandstats rows: (Redis's lower-case name, counters), for commands ever called, by
    /// name.
    pub fn commandstats_rows(&self) -> Vec<(String, crate::sim::server::stats::CommandStat)> {
        self.commands.rows()
    }

    /// Errorstats: (error prefix, replies), sorted by prefix.
    pub fn errorstats(&self) -> &[(&'static str, u64)] {
        self.commands.errors()
    }

    /// The Replication section's figures: role, replicas (on a primary) or the link (on a
    /// replica), offsets and backlog.
    fn replication_info(&self, info: &mut NodeInfo) {
        let now_s = self.now_us / 1_000_000;
        if let Some(replica) = self.replica() {
            info.role = Role::Replica(MasterLink {
                master_host: "127.0.0.1".to_string(),
                master_port: BASE_PORT + replica.master as u16,
                link_up: replica.link_up,
                sync: replica.syncing.then_some(SyncTransfer {
                    master_sync_total_bytes: 0,
                    master_sync_read_bytes: 0,
                    master_sync_last_io_seconds_ago: 0,
                }),
                master_link_down_since_seconds: if replica.link_up {
                    0
                } else {
                    (self.now_us.saturating_sub(replica.link_down_since_us) / 1_000_000) as i64
                },
                slave_read_only: self.config.replica_read_only,
                master_last_io_seconds_ago: (self.now_us.saturating_sub(replica.last_io_us)
                    / 1_000_000) as i64,
                slave_read_repl_offset: replica.processed_offset,
                slave_repl_offset: replica.processed_offset,
                slave_priority: replica.priority,
                ..MasterLink::default()
            });
            info.master_repl_offset = replica.processed_offset;
            self.backlog_info(info, replica.processed_offset);
        }
        if let Some(stream) = self.stream() {
            info.replicas = stream
                .acks
                .iter()
                .enumerate()
                .filter_map(|(node, ack)| ack.map(|ack| (node, ack)))
                .map(|(node, (offset, at_us))| ReplicaLine {
                    ip: "127.0.0.1".to_string(),
                    port: BASE_PORT + node as u16,
                    state: ReplicaState::Online,
                    offset,
                    lag: now_s.saturating_sub(at_us / 1_000_000) as i64,
                })
                .collect();
            info.connected_slaves = info.replicas.len() as u64;
            if self.config.min_replicas_to_write > 0 && self.config.min_replicas_max_lag_s > 0 {
                info.min_slaves_good_slaves = Some(u64::from(stream.good_replicas));
            }
            info.master_repl_offset = stream.offset;
            self.backlog_info(info, stream.offset);
        }
    }

    /// The backlog holds the last `repl-backlog-size` bytes of the stream.
    fn backlog_info(&self, info: &mut NodeInfo, offset: u64) {
        info.repl_backlog_active = true;
        info.repl_backlog_histlen = offset.min(self.config.repl_backlog_size);
        info.repl_backlog_first_byte_offset = offset - info.repl_backlog_histlen + 1;
        let (backlog, replicas) = self.replication_memory_split();
        info.mem_replication_backlog = backlog;
        info.mem_clients_slaves = replicas;
    }

    pub fn snapshot(&self) -> NodeInfo {
        let mut info = self.snapshot_without_replication();
        self.replication_info(&mut info);
        info
    }

    fn snapshot_without_replication(&self) -> NodeInfo {
        let used_memory = self.used_memory();
        NodeInfo {
            node: self.name.clone(),
            process: match self.process() {
                Process::Killed | Process::MachineDown => "down",
                Process::Paused => "paused",
                Process::Running => "running",
            },
            role: Role::Master,
            run_id: self.run_id.clone(),
            tcp_port: BASE_PORT + self.id.0,
            server_time_usec: EPOCH_UNIX_MS * 1000 + self.now_us,
            uptime_us: self.now_us,
            hz: self.config.hz,
            configured_hz: self.configured_hz,
            lru_clock: self.lru_clock,
            connected_clients: self.connected_clients(),
            client_recent_max_input_buffer: self.client_recent_max_buffers().0,
            client_recent_max_output_buffer: self.client_recent_max_buffers().1,
            used_memory,
            used_memory_peak: self.used_memory_peak.max(used_memory),
            used_memory_startup: if self.raw_memory() {
                0
            } else {
                self.used_memory_startup()
            },
            used_memory_overhead: self.used_memory_overhead(),
            maxmemory: self.config.maxmemory_bytes,
            maxmemory_policy: self.config.maxmemory_policy.as_str().to_string(),
            mem_clients_normal: self.mem_clients_normal(),
            rdb_last_save_time: (EPOCH_UNIX_MS / 1000) as i64,
            total_connections_received: self.connected_clients(),
            total_commands_processed: self.stats.total_commands_processed,
            expired_keys: self.stats.expired_keys,
            expired_stale_perc: self.stats.expired_stale_perc,
            expired_time_cap_reached_count: self.stats.expired_time_cap_reached_count,
            expire_cycle_cpu_milliseconds: self.stats.expire_cycle_cpu_us / 1000,
            evicted_keys: self.stats.evicted_keys,
            evicted_clients: self.evicted_clients(),
            rejected_connections: self.rejected_connections(),
            total_eviction_exceeded_time: self.stats.total_eviction_exceeded_time_ms,
            current_eviction_exceeded_time: self.evictor.current_exceeded_ms(self.now_us),
            mem_not_counted_for_evict: self.mem_not_counted_for_evict(),
            keyspace_hits: self.stats.keyspace_hits,
            keyspace_misses: self.stats.keyspace_misses,
            total_error_replies: self.stats.total_error_replies,
            sync_full: self.stats.sync_full,
            sync_partial_ok: self.stats.sync_partial_ok,
            sync_partial_err: self.stats.sync_partial_err,
            master_replid: self.replid.clone(),
            repl_backlog_size: self.config.repl_backlog_size,
            repl_backlog_first_byte_offset: 0,
            commandstats: self
                .commandstats_rows()
                .into_iter()
                .map(|(name, stat)| CommandStat {
                    name,
                    calls: stat.calls,
                    usec: stat.usec,
                    rejected_calls: stat.rejected_calls,
                    failed_calls: stat.failed_calls,
                })
                .collect(),
            errorstats: self
                .errorstats()
                .iter()
                .map(|(prefix, count)| (prefix.to_string(), *count))
                .collect(),
            keyspace: self
                .dbs
                .iter()
                .filter(|db| db.key_count() > 0 || db.volatile_count() > 0)
                .map(|db| DbInfo {
                    db: db.index,
                    keys: db.key_count(),
                    expires: db.volatile_count(),
                    avg_ttl: db.avg_ttl_ms,
                })
                .collect(),
            ..NodeInfo::default()
        }
    }
}
