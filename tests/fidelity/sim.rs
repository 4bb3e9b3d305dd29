//! A simulated node driven by hand, the way the fidelity tests drive the real server: one
//! connection, commands at chosen virtual times, serverCron at every 1/hz boundary in between.

use std::sync::Arc;

use vanish::sim::config::{
    Arrivals, ClientConfig, CommandKind, GeneratedWorkload, KeyspaceConfig, OnMiss, Popularity,
    ServerConfig, ValueSize, Workload,
};
use vanish::sim::keyspace::keys::KeyTable;
use vanish::sim::ledger::Ledger;
use vanish::sim::ledger::{Actor, DiscardLedger, KeyId, NodeId};
use vanish::sim::server::{Argument, ErrorReply, Node, Reply, Request};

/// The seed of every simulated node in the suite (the real server's hash seed is random anyway).
pub const SEED: u64 = 1;

/// A key family: names `prefix` + decimal id for ids `0..count`.
pub struct Family<'a> {
    pub prefix: &'a str,
    pub count: u64,
}

fn client(prefix: &str, keys: u64) -> ClientConfig {
    let workload = GeneratedWorkload {
        rate: 1.0,
        arrivals: Arrivals::Fixed,
        keyspace: KeyspaceConfig {
            keys,
            prefix: prefix.to_string(),
            popularity: Popularity::Uniform,
        },
        commands: vec![(CommandKind::Get, 1)],
        value_size: ValueSize::Fixed(1),
        ttl: None,
        on_miss: OnMiss::None,
        fields: 16,
    };
    ClientConfig::new(format!("fidelity-{prefix}"), Workload::Generated(workload))
}

/// One simulated node with one connected client.
pub struct SimNode {
    pub node: Node,
    pub keys: Arc<KeyTable>,
    /// Virtual time of the next command, µs.
    pub now_us: u64,
    next_cron_us: u64,
    /// The database the client's commands go to (`SELECT`).
    pub db: u32,
}

impl SimNode {
    /// A node over the given key families with one client connected, as the real server has
    /// the test's connection.
    pub fn new(server: ServerConfig, families: &[Family]) -> SimNode {
        SimNode::with_pool(server, families, 1)
    }

    /// [`SimNode::new`] whose client holds a pool of `connections` (the one the test talks
    /// through, and the others idle), as the real server has the test's connections.
    pub fn with_pool(server: ServerConfig, families: &[Family], connections: u32) -> SimNode {
        SimNode::with_pool_seeded(server, families, connections, SEED)
    }

    fn with_node(server: ServerConfig, families: &[Family], seed: u64) -> SimNode {
        let clients: Vec<ClientConfig> = families
            .iter()
            .map(|family| client(family.prefix, family.count))
            .collect();
        let (table, _) = KeyTable::from_clients(&clients);
        let keys = Arc::new(table);
        let node = Node::new(NodeId(0), "fidelity", server, keys.clone(), seed);
        let next_cron_us = node.cron_period_us();
        SimNode {
            node,
            keys,
            now_us: 0,
            next_cron_us,
            db: 0,
        }
    }

    /// [`SimNode::with_pool`] with the node's own `seed` (its dict hash and sampling streams),
    /// for tests that average over simulated runs as the real server's runs differ.
    pub fn with_pool_seeded(
        server: ServerConfig,
        families: &[Family],
        connections: u32,
        seed: u64,
    ) -> SimNode {
        let mut sim = SimNode::with_node(server, families, seed);
        // The measuring connection carries the commands; the pool's others sit idle.
        sim.node.connect_client(0, 1);
        if connections > 1 {
            sim.node.connect_client(1, connections - 1);
        }
        sim
    }

    /// `connections` connections addressed by number, as a harness holding an array of real
    /// connections sends part `i` of a batch on connection `i`: each is the one connection of
    /// client `i`, so `pipeline(i, ..)` always lands on it (a pool would hand them out in turn,
    /// and an empty part would shift which one gets the next).
    /// They connect at `start_us`.
    pub fn with_connections_seeded(
        server: ServerConfig,
        families: &[Family],
        connections: u32,
        seed: u64,
        start_us: u64,
    ) -> SimNode {
        let mut sim = SimNode::with_node(server, families, seed);
        sim.advance_to(start_us);
        for owner in 0..connections {
            sim.node.connect_client(owner, 1);
        }
        sim
    }

