//! Replication: a real primary and replica against a simulated pair (redis-fidelity.md 4, 2.6
//! and 7).
//!
//! Each test starts its own pair of servers: the replica is pointed at the primary with
//! `REPLICAOF 127.0.0.1 <port>` (the harness passes each `--name value` as one argument, and
//! `--replicaof` needs two), and the test waits until the replica reports
//! `master_link_status:up` and the primary shows it `state=online`. The primary runs with
//! `repl-diskless-sync no`: after a disk-based transfer Redis streams commands to a replica as
//! soon as it is online, while after Debian 7.0's default diskless transfer it holds the stream
//! until the replica's first `REPLCONF ACK` (up to a second later) although INFO already says
//! `state=online` ("Waiting for REPLCONF ACK from slave to enable streaming" in the log), and
//! a test would not know when its first write reaches the replica. Nothing else differs from
//! the defaults except where a test says so.

use std::thread;
use std::time::{Duration, Instant};

use vanish::sim::cluster::replication::{PrimaryStream, ReplicaState};
use vanish::sim::config::{CommandKind, ServerConfig};
use vanish::sim::ledger::Ledger;
use vanish::sim::ledger::{Actor, DiscardLedger, KeyId};
use vanish::sim::server::{Argument, Reply, Request, Role};

use crate::redis::{Connection, Info, RedisServer, Reply as Resp};
use crate::sim::{Family, SimNode};
use crate::table::Table;

/// How long the replica may take to sync and go online, or to catch up with the primary.
const LINK_TIMEOUT: Duration = Duration::from_secs(20);

/// A real primary and its replica, linked and in sync.
struct RealPair {
    primary: Connection,
    replica: Connection,
    primary_server: RedisServer,
    _replica_server: RedisServer,
}

impl RealPair {
    /// Starts both servers (`primary_config` added to the primary's) and links them.
    fn start(primary_config: &[(&str, &str)]) -> RealPair {
        let mut config = vec![("repl-diskless-sync", "no")];
        config.extend_from_slice(primary_config);
        let primary_server = RedisServer::start(&config);
        let replica_server = RedisServer::start(&[]);
        let mut primary = primary_server.connect();
        let mut replica = replica_server.connect();
        let port = primary_server.port.to_string();
        replica.must(&["REPLICAOF", "127.0.0.1", port.as_str()]);
        let deadline = Instant::now() + LINK_TIMEOUT;
        loop {
            let link = replica.info("replication");
            let attached = primary.info("replication");
            let online = attached.subfields("slave0").get("state").cloned();
            if link.get("master_link_status") == Some("up") && online.as_deref() == Some("online") {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the replica did not come online within {LINK_TIMEOUT:?}: replica {:?}, \
                 primary slave0 {:?}",
                link.get("master_link_status"),
                attached.get("slave0")
            );
            thread::sleep(Duration::from_millis(20));
        }
        let mut pair = RealPair {
            primary,
            replica,
            primary_server,
            _replica_server: replica_server,
        };
        pair.sync();
        pair
    }

    /// The primary's `master_repl_offset`.
    fn offset(&mut self) -> u64 {
        self.primary.info("replication").u64("master_repl_offset")
    }

    /// Waits until the replica has processed everything the primary has streamed so far.
    fn sync(&mut self) {
        let target = self.offset();
        let deadline = Instant::now() + LINK_TIMEOUT;
        loop {
            let applied = self.replica.info("replication").u64("slave_repl_offset");
            if applied >= target {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the replica stayed at offset {applied}, the primary is at {target}"
            );
            thread::sleep(Duration::from_millis(5));
        }
    }

    fn version(&self) -> &'static str {
        self.primary_server.version()
    }
}

/// A simulated primary (one replica attached) over `families`.
fn sim_primary(config: ServerConfig, families: &[Family]) -> SimNode {
    let mut sim = SimNode::new(config, families);
    sim.node
        .set_role(Role::Primary(PrimaryStream::new(2, 0, 0)));
    sim
}

