//! The discrete-event engine: one world holding the nodes, the clients, the operator's
//! scheduled events and the time series, driven by an event queue ordered by (time, sequence).
//!
//! Equal-time events run in the order they were scheduled. The engine is the only part of the
//! core that knows about time passing; nodes and clients are told the time.

use crate::sim::ledger::watch::WatchEvent;
use crate::sim::ledger::PerCause;
use std::sync::Arc;

use std::collections::{BTreeMap, VecDeque};

use crate::sim::cluster::network::Network;
use crate::sim::cluster::replication::{PrimaryStream, ReplicaState};
use crate::sim::cluster::sentinel::{SentinelEvent, Sentinels};
use crate::sim::config::{
    ConfigChange, EventAction, KeySelection, LinkLag, MaxmemoryClients, SimConfig,
};
use crate::sim::engine::workload::{Client, ClientCounts};
use crate::sim::keyspace::glob::glob_match;
use crate::sim::keyspace::keys::KeyTable;
use crate::sim::ledger::{Actor, Ledger, LedgerSink, LedgerTotals, NodeId};
use crate::sim::random::rng::Stream;
use crate::sim::server::command::CommandKind;
use crate::sim::server::durability::Durability;
use crate::sim::server::info::NodeInfo;
use crate::sim::server::{Node, Role};

mod buffers;
mod clients;
mod failover;
mod invariants;
mod links;
mod queue;
pub mod reference_replay;
mod shutdown;
pub mod workload;

use links::Link;
use queue::EventQueue;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Event {
    Operator(u32),
    Cron(u16),
    /// Replica i's link delivers what is due.
    Replicate(u16),
    /// Node i's once-a-second replication cron: a replica ACKs, a primary counts good replicas.
    Ack(u16),
    Client(u32),
    Sample,
    /// Sentinel i's timer.
    Sentinel(u16),
    /// Replica i has received and loaded the snapshot of a full resynchronisation.
    SyncDone(u16),
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
    /// Client requests answered with an error: refused, timed out, -OOM, -READONLY,
    /// -NOREPLICAS…
    pub errors: u64,
    pub misses_by_cause: PerCause<u64>,
    /// Per replica: bytes of stream the primary has that the replica has not applied.
    pub replica_lag_bytes: Vec<u64>,
}

/// What a run produced, for the report layer.
#[derive(Debug, Clone)]
pub struct RunOutput {
    pub keys: Arc<KeyTable>,
    pub totals: LedgerTotals,
    /// Removals and misses by cause for each key prefix group (`KeyTable::groups`).
    pub family_removals: Vec<PerCause<u64>>,
    pub family_misses: Vec<PerCause<u64>>,
    pub clients: Vec<(String, ClientCounts)>,
    pub nodes: Vec<NodeInfo>,
    pub samples: Vec<Sample>,
    /// Simulated commands executed (client commands and refills).
    pub commands: u64,
    pub reads: u64,
    pub hits: u64,
    pub misses: u64,
    /// The first primary's (the node named `primary`) peak used_memory over the run, as its
    /// INFO's `used_memory_peak` gives it at the end.
    pub peak_used_memory: u64,
    /// Client writes the primary acknowledged, and how many of them crashes took back.
    pub acknowledged_writes: u64,
    pub acknowledged_writes_lost: u64,
    /// The Sentinels' log (`+sdown`, `+odown`, `+switch-master`...), in time order.
    pub sentinel_log: Vec<SentinelEvent>,
    /// Operator events, faults and promotions as they happened (`flushdb db0`, `crash primary`,
    /// `partition`, `promoted r1 (REPLICAOF NO ONE)`…), in time order, for charts and reports.
    pub timeline: Vec<(u64, String)>,
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
    /// Which node is the primary now: the one the last failover promoted.
    primary: usize,
    /// The link into each node.
    links: Vec<Link>,
    net: Network,
    sentinels: Option<Sentinels>,
    /// Nodes an operator's failover replaced that could not be told yet (down or cut off).
    to_demote: Vec<usize>,
    timeline: Vec<(u64, String)>,
    /// Per node: when its replication cron (once a second, every 10th serverCron) runs next;
    /// its phase is set by when the process started or resumed.
    replication_cron_due: Vec<u64>,
    /// Per stopped node: what was left of its replication cron's second when it stopped.
    cron_left_at_pause: Vec<Option<u64>>,
    /// Per node: a SHUTDOWN waiting for its replicas.
    shutdowns: Vec<Option<shutdown::PendingShutdown>>,
    clients: Vec<Client>,
    /// Per client: the node it believes is the primary, and when it asks a Sentinel next.
    believed: Vec<usize>,
    /// Per client: the node its pool of connections is open on (`clients.rs`).
    pool_node: Vec<usize>,
    next_resolve_us: Vec<u64>,
    /// Per client: which replica a read goes to, for `read-from = "replica"`.
    routing: Vec<Stream>,
    queue: EventQueue,
    samples: Vec<Sample>,
    previous_hits: u64,
    previous_errors: u64,
    /// The node the previous sample read its counters from.
    previous_sampled: usize,
    previous_misses: PerCause<u64>,
    previous_expired: u64,
    previous_evicted: u64,
}

