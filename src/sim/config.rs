//! The validated configuration the core runs on.
//!
//! Everything here is already normalised: sizes are bytes, times are microseconds on the
//! virtual clock, shares are parts per million. The scenario layer (`crate::scenario`) is the only
//! producer; once a `SimConfig` exists the core cannot fail on input.

/// Microseconds per second on the virtual clock.
pub const MICROS_PER_SECOND: u64 = 1_000_000;

#[derive(Debug, Clone, PartialEq)]
pub struct SimConfig {
    /// Scenario name, already sanitised (safe as a folder name).
    pub name: String,
    pub seed: u64,
    pub duration_us: u64,
    pub sample_every_us: u64,
    pub server: ServerConfig,
    pub persistence: PersistenceConfig,
    /// Replicas of the primary (node 0), in order: node i + 1 is replica i.
    pub replicas: Vec<ReplicaConfig>,
    /// Sentinels watching the primary; `None` = no automatic failover.
    pub sentinel: Option<SentinelConfig>,
    pub clients: Vec<ClientConfig>,
    pub events: Vec<EventConfig>,
}

/// `appendfsync`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppendFsync {
    /// fsync before replying: nothing acknowledged is lost.
    Always,
    /// fsync about once a second.
    Everysec,
    /// Left to the OS, which flushes about every 30 s.
    No,
}

/// What survives a crash of the primary's machine: RDB save points and the AOF.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersistenceConfig {
    /// `save <seconds> <changes>` points; empty = `save ""`.
    pub save_points: Vec<(u64, u64)>,
    pub appendonly: bool,
    pub appendfsync: AppendFsync,
}

impl Default for PersistenceConfig {
    /// Redis 7.0's defaults: `save 3600 1 300 100 60 10000`, `appendonly no`.
    fn default() -> Self {
        PersistenceConfig {
            save_points: vec![(3600, 1), (300, 100), (60, 10_000)],
            appendonly: false,
            appendfsync: AppendFsync::Everysec,
        }
    }
}

impl PersistenceConfig {
    pub fn is_none(&self) -> bool {
        self.save_points.is_empty() && !self.appendonly
    }
}

/// The delay of a replication link: how long after the primary executed a write the replica
/// applies it (propagation, network, the replica's own event loop). The link keeps order.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LinkLag {
    Fixed { us: u64 },
    Uniform { min_us: u64, max_us: u64 },
    Lognormal { median_us: f64, p99_us: f64 },
}

#[derive(Debug, Clone, PartialEq)]
pub struct ReplicaConfig {
    pub name: String,
    /// `replica-priority` (0 = never promoted).
    pub priority: u32,
    pub lag: LinkLag,
    /// Bytes per second a full resynchronisation's snapshot crosses the link at.
    pub bandwidth_bytes_per_s: u64,
    /// The kernel buffers of the link's TCP connection: the primary's send buffer and the
    /// replica's receive buffer. A replica that stops reading closes the window once they hold
    /// this much stream; the rest waits in the primary's output buffer.
    pub buffers: SocketBuffers,
}

/// The kernel buffers of one TCP connection, in bytes of stream they hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SocketBuffers {
    /// What the sender's event loop fills before `write` says EAGAIN and it waits for the
    /// socket to become writable, which a stalled receiver never lets happen.
    pub send_bytes: u64,
    /// The sender's `SO_SNDBUF` as autotuning leaves it: a direct write (SHUTDOWN's
    /// `flushSlavesOutputBuffers`) still fills the room between `send_bytes` and this.
    pub send_max_bytes: u64,
    /// The receiver's `SO_RCVBUF` as autotuning leaves it.
    pub receive_bytes: u64,
}

