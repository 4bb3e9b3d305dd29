//! The discrete-event engine: one world holding the nodes, the clients, the operator's
//! scheduled events and the time series, driven by an event queue ordered by (time, sequence).
//!
//! Equal-time events run in the order they were scheduled. The engine is the only part of the
//! core that knows about time passing; nodes and clients are told the time.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::Arc;

use std::collections::VecDeque;

use crate::sim::config::{CommandKind, EventAction, KeySelection, LinkLag, ReadFrom, SimConfig};
use crate::sim::dist::sample_lognormal;
use crate::sim::durability::Durability;
use crate::sim::glob::glob_match;
use crate::sim::info::NodeInfo;
use crate::sim::keys::KeyTable;
use crate::sim::ledger::{Actor, Cause, LedgerSink, LedgerTotals, NodeId};
use crate::sim::node::{AdminCommand, ErrorReply, Ledger, Node, Reply};
use crate::sim::replication::{PrimaryStream, ReplicaState, StreamEntry};
use crate::sim::rng::Stream;
use crate::sim::workload::{Client, ClientCounts};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Event {
    Operator(u32),
    Cron(u16),
    /// Replica i's link delivers what is due.
    Replicate(u16),
    /// Replica i acknowledges its offset (once a second).
    Ack(u16),
    Client(u32),
    Sample,
}

/// A replication link: the entries in flight to one replica, delivered in order after the
/// link's lag.
struct Link {
    queue: VecDeque<(u64, StreamEntry)>,
    last_delivery_us: u64,
    lag: LinkLag,
    stream: Stream,
}

impl Link {
    fn lag_us(&mut self) -> u64 {
        match self.lag {
            LinkLag::Fixed { us } => us,
            LinkLag::Uniform { min_us, max_us } => self.stream.between(min_us, max_us),
            LinkLag::Lognormal { median_us, p99_us } => {
                sample_lognormal(median_us, p99_us, &mut self.stream)
            }
        }
    }
}

/// One row of the time series: state at `time_us` and counts over the interval ending there.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sample {
    pub time_us: u64,
    pub used_memory: u64,
    pub keys: u64,
    pub expires: u64,
    pub expired: u64,
    pub evicted: u64,
    pub hits: u64,
    pub misses_by_cause: [u64; Cause::COUNT],
    /// Per replica: bytes of stream the primary has that the replica has not applied.
    pub replica_lag_bytes: Vec<u64>,
}

/// What a run produced, for the report layer.
#[derive(Debug, Clone)]
pub struct RunOutput {
    pub keys: Arc<KeyTable>,
    pub totals: LedgerTotals,
    pub family_removals: Vec<[u64; Cause::COUNT]>,
    pub family_misses: Vec<[u64; Cause::COUNT]>,
    pub clients: Vec<(String, ClientCounts)>,
    pub nodes: Vec<NodeInfo>,
    pub samples: Vec<Sample>,
    /// Simulated commands executed (client commands and refills).
    pub commands: u64,
    pub reads: u64,
    pub hits: u64,
    pub misses: u64,
    /// Largest used_memory seen on any node.
    pub peak_used_memory: u64,
    /// Client writes the primary acknowledged, and how many of them crashes took back.
    pub acknowledged_writes: u64,
    pub acknowledged_writes_lost: u64,
}

/// Receives the virtual time now and then, so a shell can show progress.
pub trait Progress {
    fn advance(&mut self, now_us: u64);
}

pub struct NoProgress;

impl Progress for NoProgress {
    fn advance(&mut self, _now_us: u64) {}
}

/// How many events pass between progress reports.
const PROGRESS_EVERY_EVENTS: u64 = 1 << 16;

struct World<'a> {
    config: &'a SimConfig,
    keys: Arc<KeyTable>,
    /// The primary, then the replicas.
    nodes: Vec<Node>,
    links: Vec<Link>,
    clients: Vec<Client>,
    /// Per client: which replica a read goes to, for `read-from = "replica"`.
    routing: Vec<Stream>,
    queue: BinaryHeap<Reverse<(u64, u64, Event)>>,
    sequence: u64,
    samples: Vec<Sample>,
    previous_hits: u64,
    previous_misses: [u64; Cause::COUNT],
    previous_expired: u64,
    previous_evicted: u64,
}