/// A simulated replica over `families`, built as the engine builds a scenario's replica
/// without `replica-priority` (100, Redis's default). `ReplicaState::default()` alone has
/// priority 0, which INFO would print as `slave_priority:0`.
fn sim_replica(families: &[Family]) -> SimNode {
    let mut sim = SimNode::new(ServerConfig::default(), families);
    sim.node.set_role(Role::Replica(ReplicaState {
        priority: 100,
        ..ReplicaState::default()
    }));
    sim
}

/// The simulated primary's `master_repl_offset`.
fn stream_offset(sim: &SimNode) -> u64 {
    sim.node.stream().expect("a primary").offset
}

/// One command in database `db` at the node's current time, then `beforeSleep`.
fn execute(
    sim: &mut SimNode,
    db: u32,
    command: CommandKind,
    key: KeyId,
    argument: Argument,
) -> Reply {
    let request = Request {
        client: Actor::client(0),
        db,
        command,
        key,
        argument,
        client_wrote_key: false,
        next_use: 0,
        primary_has_key: false,
        flags: 0,
    };
    let mut sink = DiscardLedger;
    let mut ledger = Ledger::new(&mut sink, sim.keys.families().len());
    sim.node.set_time(sim.now_us);
    let reply = sim.node.execute(&request, &mut ledger);
    sim.node.before_sleep(&mut ledger);
    reply
}

/// FLUSHDB on database `db`.
fn flushdb(sim: &mut SimNode, db: u32) {
    let mut sink = DiscardLedger;
    let mut ledger = Ledger::new(&mut sink, sim.keys.families().len());
    sim.node.set_time(sim.now_us);
    sim.node.count_command(CommandKind::Flushdb);
    sim.node.flush_db(db, false, Actor::client(0), &mut ledger);
}

fn show_real(reply: &Resp) -> String {
    match reply {
        Resp::Simple(text) => text.clone(),
        Resp::Error(error) => format!("-{error}"),
        Resp::Integer(n) => n.to_string(),
        Resp::Bulk(None) => "nil".to_string(),
        Resp::Bulk(Some(bytes)) => format!("\"{}\"", String::from_utf8_lossy(bytes)),
        Resp::Array(_) => format!("{reply:?}"),
    }
}

fn show_sim(reply: Reply) -> String {
    match reply {
        Reply::Ok => "OK".to_string(),
        Reply::Hit => "hit".to_string(),
        Reply::Miss => "nil".to_string(),
        Reply::Integer(n) => n.to_string(),
        Reply::Continued => "continued".to_string(),
        Reply::Error(error) => format!("-{}", error.prefix()),
    }
}

// ---------------------------------------------------------------------------------------------
// 1. Offsets, byte for byte.

/// What the simulated primary does for one step of a sequence.
enum Action {
    Command(CommandKind, KeyId, Argument),
    /// SELECT: the connection's database changes; nothing is propagated.
    Select(u32),
    FlushDb,
}

/// One step: the command sent to the real primary and its simulated counterpart.
struct Step {
    real: Vec<String>,
    action: Action,
}

/// The key families of the offset sequences: every name is the one vanish generates, so
/// lengths agree by construction (fo0..fo9, ctr0, h0, l0, s0, z0, nokey0).
const FAMILIES: [Family; 7] = [
    Family {
        prefix: "fo",
        count: 10,
    },
    Family {
        prefix: "ctr",
        count: 1,
    },
    Family {
        prefix: "h",
        count: 1,
    },
    Family {
        prefix: "l",
        count: 1,
    },
    Family {
        prefix: "s",
        count: 1,
    },
    Family {
        prefix: "z",
        count: 1,
    },
    Family {
        prefix: "nokey",
        count: 1,
    },
];
const FO: usize = 0;
const CTR: usize = 1;
const HASH: usize = 2;
const LIST: usize = 3;
const SET: usize = 4;
const ZSET: usize = 5;
const NOKEY: usize = 6;

/// Builds steps whose real arguments name the simulated keys.
struct Steps<'a> {
    sim: &'a SimNode,
    steps: Vec<Step>,
}