impl SocketBuffers {
    /// Measured on loopback with `ss -tmi` on a stalled replica's link (Linux 6.18,
    /// `tcp_wmem` = 4096 16384 4194304, `tcp_rmem` = 4096 131072 33554432). The primary's
    /// send buffer autotunes to `tcp_wmem[2]` = 4 MiB (loopback's 64 KB MSS needs a congestion
    /// window of only ~21 segments for it), of which the stream filled 3.77–3.88 MB when the
    /// window closed (Send-Q; the kernel charges skb overhead to the buffer and the event
    /// loop's last write came before the buffer's last expansion); 3.8 MB is taken, and the
    /// whole 4 MiB for the direct write of a SHUTDOWN (`SHUTDOWN NOSAVE NOW` delivered 260
    /// writes of 1 KB more than a SIGKILL in the fidelity suite). The
    /// replica's receive buffer stays at `tcp_rmem[1]` = 128 KiB, because a replica that keeps
    /// up never reads a window's worth per round trip, which is what would grow it (Recv-Q
    /// 107–128 KB).
    pub const LOOPBACK: SocketBuffers = SocketBuffers {
        send_bytes: 3_800_000,
        send_max_bytes: 4 << 20,
        receive_bytes: 128 << 10,
    };

    /// How much stream the kernel takes before the window closes, written by the event loop
    /// or (`direct`) by a blocking-free write outside it.
    pub fn window_bytes(&self, direct: bool) -> u64 {
        let send = if direct {
            self.send_max_bytes
        } else {
            self.send_bytes
        };
        send + self.receive_bytes
    }
}

/// How `SHUTDOWN` was asked to stop (`flags = "nosave now"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ShutdownFlags {
    /// `SAVE`: write an RDB even without save points.
    pub save: bool,
    /// `NOSAVE`: no RDB even with save points.
    pub nosave: bool,
    /// `NOW`: do not wait for lagging replicas.
    pub now: bool,
    /// `FORCE`: exit even if saving fails (saving never fails here).
    pub force: bool,
}

/// Link bandwidth when a replica names none: 1 Gbit/s.
pub const DEFAULT_BANDWIDTH_BYTES_PER_S: u64 = 125_000_000;

/// The machine a Sentinel runs on: beside a node (sharing its fate and partition side) or on a
/// client's machine (an application server, which never fails here).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum SentinelHost {
    Node(usize),
    Client(usize),
}

/// `[sentinel]`: the Sentinels that watch the primary and fail it over (redis-fidelity 5).
#[derive(Debug, Clone, PartialEq)]
pub struct SentinelConfig {
    /// Where each Sentinel runs.
    pub hosts: Vec<SentinelHost>,
    pub quorum: u32,
    pub down_after_us: u64,
    pub failover_timeout_us: u64,
    pub parallel_syncs: u32,
}

impl SentinelConfig {
    /// Sentinel's defaults, one Sentinel beside each of `nodes` nodes, quorum a majority.
    pub fn beside_each(nodes: usize) -> SentinelConfig {
        SentinelConfig {
            hosts: (0..nodes).map(SentinelHost::Node).collect(),
            quorum: nodes as u32 / 2 + 1,
            down_after_us: 30_000_000,
            failover_timeout_us: 180_000_000,
            parallel_syncs: 1,
        }
    }
}

/// How a client finds the primary after a failover.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Discovery {
    /// A Sentinel-aware library: it asks a Sentinel it can reach for the primary's address every
    /// `every_us` (and so learns of a failover within that delay).
    Sentinel { every_us: u64 },
    /// A fixed address: the client keeps talking to the node it started with.
    Fixed,
}

/// `WAIT numreplicas timeout` after each write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaitConfig {
    pub replicas: u32,
    pub timeout_us: u64,
}

/// How a client's connection behaves across faults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionConfig {
    pub discovery: Discovery,
    pub wait: Option<WaitConfig>,
}

impl Default for ConnectionConfig {
    fn default() -> Self {
        ConnectionConfig {
            discovery: Discovery::Sentinel {
                every_us: 1_000_000,
            },
            wait: None,
        }
    }
}

/// Where a client sends its reads (writes always go to the primary).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadFrom {
    Primary,
    /// Any replica: each read picks one at random.
    AnyReplica,
    /// Replica i (node i + 1).
    Replica(usize),
}