impl World<'_> {
    fn schedule(&mut self, time_us: u64, event: Event) {
        self.sequence += 1;
        self.queue.push(Reverse((time_us, self.sequence, event)));
    }

    /// The node a read of client `index` goes to.
    fn read_target(&mut self, index: usize) -> usize {
        let replicas = self.nodes.len() - 1;
        match self.clients[index].config.read_from {
            ReadFrom::Replica(replica) if replica < replicas => replica + 1,
            ReadFrom::AnyReplica if replicas > 0 => {
                1 + self.routing[index].below(replicas as u64) as usize
            }
            _ => 0,
        }
    }

    /// Runs one command of client `index`; returns when its next command arrives.
    fn client_command(&mut self, index: usize, now_us: u64, ledger: &mut Ledger) -> Option<u64> {
        let mut request = self.clients[index].next_request(&self.keys);
        let target = if request.command.is_read() {
            self.read_target(index)
        } else {
            0
        };
        self.nodes[0].set_time(now_us);
        if target != 0 {
            request.primary_has_key = self.nodes[0].is_alive(request.db, request.key);
        }
        if self.nodes[target].down {
            let client = &mut self.clients[index];
            tally(
                client,
                &request.command,
                Reply::Error(ErrorReply::ConnectionRefused),
            );
            return client.next_arrival_us();
        }
        let node = &mut self.nodes[target];
        node.set_time(now_us);
        let client = &mut self.clients[index];
        let reply = node.execute(&request, ledger);
        tally(client, &request.command, reply);
        if matches!(reply, Reply::Ok | Reply::Integer(_)) && !request.command.is_read() {
            remember_write(client, node, request.db, request.key, self.keys.len());
        }
        node.before_sleep(ledger);
        if reply == Reply::Miss
            && client.refills_on_miss()
            && request.command == CommandKind::Get
            && !self.nodes[0].down
        {
            // The refill is a write: it goes to the primary.
            let refill = client.refill_request(&request);
            let primary = &mut self.nodes[0];
            let refill_reply = primary.execute(&refill, ledger);
            tally(client, &refill.command, refill_reply);
            remember_write(client, primary, refill.db, refill.key, self.keys.len());
            primary.before_sleep(ledger);
        }
        let next = self.clients[index].next_arrival_us();
        self.ship(now_us);
        next
    }

    /// Moves what the primary streamed since the last call onto every link.
    fn ship(&mut self, now_us: u64) {
        let Some(stream) = self.nodes[0].stream.as_mut() else {
            return;
        };
        if stream.outbox.is_empty() {
            return;
        }
        let entries = std::mem::take(&mut stream.outbox);
        for replica in 0..self.links.len() {
            let link = &mut self.links[replica];
            let was_idle = link.queue.is_empty();
            for entry in &entries {
                let due = (now_us + link.lag_us()).max(link.last_delivery_us);
                link.last_delivery_us = due;
                link.queue.push_back((due, entry.clone()));
            }
            if was_idle {
                if let Some(&(due, _)) = link.queue.front() {
                    self.schedule(due, Event::Replicate(replica as u16));
                }
            }
        }
    }

    /// Replica `replica` applies every entry due by `now_us`.
    fn deliver(&mut self, replica: usize, now_us: u64, ledger: &mut Ledger) {
        if self.nodes[replica + 1].down {
            // The connection is gone; the replica resynchronises when it restarts.
            self.links[replica].queue.clear();
            return;
        }
        let node = &mut self.nodes[replica + 1];
        node.set_time(now_us);
        let link = &mut self.links[replica];
        while let Some((due, _)) = link.queue.front() {
            if *due > now_us {
                break;
            }
            if let Some((_, entry)) = link.queue.pop_front() {
                node.apply_replicated(&entry.op, entry.offset, ledger);
            }
        }
        if let Some(&(due, _)) = link.queue.front() {
            self.schedule(due, Event::Replicate(replica as u16));
        }
    }

    /// REPLCONF ACK: the primary learns the replica's processed offset.
    fn acknowledge(&mut self, replica: usize, now_us: u64) {
        let offset = self.nodes[replica + 1]
            .replica
            .as_ref()
            .map_or(0, |state| state.processed_offset);
        if let Some(stream) = self.nodes[0].stream.as_mut() {
            if let Some(ack) = stream.acks.get_mut(replica) {
                *ack = (offset, now_us);
            }
        }
    }

    /// A node's machine fails, or its process comes back.
    fn fault(&mut self, action: &EventAction, now_us: u64, ledger: &mut Ledger) {
        match *action {
            EventAction::Crash { node } => {
                self.nodes[node].set_time(now_us);
                self.nodes[node].crash();
            }
            EventAction::Restart { node } => {
                self.nodes[node].set_time(now_us);
                self.nodes[node].restart(ledger);
                // The replicas (or this replica) resynchronise in full with the primary.
                let (primary, replicas) = self.nodes.split_at_mut(1);
                let offset = primary[0].stream.as_ref().map_or(0, |s| s.offset);
                for (index, replica) in replicas.iter_mut().enumerate() {
                    if (node == 0 || node == index + 1) && !replica.down {
                        replica.set_time(now_us);
                        replica.full_sync_from(&primary[0], offset, ledger);
                        self.links[index].queue.clear();
                    }
                }
            }
            _ => {}
        }
    }

    fn operator(&mut self, index: usize, now_us: u64, ledger: &mut Ledger) {
        let action = &self.config.events[index].action;
        if matches!(
            action,
            EventAction::Crash { .. } | EventAction::Restart { .. }
        ) {
            self.fault(action, now_us, ledger);
            return;
        }
        if self.nodes[0].down {
            return;
        }
        let node = &mut self.nodes[0];
        node.set_time(now_us);
        match &self.config.events[index].action {
            EventAction::FlushDb { db } => {
                node.count_admin(AdminCommand::FlushDb);
                node.flush_db(*db, false, Actor::OPERATOR, ledger);
            }
            EventAction::FlushAll => {
                node.count_admin(AdminCommand::FlushAll);
                node.flush_all(Actor::OPERATOR, ledger);
            }
            EventAction::Del { db, keys } => {
                let targets = match keys {
                    KeySelection::Keys(names) => names
                        .iter()
                        .flat_map(|name| self.keys.lookup_all(name))
                        .collect(),
                    KeySelection::Pattern(pattern) => node
                        .keys_of(*db)
                        .into_iter()
                        .filter(|key| {
                            glob_match(pattern.as_bytes(), self.keys.name(*key).as_bytes())
                        })
                        .collect::<Vec<_>>(),
                };
                node.operator_del(*db, &targets, ledger);
            }
            EventAction::ConfigSet(change) => node.config_set(*change, ledger),
            EventAction::Select { client, db } => {
                node.count_admin(AdminCommand::Select);
                if let Some(client) = self.clients.get_mut(*client) {
                    client.db = *db;
                }
            }
            EventAction::Crash { .. } | EventAction::Restart { .. } => {}
        }
        node.note_memory_peak();
        self.ship(now_us);
    }

    fn sample(&mut self, now_us: u64, totals: &LedgerTotals) {
        let node = &self.nodes[0];
        let hits: u64 = self.clients.iter().map(|c| c.counts.hits).sum();
        let mut misses_by_cause = totals.misses_by_cause;
        for (now, before) in misses_by_cause.iter_mut().zip(self.previous_misses) {
            *now -= before;
        }
        self.samples.push(Sample {
            time_us: now_us,
            used_memory: node.used_memory(),
            keys: node.total_keys(),
            expires: node.total_volatile(),
            expired: node.stats.expired_keys - self.previous_expired,
            evicted: node.stats.evicted_keys - self.previous_evicted,
            hits: hits - self.previous_hits,
            misses_by_cause,
            replica_lag_bytes: self.nodes[1..]
                .iter()
                .map(|replica| {
                    let applied = replica.replica.as_ref().map_or(0, |r| r.processed_offset);
                    let streamed = self.nodes[0].stream.as_ref().map_or(0, |s| s.offset);
                    streamed.saturating_sub(applied)
                })
                .collect(),
        });
        self.previous_hits = hits;
        self.previous_misses = totals.misses_by_cause;
        self.previous_expired = node.stats.expired_keys;
        self.previous_evicted = node.stats.evicted_keys;
    }
}