impl World<'_> {
    fn schedule(&mut self, time_us: u64, event: Event) {
        self.queue.schedule(time_us, event);
    }

    /// Node `node`'s replication cron runs next at `at_us` (earlier schedules lapse).
    fn schedule_replication_cron(&mut self, node: usize, at_us: u64) {
        self.replication_cron_due[node] = at_us;
        self.schedule(at_us, Event::Ack(node as u16));
    }

    fn operator(&mut self, index: usize, now_us: u64, ledger: &mut Ledger) {
        let action = &self.config.events[index].action;
        if action.is_fault() {
            self.fault(action, now_us, ledger);
            return;
        }
        let primary = self.primary;
        let node = &self.nodes[primary];
        let not_run = if node.is_down() {
            Some("is down")
        } else if node.is_paused() {
            Some("is paused")
        } else {
            None
        };
        if let Some(label) = self.event_label(action) {
            // A command that found no primary to run on says so, not to be taken for one that
            // ran.
            let what = match not_run {
                Some(why) => format!("{label} (not run: {} {why})", self.nodes[primary].name),
                None => label,
            };
            self.timeline.push((now_us, what));
        }
        if not_run.is_some() {
            return;
        }
        let node = &mut self.nodes[primary];
        node.set_time(now_us);
        match &self.config.events[index].action {
            EventAction::FlushDb { db } => {
                node.count_command(CommandKind::Flushdb);
                node.flush_db(*db, false, Actor::OPERATOR, ledger);
            }
            EventAction::FlushAll => {
                node.count_command(CommandKind::Flushall);
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
                node.count_command(CommandKind::Select);
                if let Some(client) = self.clients.get_mut(*client) {
                    client.db = *db;
                }
            }
            _ => {}
        }
        node.note_memory_peak();
        self.ship_from(primary, now_us);
        // A `maxmemory-clients` switched on may have evicted connections.
        self.note_closed_connections(now_us);
    }

    /// How the timeline names an operator's event: `flushdb db0`, `config-set hz 20`,
    /// `crash primary`… None for a failover: the promotion it makes is on the timeline.
    pub(super) fn event_label(&self, action: &EventAction) -> Option<String> {
        let name = |node: &usize| &self.nodes[*node].name;
        Some(match action {
            EventAction::FlushDb { db } => format!("flushdb db{db}"),
            EventAction::FlushAll => "flushall".to_string(),
            EventAction::Del {
                db,
                keys: KeySelection::Keys(names),
            } => match names.as_slice() {
                [one] => format!("del db{db} {one}"),
                _ => format!("del db{db} {} keys", names.len()),
            },
            EventAction::Del {
                db,
                keys: KeySelection::Pattern(pattern),
            } => format!("del db{db} {pattern}"),
            EventAction::ConfigSet(change) => format!("config-set {}", config_change_label(change)),
            EventAction::Select { client, db } => {
                format!("select db{db} ({})", self.config.clients[*client].name)
            }
            EventAction::Crash { node } => format!("crash {}", name(node)),
            EventAction::Kill { node } => format!("kill {}", name(node)),
            EventAction::Shutdown { node, flags } => {
                format!(
                    "shutdown {} ({})",
                    name(node),
                    shutdown::flags_label(*flags)
                )
            }
            EventAction::Restart { node } => format!("restart {}", name(node)),
            EventAction::Pause { node } => format!("pause {}", name(node)),
            EventAction::Resume { node } => format!("resume {}", name(node)),
            EventAction::LinkDown { node } => format!("link-down {}", name(node)),
            EventAction::LinkUp { node } => format!("link-up {}", name(node)),
            EventAction::Partition(_) => "partition".to_string(),
            EventAction::Heal => "heal".to_string(),
            EventAction::Failover { .. } => return None,
        })
    }

    fn sample(&mut self, now_us: u64, totals: &LedgerTotals) {
        let node = &self.nodes[self.primary];
        // A failover changes which node is sampled, and a restart resets its counters: the
        // interval's count then starts from the new node's figure.
        if self.previous_sampled != self.primary
            || node.stats.expired_keys < self.previous_expired
            || node.stats.evicted_keys < self.previous_evicted
        {
            self.previous_sampled = self.primary;
            self.previous_expired = node.stats.expired_keys;
            self.previous_evicted = node.stats.evicted_keys;
        }
        // The primary streaming now is the reference for every replica's lag.
        let streamed = node.stream().map_or(0, |s| s.offset);
        let hits: u64 = self.clients.iter().map(|c| c.counts.hits).sum();
        let errors: u64 = self.clients.iter().map(|c| c.counts.errors).sum();
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
            errors: errors - self.previous_errors,
            misses_by_cause,
            replica_lag_bytes: self.nodes[1..]
                .iter()
                .map(|replica| {
                    // A node acting as primary is 0 behind.
                    let applied = replica.replica().map_or(streamed, |r| r.processed_offset);
                    streamed.saturating_sub(applied)
                })
                .collect(),
        });
        self.previous_hits = hits;
        self.previous_errors = errors;
        self.previous_misses = totals.misses_by_cause;
        self.previous_expired = node.stats.expired_keys;
        self.previous_evicted = node.stats.evicted_keys;
    }
}