/// `maxmemory-policy`, with Redis's spelling in `as_str`, plus two reference policies that
/// are not Redis's: exact LRU, and Belady's optimal (which knows the future of a trace).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MaxmemoryPolicy {
    NoEviction,
    AllkeysLru,
    AllkeysLfu,
    AllkeysRandom,
    VolatileLru,
    VolatileLfu,
    VolatileRandom,
    VolatileTtl,
    /// True LRU over all keys, evicting to make room for each write (a classic cache).
    LruExact,
    /// Belady's clairvoyant policy: evict the key used furthest in the future. Trace replay only.
    Opt,
}

impl MaxmemoryPolicy {
    /// The reference policies, which are not Redis's.
    pub const REFERENCE: [MaxmemoryPolicy; 2] = [MaxmemoryPolicy::LruExact, MaxmemoryPolicy::Opt];

    /// Redis's eight policies.
    pub const ALL: [MaxmemoryPolicy; 8] = [
        MaxmemoryPolicy::NoEviction,
        MaxmemoryPolicy::AllkeysLru,
        MaxmemoryPolicy::AllkeysLfu,
        MaxmemoryPolicy::AllkeysRandom,
        MaxmemoryPolicy::VolatileLru,
        MaxmemoryPolicy::VolatileLfu,
        MaxmemoryPolicy::VolatileRandom,
        MaxmemoryPolicy::VolatileTtl,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MaxmemoryPolicy::NoEviction => "noeviction",
            MaxmemoryPolicy::AllkeysLru => "allkeys-lru",
            MaxmemoryPolicy::AllkeysLfu => "allkeys-lfu",
            MaxmemoryPolicy::AllkeysRandom => "allkeys-random",
            MaxmemoryPolicy::VolatileLru => "volatile-lru",
            MaxmemoryPolicy::VolatileLfu => "volatile-lfu",
            MaxmemoryPolicy::VolatileRandom => "volatile-random",
            MaxmemoryPolicy::VolatileTtl => "volatile-ttl",
            MaxmemoryPolicy::LruExact => "lru-exact",
            MaxmemoryPolicy::Opt => "opt",
        }
    }

    /// A Redis policy or a reference policy, by name (case-insensitive).
    pub fn parse(text: &str) -> Option<MaxmemoryPolicy> {
        let lower = text.to_ascii_lowercase();
        MaxmemoryPolicy::ALL
            .into_iter()
            .chain(MaxmemoryPolicy::REFERENCE)
            .find(|policy| policy.as_str() == lower)
    }

    /// Whether eviction works as a classic cache (make room for each write, exactly) rather than
    /// Redis's sampling before each command.
    pub fn is_reference(self) -> bool {
        matches!(self, MaxmemoryPolicy::LruExact | MaxmemoryPolicy::Opt)
    }

    /// Policies that only consider keys with a TTL.
    pub fn is_volatile(self) -> bool {
        matches!(
            self,
            MaxmemoryPolicy::VolatileLru
                | MaxmemoryPolicy::VolatileLfu
                | MaxmemoryPolicy::VolatileRandom
                | MaxmemoryPolicy::VolatileTtl
        )
    }

    /// LRU or LFU flag: these policies keep per-key access metadata, so Redis stops sharing
    /// small integers under them (redis-fidelity 1.8).
    pub fn uses_lru_or_lfu(self) -> bool {
        matches!(
            self,
            MaxmemoryPolicy::AllkeysLru
                | MaxmemoryPolicy::AllkeysLfu
                | MaxmemoryPolicy::VolatileLru
                | MaxmemoryPolicy::VolatileLfu
        )
    }

    pub fn uses_lfu(self) -> bool {
        matches!(
            self,
            MaxmemoryPolicy::AllkeysLfu | MaxmemoryPolicy::VolatileLfu
        )
    }
}

/// What `used_memory` counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemoryModel {
    /// Redis 7.0's allocations, byte for byte.
    Redis,
    /// Value bytes only: no keys, no overhead (for comparison with classic cache simulators).
    Raw,
}

