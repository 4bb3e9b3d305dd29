//! Random worlds that check themselves (after TigerBeetle's VOPR): a seed becomes a scenario —
//! clients, policies, sizes, replicas, Sentinels, persistence and faults at random times —
//! written as TOML, validated like a user's file, and run with every invariant of
//! `sim::engine::invariants` checked at each sample.
//!
//! A failure names its seed and prints its scenario, so `cargo run --release --example vopr --
//! --seed N` (or `vanish run` on the printed file) reproduces it exactly. The generated worlds
//! are small (seconds of virtual time, thousands of keys) so that hundreds run in a test.

use std::fmt::Write as _;
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::scenario::{self, Overrides};
use crate::sim::engine::{run_with, NoProgress, RunOptions};
use crate::sim::ledger::DiscardLedger;
use crate::sim::random::rng::Stream;

// "opt" needs every client to replay a trace, which generated worlds do not.
const POLICIES: [&str; 9] = [
    "noeviction",
    "allkeys-lru",
    "allkeys-lfu",
    "allkeys-random",
    "volatile-lru",
    "volatile-lfu",
    "volatile-random",
    "volatile-ttl",
    "lru-exact",
];

const COMMAND_MIXES: [&str; 6] = [
    "{ GET = 80, SET = 20 }",
    "{ SET = 1 }",
    "{ GET = 50, SET = 30, DEL = 5, EXPIRE = 5, INCR = 5, EXISTS = 5 }",
    "{ HSET = 30, HGET = 30, HDEL = 10, LPUSH = 10, LPOP = 5, LRANGE = 5, SADD = 5, SREM = 5 }",
    "{ ZADD = 30, ZRANGE = 30, ZREM = 10, SMEMBERS = 10, TTL = 10, PERSIST = 5, UNLINK = 5 }",
    "{ GET = 60, SET = 40 }",
];

/// What one random world did, for the soak's summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub commands: u64,
    pub events: usize,
}

/// A broken invariant (or a generated scenario the validator refused): the seed, the scenario
/// and what went wrong.
#[derive(Debug, Clone)]
pub struct Failure {
    pub seed: u64,
    pub scenario: String,
    pub message: String,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            formatter,
            "vopr seed {} failed: {}\n--- scenario (reproduce with `cargo run --release --example vopr -- --seed {}`) ---\n{}",
            self.seed, self.message, self.seed, self.scenario
        )
    }
}

/// Generates the world of `seed` and runs it with the invariants checked.
pub fn check(seed: u64) -> Result<Outcome, Failure> {
    let text = scenario(seed);
    let fail = |message: String| Failure {
        seed,
        scenario: text.clone(),
        message,
    };
    let config = scenario::parse(&format!("vopr-{seed}.toml"), &text, &Overrides::default())
        .map_err(|error| fail(format!("the generated scenario was refused: {error}")))?;
    let options = RunOptions {
        check_invariants: true,
    };
    let run = catch_unwind(AssertUnwindSafe(|| {
        run_with(&config, &mut DiscardLedger, &mut NoProgress, options)
    }));
    match run {
        Ok(output) => Ok(Outcome {
            commands: output.commands,
            events: config.events.len(),
        }),
        Err(payload) => {
            let message = payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "a panic without a message".to_string());
            Err(fail(message))
        }
    }
}

/// The scenario of `seed`, as TOML.
pub fn scenario(seed: u64) -> String {
    let mut draw = Stream::new(seed, "vopr");
    let mut text = String::new();
    let duration_s = 5 + draw.below(16);
    let replicas = draw.below(4) as usize;
    let clients = 1 + draw.below(3) as usize;
    let _ = writeln!(
        text,
        "[scenario]\nname = \"vopr-{seed}\"\nseed = {seed}\nduration = \"{duration_s}s\"\nsample-every = \"{}ms\"\n",
        250 * (1 + draw.below(4))
    );
    let drawn = server(&mut draw, replicas, &mut text);
    if draw.below(3) == 0 {
        let fsync = ["always", "everysec", "no"][draw.below(3) as usize];
        let _ = writeln!(
            text,
            "[persistence]\nsave = \"{}\"\nappendonly = {}\nappendfsync = \"{fsync}\"\n",
            ["", "1 1", "5 10"][draw.below(3) as usize],
            draw.below(2) == 0
        );
    }
    let mut nodes = vec!["primary".to_string()];
    for index in 1..=replicas {
        let lag_ms = 1 + draw.below(50);
        // Small kernel buffers, so that a stalled replica's window closes within the run.
        let send_kb = 4 + draw.below(200);
        let _ = writeln!(
            text,
            "[[replica]]\nname = \"r{index}\"\nlag = \"{lag_ms}ms\"\nsend-buffer = \"{send_kb}kb\"\nsend-buffer-max = \"{}kb\"\nreceive-buffer = \"{}kb\"\n",
            send_kb + draw.below(64),
            4 + draw.below(64)
        );
        nodes.push(format!("r{index}"));
    }
    let sentinels = replicas > 0 && draw.below(2) == 0;
    if sentinels {
        let _ = writeln!(
            text,
            "[sentinel]\nhosts = [{}]\nquorum = {}\ndown-after-milliseconds = {}\n",
            nodes
                .iter()
                .map(|n| format!("\"{n}\""))
                .collect::<Vec<_>>()
                .join(", "),
            nodes.len() / 2 + 1,
            500 + draw.below(3000)
        );
    }
    let names: Vec<String> = (0..clients).map(|index| format!("c{index}")).collect();
    for name in &names {
        client(&mut draw, name, replicas, sentinels, duration_s, &mut text);
    }
    events(&mut draw, &nodes, &names, duration_s, &drawn, &mut text);
    text
}

