//! Scenario reading end to end: a valid file checked field by field, a table of broken variants
//! with the place and wording of each error, `--set` overrides, and a sweep of mangled files
//! that must fail cleanly rather than panic.

use super::{load, parse, Overrides, ScenarioError};
use crate::sim::config::{
    Arrivals, ClientConfig, CommandKind, ConfigChange, ConnectionConfig, Discovery, EventAction,
    EventConfig, GeneratedWorkload, KeySelection, KeyspaceConfig, MaxmemoryPolicy, OnMiss,
    OutputBufferLimit, Partition, Popularity, SentinelConfig, SentinelHost, ServerConfig,
    SimConfig, SocketBuffers, TraceWorkload, TtlConfig, ValueSize, WaitConfig, Workload,
    DEFAULT_BANDWIDTH_BYTES_PER_S,
};

/// Every feature once. The error table below edits single lines of it, so its line numbers
/// are part of the tests.
const GOOD: &str = r#"[scenario]
name = "session-cache"
seed = 42
duration = "10m"
sample-every = "500ms"

[server]
maxmemory = "64mb"
maxmemory-policy = "allkeys-lfu"
maxmemory-samples = 10
maxmemory-eviction-tenacity = 20
lfu-log-factor = 8
lfu-decay-time = 2
hz = 50
databases = 4
active-expire-effort = 3
active-expire = false
hash-max-listpack-entries = 256
hash-max-listpack-value = 32
zset-max-listpack-entries = 64
zset-max-listpack-value = 16
set-max-intset-entries = 1024
list-max-listpack-size = -3

[[client]]
name = "web"
rate = 2000
rate-kind = "fixed"
db = 1
start = "30s"
stop = "5m"
keyspace = { keys = 100000, prefix = "session:", popularity = "zipf", skew = 1.2 }
commands = { get = 80, SET = 15, DEL = 0, Hset = 5 }
value-size = { dist = "lognormal", median = "1kb", p99 = 5000 }
ttl = { share = 0.3, min = "30s", max = "10m" }
on-miss = "set"
fields = 8

[[client]]
name = "batch"
rate = 12.5
keyspace = { keys = 1000, popularity = "hotset", hot-keys = 0.1, hot-share = 0.9 }
commands = { ZADD = 1 }
value-size = { dist = "uniform", min = 100, max = "2kb" }

[[event]]
at = "1m"
do = "config-set"
directive = "maxmemory"
value = "32mb"

[[event]]
at = "2m"
do = "del"
db = 1
pattern = "session:1*"

[[event]]
at = "3m"
do = "select"
client = "web"
db = 2

[[event]]
at = "4m"
do = "flushdb"
db = 3

[[event]]
at = "9m"
do = "flushall"

[[event]]
at = "90s"
do = "del"
keys = ["session:1", "session:2"]

[[event]]
at = "100ms"
do = "config-set"
directive = "hz"
value = 20
"#;

fn generated(client: &ClientConfig) -> &GeneratedWorkload {
    match &client.workload {
        Workload::Generated(workload) => workload,
        Workload::Trace(_) => panic!("{} replays a trace", client.name),
    }
}

fn replayed(client: &ClientConfig) -> &TraceWorkload {
    match &client.workload {
        Workload::Trace(workload) => workload,
        Workload::Generated(_) => panic!("{} generates its requests", client.name),
    }
}

fn parse_with(text: &str, sets: &[&str], seed: Option<u64>) -> Result<SimConfig, ScenarioError> {
    let overrides = Overrides {
        seed,
        sets: sets.iter().map(|entry| entry.to_string()).collect(),
    };
    parse("web.toml", text, &overrides)
}

/// `GOOD` with each `(from, to)` replacement applied; `from` must occur exactly once.
fn edited(edits: &[(&str, &str)]) -> String {
    edits.iter().fold(GOOD.to_string(), |text, (from, to)| {
        assert_eq!(
            text.matches(from).count(),
            1,
            "edit target {from:?} is not unique"
        );
        text.replacen(from, to, 1)
    })
}

#[test]
fn good_scenario_is_read_field_by_field() {
    let config = parse_with(GOOD, &[], None).unwrap_or_else(|error| panic!("{error}"));
    let expected = SimConfig {
        name: "session-cache".to_string(),
        seed: 42,
        duration_us: 600_000_000,
        sample_every_us: 500_000,
        server: ServerConfig {
            memory_model: crate::sim::config::MemoryModel::Redis,
            maxmemory_bytes: 67_108_864,
            maxmemory_policy: MaxmemoryPolicy::AllkeysLfu,
            maxmemory_samples: 10,
            maxmemory_eviction_tenacity: 20,
            lfu_log_factor: 8,
            lfu_decay_time: 2,
            hz: 50,
            databases: 4,
            active_expire_effort: 3,
            active_expire_enabled: false,
            latency_tracking: true,
            repl_backlog_size: 1 << 20,
            repl_ping_replica_period_s: 10,
            hash_max_listpack_entries: 256,
            hash_max_listpack_value: 32,
            zset_max_listpack_entries: 64,
            zset_max_listpack_value: 16,
            set_max_intset_entries: 1024,
            list_max_listpack_size: -3,
            ..ServerConfig::default()
        },
        persistence: Default::default(),
        replicas: vec![],
        sentinel: None,
        clients: vec![
            ClientConfig {
                name: "web".to_string(),
                db: 1,
                start_us: 30_000_000,
                stop_us: Some(300_000_000),
                read_from: crate::sim::config::ReadFrom::Primary,
                connection: crate::sim::config::ConnectionConfig::default(),
                connections: 1,
                pipeline: 1,
                workload: Workload::Generated(GeneratedWorkload {
                    rate: 2000.0,
                    arrivals: Arrivals::Fixed,
                    keyspace: KeyspaceConfig {
                        keys: 100_000,
                        prefix: "session:".to_string(),
                        popularity: Popularity::Zipf { skew: 1.2 },
                    },
                    commands: vec![
                        (CommandKind::Get, 80),
                        (CommandKind::Set, 15),
                        (CommandKind::Hset, 5),
                    ],
                    value_size: ValueSize::Lognormal {
                        median: 1024.0,
                        p99: 5000.0,
                    },
                    ttl: Some(TtlConfig {
                        share_ppm: 300_000,
                        min_us: 30_000_000,
                        max_us: 600_000_000,
                    }),
                    on_miss: OnMiss::Set,
                    fields: 8,
                }),
            },
            ClientConfig::new(
                "batch",
                Workload::Generated(GeneratedWorkload {
                    rate: 12.5,
                    arrivals: Arrivals::Poisson,
                    keyspace: KeyspaceConfig {
                        keys: 1000,
                        prefix: "key:".to_string(),
                        popularity: Popularity::Hotset {
                            hot_key_share: 0.1,
                            hot_access_share: 0.9,
                        },
                    },
                    commands: vec![(CommandKind::Zadd, 1)],
                    value_size: ValueSize::Uniform {
                        min: 100,
                        max: 2048,
                    },
                    ttl: None,
                    on_miss: OnMiss::None,
                    fields: 16,
                }),
            ),
        ],
        events: vec![
            EventConfig {
                at_us: 60_000_000,
                action: EventAction::ConfigSet(ConfigChange::Maxmemory(33_554_432)),
            },
            EventConfig {
                at_us: 120_000_000,
                action: EventAction::Del {
                    db: 1,
                    keys: KeySelection::Pattern("session:1*".to_string()),
                },
            },
            EventConfig {
                at_us: 180_000_000,
                action: EventAction::Select { client: 0, db: 2 },
            },
            EventConfig {
                at_us: 240_000_000,
                action: EventAction::FlushDb { db: 3 },
            },
            EventConfig {
                at_us: 540_000_000,
                action: EventAction::FlushAll,
            },
            EventConfig {
                at_us: 90_000_000,
                action: EventAction::Del {
                    db: 0,
                    keys: KeySelection::Keys(vec![
                        "session:1".to_string(),
                        "session:2".to_string(),
                    ]),
                },
            },
            EventConfig {
                at_us: 100_000,
                action: EventAction::ConfigSet(ConfigChange::Hz(20)),
            },
        ],
    };
    assert_eq!(config.name, expected.name);
    assert_eq!(config.seed, expected.seed);
    assert_eq!(config.duration_us, expected.duration_us);
    assert_eq!(config.sample_every_us, expected.sample_every_us);
    assert_eq!(config.server, expected.server);
    for (got, want) in config.clients.iter().zip(&expected.clients) {
        assert_eq!(got, want);
    }
    for (got, want) in config.events.iter().zip(&expected.events) {
        assert_eq!(got, want);
    }
    assert_eq!(config, expected);
}

#[test]
fn a_client_pool_of_connections_from_the_file_or_set() {
    let text = "[scenario]\nname = \"pool\"\nseed = 0\nduration = \"1h\"\n\n[[client]]\nname = \"c\"\nrate = 1\nconnections = 50\nkeyspace = { keys = 10 }\ncommands = { GET = 1 }\n";
    let config = parse_with(text, &[], None).unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(config.clients[0].connections, 50);
    let sets = ["client.c.connections=10000"];
    let config = parse_with(text, &sets, None).unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(config.clients[0].connections, 10_000);
}

#[test]
fn omitted_fields_take_redis_and_documented_defaults() {
    let text = "[scenario]\nname = \"min\"\nseed = 0\nduration = \"1h\"\n\n[[client]]\nname = \"c\"\nrate = 1\nkeyspace = { keys = 10 }\ncommands = { GET = 1 }\n";
    let config = parse_with(text, &[], None).unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(config.sample_every_us, 1_000_000);
    assert_eq!(config.server, ServerConfig::default());
    let common = &config.clients[0];
    assert_eq!((common.db, common.start_us, common.stop_us), (0, 0, None));
    assert_eq!(common.connection, ConnectionConfig::default());
    assert_eq!(common.connections, 1);
    let client = generated(common);
    assert_eq!(client.arrivals, Arrivals::Poisson);
    assert_eq!(client.keyspace.prefix, "key:");
    assert_eq!(client.keyspace.popularity, Popularity::Uniform);
    assert_eq!(client.value_size, ValueSize::Fixed(100));
    assert_eq!(
        (client.ttl, client.on_miss, client.fields),
        (None, OnMiss::None, 16)
    );
    assert_eq!(config.sentinel, None);
}

#[test]
fn variants_defaults_and_spellings() {
    let text = edited(&[
        ("skew = 1.2", "skew = 0.5"),
        (
            "popularity = \"hotset\", hot-keys = 0.1, hot-share = 0.9",
            "popularity = \"Hotset\"",
        ),
        (
            "dist = \"uniform\", min = 100, max = \"2kb\"",
            "dist = \"normal\", mean = \"1kb\", stddev = 12.5",
        ),
        ("ttl = { share = 0.3, ", "ttl = { "),
        ("do = \"flushall\"", "do = \"FLUSHALL\""),
        ("rate-kind = \"fixed\"", "rate-kind = \"poisson\""),
        ("value = \"32mb\"", "value = 1000"),
        ("value = 20", "value = \"20\""),
        (
            "maxmemory-policy = \"allkeys-lfu\"",
            "maxmemory-policy = \"Volatile-TTL\"",
        ),
        ("at = \"90s\"", "at = \"1m30s\""),
    ]);
    let config = parse_with(&text, &[], None).unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(config.server.maxmemory_policy, MaxmemoryPolicy::VolatileTtl);
    let (web, batch) = (generated(&config.clients[0]), generated(&config.clients[1]));
    assert_eq!(web.arrivals, Arrivals::Poisson);
    assert_eq!(web.keyspace.popularity, Popularity::Zipf { skew: 0.5 });
    assert_eq!(web.ttl.map(|ttl| ttl.share_ppm), Some(1_000_000));
    assert_eq!(
        batch.keyspace.popularity,
        Popularity::Hotset {
            hot_key_share: 0.2,
            hot_access_share: 0.8
        }
    );
    assert_eq!(
        batch.value_size,
        ValueSize::Normal {
            mean: 1024.0,
            stddev: 12.5
        }
    );
    assert_eq!(
        config.events[0].action,
        EventAction::ConfigSet(ConfigChange::Maxmemory(1000))
    );
    assert_eq!(config.events[4].action, EventAction::FlushAll);
    assert_eq!(config.events[5].at_us, 90_000_000);
    assert_eq!(
        config.events[6].action,
        EventAction::ConfigSet(ConfigChange::Hz(20))
    );
}