/// `client-output-buffer-limit <class> <hard> <soft> <soft-seconds>` for one client class: over
/// `hard` bytes, or over `soft` bytes for more than `soft_seconds`, the client is closed.
/// 0 disables a limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutputBufferLimit {
    pub hard_bytes: u64,
    pub soft_bytes: u64,
    pub soft_seconds: u64,
}

impl OutputBufferLimit {
    /// redis.conf's `client-output-buffer-limit replica 256mb 64mb 60`.
    pub const REPLICA_DEFAULT: OutputBufferLimit = OutputBufferLimit {
        hard_bytes: 256 << 20,
        soft_bytes: 64 << 20,
        soft_seconds: 60,
    };
    /// `normal 0 0 0`: a normal client's replies are never limited by default.
    pub const NONE: OutputBufferLimit = OutputBufferLimit {
        hard_bytes: 0,
        soft_bytes: 0,
        soft_seconds: 0,
    };
    /// `pubsub 32mb 8mb 60`.
    pub const PUBSUB_DEFAULT: OutputBufferLimit = OutputBufferLimit {
        hard_bytes: 32 << 20,
        soft_bytes: 8 << 20,
        soft_seconds: 60,
    };
}

/// `maxmemory-clients` (7.0 client eviction): bytes, or a percentage of `maxmemory`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MaxmemoryClients {
    /// 0: client eviction off.
    Bytes(u64),
    /// `N%` of maxmemory (off while maxmemory is 0).
    PercentOfMaxmemory(u32),
}

impl MaxmemoryClients {
    /// `getClientEvictionLimit`: the limit in bytes, 0 when off; never below 128 KB, "to avoid
    /// cases where we can't communicate at all with the server because of bad configuration".
    pub fn limit_bytes(self, maxmemory: u64) -> u64 {
        let bytes = match self {
            MaxmemoryClients::Bytes(bytes) => bytes,
            MaxmemoryClients::PercentOfMaxmemory(percent) => {
                (maxmemory as f64 * f64::from(percent) / 100.0) as u64
            }
        };
        if bytes == 0 {
            0
        } else {
            bytes.max(128 * 1024)
        }
    }
}