fn tally(client: &mut Client, command: &CommandKind, reply: Reply) {
    client.counts.commands += 1;
    if command.is_read() {
        client.counts.reads += 1;
    } else if matches!(reply, Reply::Ok | Reply::Integer(_)) {
        client.counts.acknowledged_writes += 1;
    }
    match reply {
        Reply::Hit => client.counts.hits += 1,
        Reply::Miss => client.counts.misses += 1,
        Reply::Error(_) => {
            client.counts.errors += 1;
            if command.is_read() {
                client.counts.read_errors += 1;
            }
        }
        Reply::Ok | Reply::Integer(_) => {}
    }
}

/// A write that left this client's value in the key marks it as the client's.
fn remember_write(
    client: &mut Client,
    node: &Node,
    db: u32,
    key: crate::sim::ledger::KeyId,
    key_count: usize,
) {
    let slot = node.dbs[db as usize].slot(key);
    if slot.is_present() && slot.actor == client.actor {
        client.mark_written(key, key_count);
    }
}

/// Runs a scenario to its end, streaming ledger rows into `sink`.
pub fn run(
    config: &SimConfig,
    sink: &mut dyn LedgerSink,
    progress: &mut dyn Progress,
) -> RunOutput {
    let (table, family_of_client) = KeyTable::from_clients(&config.clients);
    let keys = Arc::new(table);
    let mut primary = Node::new(
        NodeId(0),
        "primary",
        config.server.clone(),
        keys.clone(),
        config.seed,
    );
    for _ in &config.clients {
        primary.connect_client();
    }
    if !config.replicas.is_empty() {
        primary.stream = Some(PrimaryStream::new(config.replicas.len()));
    }
    primary.durability = Some(Durability::new(
        config.persistence.clone(),
        config.server.databases,
    ));
    let mut nodes = vec![primary];
    for (index, replica) in config.replicas.iter().enumerate() {
        let mut node = Node::new(
            NodeId(index as u16 + 1),
            &replica.name,
            config.server.clone(),
            keys.clone(),
            config.seed,
        );
        node.replica = Some(ReplicaState {
            priority: replica.priority,
            ..ReplicaState::default()
        });
        nodes.push(node);
    }
    let links = config
        .replicas
        .iter()
        .map(|replica| Link {
            queue: VecDeque::new(),
            last_delivery_us: 0,
            lag: replica.lag,
            stream: Stream::new(config.seed, &format!("link:{}", replica.name)),
        })
        .collect();
    let routing = config
        .clients
        .iter()
        .map(|client| Stream::new(config.seed, &format!("client:{}:routing", client.name)))
        .collect();
    let clients = config
        .clients
        .iter()
        .enumerate()
        .map(|(index, client)| {
            let needs_future =
                config.server.maxmemory_policy == crate::sim::config::MaxmemoryPolicy::Opt;
            Client::new(
                index,
                client,
                family_of_client[index],
                config.seed,
                needs_future,
            )
        })
        .collect();
    let mut world = World {
        config,
        keys: keys.clone(),
        nodes,
        links,
        clients,
        routing,
        queue: BinaryHeap::new(),
        sequence: 0,
        samples: Vec::new(),
        previous_hits: 0,
        previous_misses: [0; Cause::COUNT],
        previous_expired: 0,
        previous_evicted: 0,
    };
    let mut ledger = Ledger::new(sink, keys.families().len());

    // Scheduled in a fixed order so equal-time events run in a stable order: operator events
    // (in file order), cron, clients, samples.
    let mut operator_order: Vec<usize> = (0..config.events.len()).collect();
    operator_order.sort_by_key(|&index| (config.events[index].at_us, index));
    for index in operator_order {
        world.schedule(config.events[index].at_us, Event::Operator(index as u32));
    }
    for node in 0..world.nodes.len() {
        let period = world.nodes[node].cron_period_us();
        world.schedule(period, Event::Cron(node as u16));
    }
    for replica in 0..world.links.len() {
        world.schedule(1_000_000, Event::Ack(replica as u16));
    }
    for index in 0..world.clients.len() {
        if let Some(first) = world.clients[index].next_arrival_us() {
            world.schedule(first, Event::Client(index as u32));
        }
    }
    world.schedule(config.sample_every_us, Event::Sample);

    let mut events = 0u64;
    while let Some(Reverse((time_us, _, event))) = world.queue.pop() {
        if time_us > config.duration_us {
            break;
        }
        events += 1;
        if events.is_multiple_of(PROGRESS_EVERY_EVENTS) {
            progress.advance(time_us);
        }
        match event {
            Event::Client(index) => {
                let mut now = time_us;
                while let Some(next) = world.client_command(index as usize, now, &mut ledger) {
                    // Run ahead while this client's next command comes strictly before every
                    // queued event: the same order the queue would give, without the queue.
                    let first_queued = world.queue.peek().map_or(u64::MAX, |Reverse((t, _, _))| *t);
                    if next < first_queued && next <= config.duration_us {
                        now = next;
                        events += 1;
                        if events.is_multiple_of(PROGRESS_EVERY_EVENTS) {
                            progress.advance(now);
                        }
                        continue;
                    }
                    world.schedule(next, Event::Client(index));
                    break;
                }
            }
            Event::Cron(node) => {
                let node_ref = &mut world.nodes[node as usize];
                if !node_ref.down {
                    node_ref.cron(time_us, &mut ledger);
                }
                let next = time_us + node_ref.cron_period_us();
                world.schedule(next, Event::Cron(node));
                world.ship(time_us);
            }
            Event::Replicate(replica) => world.deliver(replica as usize, time_us, &mut ledger),
            Event::Ack(replica) => {
                world.acknowledge(replica as usize, time_us);
                world.schedule(time_us + 1_000_000, Event::Ack(replica));
            }
            Event::Operator(index) => world.operator(index as usize, time_us, &mut ledger),
            Event::Sample => {
                world.sample(time_us, &ledger.totals);
                world.schedule(time_us + config.sample_every_us, Event::Sample);
            }
        }
    }
    progress.advance(config.duration_us);

    let nodes: Vec<NodeInfo> = world
        .nodes
        .iter_mut()
        .map(|node| {
            node.set_time(config.duration_us);
            node.snapshot()
        })
        .collect();
    let clients: Vec<(String, ClientCounts)> = world
        .clients
        .iter()
        .map(|client| (client.config.name.clone(), client.counts.clone()))
        .collect();
    let reads = clients.iter().map(|(_, c)| c.reads).sum();
    let hits = clients.iter().map(|(_, c)| c.hits).sum();
    let misses = clients.iter().map(|(_, c)| c.misses).sum();
    let commands = clients.iter().map(|(_, c)| c.commands).sum();
    let acknowledged_writes = clients.iter().map(|(_, c)| c.acknowledged_writes).sum();
    let acknowledged_writes_lost = world.nodes.iter().map(|n| n.acknowledged_writes_lost).sum();
    let peak_used_memory = world
        .nodes
        .iter()
        .map(|n| n.used_memory_peak)
        .max()
        .unwrap_or(0);
    RunOutput {
        keys,
        totals: ledger.totals.clone(),
        family_removals: ledger.family_removals.clone(),
        family_misses: ledger.family_misses.clone(),
        clients,
        nodes,
        samples: world.samples,
        commands,
        reads,
        hits,
        misses,
        peak_used_memory,
        acknowledged_writes,
        acknowledged_writes_lost,
    }
}