/// What the events of a world need to know of its `[server]`.
struct Server {
    /// Its policy can be switched at run time (the reference policies cannot).
    switchable: bool,
    /// Redis's memory model, whose connections have buffers for client eviction to limit.
    client_memory: bool,
}

/// Writes `[server]`.
fn server(draw: &mut Stream, replicas: usize, text: &mut String) -> Server {
    let raw = draw.below(4) == 0;
    let policy = POLICIES[draw.below(POLICIES.len() as u64) as usize];
    // Redis's model starts near 0.9 MB; raw counts values only.
    let maxmemory_kb = match (draw.below(3), raw) {
        (0, _) => 0,
        (_, true) => 20 + draw.below(400),
        (_, false) => 1_000 + draw.below(3_000),
    };
    let _ = writeln!(
        text,
        "[server]\nmemory-model = \"{}\"\nmaxmemory = \"{maxmemory_kb}kb\"\nmaxmemory-policy = \"{policy}\"\nmaxmemory-samples = {}\nhz = {}\ndatabases = 4",
        if raw { "raw" } else { "redis" },
        1 + draw.below(10),
        [1, 10, 100][draw.below(3) as usize],
    );
    if replicas > 0 && draw.below(3) == 0 {
        let _ = writeln!(
            text,
            "min-replicas-to-write = {}\nrepl-backlog-size = \"{}kb\"",
            1 + draw.below(replicas as u64),
            16 + draw.below(1024)
        );
    }
    let mut limits = Vec::new();
    if replicas > 0 && draw.below(3) == 0 {
        limits.push(format!(
            "replica {}kb {}kb {}",
            draw.below(512),
            draw.below(256),
            draw.below(5)
        ));
        let _ = writeln!(text, "shutdown-timeout = {}", draw.below(4));
    }
    // Client eviction, a normal output limit and maxclients: connections the server closes
    // mid-pipeline, and pools it refuses.
    if !raw && draw.below(4) == 0 {
        let _ = writeln!(text, "maxmemory-clients = \"{}kb\"", 128 + draw.below(512));
        limits.push(format!("normal {}kb 0 0", 16 + draw.below(256)));
        let _ = writeln!(text, "maxclients = {}", 2 + draw.below(30));
    }
    if !limits.is_empty() {
        let _ = writeln!(
            text,
            "client-output-buffer-limit = \"{}\"",
            limits.join(" ")
        );
    }
    text.push('\n');
    Server {
        switchable: policy != "lru-exact",
        client_memory: !raw,
    }
}

fn client(
    draw: &mut Stream,
    name: &str,
    replicas: usize,
    sentinels: bool,
    duration_s: u64,
    text: &mut String,
) {
    let popularity = match draw.below(4) {
        0 => "popularity = \"uniform\"".to_string(),
        1 => format!("popularity = \"zipf\", skew = 0.{}", 5 + draw.below(5)),
        2 => "popularity = \"sequential\"".to_string(),
        _ => "popularity = \"hotset\", hot-keys = 0.05, hot-share = 0.9".to_string(),
    };
    let mix = COMMAND_MIXES[draw.below(COMMAND_MIXES.len() as u64) as usize];
    let _ = writeln!(
        text,
        "[[client]]\nname = \"{name}\"\nrate = {}\ndb = {}\nstart = \"{}ms\"\nkeyspace = {{ keys = {}, prefix = \"{}:\", {popularity} }}\ncommands = {}\nvalue-size = {{ dist = \"uniform\", min = 1, max = {} }}\nfields = {}",
        20 + draw.below(300),
        draw.below(2),
        draw.below(duration_s * 300),
        50 + draw.below(2_000),
        ["k", "shared", name][draw.below(3) as usize],
        mix,
        1 + draw.below(2_000),
        1 + draw.below(20),
    );
    // EXPIRE draws its TTL from the client's range.
    if draw.below(2) == 0 || mix.contains("EXPIRE") {
        let _ = writeln!(
            text,
            "ttl = {{ share = 0.{}, min = \"{}ms\", max = \"{}s\" }}",
            1 + draw.below(9),
            100 + draw.below(900),
            1 + draw.below(5)
        );
    }
    if draw.below(3) == 0 {
        text.push_str("on-miss = \"set\"\n");
    }
    if replicas > 0 && draw.below(3) == 0 {
        text.push_str("read-from = \"replica\"\n");
    }
    if sentinels && draw.below(2) == 0 {
        text.push_str("discovery = \"sentinel\"\n");
    }
    // Small pools and pipelines: their buffers join the memory the invariants check.
    if draw.below(3) == 0 {
        let _ = writeln!(
            text,
            "connections = {}\npipeline = {}",
            1 + draw.below(8),
            1 + draw.below(8)
        );
    }
    text.push('\n');
}