/// redis.conf directives the simulator honours, with Redis's defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerConfig {
    pub memory_model: MemoryModel,
    pub maxmemory_bytes: u64,
    pub maxmemory_policy: MaxmemoryPolicy,
    pub maxmemory_samples: u32,
    pub maxmemory_eviction_tenacity: u32,
    pub lfu_log_factor: u32,
    pub lfu_decay_time: u32,
    pub hz: u32,
    pub databases: u32,
    pub active_expire_effort: u32,
    /// `DEBUG SET-ACTIVE-EXPIRE 0` equivalent: lazy expiry only.
    pub active_expire_enabled: bool,
    /// `latency-tracking`: each command's first call allocates a latency histogram that counts
    /// in used_memory.
    pub latency_tracking: bool,
    /// `repl-backlog-size`.
    pub repl_backlog_size: u64,
    /// `repl-ping-replica-period`, seconds.
    pub repl_ping_replica_period_s: u32,
    /// `repl-timeout`, seconds: a link silent this long is dropped.
    pub repl_timeout_s: u32,
    /// `repl-diskless-sync-delay`, seconds a full sync waits before the snapshot starts.
    pub repl_diskless_sync_delay_s: u32,
    /// `min-replicas-to-write` (0 = off) and `min-replicas-max-lag` (seconds).
    pub min_replicas_to_write: u32,
    pub min_replicas_max_lag_s: u32,
    /// `replica-serve-stale-data`: a replica without a working link still answers reads.
    pub replica_serve_stale_data: bool,
    /// `replica-read-only`: writes to a replica are refused with READONLY.
    pub replica_read_only: bool,
    /// `replica-ignore-maxmemory`: a replica never evicts (it follows its primary's DELs).
    pub replica_ignore_maxmemory: bool,
    /// `shutdown-timeout`, seconds a plain SHUTDOWN waits for lagging replicas (0 = none).
    pub shutdown_timeout_s: u32,
    pub hash_max_listpack_entries: u32,
    pub hash_max_listpack_value: u32,
    pub zset_max_listpack_entries: u32,
    pub zset_max_listpack_value: u32,
    pub set_max_intset_entries: u32,
    /// `list-max-listpack-size`: negative = size class (-2 = 8 KB per node), positive = entries.
    pub list_max_listpack_size: i32,
    /// `maxmemory-clients`.
    pub maxmemory_clients: MaxmemoryClients,
    /// `maxclients` as the server runs with it: sizes the event loop's arrays in
    /// used_memory_startup.
    pub maxclients: u32,
    /// `client-output-buffer-limit normal …`, `pubsub …` and `replica …` (vanish has no
    /// subscribers: the pubsub class is read and kept, and limits nothing).
    pub normal_output_buffer_limit: OutputBufferLimit,
    pub pubsub_output_buffer_limit: OutputBufferLimit,
    pub replica_output_buffer_limit: OutputBufferLimit,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            memory_model: MemoryModel::Redis,
            maxmemory_bytes: 0,
            maxmemory_policy: MaxmemoryPolicy::NoEviction,
            maxmemory_samples: 5,
            maxmemory_eviction_tenacity: 10,
            lfu_log_factor: 10,
            lfu_decay_time: 1,
            hz: 10,
            databases: 16,
            active_expire_effort: 1,
            active_expire_enabled: true,
            latency_tracking: true,
            repl_backlog_size: 1 << 20,
            repl_ping_replica_period_s: 10,
            repl_timeout_s: 60,
            repl_diskless_sync_delay_s: 5,
            min_replicas_to_write: 0,
            min_replicas_max_lag_s: 10,
            replica_serve_stale_data: true,
            replica_read_only: true,
            replica_ignore_maxmemory: true,
            shutdown_timeout_s: 10,
            hash_max_listpack_entries: 512,
            hash_max_listpack_value: 64,
            zset_max_listpack_entries: 128,
            zset_max_listpack_value: 64,
            set_max_intset_entries: 512,
            list_max_listpack_size: -2,
            maxmemory_clients: MaxmemoryClients::Bytes(0),
            maxclients: crate::sim::keyspace::memory::MAXCLIENTS_DEFAULT,
            normal_output_buffer_limit: OutputBufferLimit::NONE,
            pubsub_output_buffer_limit: OutputBufferLimit::PUBSUB_DEFAULT,
            replica_output_buffer_limit: OutputBufferLimit::REPLICA_DEFAULT,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arrivals {
    /// Exponential inter-arrival times (a Poisson process).
    Poisson,
    /// Constant spacing of 1/rate.
    Fixed,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Popularity {
    Uniform,
    /// Zipf over key ranks: rank r has weight 1/r^skew; rank 1 is key id 0.
    Zipf {
        skew: f64,
    },
    /// Keys 0, 1, 2, ... wrapping around: a scan or a bulk load.
    Sequential,
    /// `hot_access_share` of accesses go to the first `hot_key_share` of the keys, uniformly.
    Hotset {
        hot_key_share: f64,
        hot_access_share: f64,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct KeyspaceConfig {
    pub keys: u64,
    pub prefix: String,
    pub popularity: Popularity,
}

/// Distribution of value sizes in bytes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ValueSize {
    Fixed(u32),
    Uniform { min: u32, max: u32 },
    Normal { mean: f64, stddev: f64 },
    Lognormal { median: f64, p99: f64 },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TtlConfig {
    /// Share of SETs that carry EX, parts per million.
    pub share_ppm: u32,
    pub min_us: u64,
    pub max_us: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnMiss {
    None,
    /// Cache-aside: a read miss is followed by a SET of the key.
    Set,
}

pub use crate::sim::server::command::CommandKind;

/// A simulated client: who it is, when it runs, where its requests go, and what it sends.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientConfig {
    pub name: String,
    pub db: u32,
    pub start_us: u64,
    pub stop_us: Option<u64>,
    /// Where reads go.
    pub read_from: ReadFrom,
    pub connection: ConnectionConfig,
    /// Connections in the client's pool (at least 1): its commands use one, the others idle,
    /// each costing the primary memory.
    pub connections: u32,
    /// Commands sent per round trip (at least 1): they are read and answered together, so
    /// their replies accumulate in the connection's output buffer.
    pub pipeline: u32,
    pub workload: Workload,
}

impl ClientConfig {
    /// How long the client sends commands in a run of `duration_us`: from its start to its stop
    /// or the end of the run, whichever comes first.
    pub fn active_us(&self, duration_us: u64) -> u64 {
        self.stop_us
            .unwrap_or(duration_us)
            .min(duration_us)
            .saturating_sub(self.start_us)
    }

    /// A client on database 0 from the start to the end of the run, reading from the primary
    /// with the default connection.
    pub fn new(name: impl Into<String>, workload: Workload) -> ClientConfig {
        ClientConfig {
            name: name.into(),
            db: 0,
            start_us: 0,
            stop_us: None,
            read_from: ReadFrom::Primary,
            connection: ConnectionConfig::default(),
            connections: 1,
            pipeline: 1,
            workload,
        }
    }

    /// The trace the client replays, if it replays one.
    pub fn trace(&self) -> Option<&std::sync::Arc<Trace>> {
        match &self.workload {
            Workload::Generated(_) => None,
            Workload::Trace(workload) => Some(&workload.trace),
        }
    }
}

/// What a client sends: requests drawn as it runs, or a recorded workload replayed.
#[derive(Debug, Clone, PartialEq)]
pub enum Workload {
    Generated(GeneratedWorkload),
    Trace(TraceWorkload),
}

/// Requests drawn from the client's own stream: arrivals, command mix, keys, values, TTLs.
#[derive(Debug, Clone, PartialEq)]
pub struct GeneratedWorkload {
    /// Commands per second (mean for Poisson arrivals).
    pub rate: f64,
    pub arrivals: Arrivals,
    pub keyspace: KeyspaceConfig,
    /// Command weights, in the order given, zero weights removed.
    pub commands: Vec<(CommandKind, u32)>,
    pub value_size: ValueSize,
    pub ttl: Option<TtlConfig>,
    pub on_miss: OnMiss,
    /// How many distinct fields/members a hash, set or sorted-set key draws from.
    pub fields: u32,
}

/// A recorded workload replayed request by request. Whether a read miss inserts the object is
/// the trace's `read_through`.
#[derive(Debug, Clone, PartialEq)]
pub struct TraceWorkload {
    pub trace: std::sync::Arc<Trace>,
    /// `Some(rate)`: record k arrives k / rate seconds after the start, whatever its time (an
    /// untimed trace, paced at this many requests per second). `None`: each record arrives at
    /// its own time.
    pub rate: Option<f64>,
}

/// What a trace record does: a command of the server's command table.
pub type TraceOp = CommandKind;

/// The options a record's command was given (`TraceRecord::flags`).
pub mod record_flags {
    /// SET NX, SETNX, MSETNX, EXPIRE NX, LPUSHX-style "only if absent" (HSETNX).
    pub const NX: u8 = 1;
    /// SET XX, EXPIRE XX, LPUSHX / RPUSHX ("only if present"); GETEX with an EXAT or PXAT
    /// already past (the key is deleted).
    pub const XX: u8 = 2;
    /// EXPIRE GT.
    pub const GT: u8 = 4;
    /// EXPIRE LT.
    pub const LT: u8 = 8;
    /// SET GET, GETSET: the old value is looked up as a read (keyspace hits and misses).
    pub const GET: u8 = 16;
    /// SET KEEPTTL.
    pub const KEEPTTL: u8 = 32;
    /// GETEX PERSIST; COPY REPLACE.
    pub const PERSIST_OR_REPLACE: u8 = 64;
    /// The record continues the call of the record before it (MGET's second key, HSET's second
    /// field): Commandstats counts the call once.
    pub const SAME_CALL: u8 = 128;
}

/// One request of a recorded workload.
///
/// `value_size` and `ttl_ms` carry each command's arguments: a value's size (SET, APPEND,
/// LPUSH, HSET) and a TTL in ms (SET, EXPIRE, GETEX; 0 = none for SET); for an aggregate
/// command `ttl_ms` holds the element (field or member id, from a hash of its name) in its low
/// 32 bits and ZADD's score in its high 32; RENAME, RENAMENX and COPY hold the target key (an
/// index into `Trace::key_names`) in `value_size`; MOVE and COPY ... DB hold the target database
/// in `ttl_ms` (COPY: plus one, 0 for the same database); INCRBY and DECRBY hold their amount
/// in `ttl_ms` (an i64's bits), INCRBYFLOAT its increment (an f64's bits).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceRecord {
    /// When the request arrives, µs after the client's start.
    pub time_us: u64,
    /// Index into `Trace::key_names` (0 for a keyless command).
    pub key: u32,
    /// The database (MONITOR lines carry one; other formats use the client's `db`).
    pub db: u32,
    pub op: TraceOp,
    /// `record_flags`.
    pub flags: u8,
    /// SET's value size in bytes (also the size a read-through insert uses).
    pub value_size: u32,
    /// SET's TTL or EXPIRE's new TTL in ms; 0 = none for SET.
    pub ttl_ms: u64,
}

pub use crate::sim::keyspace::names::KeyNames;
pub use crate::sim::records::TraceRecords;

impl TraceRecord {
    /// A record without options.
    pub fn new(time_us: u64, key: u32, db: u32, op: TraceOp, value_size: u32, ttl_ms: u64) -> Self {
        TraceRecord {
            time_us,
            key,
            db,
            op,
            flags: 0,
            value_size,
            ttl_ms,
        }
    }

    /// An aggregate command's element id.
    pub fn element(&self) -> u32 {
        self.ttl_ms as u32
    }

    /// ZADD's score.
    pub fn score(&self) -> i64 {
        i64::from((self.ttl_ms >> 32) as u32 as i32)
    }

    /// `ttl_ms` for an element and a score.
    pub fn element_argument(element: u32, score: i64) -> u64 {
        let score = score.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32;
        (u64::from(score as u32) << 32) | u64::from(element)
    }
}

/// A recorded workload, loaded and interned by the shell before the run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trace {
    /// Where it came from, for reports.
    pub source: String,
    /// Distinct key names; records refer to them by index.
    pub key_names: KeyNames,
    pub records: TraceRecords,
    /// Cache-research traces hold reads only: a read that misses inserts the object (on-miss
    /// "set" semantics), sized by the record.
    pub read_through: bool,
    /// Records carry their own database (MONITOR); otherwise the client's `db` applies.
    pub per_record_db: bool,
    /// What the loader did not replay, for the report.
    pub notes: ReplayNotes,
    /// What ends a key name's prefix when reports group the trace's keys (`:` unless the
    /// client's `prefix-separator` says otherwise).
    pub prefix_separator: String,
}

/// The lines of a trace that were not replayed, by reason (MONITOR traces).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplayNotes {
    /// Commands that touch no key (PING, INFO, MULTI, EVAL...): counted and skipped.
    pub keyless_lines: u64,
    /// Commands whose arguments Redis would have refused.
    pub refused_lines: u64,
    /// Commands vanish does not know, by upper-case name, with their line counts, sorted.
    pub unknown_commands: Vec<(String, u64)>,
    /// Lines that are not MONITOR lines (redis-cli's `OK`, a closing error).
    pub foreign_lines: u64,
    /// The first of them: its line number and text.
    pub first_foreign: Option<(u64, String)>,
}

