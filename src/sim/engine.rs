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
    /// Entries that never arrived because the primary's machine failed with them in flight.
    stranded: Vec<StreamEntry>,
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
    /// The first primary, then the replicas.
    nodes: Vec<Node>,
    /// Which node is the primary now.
    primary: usize,
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
        let nodes = self.nodes.len();
        match self.clients[index].config.read_from {
            ReadFrom::Replica(replica) if replica + 1 < nodes => replica + 1,
            ReadFrom::AnyReplica if nodes > 1 => {
                // The k-th node that is not the primary.
                let k = self.routing[index].below(nodes as u64 - 1) as usize;
                if k < self.primary {
                    k
                } else {
                    k + 1
                }
            }
            _ => self.primary,
        }
    }

    /// Runs one command of client `index`; returns when its next command arrives.
    fn client_command(&mut self, index: usize, now_us: u64, ledger: &mut Ledger) -> Option<u64> {
        let primary = self.primary;
        let mut request = self.clients[index].next_request(&self.keys);
        let target = if request.command.is_read() {
            self.read_target(index)
        } else {
            primary
        };
        self.nodes[primary].set_time(now_us);
        if target != primary {
            request.primary_has_key = self.nodes[primary].is_alive(request.db, request.key);
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
            && !self.nodes[primary].down
        {
            // The refill is a write: it goes to the primary.
            let refill = client.refill_request(&request);
            let primary_node = &mut self.nodes[primary];
            let refill_reply = primary_node.execute(&refill, ledger);
            tally(client, &refill.command, refill_reply);
            remember_write(client, primary_node, refill.db, refill.key, self.keys.len());
            primary_node.before_sleep(ledger);
        }
        let next = self.clients[index].next_arrival_us();
        self.ship(now_us);
        next
    }

    /// Moves what the primary streamed since the last call onto every replica's link.
    fn ship(&mut self, now_us: u64) {
        let primary = self.primary;
        let Some(stream) = self.nodes[primary].stream.as_mut() else {
            return;
        };
        if stream.outbox.is_empty() {
            return;
        }
        let entries = std::mem::take(&mut stream.outbox);
        for node in 0..self.links.len() {
            if node == primary {
                continue;
            }
            let link = &mut self.links[node];
            let was_idle = link.queue.is_empty();
            for entry in &entries {
                let due = (now_us + link.lag_us()).max(link.last_delivery_us);
                link.last_delivery_us = due;
                link.queue.push_back((due, entry.clone()));
            }
            if was_idle {
                if let Some(&(due, _)) = link.queue.front() {
                    self.schedule(due, Event::Replicate(node as u16));
                }
            }
        }
    }

    /// Replica `node` applies every entry due by `now_us`.
    fn deliver(&mut self, node: usize, now_us: u64, ledger: &mut Ledger) {
        if self.nodes[node].down || node == self.primary {
            // The connection is gone; the replica resynchronises when it restarts.
            self.links[node].queue.clear();
            return;
        }
        let replica = &mut self.nodes[node];
        replica.set_time(now_us);
        let link = &mut self.links[node];
        while let Some((due, _)) = link.queue.front() {
            if *due > now_us {
                break;
            }
            if let Some((_, entry)) = link.queue.pop_front() {
                replica.apply_replicated(&entry.op, entry.offset, ledger);
            }
        }
        if let Some(&(due, _)) = link.queue.front() {
            self.schedule(due, Event::Replicate(node as u16));
        }
    }

    /// REPLCONF ACK: the primary learns the replica's processed offset.
    fn acknowledge(&mut self, node: usize, now_us: u64) {
        let Some(offset) = self.nodes[node]
            .replica
            .as_ref()
            .map(|r| r.processed_offset)
        else {
            return;
        };
        let primary = self.primary;
        if let Some(stream) = self.nodes[primary].stream.as_mut() {
            if let Some(Some(ack)) = stream.acks.get_mut(node) {
                *ack = (offset, now_us);
            }
        }
    }

    /// Replica `node` resynchronises in full with the primary.
    fn full_sync(&mut self, node: usize, now_us: u64, ledger: &mut Ledger) {
        let primary = self.primary;
        let offset = self.nodes[primary].stream.as_ref().map_or(0, |s| s.offset);
        let (replica, source) = pair_mut(&mut self.nodes, node, primary);
        replica.set_time(now_us);
        replica.full_sync_from(source, offset, ledger);
        self.links[node].queue.clear();
        if let Some(stream) = self.nodes[primary].stream.as_mut() {
            if let Some(ack) = stream.acks.get_mut(node) {
                *ack = Some((offset, now_us));
            }
        }
    }

    /// A node's machine fails, or its process comes back.
    fn fault(&mut self, action: &EventAction, now_us: u64, ledger: &mut Ledger) {
        match *action {
            EventAction::Crash { node } => {
                self.nodes[node].set_time(now_us);
                self.nodes[node].crash();
                if node == self.primary {
                    // What the primary had not delivered yet dies with its machine.
                    for link in &mut self.links {
                        let in_flight = link.queue.drain(..).map(|(_, entry)| entry);
                        link.stranded.extend(in_flight);
                    }
                }
            }
            EventAction::Restart { node } => {
                self.nodes[node].set_time(now_us);
                self.nodes[node].restart(ledger);
                // The replicas (or this replica) resynchronise in full with the primary.
                let primary = self.primary;
                for other in 0..self.nodes.len() {
                    let affected = if node == primary {
                        other != primary
                    } else {
                        other == node
                    };
                    if affected && !self.nodes[other].down && !self.nodes[primary].down {
                        self.full_sync(other, now_us, ledger);
                    }
                }
            }
            EventAction::Failover { to } => self.failover(to, now_us, ledger),
            _ => {}
        }
    }

    /// Promotes a replica: `to`, or the best one as Sentinel picks (lower replica-priority,
    /// then the higher processed offset, then the name). The writes the old primary had
    /// acknowledged but the new one never applied are lost; the old primary becomes a replica
    /// and resynchronises in full, discarding them.
    fn failover(&mut self, to: Option<usize>, now_us: u64, ledger: &mut Ledger) {
        let old = self.primary;
        let candidate = |node: &Node| {
            node.replica
                .as_ref()
                .filter(|r| r.priority > 0 && !node.down)
                .map(|r| {
                    (
                        r.priority,
                        std::cmp::Reverse(r.processed_offset),
                        node.name.clone(),
                    )
                })
        };
        let chosen = match to {
            Some(node) if node != old && !self.nodes[node].down => Some(node),
            Some(_) => None,
            None => (0..self.nodes.len())
                .filter_map(|n| candidate(&self.nodes[n]).map(|rank| (rank, n)))
                .min()
                .map(|(_, n)| n),
        };
        let Some(new) = chosen else {
            return;
        };
        // What had not reached the new primary is lost.
        let mut in_flight: Vec<StreamEntry> = std::mem::take(&mut self.links[new].stranded);
        in_flight.extend(self.links[new].queue.drain(..).map(|(_, e)| e));
        let offset = self.nodes[new]
            .replica
            .as_ref()
            .map_or(0, |r| r.processed_offset);
        let nodes = self.nodes.len();
        let keeps_durability = self.nodes[old].durability.is_some();
        let node = &mut self.nodes[new];
        node.set_time(now_us);
        let mut lost = 0;
        for entry in &in_flight {
            if !entry.op.is_client_write() {
                continue;
            }
            lost += 1;
            if let Some((db, key)) = entry.op.key() {
                node.note_lost_write(db, key, Cause::Failover, ledger);
            }
        }
        node.acknowledged_writes_lost += lost;
        node.replica = None;
        node.stream = Some(PrimaryStream::new(nodes, new, offset));
        if keeps_durability {
            node.durability = Some(Durability::new(
                self.config.persistence.clone(),
                self.config.server.databases,
            ));
        }
        self.nodes[old].stream = None;
        self.nodes[old].durability = None;
        self.nodes[old].replica = Some(ReplicaState::default());
        self.primary = new;
        for link in &mut self.links {
            link.queue.clear();
            link.stranded.clear();
        }
        if let Some(stream) = self.nodes[new].stream.as_mut() {
            for (node, ack) in stream.acks.iter_mut().enumerate() {
                // A replica that is down is not connected.
                *ack = (node != new).then_some((offset, now_us));
            }
        }
        for other in 0..self.nodes.len() {
            if other != new && !self.nodes[other].down {
                self.full_sync(other, now_us, ledger);
            } else if let Some(stream) = self.nodes[new].stream.as_mut() {
                if let Some(slot) = stream.acks.get_mut(other).filter(|_| other != new) {
                    *slot = None;
                }
            }
        }
    }

    fn operator(&mut self, index: usize, now_us: u64, ledger: &mut Ledger) {
        let action = &self.config.events[index].action;
        if matches!(
            action,
            EventAction::Crash { .. } | EventAction::Restart { .. } | EventAction::Failover { .. }
        ) {
            self.fault(action, now_us, ledger);
            return;
        }
        let primary = self.primary;
        if self.nodes[primary].down {
            return;
        }
        let node = &mut self.nodes[primary];
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
            _ => {}
        }
        node.note_memory_peak();
        self.ship(now_us);
    }

    fn sample(&mut self, now_us: u64, totals: &LedgerTotals) {
        let node = &self.nodes[self.primary];
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
                    // The node streaming now is the reference; a node that is primary is 0 behind.
                    let streamed = self.nodes[self.primary]
                        .stream
                        .as_ref()
                        .map_or(0, |s| s.offset);
                    let applied = replica
                        .replica
                        .as_ref()
                        .map_or(streamed, |r| r.processed_offset);
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

/// Two distinct nodes, mutably and immutably.
fn pair_mut(nodes: &mut [Node], mutable: usize, shared: usize) -> (&mut Node, &Node) {
    debug_assert_ne!(mutable, shared);
    if mutable < shared {
        let (left, right) = nodes.split_at_mut(shared);
        (&mut left[mutable], &right[0])
    } else {
        let (left, right) = nodes.split_at_mut(mutable);
        (&mut right[0], &left[shared])
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
        primary.stream = Some(PrimaryStream::new(config.replicas.len() + 1, 0, 0));
    }
    // What persistence made durable matters only if a node can crash: without crash events the
    // undo log would cost memory and time for nothing.
    let crashes = config.events.iter().any(|e| {
        matches!(
            e.action,
            EventAction::Crash { .. } | EventAction::Restart { .. }
        )
    });
    if crashes {
        primary.durability = Some(Durability::new(
            config.persistence.clone(),
            config.server.databases,
        ));
    }
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
    // One link into every node (the primary's own stays idle while it is primary); a node's
    // link keeps its lag whichever node streams to it.
    let links = std::iter::once(("primary", LinkLag::Fixed { us: 1_000 }))
        .chain(config.replicas.iter().map(|r| (r.name.as_str(), r.lag)))
        .map(|(name, lag)| Link {
            queue: VecDeque::new(),
            stranded: Vec::new(),
            last_delivery_us: 0,
            lag,
            stream: Stream::new(config.seed, &format!("link:{name}")),
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
        primary: 0,
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
    if world.nodes.len() > 1 {
        for node in 0..world.nodes.len() {
            world.schedule(1_000_000, Event::Ack(node as u16));
        }
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
