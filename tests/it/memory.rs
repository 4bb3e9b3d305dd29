//! used_memory against the figures measured on Redis 7.0.15 (redis-fidelity.md 3.4), exactly.

use vanish::sim::config::{MaxmemoryPolicy, ServerConfig};
use vanish::sim::keyspace::db::ValueKind;
use vanish::sim::keyspace::memory::{jemalloc_size, sds_bytes, table_size_for};
use vanish::sim::ledger::KeyId;
use vanish::sim::server::{Argument, CommandKind, Reply};

use crate::support::Bench;

#[derive(Clone, Copy)]
enum Value {
    Text(u32),
    Integer(u32),
}

struct Row {
    keys: u64,
    key_len: usize,
    value: Value,
    ttl: bool,
    policy: Option<MaxmemoryPolicy>,
    measured_bytes_per_key: f64,
}

/// The rows of redis-fidelity.md 3.4, MEASURED on Redis 7.0.15 as deltas over an empty server.
fn measured_rows() -> Vec<Row> {
    let row = |keys, key_len, value, ttl, policy, measured| Row {
        keys,
        key_len,
        value,
        ttl,
        policy,
        measured_bytes_per_key: measured,
    };
    vec![
        row(100_000, 10, Value::Text(10), false, None, 90.49),
        row(100_000, 10, Value::Text(10), true, None, 132.97),
        row(100_000, 16, Value::Text(44), false, None, 138.49),
        row(100_000, 16, Value::Text(45), false, None, 154.49),
        row(100_000, 32, Value::Text(100), false, None, 218.49),
        row(100_000, 32, Value::Text(100), true, None, 260.97),
        row(1_000_000, 10, Value::Text(10), false, None, 88.39),
        row(1_000_000, 10, Value::Text(10), true, None, 128.78),
        row(100_000, 10, Value::Integer(42), false, None, 58.49),
        row(
            100_000,
            10,
            Value::Integer(42),
            false,
            Some(MaxmemoryPolicy::AllkeysRandom),
            58.49,
        ),
        row(
            100_000,
            10,
            Value::Integer(42),
            false,
            Some(MaxmemoryPolicy::AllkeysLru),
            74.49,
        ),
        row(
            100_000,
            10,
            Value::Integer(42),
            false,
            Some(MaxmemoryPolicy::AllkeysLfu),
            74.49,
        ),
        row(100_000, 10, Value::Integer(123_456), false, None, 74.49),
    ]
}

/// Loads `row` into a fresh node with key names of exactly `key_len` bytes; returns the
/// used_memory delta once cron has finished the table rehash.
fn load(row: &Row) -> u64 {
    // The measured deltas were taken after SET's first call, so its latency histogram is not in
    // them: leave it out here too.
    let mut server = ServerConfig {
        latency_tracking: false,
        ..ServerConfig::default()
    };
    if let Some(policy) = row.policy {
        server.maxmemory_bytes = 1 << 40;
        server.maxmemory_policy = policy;
    }
    // Ids from 10^(digits-1) all have `digits` digits, so every name has the same length.
    let digits = if row.keys <= 900_000 { 6 } else { 7 };
    let first = 10u64.pow(digits - 1);
    let prefix = "k".repeat(row.key_len - digits as usize);
    let mut bench = Bench::new(server, &prefix, first + row.keys);
    let empty = bench.node.used_memory();
    for id in first..first + row.keys {
        let ttl_ms = row.ttl.then_some(3_600_000);
        match row.value {
            Value::Text(len) => bench.set(id as u32, len, ttl_ms),
            Value::Integer(value) => bench.run(
                vanish::sim::config::CommandKind::Set,
                id as u32,
                Argument::Integer { value, ttl_ms },
            ),
        };
    }
    bench.advance_ms(100);
    bench.cron();
    bench.node.used_memory() - empty
}