impl ReplayNotes {
    /// Whether anything was left out.
    pub fn is_empty(&self) -> bool {
        self == &ReplayNotes::default()
    }
}

/// A directive changed at run time by `CONFIG SET`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ConfigChange {
    Maxmemory(u64),
    MaxmemoryPolicy(MaxmemoryPolicy),
    MaxmemorySamples(u32),
    MaxmemoryEvictionTenacity(u32),
    LfuLogFactor(u32),
    LfuDecayTime(u32),
    Hz(u32),
    ActiveExpireEffort(u32),
    MaxmemoryClients(MaxmemoryClients),
}

/// Which keys a scheduled `del` removes.
#[derive(Debug, Clone, PartialEq)]
pub enum KeySelection {
    /// Exact key names.
    Keys(Vec<String>),
    /// A Redis glob pattern (`*`, `?`, `[...]`, `\`), as KEYS/SCAN MATCH understand it.
    Pattern(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum EventAction {
    FlushDb {
        db: u32,
    },
    FlushAll,
    Del {
        db: u32,
        keys: KeySelection,
    },
    ConfigSet(ConfigChange),
    /// A client switches database (`SELECT`), e.g. a connection pool handing out a dirty connection.
    Select {
        client: usize,
        db: u32,
    },
    /// A node's machine fails (power loss): what persistence had not made durable is gone.
    Crash {
        node: usize,
    },
    /// The process dies (SIGKILL, the OOM killer) on a machine that stays up: what it had
    /// written to its sockets and files still gets out, clients are refused at once.
    Kill {
        node: usize,
    },
    /// `SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE]`: unless `now`, the node stops accepting writes
    /// and waits up to `shutdown-timeout` for its replicas to acknowledge everything; then it
    /// saves an RDB (save points and not `nosave`, or `save`), hands its replicas' output
    /// buffers to the kernel, and exits.
    Shutdown {
        node: usize,
        flags: ShutdownFlags,
    },
    /// A crashed or killed node starts again from its persistence files.
    Restart {
        node: usize,
    },
    /// A replica is promoted (`to`, or the best as Sentinel picks); the old primary becomes a
    /// replica of it.
    Failover {
        to: Option<usize>,
    },
    /// The process stops (SIGSTOP, a long GC-like stall): it answers nothing until `resume`.
    Pause {
        node: usize,
    },
    Resume {
        node: usize,
    },
    /// The network splits into sides that cannot reach each other.
    Partition(Partition),
    /// Every side can reach every other again.
    Heal,
    /// One replica's replication link breaks, or comes back.
    LinkDown {
        node: usize,
    },
    LinkUp {
        node: usize,
    },
}

/// Which side of a partition each node and client is on (Sentinels are on their host's side).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partition {
    pub node_side: Vec<u8>,
    pub client_side: Vec<u8>,
}

impl EventAction {
    /// Faults and failovers, as opposed to commands sent to the primary.
    pub fn is_fault(&self) -> bool {
        !matches!(
            self,
            EventAction::FlushDb { .. }
                | EventAction::FlushAll
                | EventAction::Del { .. }
                | EventAction::ConfigSet(_)
                | EventAction::Select { .. }
        )
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct EventConfig {
    pub at_us: u64,
    pub action: EventAction,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_policy_has_one_keyword_that_reads_back() {
        let every: Vec<MaxmemoryPolicy> = MaxmemoryPolicy::ALL
            .into_iter()
            .chain(MaxmemoryPolicy::REFERENCE)
            .collect();
        for policy in &every {
            let keyword = policy.as_str();
            assert_eq!(MaxmemoryPolicy::parse(keyword), Some(*policy));
            let upper = keyword.to_ascii_uppercase();
            assert_eq!(MaxmemoryPolicy::parse(&upper), Some(*policy));
            let same = every.iter().filter(|other| other.as_str() == keyword);
            assert_eq!(same.count(), 1, "{keyword}");
        }
        // Ten variants: a new one must join ALL or REFERENCE to be read.
        assert_eq!(every.len(), 10);
    }
}