/// A `CONFIG SET` as `directive value`, in the scenario's words (sizes in bytes).
fn config_change_label(change: &ConfigChange) -> String {
    match change {
        ConfigChange::Maxmemory(bytes) => format!("maxmemory {bytes}"),
        ConfigChange::MaxmemoryPolicy(policy) => format!("maxmemory-policy {}", policy.as_str()),
        ConfigChange::MaxmemorySamples(n) => format!("maxmemory-samples {n}"),
        ConfigChange::MaxmemoryEvictionTenacity(n) => format!("maxmemory-eviction-tenacity {n}"),
        ConfigChange::LfuLogFactor(n) => format!("lfu-log-factor {n}"),
        ConfigChange::LfuDecayTime(n) => format!("lfu-decay-time {n}"),
        ConfigChange::Hz(n) => format!("hz {n}"),
        ConfigChange::ActiveExpireEffort(n) => format!("active-expire-effort {n}"),
        ConfigChange::MaxmemoryClients(MaxmemoryClients::Bytes(n)) => {
            format!("maxmemory-clients {n}")
        }
        ConfigChange::MaxmemoryClients(MaxmemoryClients::PercentOfMaxmemory(p)) => {
            format!("maxmemory-clients {p}%")
        }
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

/// How a run is carried out, beyond its scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunOptions {
    /// Check the whole world's invariants (`invariants.rs`) at every sample and before every
    /// operator event, asserting on the first broken one. On in debug builds and tests.
    pub check_invariants: bool,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            check_invariants: cfg!(debug_assertions),
        }
    }
}

/// Runs a scenario to its end, streaming ledger rows into `sink`.
pub fn run(
    config: &SimConfig,
    sink: &mut dyn LedgerSink,
    progress: &mut dyn Progress,
) -> RunOutput {
    run_with(config, sink, progress, RunOptions::default())
}

/// [`run`] with explicit options. A scenario the reference replay kernel can run exactly
/// (`reference_replay/eligible.rs`) runs there, with the same output.
pub fn run_with(
    config: &SimConfig,
    sink: &mut dyn LedgerSink,
    progress: &mut dyn Progress,
    options: RunOptions,
) -> RunOutput {
    if let Some(output) = reference_replay::try_run(config, sink, progress) {
        return output;
    }
    run_full_engine(config, sink, progress, options)
}