fn events(
    draw: &mut Stream,
    nodes: &[String],
    clients: &[String],
    duration_s: u64,
    server: &Server,
    text: &mut String,
) {
    let count = draw.below(9);
    let mut at_ms: Vec<u64> = (0..count).map(|_| draw.below(duration_s * 1_000)).collect();
    at_ms.sort_unstable();
    for at in at_ms {
        let node = &nodes[draw.below(nodes.len() as u64) as usize];
        let replica = nodes.len() > 1;
        let action = match draw.below(if replica { 14 } else { 8 }) {
            0 => format!("do = \"flushdb\"\ndb = {}", draw.below(2)),
            1 => "do = \"flushall\"".to_string(),
            2 => format!("do = \"crash\"\nnode = \"{node}\""),
            3 => format!("do = \"restart\"\nnode = \"{node}\""),
            4 if draw.below(2) == 0 => format!("do = \"kill\"\nnode = \"{node}\""),
            4 => format!(
                "do = \"shutdown\"\nnode = \"{node}\"\nflags = \"{}\"",
                ["", "nosave", "now", "nosave now", "save force"][draw.below(5) as usize]
            ),
            5 => format!("do = \"pause\"\nnode = \"{node}\""),
            6 => format!("do = \"resume\"\nnode = \"{node}\""),
            7 => config_set(draw, server),
            8 => format!(
                "do = \"link-down\"\nnode = \"{}\"",
                nodes[1 + draw.below(nodes.len() as u64 - 1) as usize]
            ),
            9 => format!(
                "do = \"link-up\"\nnode = \"{}\"",
                nodes[1 + draw.below(nodes.len() as u64 - 1) as usize]
            ),
            10 => format!(
                "do = \"failover\"\nto = \"{}\"",
                nodes[1 + draw.below(nodes.len() as u64 - 1) as usize]
            ),
            11 => "do = \"heal\"".to_string(),
            _ => partition(draw, nodes, clients),
        };
        let _ = writeln!(text, "[[event]]\nat = \"{at}ms\"\n{action}\n");
    }
}

/// A `config-set` event: the policy (where it can be switched), `hz`, or client eviction's
/// limit (off, a size, or a share of maxmemory; with Redis's memory model only, as in
/// `[server]`), which a pipelining pool may then cross.
fn config_set(draw: &mut Stream, server: &Server) -> String {
    let (directive, value) = match draw.below(3) {
        0 if server.switchable => (
            "maxmemory-policy",
            POLICIES[draw.below(8) as usize].to_string(),
        ),
        1 if server.client_memory => (
            "maxmemory-clients",
            match draw.below(3) {
                0 => "0".to_string(),
                1 => format!("{}kb", 128 + draw.below(512)),
                _ => format!("{}%", 1 + draw.below(100)),
            },
        ),
        _ => ("hz", (1 + draw.below(50)).to_string()),
    };
    format!("do = \"config-set\"\ndirective = \"{directive}\"\nvalue = \"{value}\"")
}

/// Every node and client on one of two sides, the first side never empty.
fn partition(draw: &mut Stream, nodes: &[String], clients: &[String]) -> String {
    let mut sides: [Vec<String>; 2] = [vec![format!("\"{}\"", nodes[0])], Vec::new()];
    for name in nodes[1..].iter().chain(clients) {
        sides[draw.below(2) as usize].push(format!("\"{name}\""));
    }
    if sides[1].is_empty() {
        return "do = \"heal\"".to_string();
    }
    format!(
        "do = \"partition\"\nsides = [[{}], [{}]]",
        sides[0].join(", "),
        sides[1].join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seed_always_gives_the_same_world() {
        assert_eq!(scenario(7), scenario(7));
        assert_ne!(scenario(7), scenario(8));
    }

    #[test]
    fn generated_worlds_pass_validation() {
        for seed in 0..50 {
            let text = scenario(seed);
            if let Err(error) = scenario::parse("vopr.toml", &text, &Overrides::default()) {
                panic!("seed {seed}: {error}\n{text}");
            }
        }
    }
}