#[test]
fn share_rounds_to_the_nearest_ppm() {
    let text = edited(&[("share = 0.3", "share = 0.0000015")]);
    let config = parse_with(&text, &[], None).unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(
        generated(&config.clients[0]).ttl.map(|ttl| ttl.share_ppm),
        Some(2)
    );
}

enum Input {
    /// Replacements in `GOOD`.
    Edit(&'static [(&'static str, &'static str)]),
    /// A whole file.
    Text(&'static str),
}
use Input::{Edit, Text};

/// Expected 1-based line and column.
struct P(usize, usize);

#[test]
fn broken_files_name_the_place_field_and_problem() {
    let cases: &[(Input, P, &str, &str)] = &[
    // Syntax, and toml's own messages for shape errors.
    (Text("[scenario\nname = \"x\"\n"), P(1, 10), "", "expected"),
    (Edit(&[("hz = 50\n", "hz = 50\nhz = 60\n")]), P(15, 1), "", "duplicate key"),
    (Text(""), P(1, 1), "", "missing field `scenario`"),
    (Text("[scenario]\nname = \"x\"\nseed = 1\nduration = \"1m\"\n[[event]]\nat = \"1s\"\ndo = \"flushall\"\n[servr]\n"), P(8, 2), "servr", "unknown field `servr`, expected one of `scenario`, `server`, `persistence`, `replica`, `sentinel`, `client`, `event`"),
    (Text("server = 5\n[scenario]\nname = \"x\"\nseed = 1\nduration = \"1m\"\n"), P(1, 10), "server", "invalid type: integer `5`, expected a table"),
    (Edit(&[("duration = \"10m\"\n", "")]), P(1, 1), "scenario", "missing field `duration`"),
    (Edit(&[("name = \"web\"\n", "")]), P(25, 1), "client[0]", "missing field `name`"),
    (Edit(&[("{ keys = 100000, prefix", "{ prefix")]), P(32, 12), "client[0].keyspace", "missing field `keys`"),
    (Edit(&[("min = \"30s\", ", "")]), P(35, 7), "client[0].ttl", "missing field `min`"),
    (Edit(&[("{ dist = \"lognormal\", ", "{ ")]), P(34, 14), "client[0].value-size", "missing field `dist`"),
    (Edit(&[("at = \"2m\"\n", "")]), P(52, 1), "event[1]", "missing field `at`"),
    (Edit(&[("keys = [\"session:1\", \"session:2\"]", "keys = \"session:1\"")]), P(76, 8), "event[5].keys", "expected a sequence"),
    (Edit(&[("value = 20", "value = [20]")]), P(82, 9), "event[6].value", "expected a string, number or boolean"),
    (Edit(&[("commands = { ZADD = 1 }", "commands = [\"ZADD\"]")]), P(43, 12), "client[1].commands", "expected a map"),
    (Edit(&[("commands = { ZADD = 1 }", "commands = { EXPIRE = 1 }")]), P(43, 12), "client[1].commands.EXPIRE", "EXPIRE needs a TTL range"),
    // An unknown key in every table.
    (Edit(&[("sample-every = \"500ms\"", "sample-every = \"500ms\"\ncolour = \"blue\"")]), P(6, 1), "scenario.colour", "unknown field `colour`, expected one of `name`, `seed`, `duration`, `sample-every`"),
    (Edit(&[("hz = 50", "hertz = 50")]), P(14, 1), "server.hertz", "unknown field `hertz`"),
    (Edit(&[("fields = 8", "feilds = 8")]), P(37, 1), "client[0].feilds", "unknown field `feilds`"),
    (Edit(&[("skew = 1.2", "skw = 1.2")]), P(32, 71), "client[0].keyspace.skw", "unknown field `skw`"),
    (Edit(&[("max = \"10m\" }", "max = \"10m\", jitter = 1 }")]), P(35, 48), "client[0].ttl.jitter", "unknown field `jitter`"),
    (Edit(&[("p99 = 5000", "p99 = 5000, p50 = 1")]), P(34, 64), "client[0].value-size.p50", "unknown field `p50`"),
    (Edit(&[("pattern = \"session:1*\"", "pattern = \"session:1*\"\nmatch = \"x\"")]), P(57, 1), "event[1].match", "unknown field `match`"),
    // [scenario]
    (Edit(&[("name = \"session-cache\"", "name = 5")]), P(2, 8), "scenario.name", "expected a name (a string), found 5"),
    (Edit(&[("name = \"session-cache\"", "name = \"my cache\"")]), P(2, 8), "scenario.name", "found \"my cache\": ' ' is not allowed"),
    (Edit(&[("name = \"session-cache\"", "name = \"runs/a\"")]), P(2, 8), "scenario.name", "'/' is not allowed"),
    (Edit(&[("name = \"session-cache\"", "name = \"..\"")]), P(2, 8), "scenario.name", "expected a name made of letters, digits, '.', '_' and '-' (it names the output folder), found \"..\": it is not a usable folder name"),
    (Edit(&[("name = \"session-cache\"", "name = \"\"")]), P(2, 8), "scenario.name", "found \"\": it is empty"),
    (Edit(&[("name = \"session-cache\"", "name = \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"")]), P(2, 8), "scenario.name", "it has 101 characters; at most 100 make a folder name"),
    (Edit(&[("seed = 42", "seed = \"42\"")]), P(3, 8), "scenario.seed", "expected an integer from 0 to 18446744073709551615, found \"42\""),
    (Edit(&[("seed = 42", "seed = -1")]), P(3, 8), "scenario.seed", "found -1"),
    (Edit(&[("seed = 42\n", "")]), P(1, 1), "scenario", "missing field `seed`"),
    (Edit(&[("duration = \"10m\"", "duration = 600")]), P(4, 12), "scenario.duration", "expected a duration such as \"30s\", \"500ms\" or \"2m30s\", found 600"),
    (Edit(&[("duration = \"10m\"", "duration = \"600\"")]), P(4, 12), "scenario.duration", "it has no unit"),
    (Edit(&[("duration = \"10m\"", "duration = \"10 m\"")]), P(4, 12), "scenario.duration", "unknown unit \" m\""),
    (Edit(&[("duration = \"10m\"", "duration = \"5y\"")]), P(4, 12), "scenario.duration", "unknown unit \"y\""),
    (Edit(&[("duration = \"10m\"", "duration = \"99999999999999999999s\"")]), P(4, 12), "scenario.duration", "it is too large"),
    (Edit(&[("duration = \"10m\"", "duration = \"31d\"")]), P(4, 12), "scenario.duration", "expected a duration from 1us to 30d, found \"31d\""),
    (Edit(&[("duration = \"10m\"", "duration = \"0s\"")]), P(4, 12), "scenario.duration", "expected a duration from 1us to 30d"),
    (Edit(&[("sample-every = \"500ms\"", "sample-every = \"500us\"")]), P(5, 16), "scenario.sample-every", "expected a duration from 1ms to 10m"),
    (Edit(&[("sample-every = \"500ms\"", "sample-every = \"11m\"")]), P(5, 16), "scenario.sample-every", "expected a duration from 1ms to 10m (at most 1000000 samples per run), found \"11m\""),
    (Edit(&[("duration = \"10m\"", "duration = \"20d\""), ("sample-every = \"500ms\"", "sample-every = \"1s\"")]), P(5, 16), "scenario.sample-every", "expected a duration from 1728ms to 20d (at most 1000000 samples per run), found \"1s\""),
    (Edit(&[("sample-every = \"500ms\"", "sample-every = true")]), P(5, 16), "scenario.sample-every", "found true"),
    // [server]
    (Edit(&[("maxmemory = \"64mb\"", "maxmemory = true")]), P(8, 13), "server.maxmemory", "expected a size such as 100 (bytes), \"64mb\" or \"1gb\", found true"),
    (Edit(&[("maxmemory = \"64mb\"", "maxmemory = \"64xb\"")]), P(8, 13), "server.maxmemory", "unknown unit \"xb\""),
    (Edit(&[("maxmemory = \"64mb\"", "maxmemory = \"99999999999gb\"")]), P(8, 13), "server.maxmemory", "it is too large"),
    (Edit(&[("maxmemory = \"64mb\"", "maxmemory = -1")]), P(8, 13), "server.maxmemory", "found -1"),
    (Edit(&[("maxmemory-policy = \"allkeys-lfu\"", "maxmemory-policy = \"lru\"")]), P(9, 20), "server.maxmemory-policy", "expected one of \"noeviction\", \"allkeys-lru\", \"allkeys-lfu\", \"allkeys-random\", \"volatile-lru\", \"volatile-lfu\", \"volatile-random\", \"volatile-ttl\", \"lru-exact\", \"opt\", found \"lru\""),
    (Edit(&[("maxmemory-samples = 10", "maxmemory-samples = 65")]), P(10, 21), "server.maxmemory-samples", "expected an integer from 1 to 64, found 65"),
    (Edit(&[("maxmemory-samples = 10", "maxmemory-samples = \"10\"")]), P(10, 21), "server.maxmemory-samples", "found \"10\""),
    (Edit(&[("maxmemory-eviction-tenacity = 20", "maxmemory-eviction-tenacity = 101")]), P(11, 31), "server.maxmemory-eviction-tenacity", "expected an integer from 0 to 100"),
    (Edit(&[("lfu-log-factor = 8", "lfu-log-factor = -1")]), P(12, 18), "server.lfu-log-factor", "expected an integer from 0 to 1000000, found -1"),
    (Edit(&[("lfu-decay-time = 2", "lfu-decay-time = 1.5")]), P(13, 18), "server.lfu-decay-time", "found 1.5"),
    (Edit(&[("hz = 50", "hz = \"fast\"")]), P(14, 6), "server.hz", "expected an integer from 1 to 500, found \"fast\""),
    (Edit(&[("hz = 50", "hz = 0")]), P(14, 6), "server.hz", "expected an integer from 1 to 500, found 0"),
    (Edit(&[("databases = 4", "databases = 1025")]), P(15, 13), "server.databases", "expected an integer from 1 to 1024"),
    (Edit(&[("active-expire-effort = 3", "active-expire-effort = 11")]), P(16, 24), "server.active-expire-effort", "expected an integer from 1 to 10"),
    (Edit(&[("active-expire = false", "active-expire = \"no\"")]), P(17, 17), "server.active-expire", "expected true or false, found \"no\""),
    (Edit(&[("hash-max-listpack-entries = 256", "hash-max-listpack-entries = -1")]), P(18, 29), "server.hash-max-listpack-entries", "expected an integer from 0 to 4294967295"),
    (Edit(&[("hash-max-listpack-value = 32", "hash-max-listpack-value = \"32b\"")]), P(19, 27), "server.hash-max-listpack-value", "found \"32b\""),
    (Edit(&[("zset-max-listpack-entries = 64", "zset-max-listpack-entries = 4294967296")]), P(20, 29), "server.zset-max-listpack-entries", "found 4294967296"),
    (Edit(&[("zset-max-listpack-value = 16", "zset-max-listpack-value = 1e3")]), P(21, 27), "server.zset-max-listpack-value", "found 1000.0"),
    (Edit(&[("set-max-intset-entries = 1024", "set-max-intset-entries = true")]), P(22, 26), "server.set-max-intset-entries", "found true"),
    (Edit(&[("list-max-listpack-size = -3", "list-max-listpack-size = 0")]), P(23, 26), "server.list-max-listpack-size", "expected -5 to -1 (a size class; -2 = 8 KB per node) or 1 to 65535 (entries per node), found 0"),
    (Edit(&[("list-max-listpack-size = -3", "list-max-listpack-size = -6")]), P(23, 26), "server.list-max-listpack-size", "found -6"),
    (Edit(&[("list-max-listpack-size = -3", "list-max-listpack-size = 65536")]), P(23, 26), "server.list-max-listpack-size", "found 65536"),
    // [[client]]
    (Edit(&[("name = \"web\"", "name = \"we b\"")]), P(26, 8), "client[0].name", "expected a name made of letters, digits, '.', '_' and '-', found \"we b\": ' ' is not allowed"),
    (Edit(&[("name = \"batch\"", "name = \"web\"")]), P(40, 8), "client[1].name", "expected a name no other client has (client[0] is already called that), found \"web\""),
    (Edit(&[("rate = 12.5", "rate = -5")]), P(41, 8), "client[1].rate", "expected a positive number of commands per second (at most 10000000), found -5"),
    (Edit(&[("rate = 2000", "rate = 0")]), P(27, 8), "client[0].rate", "found 0"),
    (Edit(&[("rate = 2000", "rate = 10000001")]), P(27, 8), "client[0].rate", "found 10000001"),
    (Edit(&[("rate = 2000", "rate = nan")]), P(27, 8), "client[0].rate", "found NaN"),
    (Edit(&[("rate = 2000", "rate = \"2000/s\"")]), P(27, 8), "client[0].rate", "found \"2000/s\""),
    (Edit(&[("rate-kind = \"fixed\"", "rate-kind = \"burst\"")]), P(28, 13), "client[0].rate-kind", "expected one of \"poisson\", \"fixed\", found \"burst\""),
    (Edit(&[("db = 1\nstart", "db = 4\nstart")]), P(29, 6), "client[0].db", "expected a database number from 0 to 3 (databases = 4), found 4"),
    (Edit(&[("db = 1\nstart", "db = -1\nstart")]), P(29, 6), "client[0].db", "found -1"),
    (Edit(&[("start = \"30s\"", "start = \"10m\"")]), P(30, 9), "client[0].start", "expected a time before the end of the scenario (duration = 10m), found \"10m\""),
    (Edit(&[("stop = \"5m\"", "stop = \"30s\"")]), P(31, 8), "client[0].stop", "expected a time after start (30s), found \"30s\""),
    (Edit(&[("keys = 100000,", "keys = 0,")]), P(32, 21), "client[0].keyspace.keys", "expected an integer from 1 to 100000000, found 0"),
    (Edit(&[("keys = 100000,", "keys = 100000001,")]), P(32, 21), "client[0].keyspace.keys", "found 100000001"),
    (Edit(&[("prefix = \"session:\"", "prefix = 5")]), P(32, 38), "client[0].keyspace.prefix", "expected a key prefix (a string), found 5"),
    (Edit(&[("popularity = \"zipf\"", "popularity = \"pareto\"")]), P(32, 63), "client[0].keyspace.popularity", "expected one of \"uniform\", \"zipf\", \"sequential\", \"hotset\", found \"pareto\""),
    (Edit(&[("skew = 1.2", "skew = 0")]), P(32, 78), "client[0].keyspace.skew", "expected a skew greater than 0 and at most 10, found 0"),
    (Edit(&[("skew = 1.2", "skew = 11")]), P(32, 78), "client[0].keyspace.skew", "found 11"),
    (Edit(&[("popularity = \"zipf\", ", "")]), P(32, 57), "client[0].keyspace.skew", "`skew` does not apply to popularity = \"uniform\", which takes none"),
    (Edit(&[("popularity = \"hotset\"", "popularity = \"zipf\"")]), P(42, 59), "client[1].keyspace.hot-keys", "`hot-keys` does not apply to popularity = \"zipf\", which takes skew"),
    (Edit(&[("hot-keys = 0.1", "hot-keys = 0")]), P(42, 61), "client[1].keyspace.hot-keys", "expected a share greater than 0 and at most 1, found 0"),
    (Edit(&[("hot-share = 0.9", "hot-share = 1.5")]), P(42, 78), "client[1].keyspace.hot-share", "found 1.5"),
    (Edit(&[("get = 80", "gett = 80")]), P(33, 14), "client[0].commands.gett", "expected one of the commands GET, SET, DEL"),
    (Edit(&[("DEL = 0", "GET = 0")]), P(33, 34), "client[0].commands.GET", "GET is listed twice (command names ignore case)"),
    (Edit(&[("SET = 15", "SET = -1")]), P(33, 30), "client[0].commands.SET", "expected an integer from 0 to 1000000, found -1"),
    (Edit(&[("SET = 15", "SET = 1000001")]), P(33, 30), "client[0].commands.SET", "found 1000001"),
    (Edit(&[("{ ZADD = 1 }", "{ ZADD = 0 }")]), P(43, 12), "client[1].commands", "expected at least one command with a positive weight, such as { GET = 80, SET = 20 }, found only zero weights"),
    (Edit(&[("{ ZADD = 1 }", "{}")]), P(43, 12), "client[1].commands", "found an empty table"),
    (Edit(&[("value-size = { dist = \"lognormal\", median = \"1kb\", p99 = 5000 }", "value-size = true")]), P(34, 14), "client[0].value-size", "expected a size such as 100 (bytes), \"64mb\" or \"1gb\", found true"),
    (Edit(&[("value-size = { dist = \"lognormal\", median = \"1kb\", p99 = 5000 }", "value-size = \"1gb\"")]), P(34, 14), "client[0].value-size", "expected a value size of at most 512mb, found \"1gb\""),
    (Edit(&[("value-size = { dist = \"lognormal\", median = \"1kb\", p99 = 5000 }", "value-size = [1]")]), P(34, 14), "client[0].value-size", "expected a size, or a table such as { dist = \"uniform\", min = 100, max = 1000 }"),
    (Edit(&[("dist = \"lognormal\"", "dist = \"pareto\"")]), P(34, 23), "client[0].value-size.dist", "expected one of \"uniform\", \"normal\", \"lognormal\", found \"pareto\""),
    (Edit(&[("min = 100, max = \"2kb\"", "min = 3000, max = \"2kb\"")]), P(44, 52), "client[1].value-size.max", "expected a size of at least min (3000 bytes), found \"2kb\""),
    (Edit(&[("min = 100, max = \"2kb\"", "min = 100")]), P(44, 14), "client[1].value-size", "missing field `max` (dist = \"uniform\" needs min and max)"),
    (Edit(&[("min = 100, max = \"2kb\"", "min = 100, max = \"1gb\"")]), P(44, 51), "client[1].value-size.max", "expected a value size of at most 512mb, found \"1gb\""),
    (Edit(&[("dist = \"uniform\"", "dist = \"normal\"")]), P(44, 39), "client[1].value-size.min", "`min` does not apply to dist = \"normal\", which takes mean, stddev"),
    (Edit(&[("dist = \"uniform\", min = 100, max = \"2kb\"", "dist = \"normal\", mean = -1, stddev = 1")]), P(44, 40), "client[1].value-size.mean", "expected a mean size from 0 to 512mb, found -1"),
    (Edit(&[("p99 = 5000", "p99 = 1000")]), P(34, 58), "client[0].value-size.p99", "expected a p99 size greater than the median (1024 bytes) and at most 512mb, found 1000"),
    (Edit(&[("median = \"1kb\"", "median = 0")]), P(34, 45), "client[0].value-size.median", "expected a median size greater than 0 and at most 512mb, found 0"),
    (Edit(&[("share = 0.3", "share = 1.5")]), P(35, 17), "client[0].ttl.share", "expected a share of SETs from 0 to 1, found 1.5"),
    (Edit(&[("min = \"30s\"", "min = \"500us\"")]), P(35, 28), "client[0].ttl.min", "expected a TTL from 1ms to 3650d, found \"500us\""),
    (Edit(&[("max = \"10m\" }", "max = \"10s\" }")]), P(35, 41), "client[0].ttl.max", "expected a TTL from min (30s) to 3650d, found \"10s\""),
    (Edit(&[("max = \"10m\" }", "max = \"3651d\" }")]), P(35, 41), "client[0].ttl.max", "found \"3651d\""),
    (Edit(&[("on-miss = \"set\"", "on-miss = \"get\"")]), P(36, 11), "client[0].on-miss", "expected one of \"none\", \"set\", found \"get\""),
    (Edit(&[("fields = 8", "fields = 0")]), P(37, 10), "client[0].fields", "expected an integer from 1 to 1000000, found 0"),
    (Edit(&[("fields = 8", "fields = 8\nconnections = 0")]), P(38, 15), "client[0].connections", "expected an integer from 1 to 10000, found 0"),
    (Edit(&[("fields = 8", "fields = 8\nconnections = 10001")]), P(38, 15), "client[0].connections", "expected an integer from 1 to 10000, found 10001"),
    (Edit(&[("fields = 8", "fields = 8\nconnections = \"many\"")]), P(38, 15), "client[0].connections", "expected an integer from 1 to 10000"),
    // [[event]]
    (Edit(&[("at = \"9m\"", "at = \"10m\"")]), P(70, 6), "event[4].at", "expected a time before the end of the scenario (duration = 10m), found \"10m\""),
    (Edit(&[("at = \"9m\"", "at = 60")]), P(70, 6), "event[4].at", "found 60"),
    (Edit(&[("do = \"flushall\"", "do = \"explode\"")]), P(71, 6), "event[4].do", "expected one of \"flushdb\", \"flushall\", \"del\", \"config-set\", \"select\", \"crash\", \"kill\", \"shutdown\", \"restart\", \"failover\", \"pause\", \"resume\", \"link-down\", \"link-up\", \"partition\", \"heal\", found \"explode\""),
    (Edit(&[("do = \"flushall\"", "do = \"link-down\"\nnode = \"primary\"")]), P(71, 6), "event[4].do", "do = \"link-down\" needs a [[replica]]: only a replica has a replication link"),
    (Edit(&[("do = \"flushall\"", "do = \"pause\"\nnode = \"r1\"")]), P(72, 8), "event[4].node", "expected one of \"primary\", found \"r1\""),
    (Edit(&[("do = \"flushall\"", "do = \"flushall\"\npattern = \"a*\"")]), P(72, 11), "event[4].pattern", "`pattern` does not apply to do = \"flushall\", which takes none"),
    (Edit(&[("db = 3", "db = 4")]), P(67, 6), "event[3].db", "expected a database number from 0 to 3 (databases = 4), found 4"),
    (Edit(&[("pattern = \"session:1*\"", "pattern = \"session:1*\"\nkeys = [\"a\"]")]), P(56, 11), "event[1].pattern", "expected either keys or pattern for do = \"del\", found both"),
    (Edit(&[("pattern = \"session:1*\"", "")]), P(52, 1), "event[1]", "do = \"del\" needs keys = [\"a\", \"b\"] or pattern = \"prefix:*\", found neither"),
    (Edit(&[("pattern = \"session:1*\"", "pattern = \"\"")]), P(56, 11), "event[1].pattern", "expected a non-empty glob pattern, found \"\""),
    (Edit(&[("keys = [\"session:1\", \"session:2\"]", "keys = []")]), P(76, 8), "event[5].keys", "expected at least one key name, found an empty list"),
    (Edit(&[("keys = [\"session:1\", \"session:2\"]", "keys = [\"session:1\", 2]")]), P(76, 22), "event[5].keys[1]", "expected a key name (a string), found 2"),
    (Edit(&[("directive = \"maxmemory\"", "directive = \"save\"")]), P(49, 13), "event[0].directive", "expected one of \"maxmemory\", \"maxmemory-policy\""),
    (Edit(&[("value = \"32mb\"", "value = \"lots\"")]), P(50, 9), "event[0].value", "expected a size such as 100 (bytes), \"64mb\" or \"1gb\", found \"lots\""),
    (Edit(&[("value = 20", "value = 501")]), P(82, 9), "event[6].value", "expected an integer from 1 to 500, found 501"),
    (Edit(&[("value = 20", "value = \"0\"")]), P(82, 9), "event[6].value", "expected an integer from 1 to 500, found 0"),
    (Edit(&[("value = \"32mb\"\n", "")]), P(46, 1), "event[0]", "missing field `value` (do = \"config-set\" needs directive and value)"),
    (Edit(&[("client = \"web\"", "client = \"api\"")]), P(61, 10), "event[2].client", "expected the name of a [[client]] (web, batch), found \"api\""),
    (Edit(&[("db = 2\n", "")]), P(58, 1), "event[2]", "missing field `db` (do = \"select\" needs client and db)"),
    // The run as a whole.
    (Text("[scenario]\nname = \"idle\"\nseed = 1\nduration = \"1m\"\n"), P(1, 1), "scenario", "expected at least one [[client]] or [[event]], found neither: nothing would happen"),
    (Edit(&[("keys = 100000,", "keys = 60000000,"), ("keys = 1000,", "keys = 50000000,")]), P(42, 21), "client[1].keyspace.keys", "the keyspaces add up to 110000000 distinct keys (clients sharing a prefix count once), which would need about 14 GB of simulator memory; the limit is 100000000 keys"),
    (Edit(&[("duration = \"10m\"", "duration = \"2d\""), ("rate = 2000", "rate = 100000"), ("stop = \"5m\"\n", "")]), P(27, 8), "client[0].rate", "the clients would send about 17277000000 commands (rate * active seconds, or a trace's requests, summed over clients); the limit is 10000000000: lower the rates, shorten the duration or replay less of the traces"),
    ];
    let cases: Vec<(String, P, &str, &str)> = cases
        .iter()
        .map(|(input, P(line, column), field, message)| {
            let text = match input {
                Edit(edits) => edited(edits),
                Text(text) => text.to_string(),
            };
            (text, P(*line, *column), *field, *message)
        })
        .collect();
    assert_located(&cases, |text| parse_with(text, &[], None));
}

/// Each case's text must fail at its line, column and field, with a summary line containing
/// its message; all failures are reported together, expected next to got.
fn assert_located(
    cases: &[(String, P, &str, &str)],
    parse: impl Fn(&str) -> Result<SimConfig, ScenarioError>,
) {
    let mut failures = Vec::new();
    for (index, (text, P(line, column), field, message)) in cases.iter().enumerate() {
        let got = match parse(text) {
            Ok(_) => {
                failures.push(format!("case {index}: parsed without error"));
                continue;
            }
            Err(error) => error,
        };
        let rendered = got.to_string();
        let summary = rendered.lines().next().unwrap_or_default();
        let place_ok =
            (got.line(), got.column(), got.field()) == (Some(*line), Some(*column), *field);
        if !place_ok || !summary.contains(message) {
            failures.push(format!(
                "case {index}:\n  expected {line}:{column} {field:?} containing {message:?}\n  got      {rendered}"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn error_renders_one_summary_line_then_an_excerpt() {
    let text = edited(&[("rate = 12.5", "rate = -5")]);
    let error = parse_with(&text, &[], None).expect_err("negative rate");
    assert_eq!(
        error.to_string(),
        "web.toml:41:8: client[1].rate: expected a positive number of commands per second \
         (at most 10000000), found -5\n   |\n41 | rate = -5\n   |        ^^"
    );
}

#[test]
fn overrides_are_applied_before_validation() {
    let sets = [
        "server.maxmemory=128mb",
        "server.maxmemory-policy=volatile-lru",
        "scenario.seed=7",
        "scenario.name=\"quoted\"",
        "client.0.rate=500",
        "client.batch.keyspace.keys=50",
        "client.web.ttl={ share = 1, min = \"1s\", max = \"2s\" }",
        "client.web.commands={ SET = 1, GET = 2 }",
        "event.1.pattern=user:*",
        "client.batch.rate=2.5",
        "client.batch.rate=3",
    ];
    let config = parse_with(GOOD, &sets, None).unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(config.server.maxmemory_bytes, 128 << 20);
    assert_eq!(config.server.maxmemory_policy, MaxmemoryPolicy::VolatileLru);
    assert_eq!((config.seed, config.name.as_str()), (7, "quoted"));
    let (web, batch) = (generated(&config.clients[0]), generated(&config.clients[1]));
    assert_eq!((web.rate, batch.rate), (500.0, 3.0));
    assert_eq!(batch.keyspace.keys, 50);
    assert_eq!(
        web.ttl,
        Some(TtlConfig {
            share_ppm: 1_000_000,
            min_us: 1_000_000,
            max_us: 2_000_000
        })
    );
    assert_eq!(web.commands, [(CommandKind::Set, 1), (CommandKind::Get, 2)]);
    assert_eq!(
        config.events[1].action,
        EventAction::Del {
            db: 1,
            keys: KeySelection::Pattern("user:*".to_string())
        }
    );
}

#[test]
fn seed_flag_wins_and_may_replace_the_file_seed() {
    let config = parse_with(GOOD, &["scenario.seed=7"], Some(99)).expect("valid");
    assert_eq!(config.seed, 99);
    let seedless = edited(&[("seed = 42\n", "")]);
    assert_eq!(
        parse_with(&seedless, &[], Some(u64::MAX))
            .expect("valid")
            .seed,
        u64::MAX
    );
}

#[test]
fn overrides_create_missing_sections() {
    let text = "[scenario]\nname = \"x\"\nseed = 1\nduration = \"1m\"\n[[event]]\nat = \"1s\"\ndo = \"flushall\"\n";
    let config = parse_with(text, &["server.hz=100"], None).expect("valid");
    assert_eq!(config.server.hz, 100);
    let config = parse_with(
        "",
        &[
            "scenario.name=x",
            "scenario.seed=1",
            "scenario.duration=1m",
            "event.0.at=1s",
        ],
        None,
    );
    let error = config.expect_err("no events to override");
    assert_eq!(
        error.to_string(),
        "--set event.0.at=1s: no `event.0`: the scenario has no [[event]]"
    );
}

#[test]
fn broken_overrides_name_the_set_entry() {
    let cases: &[(&[&str], &str, &str)] = &[
        (&["server.hz=abc"], "server.hz", "--set server.hz=abc: server.hz: expected an integer from 1 to 500, found \"abc\""),
        (&["client.0.rate=1", "server.hz=0"], "server.hz", "--set server.hz=0: server.hz: expected an integer from 1 to 500, found 0"),
        (&["server.hz"], "", "--set server.hz: expected section.key=value, such as server.maxmemory=64mb"),
        (&["servr.hz=1"], "", "--set servr.hz=1: unknown section `servr`; expected scenario, server, persistence, replica, sentinel, client or event"),
        (&["server=5"], "", "--set server=5: `server` names no key inside server"),
        (&["client.api.rate=5"], "", "--set client.api.rate=5: no client `api`: the scenario's clients are web, batch (by index 0 to 1)"),
        (&["client.9.rate=5"], "", "no client `9`"),
        (&["event.99.at=1s"], "", "--set event.99.at=1s: no `event.99`: the scenario has 7 events, numbered 0 to 6"),
        (&["event.web.at=1s"], "", "no `event.web`"),
        (&["client.0.name.first=x"], "", "`name` is not a table in the scenario"),
        (&["server.hzz=5"], "server.hzz", "--set server.hzz=5: server.hzz: unknown field `hzz`, expected one of"),
        (&["client.0.keyspace={ keys = 0 }"], "client[0].keyspace.keys", "expected an integer from 1 to 100000000, found 0"),
        (&["client.web.keyspace.keys=1e9"], "client[0].keyspace.keys", "expected an integer from 1 to 100000000, found 1000000000.0"),
        (&["scenario.duration=10"], "scenario.duration", "found 10"),
        (&["client.web.commands={ FOO = 1 }"], "client[0].commands.FOO", "found \"FOO\""),
        (&["scenario.sample-every=[1]"], "scenario.sample-every", "invalid type: sequence"),
    ];
    let mut failures = Vec::new();
    for (index, (sets, field, message)) in cases.iter().enumerate() {
        match parse_with(GOOD, sets, None) {
            Ok(_) => failures.push(format!("case {index}: parsed without error")),
            Err(got) => {
                let rendered = got.to_string();
                if (got.line(), got.column(), got.field()) != (None, None, *field)
                    || !rendered.contains(message)
                    || rendered.contains('\n')
                {
                    failures.push(format!(
                        "case {index}:\n  expected {field:?} containing {message:?}\n  got      {:?} {rendered}",
                        got.field()
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn load_reads_the_file_and_names_an_unreadable_one() {
    let directory = std::env::temp_dir().join(format!("vanish-scenario-{}", std::process::id()));
    std::fs::create_dir_all(&directory).expect("temp dir");
    let path = directory.join("good.toml");
    std::fs::write(&path, GOOD).expect("write");
    let loaded = load(&path, &Overrides::default());
    let missing = directory.join("missing.toml");
    let error = load(&missing, &Overrides::default()).expect_err("missing file");
    std::fs::remove_dir_all(&directory).expect("clean up");

    assert_eq!(loaded.expect("valid").name, "session-cache");
    assert_eq!(
        (error.line(), error.column(), error.field()),
        (None, None, "")
    );
    let rendered = error.to_string();
    assert!(
        rendered.starts_with(&format!(
            "{}: cannot read the scenario file: ",
            missing.display()
        )),
        "{rendered}"
    );
    assert!(std::error::Error::source(&error).is_some());
}

/// A fixed-seed linear congruential generator (Knuth's MMIX constants): enough to scatter
/// mutations reproducibly without a dependency.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, bound: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) % bound as u64) as usize
    }
}

#[test]
fn mangled_files_fail_with_a_line_and_never_panic() {
    let mut mutants: Vec<String> = (0..GOOD.len())
        .step_by(7)
        .map(|end| GOOD[..end].to_string())
        .collect();
    let replacements = b"\"'=[]{},.#\n -0123456789aZ_\t";
    let mut random = Lcg(0x5eed);
    for _ in 0..100 {
        let mut bytes = GOOD.as_bytes().to_vec();
        for _ in 0..=random.below(3) {
            let position = random.below(bytes.len());
            bytes[position] = replacements[random.below(replacements.len())];
        }
        mutants.push(String::from_utf8(bytes).expect("ASCII in, ASCII out"));
    }
    assert!(mutants.len() >= 200, "{} mutants", mutants.len());
    for mutant in &mutants {
        let outcome = std::panic::catch_unwind(|| parse_with(mutant, &[], None));
        match outcome {
            Err(_) => panic!("parse panicked on:\n{mutant}"),
            Ok(Ok(_)) => {}
            Ok(Err(error)) => assert!(error.line().is_some(), "no line for {error}\nin:\n{mutant}"),
        }
    }
}

// Trace clients, the memory model and the reference policies.

/// Two trace clients, one timed and one untimed; the error table below edits its lines.
const TRACED: &str = r#"[scenario]
name = "replay"
seed = 1
duration = "1h"

[server]
maxmemory = "1mb"
maxmemory-policy = "opt"
memory-model = "raw"

[[client]]
name = "shop"
trace = "traces/shop.csv"
format = "csv"
db = 2

[[client]]
name = "lirs"
trace = "loop.trace"
format = "lirs"
rate = 250
start = "10s"
"#;

const TRACE_FILES: [(&str, &str); 5] = [
    (
        "traces/shop.csv",
        "t_ms,op,key,value_size,ttl_ms\n0,SET,cart:1,120,60000\n1500,GET,cart:1,0,0\n3000,GET,\"a,b\",0,0\n",
    ),
    ("traces/bad.csv", "t_ms,op,key,value_size,ttl_ms\n0,GET,k,0,0\n1,PUT,k,0,0\n"),
    ("loop.trace", "1\n2\n*\n1\n3\n"),
    (
        "m.monitor",
        "OK\n1795438220.000000 [0 127.0.0.1:5] \"get\" \"a\"\n1795438220.500000 [7 127.0.0.1:5] \"set\" \"b\" \"xy\"\n",
    ),
    ("untimed.csv", "t_ms,op,key,value_size,ttl_ms\n0,GET,a,0,0\n0,GET,b,0,0\n"),
];

/// A scenario folder holding `TRACE_FILES`, removed when dropped.
struct TraceFolder(std::path::PathBuf);

impl TraceFolder {
    fn new() -> TraceFolder {
        use std::sync::atomic::{AtomicU64, Ordering};
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let folder = std::env::temp_dir().join(format!(
            "vanish-scenario-traces-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        for (name, text) in TRACE_FILES {
            let path = folder.join(name);
            std::fs::create_dir_all(path.parent().expect("a folder")).expect("temp dir");
            std::fs::write(path, text).expect("write trace");
        }
        TraceFolder(folder)
    }

    fn scenario_name(&self) -> String {
        self.0.join("replay.toml").display().to_string()
    }

    fn parse(&self, text: &str, sets: &[&str]) -> Result<SimConfig, ScenarioError> {
        let overrides = Overrides {
            seed: None,
            sets: sets.iter().map(|entry| entry.to_string()).collect(),
        };
        parse(&self.scenario_name(), text, &overrides)
    }
}

impl Drop for TraceFolder {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `TRACED` with each `(from, to)` replacement applied; `from` must occur exactly once.
fn traced(edits: &[(&str, &str)]) -> String {
    edits.iter().fold(TRACED.to_string(), |text, (from, to)| {
        assert_eq!(
            text.matches(from).count(),
            1,
            "edit target {from:?} is not unique"
        );
        text.replacen(from, to, 1)
    })
}

#[test]
fn trace_clients_carry_their_loaded_traces() {
    use crate::sim::config::{MemoryModel, Trace, TraceOp, TraceRecord};
    use std::sync::Arc;

    let folder = TraceFolder::new();
    let config = folder
        .parse(TRACED, &[])
        .unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(config.server.memory_model, MemoryModel::Raw);
    assert_eq!(config.server.maxmemory_policy, MaxmemoryPolicy::Opt);
    let record = |time_us, key, op, value_size, ttl_ms| TraceRecord {
        time_us,
        key,
        db: 0,
        op,
        flags: 0,
        value_size,
        ttl_ms,
    };
    let shop = ClientConfig {
        db: 2,
        ..ClientConfig::new(
            "shop",
            Workload::Trace(TraceWorkload {
                // Timed: each record arrives at its own time.
                rate: None,
                trace: Arc::new(Trace {
                    source: "traces/shop.csv".to_string(),
                    key_names: ["cart:1", "a,b"].into_iter().collect(),
                    records: vec![
                        record(0, 0, TraceOp::Set, 120, 60_000),
                        record(1_500_000, 0, TraceOp::Get, 0, 0),
                        record(3_000_000, 1, TraceOp::Get, 0, 0),
                    ]
                    .into(),
                    read_through: false,
                    per_record_db: false,
                    notes: Default::default(),
                    prefix_separator: ":".to_string(),
                }),
            }),
        )
    };
    assert_eq!(config.clients[0], shop);
    assert_eq!(config.clients[1].start_us, 10_000_000);
    let lirs = replayed(&config.clients[1]);
    // Untimed: the engine paces the records by the client's rate.
    assert_eq!(lirs.rate, Some(250.0));
    let trace = &lirs.trace;
    assert_eq!(trace.key_names, ["1", "2", "3"]);
    assert!(trace.read_through && !trace.per_record_db);
    assert!(trace.records.iter().all(|record| record.time_us == 0));
}

#[test]
fn trace_options_defaults_and_overrides() {
    let folder = TraceFolder::new();
    // Untimed traces default to 1000 requests per second; on-miss can turn read-through off.
    let text = traced(&[("rate = 250\n", "on-miss = \"none\"\n")]);
    let config = folder
        .parse(&text, &[])
        .unwrap_or_else(|error| panic!("{error}"));
    let lirs = replayed(&config.clients[1]);
    assert_eq!((lirs.rate, lirs.trace.read_through), (Some(1_000.0), false));
    // A csv trace whose times are all 0 is untimed too; --set reaches trace fields.
    let config = folder
        .parse(
            TRACED,
            &[
                "client.shop.trace=untimed.csv",
                "client.lirs.rate=0.5",
                "server.memory-model=redis",
                "server.maxmemory-policy=lru-exact",
            ],
        )
        .unwrap_or_else(|error| panic!("{error}"));
    let (shop, lirs) = (replayed(&config.clients[0]), replayed(&config.clients[1]));
    assert_eq!(shop.trace.records.len(), 2);
    assert_eq!((shop.rate, lirs.rate), (Some(1_000.0), Some(0.5)));
    assert_eq!(
        config.server.memory_model,
        crate::sim::config::MemoryModel::Redis
    );
    assert_eq!(config.server.maxmemory_policy, MaxmemoryPolicy::LruExact);
}

#[test]
fn a_grid_reads_each_trace_once_per_use() {
    let folder = TraceFolder::new();
    let cache = super::TraceCache::default();
    let parse = |sets: &[&str]| {
        let overrides = Overrides {
            seed: None,
            sets: sets.iter().map(|entry| entry.to_string()).collect(),
        };
        super::parse_sharing(&folder.scenario_name(), TRACED, &overrides, &cache)
            .unwrap_or_else(|error| panic!("{error}"))
    };
    let first = parse(&["server.maxmemory=1mb"]);
    let second = parse(&["server.maxmemory=2mb"]);
    let (a, b) = (replayed(&first.clients[1]), replayed(&second.clients[1]));
    assert!(std::sync::Arc::ptr_eq(&a.trace, &b.trace), "shared");
    // A client replaying it differently gets its own copy, as it would without the cache.
    let other = parse(&["client.lirs.on-miss=none"]);
    let c = replayed(&other.clients[1]);
    assert!(!std::sync::Arc::ptr_eq(&a.trace, &c.trace));
    assert_eq!((a.trace.read_through, c.trace.read_through), (true, false));
    assert_eq!(a.trace.records, c.trace.records);
}

#[test]
fn monitor_traces_carry_their_databases() {
    let folder = TraceFolder::new();
    let text = traced(&[(
        "trace = \"traces/shop.csv\"\nformat = \"csv\"\ndb = 2\n",
        "trace = \"m.monitor\"\nformat = \"monitor\"\n",
    )]);
    let config = folder
        .parse(&text, &[])
        .unwrap_or_else(|error| panic!("{error}"));
    let trace = &replayed(&config.clients[0]).trace;
    assert!(trace.per_record_db);
    let databases: Vec<u32> = trace.records.iter().map(|record| record.db).collect();
    assert_eq!(databases, [0, 7]);
    assert_eq!(trace.records.at(1).time_us, 500_000);
}

#[test]
fn lru_exact_runs_with_generated_clients() {
    let text = edited(&[(
        "maxmemory-policy = \"allkeys-lfu\"",
        "maxmemory-policy = \"LRU-exact\"",
    )]);
    let config = parse_with(&text, &[], None).unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(config.server.maxmemory_policy, MaxmemoryPolicy::LruExact);
}

#[test]
fn select_works_on_trace_clients_without_their_own_databases() {
    let folder = TraceFolder::new();
    let text =
        format!("{TRACED}\n[[event]]\nat = \"1s\"\ndo = \"select\"\nclient = \"shop\"\ndb = 3\n");
    let config = folder
        .parse(&text, &[])
        .unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(
        config.events[0].action,
        EventAction::Select { client: 0, db: 3 }
    );
}

#[test]
fn load_finds_traces_beside_the_scenario_file() {
    let folder = TraceFolder::new();
    let path = folder.0.join("replay.toml");
    std::fs::write(&path, TRACED).expect("write scenario");
    let config = load(&path, &Overrides::default()).unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(config.clients.len(), 2);
}

#[test]
fn broken_trace_scenarios_name_the_place_field_and_problem() {
    const GENERATED: &str = "rate = 250\nkeyspace = { keys = 5 }\ncommands = { GET = 1 }\n";
    const MONITOR: &str = "trace = \"m.monitor\"\nformat = \"monitor\"\n";
    let event = |body: &str| format!("{TRACED}\n[[event]]\nat = \"1s\"\n{body}");
    let cases: Vec<(String, P, &str, &str)> = vec![
    (traced(&[("memory-model = \"raw\"", "memory-model = \"jemalloc\"")]), P(9, 16), "server.memory-model", "expected one of \"redis\", \"raw\", found \"jemalloc\""),
    (traced(&[("format = \"csv\"\n", "")]), P(11, 1), "client[0]", "missing field `format` (trace needs format: one of csv, monitor, oracle-general, lirs, time-id-size)"),
    (traced(&[("format = \"csv\"", "format = \"parquet\"")]), P(14, 10), "client[0].format", "expected one of \"csv\", \"monitor\", \"oracle-general\", \"lirs\", \"time-id-size\", found \"parquet\""),
    (traced(&[("db = 2\n", "db = 2\ncommands = { GET = 1 }\n")]), P(16, 12), "client[0].commands", "`commands` does not apply to a client with trace = \"traces/shop.csv\": it replays the recorded requests"),
    (traced(&[("db = 2\n", "db = 2\nkeyspace = { keys = 10 }\n")]), P(16, 12), "client[0].keyspace", "`keyspace` does not apply to a client with trace"),
    (traced(&[("db = 2\n", "db = 2\nttl = { min = \"1s\", max = \"2s\" }\n")]), P(16, 7), "client[0].ttl", "`ttl` does not apply to a client with trace"),
    (traced(&[("db = 2\n", "db = 2\nvalue-size = 10\n")]), P(16, 14), "client[0].value-size", "`value-size` does not apply"),
    (traced(&[("db = 2\n", "db = 2\nrate = 5\n")]), P(16, 8), "client[0].rate", "`rate` does not apply to this trace: its records carry their own times (rate paces untimed traces, such as lirs)"),
    (traced(&[("rate = 250", "rate = 0")]), P(21, 8), "client[1].rate", "expected a positive number of requests per second for an untimed trace (at most 10000000), found 0"),
    (traced(&[("trace = \"traces/shop.csv\"", "trace = 5")]), P(13, 9), "client[0].trace", "expected a trace file path (a string), found 5"),
    (traced(&[("trace = \"traces/shop.csv\"", "trace = \"\"")]), P(13, 9), "client[0].trace", "expected a trace file path, found \"\""),
    (traced(&[("traces/shop.csv", "traces/bad.csv")]), P(13, 9), "client[0].trace", "traces/bad.csv:3: expected an op such as SET, GET, DEL, UNLINK, GETDEL, EXPIRE, RENAME, FLUSHDB or FLUSHALL (README: trace formats), found \"PUT\""),
    (traced(&[("db = 2\n", "db = 2\nprefix-separator = \"\"\n")]), P(16, 20), "client[0].prefix-separator", "expected a prefix separator (a string of 1 to 16 bytes, such as \":\" or \"/\"), found \"\""),
    (traced(&[("db = 2\n", "db = 2\nprefix-separator = 3\n")]), P(16, 20), "client[0].prefix-separator", "expected a prefix separator"),
    (traced(&[("trace = \"loop.trace\"\nformat = \"lirs\"\nrate = 250\n", &format!("{GENERATED}prefix-separator = \"/\"\n"))]), P(22, 20), "client[1].prefix-separator", "`prefix-separator` does not apply without trace"),
    (traced(&[("traces/shop.csv", "nowhere.csv")]), P(13, 9), "client[0].trace", "nowhere.csv: cannot read the trace: "),
    (traced(&[("format = \"csv\"", "format = \"lirs\"")]), P(13, 9), "client[0].trace", "client[0].trace: cannot load the trace: "),
    (traced(&[("trace = \"loop.trace\"\nformat = \"lirs\"\n", "commands = { GET = 1 }\n")]), P(17, 1), "client[1]", "missing field `keyspace` (a client needs rate, keyspace and commands, or trace and format)"),
    (traced(&[("trace = \"loop.trace\"\nformat = \"lirs\"\nrate = 250\n", "keyspace = { keys = 5 }\ncommands = { GET = 1 }\n")]), P(17, 1), "client[1]", "missing field `rate` (a client needs rate, keyspace and commands, or trace and format)"),
    (traced(&[("trace = \"loop.trace\"\nformat = \"lirs\"\nrate = 250\n", GENERATED)]), P(8, 20), "server.maxmemory-policy", "expected a policy that does not need to know the future (\"opt\" needs every client to replay a trace), found \"opt\": client[1] (\"lirs\") generates its requests as it runs"),
    (traced(&[("trace = \"loop.trace\"\nformat = \"lirs\"\nrate = 250\n", &format!("{GENERATED}format = \"lirs\"\n"))]), P(22, 10), "client[1].format", "`format` does not apply without trace = \"path\": it says how to read the trace file"),
    (traced(&[("trace = \"traces/shop.csv\"\nformat = \"csv\"\n", MONITOR)]), P(15, 6), "client[0].db", "`db` does not apply to format = \"monitor\": MONITOR lines carry their database"),
    (traced(&[("trace = \"traces/shop.csv\"\nformat = \"csv\"\ndb = 2\n", MONITOR), ("memory-model = \"raw\"", "databases = 4")]), P(13, 9), "client[0].trace", "expected a trace using databases 0 to 3 (databases = 4), found \"m.monitor\": its line 3 uses database 7"),
    (format!("{}\n[[event]]\nat = \"1s\"\ndo = \"select\"\nclient = \"shop\"\ndb = 1\n", traced(&[("trace = \"traces/shop.csv\"\nformat = \"csv\"\ndb = 2\n", MONITOR)])), P(26, 10), "event[0].client", "expected a client whose database can change, found \"shop\": it replays MONITOR lines, which name their own databases"),
    (event("do = \"config-set\"\ndirective = \"maxmemory-policy\"\nvalue = \"allkeys-lru\"\n"), P(28, 9), "event[0].value", "expected \"opt\", the server's policy, found \"allkeys-lru\": a reference policy cannot be switched away from at run time"),
    (event("do = \"config-set\"\ndirective = \"maxmemory-policy\"\nvalue = \"lru-exact\"\n"), P(28, 9), "event[0].value", "a reference policy cannot be switched away from"),
    (edited(&[("directive = \"maxmemory\"\nvalue = \"32mb\"", "directive = \"maxmemory-policy\"\nvalue = \"opt\"")]), P(50, 9), "event[0].value", "expected one of \"noeviction\", \"allkeys-lru\", \"allkeys-lfu\", \"allkeys-random\", \"volatile-lru\", \"volatile-lfu\", \"volatile-random\", \"volatile-ttl\", found \"opt\": a reference policy cannot be switched to at run time; set it in [server]"),
    (traced(&[("duration = \"1h\"", "duration = \"1000s\""), ("\"opt\"", "\"lru-exact\""), ("trace = \"traces/shop.csv\"\nformat = \"csv\"\n", "rate = 10000000\nkeyspace = { keys = 10 }\ncommands = { GET = 1 }\n")]), P(20, 9), "client[1].trace", "the clients would send about 10000000004 commands (rate * active seconds, or a trace's requests, summed over clients); the limit is 10000000000"),
    (traced(&[("\"opt\"", "\"lru-exact\""), ("trace = \"traces/shop.csv\"\nformat = \"csv\"\n", "rate = 1\nkeyspace = { keys = 100000000 }\ncommands = { GET = 1 }\n")]), P(20, 9), "client[1].trace", "the keyspaces add up to 100000003 distinct keys (clients sharing a prefix count once, each trace's keys count apart), which would need about 12 GB of simulator memory; the limit is 100000000 keys"),
    ];
    let folder = TraceFolder::new();
    assert_located(&cases, |text| folder.parse(text, &[]));
}

#[test]
fn a_trace_error_renders_both_places() {
    let folder = TraceFolder::new();
    let error = folder
        .parse(&traced(&[("traces/shop.csv", "traces/bad.csv")]), &[])
        .expect_err("bad op");
    let bad = folder.0.join("traces/bad.csv");
    assert_eq!(
        error.to_string().lines().next().unwrap_or_default(),
        format!(
            "{}:13:9: client[0].trace: cannot load the trace: {}:3: expected an op such as SET, GET, DEL, \
             UNLINK, GETDEL, EXPIRE, RENAME, FLUSHDB or FLUSHALL (README: trace formats), found \"PUT\"",
            folder.scenario_name(),
            bad.display()
        )
    );
}

// Replication settings, Sentinel, client connections and fault events.

/// Two replicas watched by Sentinels, two clients that find the primary differently, and every
/// fault event; the error table below edits its lines.
const REPLICATED: &str = r#"[scenario]
name = "failover"
seed = 3
duration = "10m"

[server]
repl-timeout = 30
repl-diskless-sync-delay = 0
min-replicas-to-write = 1
min-replicas-max-lag = 5
replica-serve-stale-data = false
replica-read-only = false

[[replica]]
name = "r1"
bandwidth = "100mb"

[[replica]]
name = "r2"
replica-priority = 50

[sentinel]
hosts = ["primary", "r1", "r2", "r2"]
quorum = 3
down-after-milliseconds = 5000
failover-timeout = 60000
parallel-syncs = 2

[[client]]
name = "web"
rate = 100
keyspace = { keys = 1000 }
commands = { GET = 1, SET = 1 }
discovery-delay = "250ms"
wait = { replicas = 1, timeout = "100ms" }

[[client]]
name = "legacy"
rate = 10
keyspace = { keys = 1000 }
commands = { GET = 1 }
discovery = "fixed"

[[event]]
at = "1m"
do = "pause"

[[event]]
at = "2m"
do = "resume"
node = "primary"

[[event]]
at = "3m"
do = "link-down"
node = "r2"

[[event]]
at = "4m"
do = "LINK-UP"
node = "r1"

[[event]]
at = "5m"
do = "partition"
sides = [["primary"], ["r1", "web"], ["r2"]]

[[event]]
at = "6m"
do = "heal"
"#;

/// `REPLICATED` with each `(from, to)` replacement applied; `from` must occur exactly once.
fn replicated(edits: &[(&str, &str)]) -> String {
    edits
        .iter()
        .fold(REPLICATED.to_string(), |text, (from, to)| {
            assert_eq!(
                text.matches(from).count(),
                1,
                "edit target {from:?} is not unique"
            );
            text.replacen(from, to, 1)
        })
}

const SENTINEL_TABLE: &str = "[sentinel]\nhosts = [\"primary\", \"r1\", \"r2\", \"r2\"]\nquorum = 3\ndown-after-milliseconds = 5000\nfailover-timeout = 60000\nparallel-syncs = 2\n";

#[test]
fn replication_sentinel_connections_and_faults_are_read() {
    let config = parse_with(REPLICATED, &[], None).unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(
        config.server,
        ServerConfig {
            repl_timeout_s: 30,
            repl_diskless_sync_delay_s: 0,
            min_replicas_to_write: 1,
            min_replicas_max_lag_s: 5,
            replica_serve_stale_data: false,
            replica_read_only: false,
            ..ServerConfig::default()
        }
    );
    let bandwidths: Vec<u64> = config
        .replicas
        .iter()
        .map(|replica| replica.bandwidth_bytes_per_s)
        .collect();
    assert_eq!(bandwidths, [100 << 20, DEFAULT_BANDWIDTH_BYTES_PER_S]);
    assert_eq!(
        config.sentinel,
        Some(SentinelConfig {
            hosts: nodes(&[0, 1, 2, 2]),
            quorum: 3,
            down_after_us: 5_000_000,
            failover_timeout_us: 60_000_000,
            parallel_syncs: 2,
        })
    );
    let connections: Vec<ConnectionConfig> = config
        .clients
        .iter()
        .map(|client| client.connection)
        .collect();
    assert_eq!(
        connections,
        [
            ConnectionConfig {
                discovery: Discovery::Sentinel { every_us: 250_000 },
                wait: Some(WaitConfig {
                    replicas: 1,
                    timeout_us: 100_000
                }),
            },
            ConnectionConfig {
                discovery: Discovery::Fixed,
                wait: None,
            },
        ]
    );
    let minute = 60_000_000;
    let expected = [
        EventAction::Pause { node: 0 },
        EventAction::Resume { node: 0 },
        EventAction::LinkDown { node: 2 },
        EventAction::LinkUp { node: 1 },
        // legacy is not named, so it is on the first side.
        EventAction::Partition(Partition {
            node_side: vec![0, 1, 2],
            client_side: vec![1, 0],
        }),
        EventAction::Heal,
    ];
    let expected: Vec<EventConfig> = expected
        .into_iter()
        .zip(1..)
        .map(|(action, minutes)| EventConfig {
            at_us: minutes * minute,
            action,
        })
        .collect();
    assert_eq!(config.events, expected);
}

#[test]
fn sentinel_placement_and_defaults() {
    let read = |sentinel: &str| {
        let text = replicated(&[(SENTINEL_TABLE, sentinel)]);
        parse_with(&text, &[], None)
            .unwrap_or_else(|error| panic!("{error}"))
            .sentinel
    };
    // One beside each node, quorum a majority, Sentinel's own timings.
    assert_eq!(read("[sentinel]\n"), Some(SentinelConfig::beside_each(3)));
    assert_eq!(
        read("[sentinel]\n").map(|sentinel| (sentinel.hosts, sentinel.quorum)),
        Some((nodes(&[0, 1, 2]), 2))
    );
    // Round-robin over primary, r1, r2.
    let five = read("[sentinel]\nsentinels = 5\n").expect("a Sentinel config");
    assert_eq!((five.hosts, five.quorum), (nodes(&[0, 1, 2, 0, 1]), 3));
    assert_eq!(
        (
            five.down_after_us,
            five.failover_timeout_us,
            five.parallel_syncs
        ),
        (30_000_000, 180_000_000, 1)
    );
    let two = read("[sentinel]\nhosts = [\"r2\", \"r2\"]\n").expect("a Sentinel config");
    assert_eq!((two.hosts, two.quorum), (nodes(&[2, 2]), 2));
    // A Sentinel on a client's machine (an application server).
    let app =
        read("[sentinel]\nhosts = [\"primary\", \"r1\", \"web\"]\n").expect("a Sentinel config");
    assert_eq!(
        app.hosts,
        vec![
            SentinelHost::Node(0),
            SentinelHost::Node(1),
            SentinelHost::Client(0)
        ]
    );
    assert_eq!(read(""), None);
}

#[test]
fn connections_default_and_apply_to_trace_clients() {
    let text = replicated(&[
        ("discovery-delay = \"250ms\"\n", ""),
        ("wait = { replicas = 1, timeout = \"100ms\" }\n", ""),
    ]);
    let config = parse_with(&text, &[], None).unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(config.clients[0].connection, ConnectionConfig::default());
    assert_eq!(
        config.clients[0].connection.discovery,
        Discovery::Sentinel {
            every_us: 1_000_000
        }
    );
    let folder = TraceFolder::new();
    let text = traced(&[(
        "db = 2\n",
        "db = 2\ndiscovery = \"Sentinel\"\ndiscovery-delay = \"2s\"\nwait = { replicas = 2, timeout = \"1s\" }\n",
    )]);
    let config = folder
        .parse(&text, &["client.lirs.discovery=fixed"])
        .unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(
        config.clients[0].connection,
        ConnectionConfig {
            discovery: Discovery::Sentinel {
                every_us: 2_000_000
            },
            wait: Some(WaitConfig {
                replicas: 2,
                timeout_us: 1_000_000
            }),
        }
    );
    assert_eq!(config.clients[1].connection.discovery, Discovery::Fixed);
}

#[test]
fn overrides_reach_sentinel_replicas_and_sides() {
    let sets = [
        "sentinel.quorum=2",
        "sentinel.parallel-syncs=4",
        "replica.r1.bandwidth=1gb",
        "replica.1.bandwidth=10mb",
        "server.min-replicas-to-write=2",
        "client.web.wait={ replicas = 2, timeout = \"1s\" }",
        "event.4.sides=[[\"r1\"], [\"primary\", \"legacy\"]]",
    ];
    let config = parse_with(REPLICATED, &sets, None).unwrap_or_else(|error| panic!("{error}"));
    let sentinel = config.sentinel.expect("a Sentinel config");
    assert_eq!((sentinel.quorum, sentinel.parallel_syncs), (2, 4));
    assert_eq!(
        (
            config.replicas[0].bandwidth_bytes_per_s,
            config.replicas[1].bandwidth_bytes_per_s
        ),
        (1 << 30, 10 << 20)
    );
    assert_eq!(config.server.min_replicas_to_write, 2);
    assert_eq!(
        config.clients[0].connection.wait,
        Some(WaitConfig {
            replicas: 2,
            timeout_us: 1_000_000
        })
    );
    assert_eq!(
        config.events[4].action,
        EventAction::Partition(Partition {
            node_side: vec![1, 0, 0],
            client_side: vec![0, 1],
        })
    );
    // Setting a [sentinel] key on a file without one turns Sentinel on.
    let text = replicated(&[(SENTINEL_TABLE, "")]);
    let config = parse_with(&text, &["sentinel.sentinels=3"], None)
        .unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(
        config
            .sentinel
            .map(|sentinel| (sentinel.hosts, sentinel.quorum)),
        Some((nodes(&[0, 1, 2]), 2))
    );
    let cases: &[(&[&str], &str, &str)] = &[
        (&["sentinel.quorum=9"], "sentinel.quorum", "--set sentinel.quorum=9: sentinel.quorum: expected an integer from 1 to 4, found 9: there are 4 Sentinels"),
        (&["sentinel.sentinels=2"], "sentinel.sentinels", "expected either hosts (where each Sentinel runs) or sentinels (how many, placed round-robin), found both"),
        (&["replica.r9.bandwidth=1gb"], "", "--set replica.r9.bandwidth=1gb: no replica `r9`: the scenario's replicas are r1, r2 (by index 0 to 1)"),
        (&["event.4.sides=[[\"r1\"]]"], "event[4].sides", "expected 2 to 16 sides"),
    ];
    for (sets, field, message) in cases {
        let error = parse_with(REPLICATED, sets, None).expect_err("a bad override");
        let rendered = error.to_string();
        assert!(
            error.field() == *field && rendered.contains(message) && error.line().is_none(),
            "{sets:?}: expected {field:?} containing {message:?}\n  got {:?} {rendered}",
            error.field()
        );
    }
}

#[test]
fn broken_replication_scenarios_name_the_place_field_and_problem() {
    let no_replicas = "[[replica]]\nname = \"r1\"\nbandwidth = \"100mb\"\n\n[[replica]]\nname = \"r2\"\nreplica-priority = 50\n\n";
    let cases: Vec<(String, P, &str, &str)> = vec![
    // [server]
    (replicated(&[("repl-timeout = 30", "repl-timeout = 0")]), P(7, 16), "server.repl-timeout", "expected an integer from 1 to 3600, found 0"),
    (replicated(&[("repl-diskless-sync-delay = 0", "repl-diskless-sync-delay = -1")]), P(8, 28), "server.repl-diskless-sync-delay", "expected an integer from 0 to 3600, found -1"),
    (replicated(&[("min-replicas-to-write = 1", "min-replicas-to-write = 17")]), P(9, 25), "server.min-replicas-to-write", "expected an integer from 0 to 16, found 17"),
    (replicated(&[("min-replicas-max-lag = 5", "min-replicas-max-lag = \"5s\"")]), P(10, 24), "server.min-replicas-max-lag", "expected an integer from 1 to 3600, found \"5s\""),
    (replicated(&[("replica-serve-stale-data = false", "replica-serve-stale-data = \"no\"")]), P(11, 28), "server.replica-serve-stale-data", "expected true or false, found \"no\""),
    (replicated(&[("replica-read-only = false", "replica-read-only = 0")]), P(12, 21), "server.replica-read-only", "expected true or false, found 0"),
    // [[replica]]
    (replicated(&[("bandwidth = \"100mb\"", "bandwidth = \"512b\"")]), P(16, 13), "replica[0].bandwidth", "expected a bandwidth from 1kb to 100gb (bytes per second), found \"512b\""),
    (replicated(&[("bandwidth = \"100mb\"", "bandwidth = \"101gb\"")]), P(16, 13), "replica[0].bandwidth", "found \"101gb\""),
    (replicated(&[("bandwidth = \"100mb\"", "bandwidth = \"100mb/s\"")]), P(16, 13), "replica[0].bandwidth", "expected a size such as 100 (bytes), \"64mb\" or \"1gb\", found \"100mb/s\": unknown unit \"mb/s\""),
    // [sentinel]
    (replicated(&[(no_replicas, "")]), P(14, 1), "sentinel", "Sentinel needs at least one [[replica]] to promote"),
    (replicated(&[("quorum = 3", "quorum = 5")]), P(24, 10), "sentinel.quorum", "expected an integer from 1 to 4, found 5: there are 4 Sentinels"),
    (replicated(&[("quorum = 3", "quorum = 0")]), P(24, 10), "sentinel.quorum", "expected an integer from 1 to 4, found 0"),
    (replicated(&[("quorum = 3", "quorum = 3\nsentinels = 3")]), P(25, 13), "sentinel.sentinels", "expected either hosts (where each Sentinel runs) or sentinels (how many, placed round-robin), found both"),
    (replicated(&[("hosts = [\"primary\", \"r1\", \"r2\", \"r2\"]", "sentinels = 33")]), P(23, 13), "sentinel.sentinels", "expected an integer from 1 to 32, found 33"),
    (replicated(&[("\"r1\", \"r2\", \"r2\"]", "\"r1\", \"r3\", \"r2\"]")]), P(23, 27), "sentinel.hosts[2]", "expected a node or client name (one of \"primary\", \"r1\", \"r2\", \"web\", \"legacy\"), found \"r3\""),
    (replicated(&[("hosts = [\"primary\", \"r1\", \"r2\", \"r2\"]", "hosts = []")]), P(23, 9), "sentinel.hosts", "expected 1 to 32 node or client names (one per Sentinel), found an empty list"),
    (replicated(&[("hosts = [\"primary\", \"r1\", \"r2\", \"r2\"]", "hosts = \"primary\"")]), P(23, 9), "sentinel.hosts", "expected a sequence"),
    (replicated(&[("down-after-milliseconds = 5000", "down-after-milliseconds = 0")]), P(25, 27), "sentinel.down-after-milliseconds", "expected an integer from 1 to 3600000, found 0"),
    (replicated(&[("failover-timeout = 60000", "failover-timeout = \"60s\"")]), P(26, 20), "sentinel.failover-timeout", "expected an integer from 1 to 86400000, found \"60s\""),
    (replicated(&[("parallel-syncs = 2", "parallel-syncs = 17")]), P(27, 18), "sentinel.parallel-syncs", "expected an integer from 1 to 16, found 17"),
    (replicated(&[("quorum = 3", "quorom = 3")]), P(24, 1), "sentinel.quorom", "unknown field `quorom`, expected one of `hosts`, `sentinels`, `quorum`, `down-after-milliseconds`, `failover-timeout`, `parallel-syncs`"),
    // [[client]]
    (replicated(&[("discovery = \"fixed\"", "discovery = \"fixed\"\ndiscovery-delay = \"1s\"")]), P(43, 19), "client[1].discovery-delay", "`discovery-delay` does not apply to discovery = \"fixed\": the client keeps the address it started with and never asks a Sentinel"),
    (replicated(&[("discovery = \"fixed\"", "discovery = \"dns\"")]), P(42, 13), "client[1].discovery", "expected one of \"sentinel\", \"fixed\", found \"dns\""),
    (replicated(&[("discovery-delay = \"250ms\"", "discovery-delay = \"2h\"")]), P(34, 19), "client[0].discovery-delay", "expected a duration from 1us to 1h, found \"2h\""),
    (replicated(&[("discovery-delay = \"250ms\"", "discovery-delay = 0")]), P(34, 19), "client[0].discovery-delay", "expected a duration from 1us to 1h, found 0"),
    (replicated(&[("replicas = 1,", "replicas = 0,")]), P(35, 21), "client[0].wait.replicas", "expected an integer from 1 to 16, found 0"),
    (replicated(&[("timeout = \"100ms\"", "timeout = \"2m\"")]), P(35, 34), "client[0].wait.timeout", "expected a duration from 1us to 1m, found \"2m\""),
    (replicated(&[("timeout = \"100ms\"", "timeout = 100")]), P(35, 34), "client[0].wait.timeout", "expected a duration such as \"30s\", \"500ms\" or \"2m30s\", found 100"),
    (replicated(&[(", timeout = \"100ms\"", "")]), P(35, 8), "client[0].wait", "missing field `timeout`"),
    (replicated(&[("timeout = \"100ms\" }", "timeout = \"100ms\", acks = 1 }")]), P(35, 43), "client[0].wait.acks", "unknown field `acks`, expected `replicas` or `timeout`"),
    // [[event]]
    (replicated(&[("node = \"r2\"\n", "")]), P(53, 1), "event[2]", "missing field `node` (do = \"link-down\" needs node)"),
    (replicated(&[("do = \"LINK-UP\"\nnode = \"r1\"", "do = \"LINK-UP\"\nnode = \"r3\"")]), P(61, 8), "event[3].node", "expected one of \"primary\", \"r1\", \"r2\", found \"r3\""),
    (replicated(&[("do = \"pause\"", "do = \"pause\"\nnode = \"web\"")]), P(47, 8), "event[0].node", "expected one of \"primary\", \"r1\", \"r2\", found \"web\""),
    (replicated(&[("do = \"heal\"", "do = \"heal\"\nnode = \"r1\"")]), P(71, 8), "event[5].node", "`node` does not apply to do = \"heal\", which takes none"),
    (replicated(&[("do = \"resume\"", "do = \"resume\"\nsides = []")]), P(51, 9), "event[1].sides", "`sides` does not apply to do = \"resume\", which takes node"),
    (replicated(&[("sides = [[\"primary\"], [\"r1\", \"web\"], [\"r2\"]]\n", "")]), P(63, 1), "event[4]", "missing field `sides` (do = \"partition\" needs sides = [[\"primary\", \"web\"], [\"r1\"]]: arrays of node and client names)"),
    (replicated(&[("[\"r1\", \"web\"]", "[\"r1\", \"x\"]")]), P(66, 30), "event[4].sides[1][1]", "expected a node or client name (one of \"primary\", \"r1\", \"r2\", \"web\", \"legacy\"), found \"x\""),
    (replicated(&[("[\"r1\", \"web\"]", "[\"r1\", 7]")]), P(66, 30), "event[4].sides[1][1]", "found 7"),
    (replicated(&[("[\"r2\"]]", "[\"r2\", \"web\"]]")]), P(66, 45), "event[4].sides[2][1]", "expected a name on one side only, found \"web\": it is already in sides[1]"),
    (replicated(&[("[\"r1\", \"web\"]", "[\"r1\", \"r1\"]")]), P(66, 30), "event[4].sides[1][1]", "expected a name on one side only, found \"r1\": it is already in sides[1]"),
    (replicated(&[("sides = [[\"primary\"], [\"r1\", \"web\"], [\"r2\"]]", "sides = [[\"primary\", \"r1\"]]")]), P(66, 9), "event[4].sides", "expected 2 to 16 sides, such as [[\"primary\", \"web\"], [\"r1\"]], found 1"),
    (replicated(&[("[\"r2\"]]", "[]]")]), P(66, 38), "event[4].sides[2]", "expected at least one node or client name, found an empty list"),
    (replicated(&[("sides = [[\"primary\"], [\"r1\", \"web\"], [\"r2\"]]", "sides = [\"primary\", \"r1\"]")]), P(66, 10), "event[4].sides[0]", "expected a sequence"),
    // A client named like a node makes the name ambiguous wherever it is used: first in hosts.
    (replicated(&[("name = \"legacy\"", "name = \"r2\"")]), P(23, 27), "sentinel.hosts[2]", "expected a name that means one node or one client, found \"r2\": replica[1] and client[1] are both called that"),
    (replicated(&[("name = \"legacy\"", "name = \"r2\""), ("hosts = [\"primary\", \"r1\", \"r2\", \"r2\"]", "sentinels = 4")]), P(66, 39), "event[4].sides[2][0]", "expected a name that means one node or one client, found \"r2\": replica[1] and client[1] are both called that"),
    ];
    assert_located(&cases, |text| parse_with(text, &[], None));
}

#[test]
fn mangled_replication_files_never_panic() {
    let mut random = Lcg(0xfa11);
    let replacements = b"\"'=[]{},.#\n -0123456789aZ_\t";
    let mutants = (0..REPLICATED.len())
        .step_by(5)
        .map(|end| REPLICATED[..end].to_string())
        .chain((0..200).map(|_| {
            let mut bytes = REPLICATED.as_bytes().to_vec();
            for _ in 0..=random.below(3) {
                let position = random.below(bytes.len());
                bytes[position] = replacements[random.below(replacements.len())];
            }
            String::from_utf8(bytes).expect("ASCII in, ASCII out")
        }))
        .collect::<Vec<_>>();
    for mutant in &mutants {
        match std::panic::catch_unwind(|| parse_with(mutant, &[], None)) {
            Err(_) => panic!("parse panicked on:\n{mutant}"),
            Ok(Ok(_)) => {}
            Ok(Err(error)) => assert!(error.line().is_some(), "no line for {error}\nin:\n{mutant}"),
        }
    }
}

#[test]
fn replica_ignore_maxmemory_is_read_and_defaults_to_yes() {
    let default = parse_with(GOOD, &[], None).unwrap_or_else(|error| panic!("{error}"));
    assert!(default.server.replica_ignore_maxmemory);
    let off = parse_with(GOOD, &["server.replica-ignore-maxmemory=false"], None)
        .unwrap_or_else(|error| panic!("{error}"));
    assert!(!off.server.replica_ignore_maxmemory);
    let error = parse_with(GOOD, &["server.replica-ignore-maxmemory=2"], None)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        error.contains("server.replica-ignore-maxmemory: expected true or false"),
        "{error}"
    );
}

fn nodes(indices: &[usize]) -> Vec<SentinelHost> {
    indices.iter().map(|&n| SentinelHost::Node(n)).collect()
}

#[test]
fn more_clients_than_an_actor_can_name_are_refused() {
    use crate::sim::ledger::Actor;
    let mut text = String::from("[scenario]\nname = \"crowd\"\nseed = 1\nduration = \"1s\"\n");
    for index in 0..=Actor::CLIENTS_MAX {
        text.push_str(&format!(
            "[[client]]\nname = \"c{index}\"\nrate = 1\nkeyspace = {{ keys = 1 }}\ncommands = {{ GET = 1 }}\n"
        ));
    }
    let error = parse_with(&text, &[], None).expect_err("too many clients");
    assert_eq!(error.field(), format!("client[{}]", Actor::CLIENTS_MAX));
    assert!(
        error.to_string().contains("at most 65534 clients"),
        "{error}"
    );
}

// Socket buffers, output-buffer limits and SHUTDOWN.

const STALL: &str = r#"[scenario]
name = "stall"
seed = 1
duration = "20s"

[[replica]]
name = "r1"

[[client]]
name = "w"
rate = 10
keyspace = { keys = 10 }
commands = { SET = 1 }

[[event]]
at = "10s"
do = "shutdown"
flags = "NOSAVE now"
"#;

#[test]
fn socket_buffers_output_limits_and_shutdown_flags_are_read() {
    let sets = [
        "replica.r1.send-buffer=64kb",
        "replica.r1.send-buffer-max=\"128kb\"",
        "replica.r1.receive-buffer=\"4kb\"",
        "server.client-output-buffer-limit=\"replica 10mb 5mb 30\"",
        "server.shutdown-timeout=3",
    ];
    let config = parse_with(STALL, &sets, None).unwrap_or_else(|error| panic!("{error}"));
    let buffers = config.replicas[0].buffers;
    assert_eq!(
        (
            buffers.send_bytes,
            buffers.send_max_bytes,
            buffers.receive_bytes
        ),
        (64 << 10, 128 << 10, 4 << 10)
    );
    let limit = config.server.replica_output_buffer_limit;
    assert_eq!(
        (limit.hard_bytes, limit.soft_bytes, limit.soft_seconds),
        (10 << 20, 5 << 20, 30)
    );
    assert_eq!(config.server.shutdown_timeout_s, 3);
    let EventAction::Shutdown { node: 0, flags } = config.events[0].action else {
        panic!("{:?}", config.events[0].action);
    };
    assert!(flags.nosave && flags.now && !flags.save && !flags.force);
    let defaults = parse_with(STALL, &[], None).unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(defaults.replicas[0].buffers, SocketBuffers::LOOPBACK);
    assert_eq!(
        defaults.server.replica_output_buffer_limit,
        OutputBufferLimit::REPLICA_DEFAULT
    );
    assert_eq!(defaults.server.shutdown_timeout_s, 10);
}

#[test]
fn bad_socket_buffers_limits_and_shutdown_flags_are_refused_by_name() {
    let cases: [(&[&str], &str, &str); 7] = [
        (
            &["event.0.flags=\"nosave later\""],
            "event[0].flags",
            "\"later\" is not one of them",
        ),
        (
            &["event.0.flags=\"save nosave\""],
            "event[0].flags",
            "contradict",
        ),
        (
            &["event.0.flags=\"now now\""],
            "event[0].flags",
            "given twice",
        ),
        (&["event.0.do=\"kill\""], "event[0].flags", "flags"),
        (
            &["replica.r1.send-buffer=\"8mb\""],
            "replica[0].send-buffer",
            "send-buffer-max",
        ),
        (
            &["replica.r1.receive-buffer=\"1kb\""],
            "replica[0].receive-buffer",
            "4kb to 2gb",
        ),
        (
            &["server.client-output-buffer-limit=\"bogus 1mb 1mb 1\""],
            "server.client-output-buffer-limit",
            "is not a client class",
        ),
    ];
    for (sets, field, message) in cases {
        let error = parse_with(STALL, sets, None).expect_err(&format!("{sets:?} accepted"));
        let text = error.to_string();
        assert!(
            text.contains(field) && text.contains(message),
            "{sets:?}: {text}"
        );
    }
}

#[test]
fn maxmemory_clients_and_output_buffer_limits_are_read_from_the_server_table() {
    let default = parse_with(GOOD, &[], None).unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(
        default.server.maxmemory_clients,
        crate::sim::config::MaxmemoryClients::Bytes(0)
    );
    let set = parse_with(
        GOOD,
        &[
            "server.maxmemory-clients=\"5%\"",
            "server.client-output-buffer-limit=\"normal 64kb 0 0\"",
        ],
        None,
    )
    .unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(
        set.server.maxmemory_clients,
        crate::sim::config::MaxmemoryClients::PercentOfMaxmemory(5)
    );
    assert_eq!(set.server.normal_output_buffer_limit.hard_bytes, 64 * 1024);
    let error = parse_with(
        GOOD,
        &["server.client-output-buffer-limit=\"normal 64kb 0\""],
        None,
    )
    .err()
    .map(|e| e.to_string())
    .unwrap_or_default();
    assert!(
        error.contains("server.client-output-buffer-limit: expected groups of <class>"),
        "{error}"
    );
}