/// [`run_with`] on the full engine even where the reference replay kernel could run (the
/// tests that hold the two equal).
pub fn run_full_engine(
    config: &SimConfig,
    sink: &mut dyn LedgerSink,
    progress: &mut dyn Progress,
    options: RunOptions,
) -> RunOutput {
    run_watching(config, sink, progress, options, None).0
}

/// A run that follows the key named `key_name` (`vanish explain`): the same run as [`run`],
/// plus everything that happened to that key (empty if no key has that name).
pub fn run_explaining(
    config: &SimConfig,
    sink: &mut dyn LedgerSink,
    progress: &mut dyn Progress,
    key_name: &str,
) -> (RunOutput, Vec<WatchEvent>) {
    run_watching(
        config,
        sink,
        progress,
        RunOptions::default(),
        Some(key_name),
    )
}

fn run_watching(
    config: &SimConfig,
    sink: &mut dyn LedgerSink,
    progress: &mut dyn Progress,
    options: RunOptions,
    watch: Option<&str>,
) -> (RunOutput, Vec<WatchEvent>) {
    let (table, family_of_client) = KeyTable::from_clients(&config.clients);
    let keys = Arc::new(table);
    let mut world = World::new(config, keys.clone(), &family_of_client);
    let mut checker = options
        .check_invariants
        .then(|| invariants::Checker::new(world.nodes.len()));
    let mut tee;
    let sink: &mut dyn LedgerSink = match checker.as_mut() {
        Some(checker) => {
            tee = checker.tee(sink);
            &mut tee
        }
        None => sink,
    };
    let mut ledger = Ledger::new(sink, keys.groups().len());
    if let Some(name) = watch {
        ledger.watch(keys.lookup_all(name).collect());
    }
    world.schedule_start();
    world.run_events(&mut ledger, progress, &mut checker);
    progress.advance(config.duration_us);
    let events = ledger.watched_events().to_vec();
    (world.finish(keys, &ledger), events)
}

