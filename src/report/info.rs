//! Redis 7.0.15's `INFO` output for a simulated node, as text and as JSON.
//!
//! This module owns the formatting of a [`NodeInfo`]: which sections and fields appear, in
//! which order, with which number formats, and the fixed values printed for what vanish does not
//! model. One table (`sections`) is built per call and rendered twice, so the text
//! ([`info_text`]) and the JSON object ([`info_fields`]) cannot drift apart. Field order and
//! formats were checked line by line against `INFO everything` from redis-server 7.0.15 (Debian
//! build, jemalloc 5.3.0); derived figures are computed the way `genRedisInfoString` and
//! `getMemoryOverheadData` compute them, including their single-precision percentages.

use crate::sim::server::info::{CommandStat, DbInfo, MasterLink, NodeInfo, ReplicaState, Role};
use serde_json::{Map, Number, Value as Json};

/// What `redis_version` claims; the whole layout below is that release's.
pub const REDIS_VERSION: &str = "7.0.15";

/// One printed figure.
#[derive(Debug, Clone, PartialEq)]
enum Scalar {
    UInt(u64),
    Int(i64),
    /// `%.2f`.
    Fixed2(f64),
    /// `%.2f%%`.
    Percent2(f64),
    Text(String),
}

impl Scalar {
    fn render(&self, out: &mut String) {
        match self {
            Scalar::UInt(v) => out.push_str(&v.to_string()),
            Scalar::Int(v) => out.push_str(&v.to_string()),
            Scalar::Fixed2(v) => out.push_str(&format!("{v:.2}")),
            Scalar::Percent2(v) => out.push_str(&format!("{v:.2}%")),
            Scalar::Text(v) => out.push_str(v),
        }
    }

    fn to_json(&self) -> Json {
        match self {
            Scalar::UInt(v) => Json::from(*v),
            Scalar::Int(v) => Json::from(*v),
            // Round through the printed form so JSON carries exactly the figure the text shows.
            Scalar::Fixed2(v) | Scalar::Percent2(v) => format!("{v:.2}")
                .parse::<f64>()
                .ok()
                .and_then(Number::from_f64)
                .map_or(Json::Null, Json::Number),
            Scalar::Text(v) => Json::from(v.as_str()),
        }
    }
}

