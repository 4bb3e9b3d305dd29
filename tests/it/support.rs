//! Helpers shared by the integration tests: building nodes and configs without a scenario file.

use std::sync::Arc;

use vanish::sim::config::*;
use vanish::sim::keyspace::keys::KeyTable;
use vanish::sim::ledger::Ledger;
use vanish::sim::ledger::{Actor, KeyId, LedgerEntry, NodeId};
use vanish::sim::server::{Argument, Node, Reply, Request};

/// A client config for `keys` keys named `prefix` + id.
pub fn client(name: &str, prefix: &str, keys: u64) -> ClientConfig {
    let workload = GeneratedWorkload {
        rate: 100.0,
        arrivals: Arrivals::Poisson,
        keyspace: KeyspaceConfig {
            keys,
            prefix: prefix.to_string(),
            popularity: Popularity::Uniform,
        },
        commands: vec![(CommandKind::Get, 1)],
        value_size: ValueSize::Fixed(10),
        ttl: None,
        on_miss: OnMiss::None,
        fields: 16,
    };
    ClientConfig::new(name, Workload::Generated(workload))
}

/// The generated workload of `client`, which must not replay a trace.
pub fn generated(client: &mut ClientConfig) -> &mut GeneratedWorkload {
    match &mut client.workload {
        Workload::Generated(workload) => workload,
        Workload::Trace(_) => panic!("{} replays a trace", client.name),
    }
}

/// A client replaying `trace`, paced at `rate` requests per second if it is untimed.
pub fn trace_client(name: &str, trace: Arc<Trace>, rate: Option<f64>) -> ClientConfig {
    ClientConfig::new(name, Workload::Trace(TraceWorkload { trace, rate }))
}

/// A bare node over one key family, driven by hand.
pub struct Bench {
    pub node: Node,
    pub keys: Arc<KeyTable>,
    pub ledger: Vec<LedgerEntry>,
    pub now_us: u64,
}

impl Bench {
    pub fn new(server: ServerConfig, prefix: &str, keys: u64) -> Bench {
        let (table, _) = KeyTable::from_clients(&[client("c", prefix, keys)]);
        let keys = Arc::new(table);
        let node = Node::new(NodeId(0), "primary", server, keys.clone(), 1);
        Bench {
            node,
            keys,
            ledger: Vec::new(),
            now_us: 0,
        }
    }

    pub fn run(&mut self, command: CommandKind, key: u32, argument: Argument) -> Reply {
        let request = Request {
            client: Actor::client(0),
            db: 0,
            command,
            key: KeyId(key),
            argument,
            client_wrote_key: false,
            next_use: 0,
            primary_has_key: false,
            flags: 0,
        };
        self.node.set_time(self.now_us);
        let mut ledger = Ledger::new(&mut self.ledger, self.keys.families().len());
        self.node.execute(&request, &mut ledger)
    }

    pub fn set(&mut self, key: u32, len: u32, ttl_ms: Option<u64>) -> Reply {
        self.run(CommandKind::Set, key, Argument::Value { len, ttl_ms })
    }

    pub fn cron(&mut self) {
        let mut ledger = Ledger::new(&mut self.ledger, self.keys.families().len());
        self.node.cron(self.now_us, &mut ledger);
    }

    pub fn advance_ms(&mut self, ms: u64) {
        self.now_us += ms * 1000;
    }
}