impl<'a> World<'a> {
    fn new(config: &'a SimConfig, keys: Arc<KeyTable>, family_of_client: &[usize]) -> World<'a> {
        let nodes = build_nodes(config, &keys);
        let nodes_count = nodes.len();
        let needs_future =
            config.server.maxmemory_policy == crate::sim::config::MaxmemoryPolicy::Opt;
        let clients = config
            .clients
            .iter()
            .enumerate()
            .map(|(index, client)| {
                let mut client = Client::new(
                    index,
                    client,
                    family_of_client[index],
                    config.seed,
                    needs_future,
                );
                client.enable_lookahead();
                client
            })
            .collect();
        World {
            config,
            keys,
            nodes,
            primary: 0,
            links: build_links(config),
            net: Network::new(nodes_count, config.clients.len()),
            sentinels: config
                .sentinel
                .as_ref()
                .map(|s| Sentinels::new(s, nodes_count, config.seed)),
            to_demote: Vec::new(),
            timeline: Vec::new(),
            replication_cron_due: vec![u64::MAX; nodes_count],
            cron_left_at_pause: vec![None; nodes_count],
            shutdowns: vec![None; nodes_count],
            believed: vec![0; config.clients.len()],
            pool_node: vec![0; config.clients.len()],
            next_resolve_us: vec![0; config.clients.len()],
            clients,
            routing: config
                .clients
                .iter()
                .map(|client| Stream::new(config.seed, &format!("client:{}:routing", client.name)))
                .collect(),
            queue: EventQueue::new(),
            samples: Vec::new(),
            previous_hits: 0,
            previous_errors: 0,
            previous_sampled: 0,
            previous_misses: PerCause::default(),
            previous_expired: 0,
            previous_evicted: 0,
        }
    }

    /// Schedules everything that starts the run, in a fixed order so equal-time events run in
    /// a stable order: operator events (in file order), cron, replication cron, Sentinels,
    /// clients, samples.
    fn schedule_start(&mut self) {
        let config = self.config;
        let mut operator_order: Vec<usize> = (0..config.events.len()).collect();
        operator_order.sort_by_key(|&index| (config.events[index].at_us, index));
        for index in operator_order {
            self.schedule(config.events[index].at_us, Event::Operator(index as u32));
        }
        for node in 0..self.nodes.len() {
            let period = self.nodes[node].cron_period_us();
            self.schedule(period, Event::Cron(node as u16));
        }
        if self.nodes.len() > 1 {
            for node in 0..self.nodes.len() {
                self.schedule_replication_cron(node, 1_000_000);
            }
        }
        let first_ticks: Vec<u64> = match self.sentinels.as_mut() {
            Some(sentinels) => (0..sentinels.len())
                .map(|index| sentinels.next_tick_us(index, 0))
                .collect(),
            None => Vec::new(),
        };
        for (index, first) in first_ticks.into_iter().enumerate() {
            self.schedule(first, Event::Sentinel(index as u16));
        }
        for index in 0..self.clients.len() {
            if let Some(first) = self.clients[index].next_round_trip_us() {
                self.schedule(first, Event::Client(index as u32));
            }
        }
        self.schedule(config.sample_every_us, Event::Sample);
    }

    /// The event loop, to the end of the scenario.
    fn run_events(
        &mut self,
        ledger: &mut Ledger,
        progress: &mut dyn Progress,
        checker: &mut Option<invariants::Checker>,
    ) {
        let duration_us = self.config.duration_us;
        let mut events = 0u64;
        while let Some((time_us, event)) = self.queue.pop() {
            if time_us > duration_us {
                break;
            }
            events += 1;
            if events.is_multiple_of(PROGRESS_EVERY_EVENTS) {
                progress.advance(time_us);
            }
            match event {
                Event::Client(index) => {
                    events += self.run_client(index, time_us, ledger, progress, events)
                }
                Event::Cron(node) => {
                    let node_ref = &mut self.nodes[node as usize];
                    if !node_ref.is_down() && !node_ref.is_paused() {
                        node_ref.cron(time_us, ledger);
                    }
                    let next = time_us + node_ref.cron_period_us();
                    self.schedule(next, Event::Cron(node));
                    self.note_closed_connections(time_us);
                    self.ship_from(node as usize, time_us);
                    self.shutdown_cron(node as usize, time_us);
                }
                Event::Replicate(replica) => self.deliver(replica as usize, time_us, ledger),
                Event::Ack(node) => {
                    // Only the node's current cron chain runs: a restart or a resume starts a
                    // new one.
                    if self.replication_cron_due[node as usize] == time_us {
                        self.replication_cron(node as usize, time_us);
                        self.schedule_replication_cron(node as usize, time_us + 1_000_000);
                    }
                }
                Event::Sentinel(index) => self.sentinel_tick(index as usize, time_us, ledger),
                Event::SyncDone(node) => self.finish_full_sync(node as usize, time_us, ledger),
                Event::Operator(index) => {
                    if let Some(checker) = checker.as_mut() {
                        checker.check(self, ledger);
                    }
                    self.operator(index as usize, time_us, ledger);
                    if let Some(checker) = checker.as_mut() {
                        checker.after_operator(&self.config.events[index as usize].action);
                    }
                }
                Event::Sample => {
                    if let Some(checker) = checker.as_mut() {
                        checker.check(self, ledger);
                    }
                    self.sample(time_us, ledger.totals());
                    self.schedule(time_us + self.config.sample_every_us, Event::Sample);
                }
            }
        }
        if let Some(checker) = checker.as_mut() {
            checker.check_all(self, ledger);
        }
    }

    /// A client's command, and the ones after it that come strictly before every queued event:
    /// they run at once, in the order the queue would give, without the queue. Returns how
    /// many commands ran beyond the first.
    fn run_client(
        &mut self,
        index: u32,
        time_us: u64,
        ledger: &mut Ledger,
        progress: &mut dyn Progress,
        events_before: u64,
    ) -> u64 {
        let mut now = time_us;
        let mut ran_ahead = 0;
        while let Some(next) = self.client_command(index as usize, now, ledger) {
            if next < self.queue.next_due_us() && next <= self.config.duration_us {
                self.queue.advance_to(next);
                now = next;
                ran_ahead += 1;
                if (events_before + ran_ahead).is_multiple_of(PROGRESS_EVERY_EVENTS) {
                    progress.advance(now);
                }
                continue;
            }
            self.schedule(next, Event::Client(index));
            break;
        }
        ran_ahead
    }

    /// Every node's INFO at the end, and the run's totals.
    fn finish(mut self, keys: Arc<KeyTable>, ledger: &Ledger) -> RunOutput {
        let duration_us = self.config.duration_us;
        let nodes: Vec<NodeInfo> = self
            .nodes
            .iter_mut()
            .map(|node| {
                node.set_time(duration_us);
                node.snapshot()
            })
            .collect();
        let clients: Vec<(String, ClientCounts)> = self
            .clients
            .iter()
            .map(|client| (client.config.name.clone(), client.counts.clone()))
            .collect();
        let sum = |field: fn(&ClientCounts) -> u64| clients.iter().map(|(_, c)| field(c)).sum();
        let reads = sum(|c| c.reads);
        let hits = sum(|c| c.hits);
        let misses = sum(|c| c.misses);
        let commands = sum(|c| c.commands);
        let acknowledged_writes = sum(|c| c.acknowledged_writes);
        let acknowledged_writes_lost = self.nodes.iter().map(|n| n.acknowledged_writes_lost).sum();
        // The first primary's, as its INFO gives it (a peak the cron had not noted yet, such
        // as the memory at a crash, included); a replica's copy is not the figure to size by.
        let peak_used_memory = nodes[0].used_memory_peak;
        RunOutput {
            keys,
            totals: ledger.totals().clone(),
            family_removals: ledger.family_removals().to_vec(),
            family_misses: ledger.family_misses().to_vec(),
            clients,
            nodes,
            samples: self.samples,
            commands,
            reads,
            hits,
            misses,
            peak_used_memory,
            acknowledged_writes,
            acknowledged_writes_lost,
            // No Sentinels, no log.
            sentinel_log: self.sentinels.map_or_else(Vec::new, |s| s.log),
            timeline: self.timeline,
        }
    }
}

/// The first primary, then one node per `[[replica]]`.
fn build_nodes(config: &SimConfig, keys: &Arc<KeyTable>) -> Vec<Node> {
    let mut primary = Node::new(
        NodeId(0),
        "primary",
        config.server.clone(),
        keys.clone(),
        config.seed,
    );
    if !config.replicas.is_empty() {
        let mut stream = PrimaryStream::new(config.replicas.len() + 1, 0, 0);
        stream.good_replicas = config.replicas.len() as u32;
        primary.set_role(Role::Primary(stream));
    }
    // The replicas are attached first: their links take their share of `maxclients`.
    for (index, client) in config.clients.iter().enumerate() {
        // A client starting later opens its pool at its first round trip.
        if client.start_us == 0 {
            primary.connect_client(index as u32, client.connections);
        }
    }
    // What persistence made durable matters only if a node can crash: without crash events the
    // undo log would cost memory and time for nothing.
    let crashes = config.events.iter().any(|e| {
        matches!(
            e.action,
            EventAction::Crash { .. } | EventAction::Restart { .. } | EventAction::Shutdown { .. }
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
        node.set_role(Role::Replica(ReplicaState {
            priority: replica.priority,
            ..ReplicaState::default()
        }));
        nodes.push(node);
    }
    nodes
}

/// One link into every node (the primary's own stays idle while it is primary); a node's link
/// keeps its lag whichever node streams to it.
fn build_links(config: &SimConfig) -> Vec<Link> {
    let first = (
        "primary",
        LinkLag::Fixed { us: 1_000 },
        crate::sim::config::DEFAULT_BANDWIDTH_BYTES_PER_S,
        crate::sim::config::SocketBuffers::LOOPBACK,
    );
    std::iter::once(first)
        .chain(
            config
                .replicas
                .iter()
                .map(|r| (r.name.as_str(), r.lag, r.bandwidth_bytes_per_s, r.buffers)),
        )
        .map(|(name, lag, bandwidth, buffers)| Link {
            queue: VecDeque::new(),
            stranded: Vec::new(),
            pending: VecDeque::new(),
            needs_full_sync: false,
            unsent_writes: Vec::new(),
            lost_keys: BTreeMap::new(),
            sync_due_us: 0,
            last_delivery_us: 0,
            lag,
            bandwidth_bytes_per_s: bandwidth,
            stream: Stream::new(config.seed, &format!("link:{name}")),
            buffers,
            output: VecDeque::new(),
            fork_at_us: 0,
            fork_from: None,
            soft_limit_since_us: None,
            needs_reconnect: false,
        })
        .collect()
}