/// The formula of redis-fidelity.md 3.4.
fn formula(row: &Row) -> u64 {
    let value_bytes = match row.value {
        Value::Text(len) if len <= 44 => jemalloc_size(u64::from(len) + 20),
        Value::Text(len) => 16 + sds_bytes(u64::from(len)),
        Value::Integer(value) => {
            let shared = value < 10_000 && !row.policy.is_some_and(|p| p.uses_lru_or_lfu());
            if shared {
                0
            } else {
                16
            }
        }
    };
    let per_key = 32 + sds_bytes(row.key_len as u64) + value_bytes + if row.ttl { 32 } else { 0 };
    let mut total = row.keys * per_key + 8 * table_size_for(row.keys);
    if row.ttl {
        total += 8 * table_size_for(row.keys);
    }
    total
}

#[test]
fn used_memory_matches_the_measured_table_exactly() {
    let mut failures = Vec::new();
    for row in measured_rows() {
        let simulated = load(&row);
        let expected = formula(&row);
        let per_key = simulated as f64 / row.keys as f64;
        let rounded = (per_key * 100.0).round() / 100.0;
        if simulated != expected || (rounded - row.measured_bytes_per_key).abs() > 0.005 {
            failures.push(format!(
                "{} keys, key {} B, ttl {}: simulated {simulated} B ({per_key:.2}/key), formula {expected}, measured {:.2}/key",
                row.keys, row.key_len, row.ttl, row.measured_bytes_per_key
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "memory model differs from Redis 7.0.15:\n{}",
        failures.join("\n")
    );
}

#[test]
fn the_table_doubles_at_key_two_to_the_k_plus_one_and_holds_both_arrays() {
    // MEASURED on 7.0.15 here: the 65,537th 10/10 key raised used_memory by 1,048,656 bytes,
    // 1 MiB of new buckets + 80 for the key (redis-fidelity.md says +72; the key costs 80 by its
    // own formula, and the server agrees); 2 s later the old array was freed: +524,368.
    let mut bench = Bench::new(ServerConfig::default(), "kkkk", 200_000);
    for id in 100_000..165_536 {
        bench.set(id, 10, None);
    }
    let before = bench.node.used_memory();
    bench.set(165_536, 10, None);
    assert_eq!(bench.node.used_memory() - before, 1_048_576 + 80);
    // Once the rehash completes, the old 512 KiB array is freed.
    bench.advance_ms(100);
    bench.cron();
    assert_eq!(bench.node.used_memory() - before, 524_288 + 80);
}

#[test]
fn an_empty_server_reports_redis_startup_memory() {
    let bench = Bench::new(ServerConfig::default(), "k", 10);
    assert_eq!(bench.node.used_memory(), 876_216);
}

/// A client's pool of `connections`: its commands go to them in turn, one a second here, so
/// that most sit idle. Each costs what Redis 7.0.15 allocates for it, counted in
/// connected_clients, mem_clients_normal (struct and buffers, as clientsCron last saw them) and
/// used_memory (those plus what lies outside mem_clients_normal), and so toward maxmemory.
#[test]
fn a_pool_of_idle_connections_costs_memory_toward_maxmemory() {
    use vanish::scenario::{self, Overrides};
    use vanish::sim::engine::{run, NoProgress};
    use vanish::sim::keyspace::memory::{CLIENT_IDLE_CONNECTION_BYTES, CLIENT_UNTRACKED_BYTES};
    use vanish::sim::ledger::DiscardLedger;

    // No key is ever written: a GET-only client on an empty server.
    let text = "[scenario]\nname = \"pool\"\nseed = 1\nduration = \"10s\"\n\n\
                [server]\nlatency-tracking = false\n\n\
                [[client]]\nname = \"app\"\nrate = 1\nrate-kind = \"fixed\"\nkeyspace = { keys = 10 }\ncommands = { GET = 1 }\n";
    let node = |connections: u32| {
        let overrides = Overrides {
            seed: None,
            sets: vec![format!("client.app.connections={connections}")],
        };
        let config =
            scenario::parse("pool.toml", text, &overrides).unwrap_or_else(|e| panic!("{e}"));
        let output = run(&config, &mut DiscardLedger, &mut NoProgress);
        output.nodes[0].clone()
    };
    let one = node(1);
    assert_eq!(one.connected_clients, 1);
    // One command a second keeps the query buffer (20 KB) and the 1 KB reply buffer.
    assert_eq!(one.mem_clients_normal, 768 + 20_480 + 1_024);
    assert_eq!(CLIENT_IDLE_CONNECTION_BYTES, 768 + 8 + 1_024);
    for connections in [100, 1_000] {
        let pool = node(connections);
        let extra = u64::from(connections - 1);
        assert_eq!(pool.connected_clients, u64::from(connections));
        // Ten commands went to ten connections; the last two or three still hold their 20 KB
        // query buffer, the others are trimmed.
        let idle_bytes = extra * (CLIENT_IDLE_CONNECTION_BYTES + CLIENT_UNTRACKED_BYTES);
        let grown = pool.used_memory - one.used_memory - idle_bytes;
        assert!(grown <= 3 * 20_480, "{grown}");
        assert!(
            pool.mem_clients_normal - one.mem_clients_normal
                >= extra * CLIENT_IDLE_CONNECTION_BYTES - 20_480,
            "{}",
            pool.mem_clients_normal
        );
    }
    // The pool's memory counts toward maxmemory: with room for the pool of 10 but not of 1,000,
    // the larger pool's GETs are still served (GET is not DENYOOM) but a SET is refused.
    let refused = |connections: u32| {
        let overrides = Overrides {
            seed: None,
            sets: vec![
                format!("client.app.connections={connections}"),
                "client.app.commands={ SET = 1 }".to_string(),
                "server.maxmemory=2mb".to_string(),
            ],
        };
        let config =
            scenario::parse("pool.toml", text, &overrides).unwrap_or_else(|e| panic!("{e}"));
        let output = run(&config, &mut DiscardLedger, &mut NoProgress);
        output.nodes[0].total_error_replies
    };
    assert_eq!(refused(10), 0);
    assert!(refused(1_000) > 0, "2 MB cannot hold 1,000 connections");
}

/// A cache-aside reader pipelining GETs of 4 KB values: each round trip's replies wait in its
/// connection's reply list until written. Returns the primary's INFO, the timeline, and the
/// reads that failed because the server closed the connection.
fn pipelined_reader(sets: &[&str]) -> (vanish::sim::server::info::NodeInfo, Vec<String>, u64) {
    use vanish::scenario::{self, Overrides};
    use vanish::sim::engine::workload::Failure;
    use vanish::sim::engine::{run, NoProgress};
    use vanish::sim::ledger::DiscardLedger;

    let text = "[scenario]\nname = \"burst\"\nseed = 1\nduration = \"20s\"\n\n\
                [server]\nmaxmemory = \"64mb\"\nmaxmemory-policy = \"allkeys-lru\"\n\n\
                [[client]]\nname = \"app\"\nrate = 2000\nrate-kind = \"fixed\"\nconnections = 20\n\
                pipeline = 400\nkeyspace = { keys = 1000 }\ncommands = { GET = 1 }\n\
                value-size = 4096\non-miss = \"set\"\n";
    let overrides = Overrides {
        seed: None,
        sets: sets.iter().map(|set| set.to_string()).collect(),
    };
    let config = scenario::parse("burst.toml", text, &overrides).unwrap_or_else(|e| panic!("{e}"));
    let output = run(&config, &mut DiscardLedger, &mut NoProgress);
    let closed = output.clients[0].1.failed_reads[Failure::Closed];
    let timeline = output
        .timeline
        .iter()
        .map(|(_, what)| what.clone())
        .collect();
    (output.nodes[0].clone(), timeline, closed)
}

/// `maxmemory-clients`: a connection whose pipelined replies take its recorded memory over the
/// limit is evicted (the command under way is not run, the round trip's rest fails), counted in
/// INFO `evicted_clients` and named on the timeline; the pool reconnects. Off by default.
#[test]
fn maxmemory_clients_evicts_the_connection_whose_replies_pile_up() {
    let (off, timeline, closed) = pipelined_reader(&[]);
    assert_eq!((off.evicted_clients, closed), (0, 0));
    assert!(timeline.is_empty(), "{timeline:?}");
    let (on, timeline, closed) = pipelined_reader(&["server.maxmemory-clients=\"1mb\""]);
    assert!(on.evicted_clients > 0);
    assert!(closed > 0);
    assert!(
        timeline
            .iter()
            .any(|what| what.starts_with("primary closed") && what.ends_with("(maxmemory-clients)")),
        "{timeline:?}"
    );
    // Every round trip's 1.6 MB of replies is over the limit: its connection is evicted, and
    // the pool opens a new one for the next, so more are evicted than the pool holds.
    assert!(on.evicted_clients > 20, "{}", on.evicted_clients);
    // 1 % of 64 MB is under the 128 KB floor Redis keeps: the floor applies.
    let (floor, _, _) = pipelined_reader(&["server.maxmemory-clients=\"1%\""]);
    assert!(floor.evicted_clients >= on.evicted_clients);
}

/// `maxclients`: connections past it are refused ("-ERR max number of clients reached") and
/// counted in INFO rejected_connections; a pool keeps the connections it got, and a client that
/// got none fails every command (the server closed its connection) and tries again at its next
/// round trip.
#[test]
fn connections_past_maxclients_are_refused() {
    use vanish::scenario::{self, Overrides};
    use vanish::sim::engine::workload::Failure;
    use vanish::sim::engine::{run, NoProgress};
    use vanish::sim::ledger::DiscardLedger;

    let text = "[scenario]\nname = \"pools\"\nseed = 1\nduration = \"2s\"\n\n\
                [server]\nmaxclients = 30\n\n\
                [[client]]\nname = \"web\"\nrate = 100\nrate-kind = \"fixed\"\n\
                connections = 25\nkeyspace = { keys = 100 }\ncommands = { GET = 1 }\n\n\
                [[client]]\nname = \"batch\"\nrate = 100\nrate-kind = \"fixed\"\n\
                connections = 10\nkeyspace = { keys = 100 }\ncommands = { GET = 1 }\n\n\
                [[client]]\nname = \"third\"\nrate = 100\nrate-kind = \"fixed\"\n\
                keyspace = { keys = 100 }\ncommands = { GET = 1 }\n";
    let config = scenario::parse("pools.toml", text, &Overrides::default())
        .unwrap_or_else(|e| panic!("{e}"));
    let output = run(&config, &mut DiscardLedger, &mut NoProgress);
    let primary = &output.nodes[0];
    assert_eq!(primary.connected_clients, 30);
    let closed = |client: usize| output.clients[client].1.failed_reads[Failure::Closed];
    assert_eq!(
        (closed(0), closed(1)),
        (0, 0),
        "a pool works with what it got"
    );
    let third_reads = output.clients[2].1.reads;
    assert!(third_reads >= 200, "{third_reads}");
    assert_eq!(closed(2), third_reads, "no connection: every read fails");
    // 5 of batch's 10 and the third client's one at the start, then its one again at each
    // of its round trips.
    assert_eq!(primary.rejected_connections, 5 + 1 + third_reads);
}

/// A primary's replicas are clients too (`acceptCommonHandler` counts every client in
/// `server.clients`, replica links included): with two attached, `maxclients = 30` leaves 28
/// connections to the applications.
#[test]
fn replica_links_count_toward_maxclients() {
    use vanish::scenario::{self, Overrides};
    use vanish::sim::engine::{run, NoProgress};
    use vanish::sim::ledger::DiscardLedger;

    let text = |replicas: &str| {
        format!(
            "[scenario]\nname = \"pools\"\nseed = 1\nduration = \"2s\"\n\n\
             [server]\nmaxclients = 30\n\n{replicas}\
             [[client]]\nname = \"web\"\nrate = 100\nrate-kind = \"fixed\"\n\
             connections = 25\nkeyspace = {{ keys = 100 }}\ncommands = {{ GET = 1 }}\n\n\
             [[client]]\nname = \"batch\"\nrate = 100\nrate-kind = \"fixed\"\n\
             connections = 5\nkeyspace = {{ keys = 100 }}\ncommands = {{ GET = 1 }}\n"
        )
    };
    let primary = |replicas: &str| {
        let config = scenario::parse("pools.toml", &text(replicas), &Overrides::default())
            .unwrap_or_else(|e| panic!("{e}"));
        let output = run(&config, &mut DiscardLedger, &mut NoProgress);
        let primary = &output.nodes[0];
        (primary.connected_clients, primary.rejected_connections)
    };
    assert_eq!(primary(""), (30, 0));
    let two = "[[replica]]\nname = \"replica-1\"\n\n[[replica]]\nname = \"replica-2\"\n\n";
    assert_eq!(primary(two), (28, 2), "batch keeps 3 of its 5");
}

/// `maxmemory-clients` set by a `config-set` event: no connection is evicted before it, the
/// pipelined reader's are after it, and the event and the evictions are on the timeline. A
/// value that is neither a size nor a percentage is refused with its field.
#[test]
fn maxmemory_clients_can_be_switched_on_by_config_set() {
    use vanish::scenario::{self, Overrides};
    use vanish::sim::engine::{run, NoProgress};
    use vanish::sim::ledger::DiscardLedger;

    let text = |value: &str| {
        format!(
            "[scenario]\nname = \"burst\"\nseed = 1\nduration = \"20s\"\n\n\
             [server]\nmaxmemory = \"64mb\"\nmaxmemory-policy = \"allkeys-lru\"\n\n\
             [[client]]\nname = \"app\"\nrate = 2000\nrate-kind = \"fixed\"\nconnections = 20\n\
             pipeline = 400\nkeyspace = {{ keys = 1000 }}\ncommands = {{ GET = 1 }}\n\
             value-size = 4096\non-miss = \"set\"\n\n\
             [[event]]\nat = \"10s\"\ndo = \"config-set\"\ndirective = \"maxmemory-clients\"\n\
             value = {value}\n"
        )
    };
    let config = scenario::parse("burst.toml", &text("\"1mb\""), &Overrides::default())
        .unwrap_or_else(|e| panic!("{e}"));
    let output = run(&config, &mut DiscardLedger, &mut NoProgress);
    assert!(output.nodes[0].evicted_clients > 0);
    let evictions: Vec<u64> = output
        .timeline
        .iter()
        .filter(|(_, what)| what.ends_with("(maxmemory-clients)"))
        .map(|(at_us, _)| *at_us)
        .collect();
    assert!(!evictions.is_empty());
    assert!(
        evictions.iter().all(|&at_us| at_us >= 10_000_000),
        "{evictions:?}"
    );
    assert!(output
        .timeline
        .iter()
        .any(|(_, what)| what == "config-set maxmemory-clients 1048576"));
    let error = scenario::parse("burst.toml", &text("\"lots\""), &Overrides::default())
        .expect_err("not a size");
    assert!(error.to_string().contains("event[0].value"), "{error}");
}

/// `client-output-buffer-limit normal`: past the hard limit the connection is closed as the
/// reply list grows; the timeline says so, INFO's evicted_clients does not count it.
#[test]
fn a_normal_output_buffer_limit_closes_the_connection_over_it() {
    let (info, timeline, closed) =
        pipelined_reader(&["server.client-output-buffer-limit=\"normal 256kb 0 0\""]);
    assert_eq!(info.evicted_clients, 0);
    assert!(closed > 0);
    assert!(
        timeline
            .iter()
            .any(|what| what.ends_with("(client-output-buffer-limit normal)")),
        "{timeline:?}"
    );
}

/// A client's pool lives on the primary it believes in: after Sentinel promotes the replica the
/// pool is open there, and a crashed primary that restarts has no connection left (they died
/// with its process) until a client comes back to it.
#[test]
fn pools_follow_the_promoted_primary_and_die_with_a_process() {
    use vanish::scenario::{self, Overrides};
    use vanish::sim::engine::{run, NoProgress};
    use vanish::sim::ledger::DiscardLedger;

    let text = "[scenario]\nname = \"pools\"\nseed = 3\nduration = \"3m\"\n\n\
                [[replica]]\nname = \"replica-1\"\n\n\
                [sentinel]\nhosts = [\"primary\", \"replica-1\", \"app\"]\nquorum = 2\n\n\
                [[client]]\nname = \"app\"\nrate = 100\nconnections = 25\n\
                keyspace = { keys = 1000 }\ncommands = { SET = 1 }\n\n\
                [[event]]\nat = \"30s\"\ndo = \"crash\"\n\n\
                [[event]]\nat = \"2m\"\ndo = \"restart\"\nnode = \"primary\"\n";
    let config = scenario::parse("pools.toml", text, &Overrides::default())
        .unwrap_or_else(|e| panic!("{e}"));
    let output = run(&config, &mut DiscardLedger, &mut NoProgress);
    let (primary, replica) = (&output.nodes[0], &output.nodes[1]);
    assert!(
        output
            .timeline
            .iter()
            .any(|(_, what)| what.contains("promoted")),
        "{:?}",
        output.timeline
    );
    assert_eq!(
        replica.connected_clients, 25,
        "the pool moved to the new primary"
    );
    assert_eq!(
        primary.connected_clients, 0,
        "the restarted process has no client"
    );
    assert!(replica.mem_clients_normal > 0);
}

/// INCRBY, DECRBY and INCRBYFLOAT by their amount (a MONITOR replay carries it): the result's
/// encoding and size are Redis's (7.0.15: INCRBY 100000 → int, not a shared integer; DECRBY 5
/// of nothing → -5; INCRBYFLOAT 5.0e3 of nothing → the embstr "5000").
#[test]
fn increments_store_the_value_redis_stores() {
    let mut bench = Bench::new(ServerConfig::default(), "k", 5);
    let kind = |bench: &Bench, key: u32| bench.node.db(0).slot(KeyId(key)).kind();
    let by = |by: i64| Argument::Increment { by };
    assert_eq!(
        bench.run(CommandKind::Incr, 0, Argument::None),
        Reply::Integer(1)
    );
    assert_eq!(kind(&bench, 0), ValueKind::SharedInt);
    assert_eq!(
        bench.run(CommandKind::Incrby, 0, by(99_999)),
        Reply::Integer(100_000)
    );
    assert_eq!(kind(&bench, 0), ValueKind::Int);
    assert_eq!(
        bench.run(CommandKind::Decrby, 1, by(-5)),
        Reply::Integer(-5)
    );
    assert_eq!(
        kind(&bench, 1),
        ValueKind::Int,
        "negative integers are never shared"
    );
    assert_eq!(
        bench.run(CommandKind::Decr, 1, Argument::None),
        Reply::Integer(-6)
    );
    // APPEND counts the digits and the sign: "-6" + "xy" is 4 long.
    let appended = Argument::Value {
        len: 2,
        ttl_ms: None,
    };
    assert_eq!(
        bench.run(CommandKind::Append, 1, appended),
        Reply::Integer(4)
    );

    let float = Argument::FloatIncrement {
        bits: 5.0e3_f64.to_bits(),
    };
    assert_eq!(bench.run(CommandKind::Incrbyfloat, 2, float), Reply::Ok);
    bench.set(3, 4, None);
    let stored = |bench: &Bench, key: u32| *bench.node.db(0).slot(KeyId(key));
    assert_eq!(kind(&bench, 2), ValueKind::Embstr);
    assert_eq!(
        stored(&bench, 2).value_bytes(),
        stored(&bench, 3).value_bytes()
    );
}