    /// Key `id` of family `family` (in the order given to `new`).
    pub fn key(&self, family: usize, id: u64) -> KeyId {
        self.keys.key(family, id)
    }

    pub fn name(&self, key: KeyId) -> String {
        self.keys.name(key)
    }

    /// Moves virtual time to `now_us`, running every cron tick due on the way.
    pub fn advance_to(&mut self, now_us: u64) {
        assert!(now_us >= self.now_us, "time goes forward");
        while self.next_cron_us <= now_us {
            let mut sink = DiscardLedger;
            let mut ledger = Ledger::new(&mut sink, self.keys.families().len());
            self.node.cron(self.next_cron_us, &mut ledger);
            self.next_cron_us += self.node.cron_period_us();
        }
        self.now_us = now_us;
    }

    pub fn advance_ms(&mut self, ms: u64) {
        self.advance_to(self.now_us + ms * 1000);
    }

    /// One command at the current virtual time, then `beforeSleep`, as the engine runs it.
    pub fn run(&mut self, command: CommandKind, key: KeyId, argument: Argument) -> Reply {
        let replies = self.pipeline(0, &[(command, key, argument)]);
        replies[0]
    }

    /// Commands sent together on the next connection of client `owner`'s pool (with
    /// [`SimNode::with_pool`], 0: the measuring connection, 1: the pool's others; with
    /// [`SimNode::with_connections_seeded`], connection `owner`), as the engine runs a round trip: each read
    /// and run with its reply queued, the replies written at the end. A connection the server
    /// closes answers the rest with ECONNRESET.
    pub fn pipeline(
        &mut self,
        owner: u32,
        commands: &[(CommandKind, KeyId, Argument)],
    ) -> Vec<Reply> {
        let mut sink = DiscardLedger;
        let mut ledger = Ledger::new(&mut sink, self.keys.families().len());
        self.node.set_time(self.now_us);
        let connection = self.node.begin_round_trip(owner);
        let closed = Reply::Error(ErrorReply::ConnectionClosed);
        let mut replies = Vec::with_capacity(commands.len());
        for (sent, &(command, key, argument)) in commands.iter().enumerate() {
            let more_follows = sent + 1 < commands.len();
            let request = Request {
                client: Actor::client(0),
                db: self.db,
                command,
                key,
                argument,
                client_wrote_key: false,
                next_use: 0,
                primary_has_key: false,
                flags: 0,
            };
            let Some(connection) = connection else {
                replies.push(self.node.execute(&request, &mut ledger));
                self.node.before_sleep(&mut ledger);
                continue;
            };
            if !self.node.connection_open(connection) {
                replies.push(closed);
                continue;
            }
            self.node.read_request(connection, &request, more_follows);
            if !self.node.before_command(connection) {
                replies.push(closed);
                continue;
            }
            let reply = self.node.execute(&request, &mut ledger);
            let open = self.node.queue_reply(connection, &request, reply);
            replies.push(if open { reply } else { closed });
            self.node.before_sleep(&mut ledger);
        }
        if let Some(connection) = connection {
            self.node.end_round_trip(connection);
        }
        replies
    }

    /// SET key <len bytes> [PX ttl].
    pub fn set(&mut self, key: KeyId, len: u32, ttl_ms: Option<u64>) -> Reply {
        self.run(CommandKind::Set, key, Argument::Value { len, ttl_ms })
    }

    pub fn get(&mut self, key: KeyId) -> Reply {
        self.run(CommandKind::Get, key, Argument::None)
    }

    pub fn used_memory(&self) -> u64 {
        self.node.used_memory()
    }

    pub fn info_text(&self) -> String {
        vanish::report::info::info_text(&self.node.snapshot())
    }
}