/// The value part of one `name:value` line.
#[derive(Debug, Clone, PartialEq)]
enum Figure {
    One(Scalar),
    /// `k=v,k=v,…` (replica lines, commandstats, keyspace); a JSON object.
    Fields(Vec<(&'static str, Scalar)>),
    /// Errorstats' `count=<n>`; JSON carries the bare count, the only figure on the line.
    Count(u64),
}

impl Figure {
    fn render(&self, out: &mut String) {
        match self {
            Figure::One(s) => s.render(out),
            Figure::Fields(fields) => {
                for (i, (k, v)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(k);
                    out.push('=');
                    v.render(out);
                }
            }
            Figure::Count(n) => {
                out.push_str("count=");
                out.push_str(&n.to_string());
            }
        }
    }

    fn to_json(&self) -> Json {
        match self {
            Figure::One(s) => s.to_json(),
            Figure::Fields(fields) => Json::Object(
                fields
                    .iter()
                    .map(|(k, v)| ((*k).to_string(), v.to_json()))
                    .collect(),
            ),
            Figure::Count(n) => Json::from(*n),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
struct Line {
    /// The text key without the section's prefix; also the JSON key.
    name: String,
    figure: Figure,
}

#[derive(Debug, Clone, PartialEq)]
struct Section {
    title: &'static str,
    /// Prepended to every name in the text only (`cmdstat_`, `errorstat_`).
    prefix: &'static str,
    /// Lines of these sections go into one JSON object under this key instead of the top level.
    json_group: Option<&'static str>,
    lines: Vec<Line>,
}

/// Accumulates one section's lines in print order.
#[derive(Default)]
struct Lines(Vec<Line>);

impl Lines {
    fn put(&mut self, name: impl Into<String>, figure: Figure) -> &mut Self {
        self.0.push(Line {
            name: name.into(),
            figure,
        });
        self
    }
    fn uint(&mut self, name: &str, v: u64) -> &mut Self {
        self.put(name, Figure::One(Scalar::UInt(v)))
    }
    fn int(&mut self, name: &str, v: i64) -> &mut Self {
        self.put(name, Figure::One(Scalar::Int(v)))
    }
    fn flag(&mut self, name: &str, v: bool) -> &mut Self {
        self.uint(name, u64::from(v))
    }
    fn fixed2(&mut self, name: &str, v: f64) -> &mut Self {
        self.put(name, Figure::One(Scalar::Fixed2(v)))
    }
    fn percent2(&mut self, name: &str, v: f64) -> &mut Self {
        self.put(name, Figure::One(Scalar::Percent2(v)))
    }
    fn text(&mut self, name: &str, v: &str) -> &mut Self {
        self.put(name, Figure::One(Scalar::Text(v.to_string())))
    }
    /// A byte count followed by its `_human` twin, the pairing Redis uses throughout Memory.
    fn bytes_and_human(&mut self, name: &str, v: u64) -> &mut Self {
        self.uint(name, v)
            .text(&format!("{name}_human"), &bytes_to_human(v))
    }
    fn section(self, title: &'static str) -> Section {
        Section {
            title,
            prefix: "",
            json_group: None,
            lines: self.0,
        }
    }
}

/// Redis's `bytesToHuman`: binary units, `%lluB` below 1 KiB, two decimals above, and back to
/// plain bytes from 1024⁶ on.
pub fn bytes_to_human(n: u64) -> String {
    const UNITS: [(u64, char); 5] = [
        (1 << 10, 'K'),
        (1 << 20, 'M'),
        (1 << 30, 'G'),
        (1 << 40, 'T'),
        (1 << 50, 'P'),
    ];
    if n < 1024 {
        return format!("{n}B");
    }
    for (unit, suffix) in UNITS {
        if n < unit * 1024 {
            return format!("{:.2}{suffix}", n as f64 / unit as f64);
        }
    }
    format!("{n}B")
}

/// `INFO everything` of Redis 7.0.15, restricted to the sections vanish models, in Redis's
/// order: Server, Clients, Memory, Persistence, Stats, Replication, Commandstats, Errorstats,
/// Keyspace (CPU, Modules, Latencystats and Cluster are left out). Lines end with `\r\n`,
/// sections are separated by an empty line and the text ends with the last line's `\r\n`, as
/// the bulk reply does.
///
/// Every field Redis prints is printed, in Redis's order. Figures vanish does not model get
/// fixed values chosen to be recognisable as not measured:
///
/// * Server: `redis_git_sha1:00000000`, `redis_git_dirty:0`, `redis_build_id:0`,
///   `redis_mode:standalone`, `os:Linux simulated x86_64`, `arch_bits:64`,
///   `monotonic_clock:POSIX clock_gettime`, `multiplexing_api:epoll`,
///   `atomicvar_api:c11-builtin`, `gcc_version:0.0.0`, `process_id:0`,
///   `process_supervised:no`, `executable:` (empty), `config_file:` (empty),
///   `io_threads_active:0`.
/// * Clients: `cluster_connections:0`, `maxclients:10000` (the default),
///   `client_recent_max_input_buffer:0`, `client_recent_max_output_buffer:0`,
///   `blocked_clients:0`, `tracking_clients:0`, `clients_in_timeout_table:0`.
/// * Memory: no fragmentation is modelled, so `used_memory_rss`, `allocator_allocated`,
///   `allocator_active` and `allocator_resident` equal `used_memory`, every `*_ratio` is `1.00`
///   and every `*_bytes` beside a ratio is 0. `total_system_memory:0` (what Redis prints when it
///   cannot tell). Scripting is not modelled: the script/function figures are those of an idle
///   7.0.15 with nothing loaded (`used_memory_lua:32768`, `used_memory_vm_eval:32768`,
///   `used_memory_scripts_eval:0`, `number_of_cached_scripts:0`, `number_of_functions:0`,
///   `number_of_libraries:0`, `used_memory_vm_functions:33792`, `used_memory_vm_total:66560`,
///   `used_memory_functions:200`, `used_memory_scripts:200`). `mem_cluster_links:0`,
///   `mem_aof_buffer:0`, `mem_allocator:jemalloc-5.3.0`, `active_defrag_running:0`,
///   `lazyfree_pending_objects:0`, `lazyfreed_objects:0`.
/// * Persistence: no fork is ever in progress and none has happened: `loading:0`,
///   `async_loading:0`, the `current_*` figures 0 (`current_fork_perc:0.00`),
///   `rdb_bgsave_in_progress:0`, `rdb_last_bgsave_status:ok`, `rdb_last_bgsave_time_sec:-1`,
///   `rdb_current_bgsave_time_sec:-1`, `rdb_saves:0`, `rdb_last_cow_size:0`,
///   `rdb_last_load_keys_expired:0`, `rdb_last_load_keys_loaded:0`, the `aof_*` rewrite figures
///   as on a fresh server (`-1`, `ok`, 0), `module_fork_*:0`; with AOF on, the six extra
///   `aof_*` size/buffer/fsync figures are 0.
/// * Stats: `instantaneous_ops_per_sec:0`, the four `instantaneous_*_kbps:0.00`,
///   `total_net_repl_*_bytes:0`, `pubsub_*:0`,
///   `latest_fork_usec:0`, `total_forks:0`, `migrate_cached_sockets:0`,
///   `slave_expires_tracked_keys:0`, `active_defrag_*:0`, `total_active_defrag_time:0`,
///   `current_active_defrag_time:0`, `tracking_total_*:0`, `unexpected_error_replies:0`,
///   `dump_payload_sanitizations:0`, `total_reads_processed:0`, `total_writes_processed:0`,
///   `io_threaded_*_processed:0`, `reply_buffer_shrinks:0`, `reply_buffer_expands:0`.
/// * Replication: `master_failover_state:no-failover`; without
///   [`NodeInfo::previous_replication`], `master_replid2` is 40 zeros and
///   `second_repl_offset:-1`, as Redis prints them.
///
/// Derived figures follow Redis: `used_memory_peak` is raised to `used_memory` if lower,
/// `used_memory_dataset = used − overhead` (saturating), the two memory percentages and
/// `usec_per_call` are computed in `f32` as Redis does (a peak of 0 prints `0.00%` where Redis
/// would divide by zero), `mem_total_replication_buffers = mem_replication_backlog +
/// mem_clients_slaves`, `master_sync_perc = read / total × 100` (0 when the total is 0).
///
/// Ordering: Redis prints commandstats in its command table's hash order; vanish sorts by
/// command name so output is deterministic. Errorstats (a radix tree in Redis) and keyspace
/// (by db number) are sorted as Redis sorts them.
pub fn info_text(info: &NodeInfo) -> String {
    let mut out = String::new();
    for (i, section) in sections(info).iter().enumerate() {
        if i > 0 {
            out.push_str("\r\n");
        }
        out.push_str("# ");
        out.push_str(section.title);
        out.push_str("\r\n");
        for line in &section.lines {
            out.push_str(section.prefix);
            out.push_str(&line.name);
            out.push(':');
            line.figure.render(&mut out);
            out.push_str("\r\n");
        }
    }
    out
}

/// The same figures as [`info_text`], keyed by Redis field name: integers as JSON integers,
/// `%.2f` figures as numbers rounded exactly as printed (percent signs dropped), `*_human` and
/// other text as strings. `k=v` lines become objects (`"slave0": {"ip": …}`); commandstats,
/// errorstats and keyspace are grouped: `"commandstats": {"get": {"calls": …}}`,
/// `"errorstats": {"OOM": 1}`, `"keyspace": {"db0": {"keys": …}}` (always present, possibly
/// empty). A non-finite float (which Redis would print as `nan`) becomes `null`. serde_json's
/// map keeps keys sorted, so the object is deterministic.
pub fn info_fields(info: &NodeInfo) -> Map<String, Json> {
    let mut out = Map::new();
    for section in sections(info) {
        let lines = section
            .lines
            .into_iter()
            .map(|line| (line.name, line.figure.to_json()));
        match section.json_group {
            None => out.extend(lines),
            Some(group) => {
                out.insert(group.to_string(), Json::Object(lines.collect()));
            }
        }
    }
    out
}

/// The single table both renderings walk.
fn sections(info: &NodeInfo) -> Vec<Section> {
    vec![
        server(info),
        clients(info),
        memory(info),
        persistence(info),
        stats(info),
        replication(info),
        commandstats(&info.commandstats),
        errorstats(&info.errorstats),
        keyspace(&info.keyspace),
    ]
}

fn server(info: &NodeInfo) -> Section {
    let uptime_in_seconds = info.uptime_us / 1_000_000;
    let mut l = Lines::default();
    l.text("redis_version", REDIS_VERSION)
        .text("redis_git_sha1", "00000000")
        .uint("redis_git_dirty", 0)
        .text("redis_build_id", "0")
        .text("redis_mode", "standalone")
        .text("os", "Linux simulated x86_64")
        .uint("arch_bits", 64)
        .text("monotonic_clock", "POSIX clock_gettime")
        .text("multiplexing_api", "epoll")
        .text("atomicvar_api", "c11-builtin")
        .text("gcc_version", "0.0.0")
        .uint("process_id", 0)
        .text("process_supervised", "no")
        .text("run_id", &info.run_id)
        .uint("tcp_port", u64::from(info.tcp_port))
        .uint("server_time_usec", info.server_time_usec)
        .uint("uptime_in_seconds", uptime_in_seconds)
        .uint("uptime_in_days", uptime_in_seconds / 86_400)
        .uint("hz", u64::from(info.hz))
        .uint("configured_hz", u64::from(info.configured_hz))
        .uint("lru_clock", u64::from(info.lru_clock))
        .text("executable", "")
        .text("config_file", "")
        .uint("io_threads_active", 0);
    l.section("Server")
}

fn clients(info: &NodeInfo) -> Section {
    let mut l = Lines::default();
    l.uint("connected_clients", info.connected_clients)
        .uint("cluster_connections", 0)
        .uint("maxclients", 10_000)
        .uint(
            "client_recent_max_input_buffer",
            info.client_recent_max_input_buffer,
        )
        .uint(
            "client_recent_max_output_buffer",
            info.client_recent_max_output_buffer,
        )
        .uint("blocked_clients", 0)
        .uint("tracking_clients", 0)
        .uint("clients_in_timeout_table", 0);
    l.section("Clients")
}

/// Idle 7.0.15 scripting figures (no scripts, no functions), MEASURED on the reference server.
const IDLE_LUA_VM_BYTES: u64 = 32_768;
const IDLE_FUNCTIONS_VM_BYTES: u64 = 33_792;
const IDLE_FUNCTIONS_BYTES: u64 = 200;

fn memory(info: &NodeInfo) -> Section {
    let used = info.used_memory;
    // INFO raises the cron-sampled peak to the current figure before printing it.
    let peak = info.used_memory_peak.max(used);
    let dataset = used.saturating_sub(info.used_memory_overhead);
    // Single precision, as in getMemoryOverheadData: `(float)zmalloc_used*100/peak_allocated`.
    let peak_perc = if peak == 0 {
        0.0
    } else {
        f64::from(used as f32 * 100.0 / peak as f32)
    };
    let net_usage = if used > info.used_memory_startup {
        used - info.used_memory_startup
    } else {
        1
    };
    let dataset_perc = f64::from(dataset as f32 * 100.0 / net_usage as f32);
    let rss = used;

    let mut l = Lines::default();
    l.bytes_and_human("used_memory", used)
        .bytes_and_human("used_memory_rss", rss)
        .bytes_and_human("used_memory_peak", peak)
        .percent2("used_memory_peak_perc", peak_perc)
        .uint("used_memory_overhead", info.used_memory_overhead)
        .uint("used_memory_startup", info.used_memory_startup)
        .uint("used_memory_dataset", dataset)
        .percent2("used_memory_dataset_perc", dataset_perc)
        .uint("allocator_allocated", used)
        .uint("allocator_active", used)
        .uint("allocator_resident", used)
        .bytes_and_human("total_system_memory", 0)
        .uint("used_memory_lua", IDLE_LUA_VM_BYTES)
        .uint("used_memory_vm_eval", IDLE_LUA_VM_BYTES)
        .text("used_memory_lua_human", &bytes_to_human(IDLE_LUA_VM_BYTES))
        .uint("used_memory_scripts_eval", 0)
        .uint("number_of_cached_scripts", 0)
        .uint("number_of_functions", 0)
        .uint("number_of_libraries", 0)
        .uint("used_memory_vm_functions", IDLE_FUNCTIONS_VM_BYTES)
        .bytes_and_human(
            "used_memory_vm_total",
            IDLE_LUA_VM_BYTES + IDLE_FUNCTIONS_VM_BYTES,
        )
        .uint("used_memory_functions", IDLE_FUNCTIONS_BYTES)
        .bytes_and_human("used_memory_scripts", IDLE_FUNCTIONS_BYTES)
        .bytes_and_human("maxmemory", info.maxmemory)
        .text("maxmemory_policy", &info.maxmemory_policy)
        .fixed2("allocator_frag_ratio", 1.0)
        .uint("allocator_frag_bytes", 0)
        .fixed2("allocator_rss_ratio", 1.0)
        .int("allocator_rss_bytes", 0)
        .fixed2("rss_overhead_ratio", 1.0)
        .int("rss_overhead_bytes", 0)
        .fixed2("mem_fragmentation_ratio", 1.0)
        .int("mem_fragmentation_bytes", 0)
        .uint("mem_not_counted_for_evict", info.mem_not_counted_for_evict)
        .uint("mem_replication_backlog", info.mem_replication_backlog)
        .uint(
            "mem_total_replication_buffers",
            info.mem_replication_backlog
                .saturating_add(info.mem_clients_slaves),
        )
        .uint("mem_clients_slaves", info.mem_clients_slaves)
        .uint("mem_clients_normal", info.mem_clients_normal)
        .uint("mem_cluster_links", 0)
        .uint("mem_aof_buffer", 0)
        .text("mem_allocator", "jemalloc-5.3.0")
        .uint("active_defrag_running", 0)
        .uint("lazyfree_pending_objects", 0)
        .uint("lazyfreed_objects", 0);
    l.section("Memory")
}

fn persistence(info: &NodeInfo) -> Section {
    let mut l = Lines::default();
    l.uint("loading", 0)
        .uint("async_loading", 0)
        .uint("current_cow_peak", 0)
        .uint("current_cow_size", 0)
        .uint("current_cow_size_age", 0)
        .fixed2("current_fork_perc", 0.0)
        .uint("current_save_keys_processed", 0)
        .uint("current_save_keys_total", 0)
        .uint(
            "rdb_changes_since_last_save",
            info.rdb_changes_since_last_save,
        )
        .uint("rdb_bgsave_in_progress", 0)
        .int("rdb_last_save_time", info.rdb_last_save_time)
        .text("rdb_last_bgsave_status", "ok")
        .int("rdb_last_bgsave_time_sec", -1)
        .int("rdb_current_bgsave_time_sec", -1)
        .uint("rdb_saves", 0)
        .uint("rdb_last_cow_size", 0)
        .uint("rdb_last_load_keys_expired", 0)
        .uint("rdb_last_load_keys_loaded", 0)
        .flag("aof_enabled", info.aof_enabled)
        .uint("aof_rewrite_in_progress", 0)
        .uint("aof_rewrite_scheduled", 0)
        .int("aof_last_rewrite_time_sec", -1)
        .int("aof_current_rewrite_time_sec", -1)
        .text("aof_last_bgrewrite_status", "ok")
        .uint("aof_rewrites", 0)
        .uint("aof_rewrites_consecutive_failures", 0)
        .text("aof_last_write_status", "ok")
        .uint("aof_last_cow_size", 0)
        .uint("module_fork_in_progress", 0)
        .uint("module_fork_last_cow_size", 0);
    if info.aof_enabled {
        l.uint("aof_current_size", 0)
            .uint("aof_base_size", 0)
            .uint("aof_pending_rewrite", 0)
            .uint("aof_buffer_length", 0)
            .uint("aof_pending_bio_fsync", 0)
            .uint("aof_delayed_fsync", 0);
    }
    l.section("Persistence")
}

fn stats(info: &NodeInfo) -> Section {
    let mut l = Lines::default();
    l.uint(
        "total_connections_received",
        info.total_connections_received,
    )
    .uint("total_commands_processed", info.total_commands_processed)
    .uint("instantaneous_ops_per_sec", 0)
    .uint("total_net_input_bytes", info.total_net_input_bytes)
    .uint("total_net_output_bytes", info.total_net_output_bytes)
    .uint("total_net_repl_input_bytes", 0)
    .uint("total_net_repl_output_bytes", 0)
    .fixed2("instantaneous_input_kbps", 0.0)
    .fixed2("instantaneous_output_kbps", 0.0)
    .fixed2("instantaneous_input_repl_kbps", 0.0)
    .fixed2("instantaneous_output_repl_kbps", 0.0)
    .uint("rejected_connections", info.rejected_connections)
    .uint("sync_full", info.sync_full)
    .uint("sync_partial_ok", info.sync_partial_ok)
    .uint("sync_partial_err", info.sync_partial_err)
    .uint("expired_keys", info.expired_keys)
    // Redis keeps a fraction and prints `stat_expired_stale_perc*100`.
    .fixed2("expired_stale_perc", info.expired_stale_perc * 100.0)
    .uint(
        "expired_time_cap_reached_count",
        info.expired_time_cap_reached_count,
    )
    .uint(
        "expire_cycle_cpu_milliseconds",
        info.expire_cycle_cpu_milliseconds,
    )
    .uint("evicted_keys", info.evicted_keys)
    .uint("evicted_clients", info.evicted_clients)
    .uint(
        "total_eviction_exceeded_time",
        info.total_eviction_exceeded_time,
    )
    .uint(
        "current_eviction_exceeded_time",
        info.current_eviction_exceeded_time,
    )
    .uint("keyspace_hits", info.keyspace_hits)
    .uint("keyspace_misses", info.keyspace_misses)
    .uint("pubsub_channels", 0)
    .uint("pubsub_patterns", 0)
    .uint("pubsubshard_channels", 0)
    .uint("latest_fork_usec", 0)
    .uint("total_forks", 0)
    .uint("migrate_cached_sockets", 0)
    .uint("slave_expires_tracked_keys", 0)
    .uint("active_defrag_hits", 0)
    .uint("active_defrag_misses", 0)
    .uint("active_defrag_key_hits", 0)
    .uint("active_defrag_key_misses", 0)
    .uint("total_active_defrag_time", 0)
    .uint("current_active_defrag_time", 0)
    .uint("tracking_total_keys", 0)
    .uint("tracking_total_items", 0)
    .uint("tracking_total_prefixes", 0)
    .uint("unexpected_error_replies", 0)
    .uint("total_error_replies", info.total_error_replies)
    .uint("dump_payload_sanitizations", 0)
    .uint("total_reads_processed", 0)
    .uint("total_writes_processed", 0)
    .uint("io_threaded_reads_processed", 0)
    .uint("io_threaded_writes_processed", 0)
    .uint("reply_buffer_shrinks", 0)
    .uint("reply_buffer_expands", 0);
    l.section("Stats")
}

/// Redis prints this when there is no secondary replication ID.
const NO_REPLID: &str = "0000000000000000000000000000000000000000";

fn replication(info: &NodeInfo) -> Section {
    let mut l = Lines::default();
    match &info.role {
        Role::Master => {
            l.text("role", "master");
        }
        Role::Replica(link) => {
            l.text("role", "slave");
            master_link(&mut l, link);
        }
    }
    l.uint("connected_slaves", info.connected_slaves);
    if let Some(good) = info.min_slaves_good_slaves {
        l.uint("min_slaves_good_slaves", good);
    }
    for (n, replica) in info.replicas.iter().enumerate() {
        // Redis measures lag only for online replicas and prints 0 for the others.
        let lag = match replica.state {
            ReplicaState::Online => replica.lag,
            _ => 0,
        };
        l.put(
            format!("slave{n}"),
            Figure::Fields(vec![
                ("ip", Scalar::Text(replica.ip.clone())),
                ("port", Scalar::UInt(u64::from(replica.port))),
                ("state", Scalar::Text(replica.state.as_str().to_string())),
                ("offset", Scalar::UInt(replica.offset)),
                ("lag", Scalar::Int(lag)),
            ]),
        );
    }
    let (replid2, second_offset) = match &info.previous_replication {
        Some(prev) => (prev.master_replid2.as_str(), prev.second_repl_offset),
        None => (NO_REPLID, -1),
    };
    l.text("master_failover_state", "no-failover")
        .text("master_replid", &info.master_replid)
        .text("master_replid2", replid2)
        .uint("master_repl_offset", info.master_repl_offset)
        .int("second_repl_offset", second_offset)
        .flag("repl_backlog_active", info.repl_backlog_active)
        .uint("repl_backlog_size", info.repl_backlog_size)
        .uint(
            "repl_backlog_first_byte_offset",
            info.repl_backlog_first_byte_offset,
        )
        .uint("repl_backlog_histlen", info.repl_backlog_histlen);
    l.section("Replication")
}

fn master_link(l: &mut Lines, link: &MasterLink) {
    l.text("master_host", &link.master_host)
        .uint("master_port", u64::from(link.master_port))
        .text(
            "master_link_status",
            if link.link_up { "up" } else { "down" },
        )
        .int(
            "master_last_io_seconds_ago",
            link.master_last_io_seconds_ago,
        )
        .flag("master_sync_in_progress", link.sync.is_some())
        .uint("slave_read_repl_offset", link.slave_read_repl_offset)
        .uint("slave_repl_offset", link.slave_repl_offset);
    if let Some(sync) = &link.sync {
        let total = sync.master_sync_total_bytes;
        let read = i64::try_from(sync.master_sync_read_bytes).unwrap_or(i64::MAX);
        // Double precision here (unlike the memory percentages); with an unknown total (−1)
        // Redis divides anyway and prints "-0.00".
        let perc = if total != 0 {
            read as f64 / total as f64 * 100.0
        } else {
            0.0
        };
        l.int("master_sync_total_bytes", total)
            .int("master_sync_read_bytes", read)
            .int("master_sync_left_bytes", total.saturating_sub(read))
            .fixed2("master_sync_perc", perc)
            .int(
                "master_sync_last_io_seconds_ago",
                sync.master_sync_last_io_seconds_ago,
            );
    }
    if !link.link_up {
        l.int(
            "master_link_down_since_seconds",
            link.master_link_down_since_seconds,
        );
    }
    l.uint("slave_priority", u64::from(link.slave_priority))
        .flag("slave_read_only", link.slave_read_only)
        .flag("replica_announced", link.replica_announced);
}

fn commandstats(stats: &[CommandStat]) -> Section {
    let mut shown: Vec<&CommandStat> = stats
        .iter()
        .filter(|c| c.calls != 0 || c.rejected_calls != 0 || c.failed_calls != 0)
        .collect();
    shown.sort_by(|a, b| a.name.cmp(&b.name));
    let mut l = Lines::default();
    for c in shown {
        // `(float)c->microseconds/c->calls`: single precision.
        let per_call = if c.calls == 0 {
            0.0
        } else {
            f64::from(c.usec as f32 / c.calls as f32)
        };
        l.put(
            c.name.clone(),
            Figure::Fields(vec![
                ("calls", Scalar::UInt(c.calls)),
                ("usec", Scalar::UInt(c.usec)),
                ("usec_per_call", Scalar::Fixed2(per_call)),
                ("rejected_calls", Scalar::UInt(c.rejected_calls)),
                ("failed_calls", Scalar::UInt(c.failed_calls)),
            ]),
        );
    }
    Section {
        prefix: "cmdstat_",
        json_group: Some("commandstats"),
        ..l.section("Commandstats")
    }
}

fn errorstats(errors: &[(String, u64)]) -> Section {
    let mut sorted: Vec<&(String, u64)> = errors.iter().collect();
    sorted.sort();
    let mut l = Lines::default();
    for (prefix, count) in sorted {
        l.put(prefix.clone(), Figure::Count(*count));
    }
    Section {
        prefix: "errorstat_",
        json_group: Some("errorstats"),
        ..l.section("Errorstats")
    }
}

fn keyspace(dbs: &[DbInfo]) -> Section {
    let mut shown: Vec<&DbInfo> = dbs
        .iter()
        .filter(|d| d.keys != 0 || d.expires != 0)
        .collect();
    shown.sort_by_key(|d| d.db);
    let mut l = Lines::default();
    for d in shown {
        l.put(
            format!("db{}", d.db),
            Figure::Fields(vec![
                ("keys", Scalar::UInt(d.keys)),
                ("expires", Scalar::UInt(d.expires)),
                ("avg_ttl", Scalar::UInt(d.avg_ttl)),
            ]),
        );
    }
    Section {
        json_group: Some("keyspace"),
        ..l.section("Keyspace")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::server::info::{PreviousReplication, ReplicaLine, ReplicaState, SyncTransfer};

    /// The state of the reference redis-server 7.0.15 when `INFO everything` was captured
    /// (after SETs with TTLs, GET misses, a WRONGTYPE GET, an OOM-rejected SET and a SELECT).
    fn captured_master() -> NodeInfo {
        NodeInfo {
            node: "ref".to_string(),
            role: Role::Master,
            run_id: "001f44de3f8f7f09b344e9423c3efe9961514e1e".to_string(),
            tcp_port: 17160,
            server_time_usec: 1_795_441_278_907_787,
            uptime_us: 907_787,
            hz: 10,
            configured_hz: 10,
            lru_clock: 279_166,
            connected_clients: 1,
            client_recent_max_input_buffer: 0,
            client_recent_max_output_buffer: 0,
            used_memory: 1_040_848,
            used_memory_peak: 1_040_848,
            used_memory_startup: 876_392,
            used_memory_overhead: 876_992,
            maxmemory: 0,
            maxmemory_policy: "noeviction".to_string(),
            rdb_changes_since_last_save: 5,
            rdb_last_save_time: 1_795_441_278,
            total_connections_received: 14,
            total_commands_processed: 13,
            total_net_input_bytes: 487,
            total_net_output_bytes: 188,
            total_eviction_exceeded_time: 47,
            current_eviction_exceeded_time: 47,
            keyspace_hits: 2,
            keyspace_misses: 2,
            total_error_replies: 2,
            master_replid: "018bd347bb6b419c9c5eba56bd1a93bf801cf8f0".to_string(),
            repl_backlog_size: 1_048_576,
            commandstats: vec![
                stat("select", 2, 5, 0, 0),
                stat("config|set", 2, 48, 0, 0),
                stat("set", 4, 60, 1, 0),
                stat("lpush", 1, 10, 0, 0),
                stat("get", 4, 19, 0, 1),
                // Never called: Redis leaves such commands out.
                stat("del", 0, 0, 0, 0),
            ],
            errorstats: vec![("WRONGTYPE".to_string(), 1), ("OOM".to_string(), 1)],
            keyspace: vec![
                db(3, 1, 1, 0),
                db(0, 4, 2, 74_900),
                // Empty databases are not printed.
                db(5, 0, 0, 0),
            ],
            ..NodeInfo::default()
        }
    }

    fn stat(name: &str, calls: u64, usec: u64, rejected: u64, failed: u64) -> CommandStat {
        CommandStat {
            name: name.to_string(),
            calls,
            usec,
            rejected_calls: rejected,
            failed_calls: failed,
        }
    }

    fn db(db: u32, keys: u64, expires: u64, avg_ttl: u64) -> DbInfo {
        DbInfo {
            db,
            keys,
            expires,
            avg_ttl,
        }
    }

    /// `info_text(&captured_master())`, checked line by line against the server's capture.
    /// Every line equals the captured one except: the unmodelled fields listed on
    /// [`info_text`] (build id, os, gcc_version, process_id, executable, rss/allocator/
    /// fragmentation figures, total_system_memory, instantaneous rates, reads/writes
    /// processed), `used_memory_peak_perc` (the server printed 100.18% because it re-read
    /// used_memory after raising the peak; from one figure we print 100.00%) and the CPU,
    /// Modules, Latencystats and Cluster sections, which vanish omits.
    const EXPECTED_TEXT: &str = "# Server\r\n\
redis_version:7.0.15\r\n\
redis_git_sha1:00000000\r\n\
redis_git_dirty:0\r\n\
redis_build_id:0\r\n\
redis_mode:standalone\r\n\
os:Linux simulated x86_64\r\n\
arch_bits:64\r\n\
monotonic_clock:POSIX clock_gettime\r\n\
multiplexing_api:epoll\r\n\
atomicvar_api:c11-builtin\r\n\
gcc_version:0.0.0\r\n\
process_id:0\r\n\
process_supervised:no\r\n\
run_id:001f44de3f8f7f09b344e9423c3efe9961514e1e\r\n\
tcp_port:17160\r\n\
server_time_usec:1795441278907787\r\n\
uptime_in_seconds:0\r\n\
uptime_in_days:0\r\n\
hz:10\r\n\
configured_hz:10\r\n\
lru_clock:279166\r\n\
executable:\r\n\
config_file:\r\n\
io_threads_active:0\r\n\
\r\n\
# Clients\r\n\
connected_clients:1\r\n\
cluster_connections:0\r\n\
maxclients:10000\r\n\
client_recent_max_input_buffer:0\r\n\
client_recent_max_output_buffer:0\r\n\
blocked_clients:0\r\n\
tracking_clients:0\r\n\
clients_in_timeout_table:0\r\n\
\r\n\
# Memory\r\n\
used_memory:1040848\r\n\
used_memory_human:1016.45K\r\n\
used_memory_rss:1040848\r\n\
used_memory_rss_human:1016.45K\r\n\
used_memory_peak:1040848\r\n\
used_memory_peak_human:1016.45K\r\n\
used_memory_peak_perc:100.00%\r\n\
used_memory_overhead:876992\r\n\
used_memory_startup:876392\r\n\
used_memory_dataset:163856\r\n\
used_memory_dataset_perc:99.64%\r\n\
allocator_allocated:1040848\r\n\
allocator_active:1040848\r\n\
allocator_resident:1040848\r\n\
total_system_memory:0\r\n\
total_system_memory_human:0B\r\n\
used_memory_lua:32768\r\n\
used_memory_vm_eval:32768\r\n\
used_memory_lua_human:32.00K\r\n\
used_memory_scripts_eval:0\r\n\
number_of_cached_scripts:0\r\n\
number_of_functions:0\r\n\
number_of_libraries:0\r\n\
used_memory_vm_functions:33792\r\n\
used_memory_vm_total:66560\r\n\
used_memory_vm_total_human:65.00K\r\n\
used_memory_functions:200\r\n\
used_memory_scripts:200\r\n\
used_memory_scripts_human:200B\r\n\
maxmemory:0\r\n\
maxmemory_human:0B\r\n\
maxmemory_policy:noeviction\r\n\
allocator_frag_ratio:1.00\r\n\
allocator_frag_bytes:0\r\n\
allocator_rss_ratio:1.00\r\n\
allocator_rss_bytes:0\r\n\
rss_overhead_ratio:1.00\r\n\
rss_overhead_bytes:0\r\n\
mem_fragmentation_ratio:1.00\r\n\
mem_fragmentation_bytes:0\r\n\
mem_not_counted_for_evict:0\r\n\
mem_replication_backlog:0\r\n\
mem_total_replication_buffers:0\r\n\
mem_clients_slaves:0\r\n\
mem_clients_normal:0\r\n\
mem_cluster_links:0\r\n\
mem_aof_buffer:0\r\n\
mem_allocator:jemalloc-5.3.0\r\n\
active_defrag_running:0\r\n\
lazyfree_pending_objects:0\r\n\
lazyfreed_objects:0\r\n\
\r\n\
# Persistence\r\n\
loading:0\r\n\
async_loading:0\r\n\
current_cow_peak:0\r\n\
current_cow_size:0\r\n\
current_cow_size_age:0\r\n\
current_fork_perc:0.00\r\n\
current_save_keys_processed:0\r\n\
current_save_keys_total:0\r\n\
rdb_changes_since_last_save:5\r\n\
rdb_bgsave_in_progress:0\r\n\
rdb_last_save_time:1795441278\r\n\
rdb_last_bgsave_status:ok\r\n\
rdb_last_bgsave_time_sec:-1\r\n\
rdb_current_bgsave_time_sec:-1\r\n\
rdb_saves:0\r\n\
rdb_last_cow_size:0\r\n\
rdb_last_load_keys_expired:0\r\n\
rdb_last_load_keys_loaded:0\r\n\
aof_enabled:0\r\n\
aof_rewrite_in_progress:0\r\n\
aof_rewrite_scheduled:0\r\n\
aof_last_rewrite_time_sec:-1\r\n\
aof_current_rewrite_time_sec:-1\r\n\
aof_last_bgrewrite_status:ok\r\n\
aof_rewrites:0\r\n\
aof_rewrites_consecutive_failures:0\r\n\
aof_last_write_status:ok\r\n\
aof_last_cow_size:0\r\n\
module_fork_in_progress:0\r\n\
module_fork_last_cow_size:0\r\n\
\r\n\
# Stats\r\n\
total_connections_received:14\r\n\
total_commands_processed:13\r\n\
instantaneous_ops_per_sec:0\r\n\
total_net_input_bytes:487\r\n\
total_net_output_bytes:188\r\n\
total_net_repl_input_bytes:0\r\n\
total_net_repl_output_bytes:0\r\n\
instantaneous_input_kbps:0.00\r\n\
instantaneous_output_kbps:0.00\r\n\
instantaneous_input_repl_kbps:0.00\r\n\
instantaneous_output_repl_kbps:0.00\r\n\
rejected_connections:0\r\n\
sync_full:0\r\n\
sync_partial_ok:0\r\n\
sync_partial_err:0\r\n\
expired_keys:0\r\n\
expired_stale_perc:0.00\r\n\
expired_time_cap_reached_count:0\r\n\
expire_cycle_cpu_milliseconds:0\r\n\
evicted_keys:0\r\n\
evicted_clients:0\r\n\
total_eviction_exceeded_time:47\r\n\
current_eviction_exceeded_time:47\r\n\
keyspace_hits:2\r\n\
keyspace_misses:2\r\n\
pubsub_channels:0\r\n\
pubsub_patterns:0\r\n\
pubsubshard_channels:0\r\n\
latest_fork_usec:0\r\n\
total_forks:0\r\n\
migrate_cached_sockets:0\r\n\
slave_expires_tracked_keys:0\r\n\
active_defrag_hits:0\r\n\
active_defrag_misses:0\r\n\
active_defrag_key_hits:0\r\n\
active_defrag_key_misses:0\r\n\
total_active_defrag_time:0\r\n\
current_active_defrag_time:0\r\n\
tracking_total_keys:0\r\n\
tracking_total_items:0\r\n\
tracking_total_prefixes:0\r\n\
unexpected_error_replies:0\r\n\
total_error_replies:2\r\n\
dump_payload_sanitizations:0\r\n\
total_reads_processed:0\r\n\
total_writes_processed:0\r\n\
io_threaded_reads_processed:0\r\n\
io_threaded_writes_processed:0\r\n\
reply_buffer_shrinks:0\r\n\
reply_buffer_expands:0\r\n\
\r\n\
# Replication\r\n\
role:master\r\n\
connected_slaves:0\r\n\
master_failover_state:no-failover\r\n\
master_replid:018bd347bb6b419c9c5eba56bd1a93bf801cf8f0\r\n\
master_replid2:0000000000000000000000000000000000000000\r\n\
master_repl_offset:0\r\n\
second_repl_offset:-1\r\n\
repl_backlog_active:0\r\n\
repl_backlog_size:1048576\r\n\
repl_backlog_first_byte_offset:0\r\n\
repl_backlog_histlen:0\r\n\
\r\n\
# Commandstats\r\n\
cmdstat_config|set:calls=2,usec=48,usec_per_call=24.00,rejected_calls=0,failed_calls=0\r\n\
cmdstat_get:calls=4,usec=19,usec_per_call=4.75,rejected_calls=0,failed_calls=1\r\n\
cmdstat_lpush:calls=1,usec=10,usec_per_call=10.00,rejected_calls=0,failed_calls=0\r\n\
cmdstat_select:calls=2,usec=5,usec_per_call=2.50,rejected_calls=0,failed_calls=0\r\n\
cmdstat_set:calls=4,usec=60,usec_per_call=15.00,rejected_calls=1,failed_calls=0\r\n\
\r\n\
# Errorstats\r\n\
errorstat_OOM:count=1\r\n\
errorstat_WRONGTYPE:count=1\r\n\
\r\n\
# Keyspace\r\n\
db0:keys=4,expires=2,avg_ttl=74900\r\n\
db3:keys=1,expires=1,avg_ttl=0\r\n";

    // Field names per section, in order, captured from `INFO everything` of redis-server 7.0.15
    // on this machine (Debian build, jemalloc-5.3.0, no config file).
    const SERVER_FIELDS_7_0_15: &[&str] = &[
        "redis_version",
        "redis_git_sha1",
        "redis_git_dirty",
        "redis_build_id",
        "redis_mode",
        "os",
        "arch_bits",
        "monotonic_clock",
        "multiplexing_api",
        "atomicvar_api",
        "gcc_version",
        "process_id",
        "process_supervised",
        "run_id",
        "tcp_port",
        "server_time_usec",
        "uptime_in_seconds",
        "uptime_in_days",
        "hz",
        "configured_hz",
        "lru_clock",
        "executable",
        "config_file",
        "io_threads_active",
    ];
    const CLIENTS_FIELDS_7_0_15: &[&str] = &[
        "connected_clients",
        "cluster_connections",
        "maxclients",
        "client_recent_max_input_buffer",
        "client_recent_max_output_buffer",
        "blocked_clients",
        "tracking_clients",
        "clients_in_timeout_table",
    ];
    const MEMORY_FIELDS_7_0_15: &[&str] = &[
        "used_memory",
        "used_memory_human",
        "used_memory_rss",
        "used_memory_rss_human",
        "used_memory_peak",
        "used_memory_peak_human",
        "used_memory_peak_perc",
        "used_memory_overhead",
        "used_memory_startup",
        "used_memory_dataset",
        "used_memory_dataset_perc",
        "allocator_allocated",
        "allocator_active",
        "allocator_resident",
        "total_system_memory",
        "total_system_memory_human",
        "used_memory_lua",
        "used_memory_vm_eval",
        "used_memory_lua_human",
        "used_memory_scripts_eval",
        "number_of_cached_scripts",
        "number_of_functions",
        "number_of_libraries",
        "used_memory_vm_functions",
        "used_memory_vm_total",
        "used_memory_vm_total_human",
        "used_memory_functions",
        "used_memory_scripts",
        "used_memory_scripts_human",
        "maxmemory",
        "maxmemory_human",
        "maxmemory_policy",
        "allocator_frag_ratio",
        "allocator_frag_bytes",
        "allocator_rss_ratio",
        "allocator_rss_bytes",
        "rss_overhead_ratio",
        "rss_overhead_bytes",
        "mem_fragmentation_ratio",
        "mem_fragmentation_bytes",
        "mem_not_counted_for_evict",
        "mem_replication_backlog",
        "mem_total_replication_buffers",
        "mem_clients_slaves",
        "mem_clients_normal",
        "mem_cluster_links",
        "mem_aof_buffer",
        "mem_allocator",
        "active_defrag_running",
        "lazyfree_pending_objects",
        "lazyfreed_objects",
    ];
    const PERSISTENCE_FIELDS_7_0_15: &[&str] = &[
        "loading",
        "async_loading",
        "current_cow_peak",
        "current_cow_size",
        "current_cow_size_age",
        "current_fork_perc",
        "current_save_keys_processed",
        "current_save_keys_total",
        "rdb_changes_since_last_save",
        "rdb_bgsave_in_progress",
        "rdb_last_save_time",
        "rdb_last_bgsave_status",
        "rdb_last_bgsave_time_sec",
        "rdb_current_bgsave_time_sec",
        "rdb_saves",
        "rdb_last_cow_size",
        "rdb_last_load_keys_expired",
        "rdb_last_load_keys_loaded",
        "aof_enabled",
        "aof_rewrite_in_progress",
        "aof_rewrite_scheduled",
        "aof_last_rewrite_time_sec",
        "aof_current_rewrite_time_sec",
        "aof_last_bgrewrite_status",
        "aof_rewrites",
        "aof_rewrites_consecutive_failures",
        "aof_last_write_status",
        "aof_last_cow_size",
        "module_fork_in_progress",
        "module_fork_last_cow_size",
    ];
    /// Appended to Persistence by a 7.0.15 started with `--appendonly yes` (captured too).
    const PERSISTENCE_AOF_EXTRA_FIELDS_7_0_15: &[&str] = &[
        "aof_current_size",
        "aof_base_size",
        "aof_pending_rewrite",
        "aof_buffer_length",
        "aof_pending_bio_fsync",
        "aof_delayed_fsync",
    ];
    const STATS_FIELDS_7_0_15: &[&str] = &[
        "total_connections_received",
        "total_commands_processed",
        "instantaneous_ops_per_sec",
        "total_net_input_bytes",
        "total_net_output_bytes",
        "total_net_repl_input_bytes",
        "total_net_repl_output_bytes",
        "instantaneous_input_kbps",
        "instantaneous_output_kbps",
        "instantaneous_input_repl_kbps",
        "instantaneous_output_repl_kbps",
        "rejected_connections",
        "sync_full",
        "sync_partial_ok",
        "sync_partial_err",
        "expired_keys",
        "expired_stale_perc",
        "expired_time_cap_reached_count",
        "expire_cycle_cpu_milliseconds",
        "evicted_keys",
        "evicted_clients",
        "total_eviction_exceeded_time",
        "current_eviction_exceeded_time",
        "keyspace_hits",
        "keyspace_misses",
        "pubsub_channels",
        "pubsub_patterns",
        "pubsubshard_channels",
        "latest_fork_usec",
        "total_forks",
        "migrate_cached_sockets",
        "slave_expires_tracked_keys",
        "active_defrag_hits",
        "active_defrag_misses",
        "active_defrag_key_hits",
        "active_defrag_key_misses",
        "total_active_defrag_time",
        "current_active_defrag_time",
        "tracking_total_keys",
        "tracking_total_items",
        "tracking_total_prefixes",
        "unexpected_error_replies",
        "total_error_replies",
        "dump_payload_sanitizations",
        "total_reads_processed",
        "total_writes_processed",
        "io_threaded_reads_processed",
        "io_threaded_writes_processed",
        "reply_buffer_shrinks",
        "reply_buffer_expands",
    ];
    /// A master with `min-replicas-to-write 1` and one replica attached (captured).
    const REPLICATION_MASTER_FIELDS_7_0_15: &[&str] = &[
        "role",
        "connected_slaves",
        "min_slaves_good_slaves",
        "slave0",
        "master_failover_state",
        "master_replid",
        "master_replid2",
        "master_repl_offset",
        "second_repl_offset",
        "repl_backlog_active",
        "repl_backlog_size",
        "repl_backlog_first_byte_offset",
        "repl_backlog_histlen",
    ];
    /// A replica during a full sync, link still down (captured).
    const REPLICATION_SYNCING_REPLICA_FIELDS_7_0_15: &[&str] = &[
        "role",
        "master_host",
        "master_port",
        "master_link_status",
        "master_last_io_seconds_ago",
        "master_sync_in_progress",
        "slave_read_repl_offset",
        "slave_repl_offset",
        "master_sync_total_bytes",
        "master_sync_read_bytes",
        "master_sync_left_bytes",
        "master_sync_perc",
        "master_sync_last_io_seconds_ago",
        "master_link_down_since_seconds",
        "slave_priority",
        "slave_read_only",
        "replica_announced",
        "connected_slaves",
        "master_failover_state",
        "master_replid",
        "master_replid2",
        "master_repl_offset",
        "second_repl_offset",
        "repl_backlog_active",
        "repl_backlog_size",
        "repl_backlog_first_byte_offset",
        "repl_backlog_histlen",
    ];

    /// The field names of one section of an INFO text, in order.
    fn field_names<'a>(text: &'a str, title: &str) -> Vec<&'a str> {
        let header = format!("# {title}");
        text.split("\r\n")
            .skip_while(|line| *line != header)
            .skip(1)
            .take_while(|line| !line.is_empty())
            .filter_map(|line| line.split_once(':').map(|(name, _)| name))
            .collect()
    }

    fn line_of<'a>(text: &'a str, name: &str) -> Option<&'a str> {
        let prefix = format!("{name}:");
        text.split("\r\n").find(|line| line.starts_with(&prefix))
    }

    #[test]
    fn snapshot_matches_captured_server() {
        let text = info_text(&captured_master());
        for (got, want) in text.split("\r\n").zip(EXPECTED_TEXT.split("\r\n")) {
            assert_eq!(got, want);
        }
        assert_eq!(text, EXPECTED_TEXT);
    }

    #[test]
    fn sections_in_redis_order() {
        let text = info_text(&captured_master());
        let titles: Vec<&str> = text
            .split("\r\n")
            .filter_map(|line| line.strip_prefix("# "))
            .collect();
        assert_eq!(
            titles,
            [
                "Server",
                "Clients",
                "Memory",
                "Persistence",
                "Stats",
                "Replication",
                "Commandstats",
                "Errorstats",
                "Keyspace"
            ]
        );
    }

    #[test]
    fn field_order_matches_redis_7_0_15() {
        let text = info_text(&captured_master());
        assert_eq!(field_names(&text, "Server"), SERVER_FIELDS_7_0_15);
        assert_eq!(field_names(&text, "Clients"), CLIENTS_FIELDS_7_0_15);
        assert_eq!(field_names(&text, "Memory"), MEMORY_FIELDS_7_0_15);
        assert_eq!(field_names(&text, "Persistence"), PERSISTENCE_FIELDS_7_0_15);
        assert_eq!(field_names(&text, "Stats"), STATS_FIELDS_7_0_15);

        let aof = info_text(&NodeInfo {
            aof_enabled: true,
            ..captured_master()
        });
        let want: Vec<&str> = PERSISTENCE_FIELDS_7_0_15
            .iter()
            .chain(PERSISTENCE_AOF_EXTRA_FIELDS_7_0_15)
            .copied()
            .collect();
        assert_eq!(field_names(&aof, "Persistence"), want);
        assert_eq!(line_of(&aof, "aof_enabled"), Some("aof_enabled:1"));
    }

    fn master_with_replica() -> NodeInfo {
        NodeInfo {
            connected_slaves: 1,
            min_slaves_good_slaves: Some(1),
            replicas: vec![ReplicaLine {
                ip: "127.0.0.1".to_string(),
                port: 17161,
                state: ReplicaState::Online,
                offset: 64,
                lag: 0,
            }],
            master_replid: "b057d8e014d0d26e37631be51d89e52dbf881a72".to_string(),
            master_repl_offset: 64,
            repl_backlog_active: true,
            repl_backlog_size: 1_048_576,
            repl_backlog_first_byte_offset: 1,
            repl_backlog_histlen: 64,
            ..captured_master()
        }
    }

    #[test]
    fn master_replication_lines_match_capture() {
        let text = info_text(&master_with_replica());
        assert_eq!(
            field_names(&text, "Replication"),
            REPLICATION_MASTER_FIELDS_7_0_15
        );
        // Captured from the 7.0.15 master with one online replica.
        for want in [
            "connected_slaves:1",
            "min_slaves_good_slaves:1",
            "slave0:ip=127.0.0.1,port=17161,state=online,offset=64,lag=0",
            "master_repl_offset:64",
            "repl_backlog_active:1",
            "repl_backlog_first_byte_offset:1",
            "repl_backlog_histlen:64",
        ] {
            assert!(text.split("\r\n").any(|l| l == want), "missing {want}");
        }

        // Lag is only measured for online replicas.
        let mut waiting = master_with_replica();
        waiting.replicas[0].state = ReplicaState::WaitBgsave;
        waiting.replicas[0].lag = 7;
        waiting.replicas[0].offset = 0;
        assert_eq!(
            line_of(&info_text(&waiting), "slave0"),
            Some("slave0:ip=127.0.0.1,port=17161,state=wait_bgsave,offset=0,lag=0")
        );
    }

    #[test]
    fn replica_replication_lines_match_capture() {
        let syncing = NodeInfo {
            role: Role::Replica(MasterLink {
                master_host: "127.0.0.1".to_string(),
                master_port: 17160,
                slave_read_repl_offset: 13_242,
                slave_repl_offset: 13_242,
                sync: Some(SyncTransfer {
                    master_sync_total_bytes: -1,
                    master_sync_read_bytes: 0,
                    master_sync_last_io_seconds_ago: 1,
                }),
                ..MasterLink::default()
            }),
            ..captured_master()
        };
        let text = info_text(&syncing);
        assert_eq!(
            field_names(&text, "Replication"),
            REPLICATION_SYNCING_REPLICA_FIELDS_7_0_15
        );
        // Captured, in order, from the 7.0.15 replica while its master was producing the RDB.
        let captured = "role:slave\r\n\
master_host:127.0.0.1\r\n\
master_port:17160\r\n\
master_link_status:down\r\n\
master_last_io_seconds_ago:-1\r\n\
master_sync_in_progress:1\r\n\
slave_read_repl_offset:13242\r\n\
slave_repl_offset:13242\r\n\
master_sync_total_bytes:-1\r\n\
master_sync_read_bytes:0\r\n\
master_sync_left_bytes:-1\r\n\
master_sync_perc:-0.00\r\n\
master_sync_last_io_seconds_ago:1\r\n\
master_link_down_since_seconds:-1\r\n\
slave_priority:100\r\n\
slave_read_only:1\r\n\
replica_announced:1\r\n\
connected_slaves:0\r\n";
        assert!(text.contains(captured));

        // Link up, after a promotion elsewhere left a secondary ID (captured after
        // REPLICAOF NO ONE on the replica: replid2 = the old master's, offset + 1).
        let online = NodeInfo {
            role: Role::Replica(MasterLink {
                master_host: "127.0.0.1".to_string(),
                master_port: 17160,
                link_up: true,
                master_last_io_seconds_ago: 1,
                slave_read_repl_offset: 64,
                slave_repl_offset: 64,
                ..MasterLink::default()
            }),
            previous_replication: Some(PreviousReplication {
                master_replid2: "b057d8e014d0d26e37631be51d89e52dbf881a72".to_string(),
                second_repl_offset: 79,
            }),
            ..captured_master()
        };
        let text = info_text(&online);
        assert!(text.contains(
            "master_link_status:up\r\n\
master_last_io_seconds_ago:1\r\n\
master_sync_in_progress:0\r\n\
slave_read_repl_offset:64\r\n\
slave_repl_offset:64\r\n\
slave_priority:100\r\n"
        ));
        assert_eq!(
            line_of(&text, "master_replid2"),
            Some("master_replid2:b057d8e014d0d26e37631be51d89e52dbf881a72")
        );
        assert_eq!(
            line_of(&text, "second_repl_offset"),
            Some("second_repl_offset:79")
        );
    }

    #[test]
    fn bytes_to_human_matches_redis() {
        assert_eq!(bytes_to_human(0), "0B");
        assert_eq!(bytes_to_human(1023), "1023B");
        assert_eq!(bytes_to_human(1024), "1.00K");
        assert_eq!(bytes_to_human(916_984), "895.49K");
        // Captured: used_memory:1040848 → used_memory_human:1016.45K.
        assert_eq!(bytes_to_human(1_040_848), "1016.45K");
        assert_eq!(bytes_to_human(1_048_575), "1024.00K");
        assert_eq!(bytes_to_human(1 << 20), "1.00M");
        // Captured: total_system_memory:25276502016 → 23.54G.
        assert_eq!(bytes_to_human(25_276_502_016), "23.54G");
        assert_eq!(bytes_to_human(3 << 29), "1.50G");
        assert_eq!(bytes_to_human(1 << 40), "1.00T");
        assert_eq!(bytes_to_human(5 << 49), "2.50P");
        assert_eq!(bytes_to_human(1 << 60), "1152921504606846976B");
    }

    #[test]
    fn crlf_line_endings_and_blank_line_between_sections() {
        let text = info_text(&master_with_replica());
        assert!(text.starts_with("# Server\r\n"));
        assert!(text.ends_with("\r\n"));
        assert!(!text.ends_with("\r\n\r\n"));
        // Every '\n' is preceded by '\r' and every '\r' is followed by '\n'.
        let bytes = text.as_bytes();
        for (i, b) in bytes.iter().enumerate() {
            if *b == b'\n' {
                assert!(i > 0 && bytes[i - 1] == b'\r', "bare LF at {i}");
            }
            if *b == b'\r' {
                assert_eq!(bytes.get(i + 1), Some(&b'\n'), "bare CR at {i}");
            }
        }
        // A blank line precedes every header but the first, and nothing else is blank.
        let lines: Vec<&str> = text.trim_end_matches("\r\n").split("\r\n").collect();
        for (i, line) in lines.iter().enumerate() {
            if line.is_empty() {
                assert!(lines[i + 1].starts_with("# "), "stray blank line at {i}");
            }
            if i > 0 && line.starts_with("# ") {
                assert!(lines[i - 1].is_empty(), "no blank line before {line}");
            }
        }
    }

    #[test]
    fn commandstats_errorstats_keyspace_lines_match_capture() {
        let text = info_text(&captured_master());
        // Lines as redis-server 7.0.15 printed them for the same counters.
        for want in [
            "cmdstat_select:calls=2,usec=5,usec_per_call=2.50,rejected_calls=0,failed_calls=0",
            "cmdstat_config|set:calls=2,usec=48,usec_per_call=24.00,rejected_calls=0,failed_calls=0",
            "cmdstat_set:calls=4,usec=60,usec_per_call=15.00,rejected_calls=1,failed_calls=0",
            "cmdstat_lpush:calls=1,usec=10,usec_per_call=10.00,rejected_calls=0,failed_calls=0",
            "cmdstat_get:calls=4,usec=19,usec_per_call=4.75,rejected_calls=0,failed_calls=1",
            "errorstat_OOM:count=1",
            "errorstat_WRONGTYPE:count=1",
            "db0:keys=4,expires=2,avg_ttl=74900",
            "db3:keys=1,expires=1,avg_ttl=0",
        ] {
            assert!(text.split("\r\n").any(|l| l == want), "missing {want}");
        }
        assert!(line_of(&text, "cmdstat_del").is_none());
        assert!(line_of(&text, "db5").is_none());
    }

    #[test]
    fn commandstats_rounding_and_rejected_only_commands() {
        let info = NodeInfo {
            commandstats: vec![
                // Rejected but never executed: printed, with 0.00 per call.
                stat("set", 0, 0, 3, 0),
                // 193/8 = 24.125 exactly: printf rounds the tie to even.
                stat("get", 8, 193, 0, 0),
                // In f32, 16777217 rounds to 16777216: Redis divides in single precision.
                stat("incr", 2, 16_777_217, 0, 0),
            ],
            ..NodeInfo::default()
        };
        let text = info_text(&info);
        assert_eq!(
            line_of(&text, "cmdstat_set"),
            Some("cmdstat_set:calls=0,usec=0,usec_per_call=0.00,rejected_calls=3,failed_calls=0")
        );
        assert_eq!(
            line_of(&text, "cmdstat_get"),
            Some(
                "cmdstat_get:calls=8,usec=193,usec_per_call=24.12,rejected_calls=0,failed_calls=0"
            )
        );
        assert_eq!(
            line_of(&text, "cmdstat_incr"),
            Some(
                "cmdstat_incr:calls=2,usec=16777217,usec_per_call=8388608.00,\
rejected_calls=0,failed_calls=0"
            )
        );
        // Headers stay even when a section is empty.
        assert!(text.contains("# Errorstats\r\n\r\n# Keyspace\r\n"));
        assert!(text.ends_with("# Keyspace\r\n"));
    }

    #[test]
    fn memory_derivations() {
        let info = NodeInfo {
            used_memory: 2_000_000,
            // A stale, lower peak is raised to the current figure.
            used_memory_peak: 1_500_000,
            used_memory_startup: 876_216,
            used_memory_overhead: 900_000,
            maxmemory: 3 << 20,
            maxmemory_policy: "allkeys-lru".to_string(),
            mem_replication_backlog: 1_048_576,
            mem_clients_slaves: 20_000,
            expired_stale_perc: 0.256_7,
            ..NodeInfo::default()
        };
        let text = info_text(&info);
        for want in [
            "used_memory_peak:2000000",
            "used_memory_peak_human:1.91M",
            "used_memory_peak_perc:100.00%",
            "used_memory_dataset:1100000",
            // 1100000 × 100 / (2000000 − 876216) in f32.
            "used_memory_dataset_perc:97.88%",
            "maxmemory:3145728",
            "maxmemory_human:3.00M",
            "maxmemory_policy:allkeys-lru",
            "mem_total_replication_buffers:1068576",
            "expired_stale_perc:25.67",
        ] {
            assert!(text.split("\r\n").any(|l| l == want), "missing {want}");
        }

        // An empty snapshot must not divide by zero.
        let empty = info_text(&NodeInfo::default());
        assert_eq!(
            line_of(&empty, "used_memory_peak_perc"),
            Some("used_memory_peak_perc:0.00%")
        );
        assert_eq!(
            line_of(&empty, "used_memory_dataset_perc"),
            Some("used_memory_dataset_perc:0.00%")
        );
    }

    #[test]
    fn json_carries_the_same_figures() {
        let info = master_with_replica();
        let fields = info_fields(&info);
        let text = info_text(&info);

        // Every plain `name:value` line has a JSON twin with the same printed value.
        for section in ["Server", "Clients", "Memory", "Persistence", "Stats"] {
            for name in field_names(&text, section) {
                let Some(line) = line_of(&text, name) else {
                    panic!("no line for {name}");
                };
                let printed = &line[name.len() + 1..];
                let json = fields.get(name).unwrap_or_else(|| panic!("no JSON {name}"));
                let shown = match json {
                    Json::String(s) => s.clone(),
                    Json::Number(n) if printed.contains('.') => {
                        let v = n.as_f64().unwrap_or(f64::NAN);
                        format!("{v:.2}{}", if printed.ends_with('%') { "%" } else { "" })
                    }
                    other => other.to_string(),
                };
                assert_eq!(shown, printed, "{name}");
            }
        }
        assert_eq!(fields["used_memory"], Json::from(1_040_848u64));
        assert_eq!(fields["used_memory_human"], Json::from("1016.45K"));
        assert_eq!(fields["used_memory_dataset_perc"], Json::from(99.64));
        assert_eq!(fields["second_repl_offset"], Json::from(-1));
        assert_eq!(
            fields["slave0"],
            serde_json::json!({
                "ip": "127.0.0.1", "port": 17161, "state": "online", "offset": 64, "lag": 0
            })
        );
        assert_eq!(
            fields["commandstats"]["get"],
            serde_json::json!({
                "calls": 4, "usec": 19, "usec_per_call": 4.75,
                "rejected_calls": 0, "failed_calls": 1
            })
        );
        assert_eq!(fields["commandstats"]["config|set"]["usec_per_call"], 24.0);
        assert_eq!(
            fields["errorstats"],
            serde_json::json!({ "OOM": 1, "WRONGTYPE": 1 })
        );
        assert_eq!(
            fields["keyspace"],
            serde_json::json!({
                "db0": { "keys": 4, "expires": 2, "avg_ttl": 74900 },
                "db3": { "keys": 1, "expires": 1, "avg_ttl": 0 }
            })
        );
        assert!(!fields.contains_key("cmdstat_get"));

        // Groups exist even when empty, and output is stable.
        let empty = info_fields(&NodeInfo::default());
        assert_eq!(empty["keyspace"], serde_json::json!({}));
        assert_eq!(empty["commandstats"], serde_json::json!({}));
        assert_eq!(empty["errorstats"], serde_json::json!({}));
        assert_eq!(info_fields(&info), fields);
    }
}