impl<'a> Steps<'a> {
    fn new(sim: &'a SimNode) -> Steps<'a> {
        Steps {
            sim,
            steps: Vec::new(),
        }
    }

    /// `name`, then the key of `family` and `id`, then `rest`.
    fn command(
        &mut self,
        name: &str,
        (family, id): (usize, u64),
        rest: &[&str],
        command: CommandKind,
        argument: Argument,
    ) -> &mut Self {
        let key = self.sim.key(family, id);
        let mut real = vec![name.to_string(), self.sim.name(key)];
        real.extend(rest.iter().map(|word| word.to_string()));
        self.steps.push(Step {
            real,
            action: Action::Command(command, key, argument),
        });
        self
    }

    fn select(&mut self, db: u32) -> &mut Self {
        self.steps.push(Step {
            real: vec!["SELECT".to_string(), db.to_string()],
            action: Action::Select(db),
        });
        self
    }

    fn flushdb(&mut self) -> &mut Self {
        self.steps.push(Step {
            real: vec!["FLUSHDB".to_string()],
            action: Action::FlushDb,
        });
        self
    }
}

fn value(len: u32, ttl_ms: Option<u64>) -> Argument {
    Argument::Value { len, ttl_ms }
}

/// Runs `build`'s steps on a real pair and a simulated primary, one at a time, reading each
/// side's offset after every step, and checks every per-step delta is equal.
///
/// The primary runs with `repl-ping-replica-period 3600`: Redis sends its PING when its 1 Hz
/// replication cron's loop count is a multiple of the period, counted from server start, so
/// with the default 10 s one can fall inside even a sequence far shorter than 10 s. With 3600
/// none is sent during the test, so every byte of every delta belongs to the command.
fn compare_offsets(title: &str, build: impl FnOnce(&mut Steps)) {
    let mut pair = RealPair::start(&[("repl-ping-replica-period", "3600")]);
    let mut sim = sim_primary(ServerConfig::default(), &FAMILIES);
    let steps = {
        let mut steps = Steps::new(&sim);
        build(&mut steps);
        steps.steps
    };
    let mut table = Table::new(
        &format!("{title} ({})", pair.version()),
        &[
            "command on the primary",
            "real reply",
            "vanish reply",
            "real bytes",
            "vanish bytes",
        ],
    );
    let (real_start, sim_start) = (pair.offset(), stream_offset(&sim));
    let (mut real_before, mut sim_before) = (real_start, sim_start);
    let mut db = 0;
    for step in &steps {
        let real_reply = pair.primary.must(&step.real);
        let real_after = pair.offset();
        sim.advance_ms(1);
        let sim_reply = match step.action {
            Action::Command(command, key, argument) => {
                show_sim(execute(&mut sim, db, command, key, argument))
            }
            Action::Select(to) => {
                db = to;
                "OK".to_string()
            }
            Action::FlushDb => {
                flushdb(&mut sim, db);
                "OK".to_string()
            }
        };
        let sim_after = stream_offset(&sim);
        let (real_bytes, sim_bytes) = (real_after - real_before, sim_after - sim_before);
        table.row(
            vec![
                step.real.join(" "),
                show_real(&real_reply),
                sim_reply,
                real_bytes.to_string(),
                sim_bytes.to_string(),
            ],
            real_bytes == sim_bytes,
        );
        (real_before, sim_before) = (real_after, sim_after);
    }
    let (real_total, sim_total) = (real_before - real_start, sim_before - sim_start);
    table.row(
        vec![
            "total".to_string(),
            String::new(),
            String::new(),
            real_total.to_string(),
            sim_total.to_string(),
        ],
        real_total == sim_total,
    );
    // The replica processes exactly the bytes the primary counted.
    pair.sync();
    let replica_offset = pair.replica.info("replication").u64("slave_repl_offset");
    let primary_offset = pair.offset();
    table.row(
        vec![
            "replica slave_repl_offset = primary master_repl_offset".to_string(),
            String::new(),
            String::new(),
            format!("{replica_offset} = {primary_offset}"),
            String::new(),
        ],
        replica_offset == primary_offset,
    );
    table.check(
        "exact: the master_repl_offset delta of every command equals vanish's stream offset \
         delta (no PING can fall inside: repl-ping-replica-period 3600)",
    );
}

#[test]
fn offsets_count_the_propagated_bytes_of_every_command() {
    // redis-fidelity 4: SET with EX/PX is propagated as SET key value PXAT <ms>, EXPIRE as
    // PEXPIREAT <ms>, a SELECT comes first whenever the database changes, a write that changes
    // nothing (DEL of a missing key) is not propagated, FLUSHDB always is.
    compare_offsets("replication offset per command", |s| {
        s.command("SET", (FO, 0), &["bar"], CommandKind::Set, value(3, None))
            .command(
                "SET",
                (FO, 1),
                &["hello", "PX", "60000"],
                CommandKind::Set,
                value(5, Some(60_000)),
            )
            .command(
                "SET",
                (FO, 2),
                &["x", "EX", "100"],
                CommandKind::Set,
                value(1, Some(100_000)),
            )
            .command("INCR", (CTR, 0), &[], CommandKind::Incr, Argument::None)
            .command(
                "EXPIRE",
                (FO, 0),
                &["100"],
                CommandKind::Expire,
                Argument::Ttl { ms: 100_000 },
            )
            .command(
                "PERSIST",
                (FO, 0),
                &[],
                CommandKind::Persist,
                Argument::None,
            )
            .command("DEL", (FO, 1), &[], CommandKind::Del, Argument::None)
            .select(3)
            .command("SET", (FO, 3), &["v"], CommandKind::Set, value(1, None))
            .select(0)
            .command(
                "HSET",
                (HASH, 0),
                &["f1", "v1"],
                CommandKind::Hset,
                Argument::Field { id: 1, len: 2 },
            )
            .command(
                "LPUSH",
                (LIST, 0),
                &["a"],
                CommandKind::Lpush,
                value(1, None),
            )
            .command(
                "SADD",
                (SET, 0),
                &["7"],
                CommandKind::Sadd,
                Argument::Member { id: 7, score: 0 },
            )
            .command(
                "ZADD",
                (ZSET, 0),
                &["5", "m1"],
                CommandKind::Zadd,
                Argument::Member { id: 1, score: 5 },
            )
            .command("DEL", (NOKEY, 0), &[], CommandKind::Del, Argument::None)
            .flushdb();
    });
}

#[test]
fn offsets_of_writes_that_report_no_change_or_empty_a_key() {
    // The reply does not decide propagation; server.dirty does (call() propagates a command
    // iff it changed dirty). HSET of an existing field replies 0 but adds 1 to dirty; ZADD
    // changing a member's score replies 0 but counts it as updated; SADD of a present member,
    // ZADD with the same score, HDEL of a missing field, EXPIRE of a missing key and PERSIST
    // of a key without TTL leave dirty alone. A command that removes a collection's last
    // element is propagated as itself (the key's deletion is only a keyspace notification);
    // UNLINK as UNLINK; EXPIRE with a TTL of 0 is rewritten to DEL (lazyfree-lazy-expire no).
    compare_offsets(
        "replication offset of writes whose reply says 0, and of emptied keys",
        |s| {
            let field = |id, len| Argument::Field { id, len };
            let member = |id, score| Argument::Member { id, score };
            s.command(
                "HSET",
                (HASH, 0),
                &["f1", "v1"],
                CommandKind::Hset,
                field(1, 2),
            )
            .command(
                "HSET",
                (HASH, 0),
                &["f1", "v2"],
                CommandKind::Hset,
                field(1, 2),
            )
            .command("HDEL", (HASH, 0), &["f9"], CommandKind::Hdel, field(9, 0))
            .command("HDEL", (HASH, 0), &["f1"], CommandKind::Hdel, field(1, 0))
            .command(
                "ZADD",
                (ZSET, 0),
                &["5", "m1"],
                CommandKind::Zadd,
                member(1, 5),
            )
            .command(
                "ZADD",
                (ZSET, 0),
                &["6", "m1"],
                CommandKind::Zadd,
                member(1, 6),
            )
            .command(
                "ZADD",
                (ZSET, 0),
                &["6", "m1"],
                CommandKind::Zadd,
                member(1, 6),
            )
            .command(
                "ZADD",
                (ZSET, 0),
                &["-5", "m2"],
                CommandKind::Zadd,
                member(2, -5),
            )
            .command("ZREM", (ZSET, 0), &["m1"], CommandKind::Zrem, member(1, 0))
            .command("ZREM", (ZSET, 0), &["m2"], CommandKind::Zrem, member(2, 0))
            .command("SADD", (SET, 0), &["7"], CommandKind::Sadd, member(7, 0))
            .command("SADD", (SET, 0), &["7"], CommandKind::Sadd, member(7, 0))
            .command("SREM", (SET, 0), &["7"], CommandKind::Srem, member(7, 0))
            .command(
                "LPUSH",
                (LIST, 0),
                &["a"],
                CommandKind::Lpush,
                value(1, None),
            )
            .command("LPOP", (LIST, 0), &[], CommandKind::Lpop, Argument::None)
            .command(
                "EXPIRE",
                (NOKEY, 0),
                &["100"],
                CommandKind::Expire,
                Argument::Ttl { ms: 100_000 },
            )
            .command("INCR", (CTR, 0), &[], CommandKind::Incr, Argument::None)
            .command(
                "PERSIST",
                (CTR, 0),
                &[],
                CommandKind::Persist,
                Argument::None,
            )
            .command("SET", (FO, 5), &["x"], CommandKind::Set, value(1, None))
            .command("UNLINK", (FO, 5), &[], CommandKind::Unlink, Argument::None)
            .command("SET", (FO, 6), &["x"], CommandKind::Set, value(1, None))
            .command(
                "EXPIRE",
                (FO, 6),
                &["0"],
                CommandKind::Expire,
                Argument::Ttl { ms: 0 },
            );
        },
    );
}

// ---------------------------------------------------------------------------------------------
// 2. INFO replication.

/// The `k=v` pairs of a `slave<N>:` line, in order.
fn ordered_fields(line: &str) -> Vec<(String, String)> {
    line.split(',')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Whether a `slave<N>:` line has Redis's shape: ip=<dotted quad>,port=<u16>,state=online,
/// offset=<u64>,lag=<i64>.
fn slave_line_shape(line: &str) -> Result<(), String> {
    let fields = ordered_fields(line);
    let names: Vec<&str> = fields.iter().map(|(k, _)| k.as_str()).collect();
    if names != ["ip", "port", "state", "offset", "lag"] {
        return Err(format!("fields {names:?}"));
    }
    let value = |i: usize| fields[i].1.as_str();
    if value(0).parse::<std::net::Ipv4Addr>().is_err() {
        return Err(format!("ip={}", value(0)));
    }
    if value(1).parse::<u16>().is_err() {
        return Err(format!("port={}", value(1)));
    }
    if value(2) != "online" {
        return Err(format!("state={}", value(2)));
    }
    if value(3).parse::<u64>().is_err() {
        return Err(format!("offset={}", value(3)));
    }
    if value(4).parse::<i64>().is_err() {
        return Err(format!("lag={}", value(4)));
    }
    Ok(())
}

/// Field names of one INFO Replication section, row by row.
fn compare_names(table: &mut Table, role: &str, real: &Info, sim: &Info) {
    let real_names = real.names("Replication");
    let sim_names = sim.names("Replication");
    for i in 0..real_names.len().max(sim_names.len()) {
        let r = real_names
            .get(i)
            .cloned()
            .unwrap_or_else(|| "-".to_string());
        let s = sim_names.get(i).cloned().unwrap_or_else(|| "-".to_string());
        let ok = r == s;
        table.row(vec![role.to_string(), i.to_string(), r, s], ok);
    }
}

#[test]
fn info_replication_has_redis_fields_in_redis_order() {
    let mut pair = RealPair::start(&[]);
    let real_primary = pair.primary.info("replication");
    let real_replica = pair.replica.info("replication");

    let families = [Family {
        prefix: "key:",
        count: 1,
    }];
    let sim_primary = Info::parse(&sim_primary(ServerConfig::default(), &families).info_text());
    let sim_replica = Info::parse(&sim_replica(&families).info_text());

    let mut names = Table::new(
        &format!(
            "INFO replication field names, in order ({})",
            pair.version()
        ),
        &["node", "#", "real", "vanish"],
    );
    compare_names(&mut names, "primary", &real_primary, &sim_primary);
    compare_names(&mut names, "replica", &real_replica, &sim_replica);

    // Values that follow from the roles and the defaults (the rest are times, ids and offsets).
    let mut values = Table::new(
        "INFO replication values fixed by the roles and defaults",
        &["node", "field", "real", "vanish"],
    );
    let fixed_primary = [
        "role",
        "connected_slaves",
        "master_failover_state",
        "master_replid2",
        "second_repl_offset",
        "repl_backlog_active",
        "repl_backlog_size",
    ];
    let fixed_replica = [
        "role",
        "master_host",
        "master_link_status",
        "master_sync_in_progress",
        "slave_priority",
        "slave_read_only",
        "replica_announced",
        "connected_slaves",
        "master_failover_state",
        "master_replid2",
        "second_repl_offset",
        "repl_backlog_active",
        "repl_backlog_size",
    ];
    for (node, fields, real, sim) in [
        ("primary", &fixed_primary[..], &real_primary, &sim_primary),
        ("replica", &fixed_replica[..], &real_replica, &sim_replica),
    ] {
        for field in fields {
            let r = real.get(field).unwrap_or("-").to_string();
            let s = sim.get(field).unwrap_or("-").to_string();
            let ok = r == s;
            values.row(vec![node.to_string(), field.to_string(), r, s], ok);
        }
        let r = real.get("master_replid").unwrap_or("-").to_string();
        let s = sim.get("master_replid").unwrap_or("-").to_string();
        let hex40 = |v: &str| v.len() == 40 && v.bytes().all(|b| b.is_ascii_hexdigit());
        let ok = hex40(&r) && hex40(&s);
        values.row(
            vec![node.to_string(), "master_replid (40 hex)".to_string(), r, s],
            ok,
        );
    }

    let mut slave = Table::new(
        "the primary's slave0 line: ip=…,port=…,state=online,offset=N,lag=N",
        &["side", "slave0", "shape"],
    );
    for (side, info) in [("real", &real_primary), ("vanish", &sim_primary)] {
        let line = info.get("slave0").unwrap_or("").to_string();
        let shape = slave_line_shape(&line);
        let verdict = match &shape {
            Ok(()) => "ok".to_string(),
            Err(problem) => problem.clone(),
        };
        slave.row(vec![side.to_string(), line, verdict], shape.is_ok());
    }

    let text = format!("{}{}{}", names.render(), values.render(), slave.render());
    let failures = names.failures() + values.failures() + slave.failures();
    println!("{text}tolerance: exact names and order; the listed values equal; slave0's shape");
    assert!(failures == 0, "{failures} rows differ:{text}");
}

// ---------------------------------------------------------------------------------------------
// 3. A replica never expires.

/// A simulated primary and replica, driven in step.
struct SimPair {
    primary: SimNode,
    replica: SimNode,
}

impl SimPair {
    fn at_ms(&mut self, ms: u64) {
        self.primary.advance_to(ms * 1000);
        self.replica.advance_to(ms * 1000);
    }

    /// Delivers everything the primary has streamed.
    fn sync(&mut self) {
        let entries =
            std::mem::take(&mut self.primary.node.stream_mut().expect("a primary").outbox);
        let mut sink = DiscardLedger;
        let mut ledger = Ledger::new(&mut sink, self.replica.keys.families().len());
        self.replica.node.set_time(self.replica.now_us);
        for entry in entries {
            self.replica
                .node
                .apply_replicated(&entry.op, entry.offset, &mut ledger);
        }
    }
}

fn real_stat(connection: &mut Connection, field: &str) -> String {
    connection.info("stats").u64(field).to_string()
}

fn sim_stat(sim: &SimNode, field: &str) -> String {
    Info::parse(&sim.info_text()).u64(field).to_string()
}

/// GET as hit/nil.
fn real_get(connection: &mut Connection, key: &str) -> String {
    match connection.must(&["GET", key]) {
        Resp::Bulk(Some(_)) => "hit".to_string(),
        other => show_real(&other),
    }
}

#[test]
fn a_replica_never_expires_a_key_it_waits_for_the_primary_del() {
    // redis-fidelity 2.6, MEASURED: a replica hides a logically expired key (GET → nil) but
    // keeps it (DBSIZE counts it) until the primary's DEL arrives; its expired_keys stays 0.
    // The primary's active expiry is switched off (DEBUG SET-ACTIVE-EXPIRE 0; vanish:
    // active_expire_enabled false) so the key goes only when the primary's GET finds it: with
    // the cycle on, the primary would delete it at its first cron after the deadline, before
    // the replica could be read at 500 ms.
    let mut pair = RealPair::start(&[]);
    pair.primary.must(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]);
    let families = [Family {
        prefix: "k",
        count: 1,
    }];
    let primary_config = ServerConfig {
        active_expire_enabled: false,
        ..ServerConfig::default()
    };
    let mut sim = SimPair {
        primary: sim_primary(primary_config, &families),
        replica: sim_replica(&families),
    };
    let key = sim.primary.key(0, 0);
    let name = sim.primary.name(key);

    let mut steps: Vec<(String, String, String)> = Vec::new();
    let mut step = |label: &str, real: String, sim: String| {
        steps.push((label.to_string(), real, sim));
    };

    // t = 0: SET k v PX 300 on the primary, delivered to the replica.
    let set = pair.primary.must(&["SET", name.as_str(), "v", "PX", "300"]);
    let t0 = Instant::now();
    let sim_set = sim.primary.set(key, 1, Some(300));
    step("primary SET k v PX 300", show_real(&set), show_sim(sim_set));
    pair.sync();
    sim.at_ms(1);
    sim.sync();
    let early = t0.elapsed();
    step(
        "replica GET k (before the deadline)",
        real_get(&mut pair.replica, &name),
        show_sim(sim.replica.get(key)),
    );
    assert!(
        early < Duration::from_millis(250),
        "the real pair took {early:?} to deliver the SET; the step before the deadline is void"
    );

    // t = 500 ms: the key is past its deadline on both nodes' clocks.
    thread::sleep(Duration::from_millis(500).saturating_sub(t0.elapsed()));
    sim.at_ms(500);
    step(
        "replica GET k (500 ms)",
        real_get(&mut pair.replica, &name),
        show_sim(sim.replica.get(key)),
    );
    step(
        "replica DBSIZE",
        show_real(&pair.replica.must(&["DBSIZE"])),
        sim.replica.node.total_keys().to_string(),
    );
    step(
        "replica expired_keys",
        real_stat(&mut pair.replica, "expired_keys"),
        sim_stat(&sim.replica, "expired_keys"),
    );
    step(
        "primary DBSIZE (active expiry off)",
        show_real(&pair.primary.must(&["DBSIZE"])),
        sim.primary.node.total_keys().to_string(),
    );

    // The primary's GET finds the key expired, deletes it and streams DEL.
    sim.at_ms(501);
    step(
        "primary GET k",
        real_get(&mut pair.primary, &name),
        show_sim(sim.primary.get(key)),
    );
    pair.sync();
    sim.at_ms(502);
    sim.sync();
    step(
        "replica DBSIZE (after the DEL)",
        show_real(&pair.replica.must(&["DBSIZE"])),
        sim.replica.node.total_keys().to_string(),
    );
    for field in ["expired_keys", "keyspace_hits", "keyspace_misses"] {
        step(
            &format!("replica {field}"),
            real_stat(&mut pair.replica, field),
            sim_stat(&sim.replica, field),
        );
    }
    step(
        "primary expired_keys",
        real_stat(&mut pair.primary, "expired_keys"),
        sim_stat(&sim.primary, "expired_keys"),
    );

    let mut table = Table::new(
        &format!("a key expiring under a replica ({})", pair.version()),
        &["step", "real", "vanish"],
    );
    for (label, real, simulated) in steps {
        let ok = real == simulated;
        table.row(vec![label, real, simulated], ok);
    }
    table.check("exact: every reply and counter equal");
}
