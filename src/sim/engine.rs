//! The discrete-event engine: one world holding the nodes, the clients, the operator's
//! scheduled events and the time series, driven by an event queue ordered by (time, sequence).
//!
//! Equal-time events run in the order they were scheduled. The engine is the only part of the
//! core that knows about time passing; nodes and clients are told the time.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::Arc;

use std::collections::{BTreeMap, VecDeque};

use crate::sim::config::{
    CommandKind, Discovery, EventAction, KeySelection, LinkLag, ReadFrom, SentinelHost, SimConfig,
    WaitConfig,
};
use crate::sim::dist::sample_lognormal;
use crate::sim::durability::Durability;
use crate::sim::glob::glob_match;
use crate::sim::info::NodeInfo;
use crate::sim::keys::KeyTable;
use crate::sim::ledger::{Actor, Cause, KeyId, LedgerSink, LedgerTotals, NodeId};
use crate::sim::network::Network;
use crate::sim::node::{AdminCommand, ErrorReply, Ledger, Node, Reply};
use crate::sim::replication::{PrimaryStream, ReplicaState, StreamEntry};
use crate::sim::rng::Stream;
use crate::sim::sentinel::{Action, ClusterView, SentinelEvent, Sentinels};
use crate::sim::workload::{Client, ClientCounts};

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

/// The replication link into one node, from whichever node it follows.
struct Link {
    /// Entries sent and their arrival time, in order.
    queue: VecDeque<(u64, StreamEntry)>,
    /// Entries that never arrived because the primary's machine failed with them in flight.
    stranded: Vec<StreamEntry>,
    /// Entries the primary produced while the link was broken: its backlog, for a partial
    /// resynchronisation.
    pending: VecDeque<StreamEntry>,
    /// The backlog no longer reaches back to what the replica has: only a full sync will do.
    needs_full_sync: bool,
    /// Client writes the replica never received once the backlog overflowed (what a
    /// promotion of this replica would lose).
    unsent_writes: Vec<(u32, KeyId)>,
    /// Keys this node holds whose writes were declared lost (`failover` when it was replaced,
    /// `split-brain` for what it accepted afterwards): its full sync wipes them as such.
    divergent: BTreeMap<(u32, KeyId), Cause>,
    /// When the full sync in progress completes.
    sync_due_us: u64,
    last_delivery_us: u64,
    lag: LinkLag,
    bandwidth_bytes_per_s: u64,
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

    fn reset(&mut self) {
        self.queue.clear();
        self.pending.clear();
        self.stranded.clear();
        self.unsent_writes.clear();
    }

    /// The backlog no longer covers the replica: keep only which client writes it missed.
    fn overflow(&mut self) {
        self.needs_full_sync = true;
        let missed = self.pending.drain(..).filter(|e| e.op.is_client_write());
        self.unsent_writes.extend(missed.filter_map(|e| e.op.key()));
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
    /// Client requests answered with an error: refused, timed out, -OOM, -READONLY,
    /// -NOREPLICAS…
    pub errors: u64,
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
    /// The Sentinels' log (`+sdown`, `+odown`, `+switch-master`...), in time order.
    pub sentinel_log: Vec<SentinelEvent>,
    /// Faults and promotions as they happened (`crash primary`, `partition`, `promoted r1`…),
    /// in time order, for charts and reports.
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
    clients: Vec<Client>,
    /// Per client: the node it believes is the primary, and when it asks a Sentinel next.
    believed: Vec<usize>,
    next_resolve_us: Vec<u64>,
    /// Per client: which replica a read goes to, for `read-from = "replica"`.
    routing: Vec<Stream>,
    queue: BinaryHeap<Reverse<(u64, u64, Event)>>,
    sequence: u64,
    samples: Vec<Sample>,
    previous_hits: u64,
    previous_errors: u64,
    /// The node the previous sample read its counters from.
    previous_sampled: usize,
    previous_misses: [u64; Cause::COUNT],
    previous_expired: u64,
    previous_evicted: u64,
}

/// What Sentinels see of the world.
struct View<'w> {
    nodes: &'w [Node],
    net: &'w Network,
}

impl ClusterView for View<'_> {
    fn nodes(&self) -> usize {
        self.nodes.len()
    }
    fn host_up(&self, host: SentinelHost) -> bool {
        match host {
            SentinelHost::Node(node) => !self.nodes[node].machine_down,
            SentinelHost::Client(_) => true,
        }
    }
    fn refuses(&self, host: SentinelHost, node: usize) -> bool {
        let n = &self.nodes[node];
        n.down && !n.machine_down && self.net.host_reaches_node(host, node)
    }
    fn answers(&self, host: SentinelHost, node: usize) -> bool {
        let n = &self.nodes[node];
        !n.down && !n.paused && self.net.host_reaches_node(host, node)
    }
    fn hosts_connected(&self, a: SentinelHost, b: SentinelHost) -> bool {
        self.net.host_side(a) == self.net.host_side(b)
    }
    fn acts_as_primary(&self, node: usize) -> bool {
        self.nodes[node].stream.is_some()
    }
    fn master_of(&self, node: usize) -> Option<usize> {
        self.nodes[node].replica.as_ref().map(|r| r.master)
    }
    fn replica_rank(&self, node: usize) -> Option<(u32, u64, &str)> {
        let n = &self.nodes[node];
        n.replica
            .as_ref()
            .map(|r| (r.priority, r.processed_offset, n.run_id.as_str()))
    }
    fn in_sync(&self, node: usize) -> bool {
        self.nodes[node]
            .replica
            .as_ref()
            .is_some_and(|r| r.link_up && !r.syncing)
    }
}

impl World<'_> {
    fn schedule(&mut self, time_us: u64, event: Event) {
        self.sequence += 1;
        self.queue.push(Reverse((time_us, self.sequence, event)));
    }

    /// The node a read of client `index` goes to.
    fn read_target(&mut self, index: usize, primary: usize) -> usize {
        let nodes = self.nodes.len();
        match self.clients[index].config.read_from {
            ReadFrom::Replica(replica) if replica + 1 < nodes => replica + 1,
            ReadFrom::AnyReplica if nodes > 1 => {
                // The k-th node that is not the primary.
                let k = self.routing[index].below(nodes as u64 - 1) as usize;
                if k < primary {
                    k
                } else {
                    k + 1
                }
            }
            _ => primary,
        }
    }

    /// A Sentinel-aware client asks the first Sentinel it can reach where the primary is; with
    /// no Sentinels it follows the operator's failovers.
    fn resolve(&mut self, index: usize, now_us: u64) {
        let Discovery::Sentinel { every_us } = self.clients[index].config.connection.discovery
        else {
            return;
        };
        if now_us < self.next_resolve_us[index] {
            return;
        }
        self.next_resolve_us[index] = now_us + every_us;
        self.believed[index] = match &self.sentinels {
            None => self.primary,
            Some(sentinels) => (0..sentinels.len())
                .find(|&s| {
                    let host = sentinels.host(s);
                    let up = match host {
                        SentinelHost::Node(node) => !self.nodes[node].machine_down,
                        SentinelHost::Client(_) => true,
                    };
                    up && self.net.client_reaches_host(index, host)
                })
                .map_or(self.believed[index], |s| sentinels.master_of(s)),
        };
    }

    /// Why client `index` cannot talk to `node` now, if it cannot.
    fn unreachable(&self, index: usize, node: usize) -> Option<ErrorReply> {
        let target = &self.nodes[node];
        if !self.net.client_reaches(index, node) || target.machine_down || target.paused {
            Some(ErrorReply::Timeout)
        } else if target.down {
            Some(ErrorReply::ConnectionRefused)
        } else {
            None
        }
    }

    /// Runs one command of client `index`; returns when its next command arrives.
    fn client_command(&mut self, index: usize, now_us: u64, ledger: &mut Ledger) -> Option<u64> {
        self.resolve(index, now_us);
        let primary = self.believed[index];
        let mut request = self.clients[index].next_request(&self.keys);
        let target = if request.command.is_read() {
            self.read_target(index, primary)
        } else {
            primary
        };
        if let Some(error) = self.unreachable(index, target) {
            let client = &mut self.clients[index];
            tally(client, &request.command, Reply::Error(error));
            return client.next_arrival_us();
        }
        if target != primary {
            self.nodes[primary].set_time(now_us);
            request.primary_has_key = self.nodes[primary].is_alive(request.db, request.key);
        }
        let node = &mut self.nodes[target];
        node.set_time(now_us);
        let client = &mut self.clients[index];
        let reply = node.execute(&request, ledger);
        tally(client, &request.command, reply);
        let acknowledged =
            matches!(reply, Reply::Ok | Reply::Integer(_)) && !request.command.is_read();
        if acknowledged {
            remember_write(client, node, request.db, request.key, self.keys.len());
            if let Some(divergent) = node.divergent.as_mut() {
                divergent.push((request.db, request.key));
            }
        }
        node.before_sleep(ledger);
        if reply == Reply::Error(ErrorReply::NoReplicas) {
            // Whichever node holds the data when the client looks again (a replica promoted
            // later, say) names the refusal.
            let (db, key) = (request.db, request.key);
            for (index, other) in self.nodes.iter_mut().enumerate() {
                if index != target {
                    other.remember_absence(db, key, Cause::NoreplicasRejected, request.client);
                }
            }
        }
        if reply == Reply::Miss
            && client.refills_on_miss()
            && request.command == CommandKind::Get
            && self.unreachable(index, primary).is_none()
        {
            // The refill is a write: it goes to the primary.
            let client = &mut self.clients[index];
            let refill = client.refill_request(&request);
            let primary_node = &mut self.nodes[primary];
            primary_node.set_time(now_us);
            let refill_reply = primary_node.execute(&refill, ledger);
            tally(client, &refill.command, refill_reply);
            if matches!(refill_reply, Reply::Ok | Reply::Integer(_)) {
                remember_write(client, primary_node, refill.db, refill.key, self.keys.len());
                if let Some(divergent) = primary_node.divergent.as_mut() {
                    divergent.push((refill.db, refill.key));
                }
            }
            primary_node.before_sleep(ledger);
        }
        self.ship_from(target, now_us);
        if target != primary {
            self.ship_from(primary, now_us);
        }
        if acknowledged {
            if let Some(wait) = self.clients[index].config.connection.wait {
                let until = self.wait_until(target, now_us, wait);
                self.clients[index].block_until(until);
            }
        }
        self.clients[index].next_arrival_us()
    }

    /// WAIT after a write just shipped by `master`: returns when `wait.replicas` replicas have
    /// acknowledged it (the entry's arrival plus the way back), or at the timeout.
    fn wait_until(&mut self, master: usize, now_us: u64, wait: WaitConfig) -> u64 {
        let deadline = now_us + wait.timeout_us;
        if self.nodes[master].stream.is_none() {
            return now_us;
        }
        let mut acks: Vec<u64> = (0..self.nodes.len())
            .filter(|&r| r != master && self.streams_to(master, r) && !self.nodes[r].paused)
            .filter_map(|r| {
                let link = &self.links[r];
                let (due, _) = link.queue.back()?;
                Some(due + due.saturating_sub(now_us))
            })
            .collect();
        acks.sort_unstable();
        match acks.get(wait.replicas as usize - 1) {
            Some(&at) => at.min(deadline),
            None => deadline,
        }
    }

    /// Whether `master` streams to `replica` now (the link is up and open).
    fn streams_to(&self, master: usize, replica: usize) -> bool {
        let node = &self.nodes[replica];
        !node.down
            && node
                .replica
                .as_ref()
                .is_some_and(|r| r.master == master && r.link_up && !r.syncing)
            && self.net.link_open(master, replica)
    }

    /// Moves what `master` streamed since the last call onto the links of its replicas, or
    /// into their backlog while a link is broken.
    fn ship_from(&mut self, master: usize, now_us: u64) {
        let Some(stream) = self.nodes[master].stream.as_mut() else {
            return;
        };
        if stream.outbox.is_empty() {
            return;
        }
        let entries = std::mem::take(&mut stream.outbox);
        let head = stream.offset;
        let backlog = self.config.server.repl_backlog_size;
        for node in 0..self.links.len() {
            let Some(replica) = self.nodes[node].replica.as_ref() else {
                continue;
            };
            if node == master
                || replica.master != master
                || replica.syncing
                || self.nodes[node].down
            {
                continue;
            }
            let processed = replica.processed_offset;
            if self.streams_to(master, node) {
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
            } else {
                let link = &mut self.links[node];
                link.pending.extend(entries.iter().cloned());
                if link.needs_full_sync || head.saturating_sub(processed) > backlog {
                    // The backlog wrapped past the replica's offset.
                    link.overflow();
                }
            }
        }
    }

    /// Replica `node` applies every entry that has arrived by `now_us`.
    fn deliver(&mut self, node: usize, now_us: u64, ledger: &mut Ledger) {
        if self.nodes[node].down || self.nodes[node].replica.is_none() {
            self.links[node].queue.clear();
            return;
        }
        if self.nodes[node].paused {
            // The data waits in the stopped process's socket buffer.
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

    /// Node `node`'s replication cron (once a second): a replica sends REPLCONF ACK; a primary
    /// counts its good replicas for `min-replicas-to-write`.
    fn replication_cron(&mut self, node: usize, now_us: u64) {
        let n = &self.nodes[node];
        if n.down || n.paused {
            return;
        }
        if let Some(replica) = n.replica.as_ref() {
            let (master, offset) = (replica.master, replica.processed_offset);
            if self.streams_to(master, node) && !self.nodes[master].paused {
                if let Some(Some(ack)) = self.nodes[master]
                    .stream
                    .as_mut()
                    .and_then(|s| s.acks.get_mut(node))
                {
                    *ack = (offset, now_us);
                }
            }
            return;
        }
        self.count_good_replicas(node, now_us);
    }

    fn count_good_replicas(&mut self, master: usize, now_us: u64) {
        let max_lag_s = u64::from(self.config.server.min_replicas_max_lag_s);
        let timeout_us = u64::from(self.config.server.repl_timeout_s) * 1_000_000;
        let now_s = now_us / 1_000_000;
        let following: Vec<bool> = (0..self.nodes.len())
            .map(|r| {
                r != master
                    && !self.nodes[r].down
                    && self.nodes[r]
                        .replica
                        .as_ref()
                        .is_some_and(|s| s.master == master && !s.syncing)
            })
            .collect();
        let mut dropped = Vec::new();
        if let Some(stream) = self.nodes[master].stream.as_mut() {
            let mut good = 0;
            for (node, (ack, &follows)) in stream.acks.iter_mut().zip(&following).enumerate() {
                // A replica whose link stalls stays attached until repl-timeout; its last ACK
                // just grows old. Then the primary drops it.
                let timed_out = ack.is_some_and(|(_, at)| now_us.saturating_sub(at) > timeout_us);
                if follows && timed_out {
                    dropped.push(node);
                }
                if !follows || timed_out {
                    *ack = None;
                } else if let Some((_, at_us)) = ack {
                    if now_s.saturating_sub(*at_us / 1_000_000) <= max_lag_s {
                        good += 1;
                    }
                }
            }
            stream.good_replicas = good;
        }
        for node in dropped {
            self.break_link(node, now_us);
        }
    }

    /// The link into `node` breaks: what was in flight waits in the master's backlog.
    fn break_link(&mut self, node: usize, now_us: u64) {
        let Some(replica) = self.nodes[node].replica.as_mut() else {
            return;
        };
        if replica.link_up {
            replica.link_up = false;
            replica.link_down_since_us = now_us;
        }
        let link = &mut self.links[node];
        let mut in_flight: VecDeque<StreamEntry> = VecDeque::new();
        while let Some((due, entry)) = link.queue.pop_back() {
            if due <= now_us {
                link.queue.push_back((due, entry));
                break;
            }
            in_flight.push_front(entry);
        }
        in_flight.extend(link.pending.drain(..));
        link.pending = in_flight;
    }

    /// Reconnects every broken link whose master can be reached again: a partial resync from
    /// the backlog when it still covers the replica's offset, a full one otherwise. Then tells
    /// nodes an operator's failover replaced to follow the primary.
    fn reconnect(&mut self, now_us: u64, ledger: &mut Ledger) {
        let waiting = std::mem::take(&mut self.to_demote);
        for node in waiting {
            let primary = self.primary;
            if self.nodes[node].down
                || self.nodes[node].paused
                || !self.net.nodes_connected(node, primary)
            {
                self.to_demote.push(node);
            } else {
                self.follow(node, primary, now_us, ledger);
            }
        }
        for node in 0..self.nodes.len() {
            let n = &self.nodes[node];
            let Some(replica) = n.replica.as_ref() else {
                continue;
            };
            let master = replica.master;
            let m = &self.nodes[master];
            if replica.link_up
                || replica.syncing
                || n.down
                || n.paused
                || m.down
                || m.paused
                || m.stream.is_none()
                || !self.net.link_open(master, node)
            {
                continue;
            }
            let head = m.stream.as_ref().map_or(0, |s| s.offset);
            let gap = head.saturating_sub(replica.processed_offset);
            if self.links[node].needs_full_sync || gap > self.config.server.repl_backlog_size {
                self.start_full_sync(node, now_us);
                continue;
            }
            // PSYNC +CONTINUE: the backlog resends what the replica missed.
            self.nodes[master].stats.sync_partial_ok += 1;
            if let Some(r) = self.nodes[node].replica.as_mut() {
                r.link_up = true;
            }
            let link = &mut self.links[node];
            let missed: Vec<StreamEntry> = link.pending.drain(..).collect();
            for entry in missed {
                let due = (now_us + link.lag_us()).max(link.last_delivery_us);
                link.last_delivery_us = due;
                link.queue.push_back((due, entry));
            }
            if let Some(&(due, _)) = self.links[node].queue.front() {
                self.schedule(due, Event::Replicate(node as u16));
            }
            let offset = self.nodes[node]
                .replica
                .as_ref()
                .map_or(0, |r| r.processed_offset);
            if let Some(ack) = self.nodes[master]
                .stream
                .as_mut()
                .and_then(|s| s.acks.get_mut(node))
            {
                *ack = Some((offset, now_us));
            }
            // replicaPutOnline refreshes the good-replica count at once.
            self.count_good_replicas(master, now_us);
        }
    }

    /// A full resynchronisation of `node` with its master begins: after
    /// `repl-diskless-sync-delay` and the snapshot's transfer at the link's bandwidth, the
    /// replica flushes its dataset and loads the master's (until then it serves its old data).
    fn start_full_sync(&mut self, node: usize, now_us: u64) {
        let Some(replica) = self.nodes[node].replica.as_mut() else {
            return;
        };
        if replica.link_up {
            replica.link_down_since_us = now_us;
        }
        replica.link_up = false;
        replica.syncing = true;
        let master = replica.master;
        let dataset = self.nodes[master].used_memory();
        let link = &mut self.links[node];
        link.queue.clear();
        link.overflow();
        link.needs_full_sync = false;
        let delay = u64::from(self.config.server.repl_diskless_sync_delay_s) * 1_000_000;
        let transfer = dataset.saturating_mul(1_000_000) / link.bandwidth_bytes_per_s.max(1);
        link.sync_due_us = now_us + delay + transfer.max(1);
        let due = link.sync_due_us;
        self.schedule(due, Event::SyncDone(node as u16));
    }

    /// The snapshot of a full sync has arrived: the replica's dataset becomes its master's.
    fn finish_full_sync(&mut self, node: usize, now_us: u64, ledger: &mut Ledger) {
        let Some(replica) = self.nodes[node].replica.as_ref() else {
            return;
        };
        if !replica.syncing || self.links[node].sync_due_us != now_us {
            return;
        }
        let master = replica.master;
        let m = &self.nodes[master];
        if self.nodes[node].down
            || m.down
            || m.paused
            || m.stream.is_none()
            || !self.net.link_open(master, node)
        {
            // The transfer failed; the next reconnection starts over.
            if let Some(r) = self.nodes[node].replica.as_mut() {
                r.syncing = false;
            }
            self.links[node].needs_full_sync = true;
            return;
        }
        let offset = m.stream.as_ref().map_or(0, |s| s.offset);
        let divergent: Vec<((u32, KeyId), Cause)> = std::mem::take(&mut self.links[node].divergent)
            .into_iter()
            .collect();
        self.links[node].unsent_writes.clear();
        let (replica, source) = pair_mut(&mut self.nodes, node, master);
        replica.set_time(now_us);
        replica.full_sync_from(source, offset, &divergent, ledger);
        self.links[node].queue.clear();
        self.links[node].last_delivery_us = now_us;
        let m = &mut self.nodes[master];
        m.stats.sync_full += 1;
        if let Some(stream) = m.stream.as_mut() {
            if let Some(ack) = stream.acks.get_mut(node) {
                *ack = Some((offset, now_us));
            }
        }
        self.count_good_replicas(master, now_us);
    }

    /// `REPLICAOF master` on `node`. A node that was acting as a primary loses the writes it
    /// accepted since it was replaced (`split-brain`) and resynchronises in full; a replica
    /// that is not ahead of its new master continues from its offset.
    fn follow(&mut self, node: usize, master: usize, now_us: u64, ledger: &mut Ledger) {
        // Never a loop of replicas following each other.
        let loops = self.nodes[master]
            .replica
            .as_ref()
            .is_some_and(|r| r.master == node);
        if node == master || loops {
            return;
        }
        self.nodes[node].set_time(now_us);
        let was_primary = self.nodes[node].stream.is_some();
        if was_primary {
            let what = format!("demoted {}", self.nodes[node].name);
            self.timeline.push((now_us, what));
        }
        let mut divergent = self.nodes[node].divergent.take().unwrap_or_default();
        let mut lost_here = std::mem::take(&mut self.links[node].divergent);
        if !divergent.is_empty() {
            let lost = divergent.len() as u64;
            self.nodes[node].acknowledged_writes_lost += lost;
            divergent.sort_unstable();
            divergent.dedup();
            let authority = &mut self.nodes[master];
            authority.set_time(now_us);
            for &(db, key) in &divergent {
                authority.note_lost_write(db, key, Cause::SplitBrain, ledger);
                lost_here.insert((db, key), Cause::SplitBrain);
            }
        }
        let priority = self.config_priority(node);
        let n = &mut self.nodes[node];
        let own_offset = n
            .replica
            .as_ref()
            .map(|r| r.processed_offset)
            .or(n.stream.as_ref().map(|s| s.offset))
            .unwrap_or(0);
        n.stream = None;
        n.durability = None;
        n.replica = Some(ReplicaState {
            processed_offset: own_offset,
            last_io_us: now_us,
            priority,
            master,
            link_up: false,
            syncing: false,
            link_down_since_us: now_us,
        });
        let link = &mut self.links[node];
        link.reset();
        link.divergent = lost_here;
        // PSYNC to the new master: continuing works only for a replica that has nothing the
        // new master lacks (redis-fidelity 4, replid2 and second_replid_offset).
        let promoted_at = self.nodes[master]
            .stream
            .as_ref()
            .and_then(|s| s.promoted_at_offset);
        let continues = !was_primary && promoted_at.is_some_and(|at| own_offset <= at);
        link.needs_full_sync = !continues;
        if continues {
            // It holds nothing the new primary lacks.
            link.divergent.clear();
        }
        if continues {
            // What the replica missed before the promotion is in the new master's own data.
            let (replica, source) = pair_mut(&mut self.nodes, node, master);
            let offset = source.stream.as_ref().map_or(0, |s| s.offset);
            replica.full_sync_from(source, offset, &[], ledger);
            if let Some(r) = replica.replica.as_mut() {
                r.link_up = false;
            }
            self.nodes[master].stats.sync_partial_ok += 1;
            self.links[node].needs_full_sync = false;
        }
        // Its own replicas follow along.
        for sub in 0..self.nodes.len() {
            if sub != node
                && sub != master
                && self.nodes[sub]
                    .replica
                    .as_ref()
                    .is_some_and(|r| r.master == node)
            {
                self.follow(sub, master, now_us, ledger);
            }
        }
        self.reconnect(now_us, ledger);
    }

    fn config_priority(&self, node: usize) -> u32 {
        node.checked_sub(1)
            .and_then(|i| self.config.replicas.get(i))
            .map_or(100, |r| r.priority)
    }

    /// `REPLICAOF NO ONE` on `new`, replacing `old`. What the new primary had not received of
    /// the old one's acknowledged writes is lost (`failover`); the old one, if it still runs,
    /// goes on accepting writes until it is told to follow.
    fn promote(&mut self, new: usize, old: usize, now_us: u64, ledger: &mut Ledger) {
        if self.nodes[new].replica.is_none() {
            return;
        }
        let link = &mut self.links[new];
        let mut in_flight: Vec<StreamEntry> = std::mem::take(&mut link.stranded);
        in_flight.extend(link.queue.drain(..).map(|(_, e)| e));
        in_flight.extend(link.pending.drain(..));
        let unsent = std::mem::take(&mut link.unsent_writes);
        link.needs_full_sync = false;
        let offset = self.nodes[new]
            .replica
            .as_ref()
            .map_or(0, |r| r.processed_offset);
        let nodes = self.nodes.len();
        let keeps_durability = self.nodes[old].durability.is_some();
        let node = &mut self.nodes[new];
        node.set_time(now_us);
        let mut lost = 0;
        let mut failover_keys = Vec::new();
        for entry in &in_flight {
            if entry.offset <= offset || !entry.op.is_client_write() {
                continue;
            }
            lost += 1;
            if let Some((db, key)) = entry.op.key() {
                node.note_lost_write(db, key, Cause::Failover, ledger);
                failover_keys.push((db, key));
            }
        }
        for &(db, key) in &unsent {
            node.note_lost_write(db, key, Cause::Failover, ledger);
            failover_keys.push((db, key));
        }
        lost += unsent.len() as u64;
        node.acknowledged_writes_lost += lost;
        node.replica = None;
        node.divergent = None;
        let mut stream = PrimaryStream::new(nodes, new, offset);
        stream.promoted_at_offset = Some(offset);
        node.stream = Some(stream);
        if keeps_durability {
            node.durability = Some(Durability::new(
                self.config.persistence.clone(),
                self.config.server.databases,
            ));
        }
        self.primary = new;
        self.timeline
            .push((now_us, format!("promoted {}", self.nodes[new].name)));
        if old != new && self.nodes[old].stream.is_some() {
            // It does not know yet: what it accepts from now on diverges.
            self.nodes[old].divergent.get_or_insert_with(Vec::new);
        }
        // Nodes that still hold those writes (the old primary, replicas ahead of the new one)
        // lose them at their next full sync: as `failover`, not as an anonymous flush.
        for node in (0..self.nodes.len()).filter(|&n| n != new) {
            let held = &mut self.links[node].divergent;
            held.extend(failover_keys.iter().map(|&key| (key, Cause::Failover)));
        }
        self.count_good_replicas(new, now_us);
    }

    /// An operator's failover: promote `to` (or the replica Sentinel would pick), then tell the
    /// old primary and the other replicas to follow it, now or as soon as they can be reached.
    fn operator_failover(&mut self, to: Option<usize>, now_us: u64, ledger: &mut Ledger) {
        let old = self.primary;
        let candidate = |node: &Node| {
            node.replica
                .as_ref()
                .filter(|r| r.priority > 0 && !node.down)
                .map(|r| {
                    (
                        r.priority,
                        std::cmp::Reverse(r.processed_offset),
                        node.run_id.clone(),
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
        self.promote(new, old, now_us, ledger);
        if let Some(sentinels) = self.sentinels.as_mut() {
            sentinels.announce(new, now_us);
        }
        for node in 0..self.nodes.len() {
            if node != new && (node == old || self.nodes[node].replica.is_some()) {
                self.to_demote.push(node);
            }
        }
        self.reconnect(now_us, ledger);
    }

    fn sentinel_tick(&mut self, index: usize, now_us: u64, ledger: &mut Ledger) {
        let Some(mut sentinels) = self.sentinels.take() else {
            return;
        };
        let actions = sentinels.tick(
            index,
            now_us,
            &View {
                nodes: &self.nodes,
                net: &self.net,
            },
        );
        let next = sentinels.next_tick_us(index, now_us);
        self.sentinels = Some(sentinels);
        self.schedule(next, Event::Sentinel(index as u16));
        for action in actions {
            match action {
                Action::Promote { node, old } => self.promote(node, old, now_us, ledger),
                Action::Follow { node, master } => self.follow(node, master, now_us, ledger),
            }
        }
    }

    /// Crashes, restarts, pauses, partitions and failovers.
    fn fault(&mut self, action: &EventAction, now_us: u64, ledger: &mut Ledger) {
        let name = |node: &usize| self.nodes[*node].name.clone();
        let what = match action {
            EventAction::Crash { node } => format!("crash {}", name(node)),
            EventAction::Kill { node } => format!("kill {}", name(node)),
            EventAction::Restart { node } => format!("restart {}", name(node)),
            EventAction::Pause { node } => format!("pause {}", name(node)),
            EventAction::Resume { node } => format!("resume {}", name(node)),
            EventAction::LinkDown { node } => format!("link-down {}", name(node)),
            EventAction::LinkUp { node } => format!("link-up {}", name(node)),
            EventAction::Partition(_) => "partition".to_string(),
            EventAction::Heal => "heal".to_string(),
            _ => String::new(),
        };
        if !what.is_empty() {
            self.timeline.push((now_us, what));
        }
        match action {
            EventAction::Crash { node } => {
                let node = *node;
                self.nodes[node].set_time(now_us);
                self.nodes[node].crash();
                // What the node had not delivered yet dies with its machine.
                for other in 0..self.nodes.len() {
                    if self.nodes[other]
                        .replica
                        .as_ref()
                        .is_some_and(|r| r.master == node)
                    {
                        let link = &mut self.links[other];
                        let mut arrived = VecDeque::new();
                        for (due, entry) in link.queue.drain(..) {
                            if due <= now_us {
                                arrived.push_back((due, entry));
                            } else {
                                link.stranded.push(entry);
                            }
                        }
                        link.queue = arrived;
                        link.pending.clear();
                        link.needs_full_sync = true;
                        if let Some(r) = self.nodes[other].replica.as_mut() {
                            if r.link_up {
                                r.link_up = false;
                                r.link_down_since_us = now_us;
                            }
                        }
                    }
                }
                self.links[node].reset();
            }
            EventAction::Kill { node } => {
                let node = *node;
                self.nodes[node].set_time(now_us);
                self.nodes[node].kill();
                // What it wrote to its sockets still arrives; then the links close.
                for other in 0..self.nodes.len() {
                    if self.nodes[other]
                        .replica
                        .as_ref()
                        .is_some_and(|r| r.master == node)
                    {
                        self.links[other].pending.clear();
                        self.links[other].needs_full_sync = true;
                        if let Some(r) = self.nodes[other].replica.as_mut() {
                            if r.link_up {
                                r.link_up = false;
                                r.link_down_since_us = now_us;
                            }
                        }
                    }
                }
                self.links[node].reset();
            }
            EventAction::Restart { node } => {
                let node = *node;
                self.nodes[node].set_time(now_us);
                self.nodes[node].restart(ledger);
                if self.nodes[node].stream.is_some() {
                    if self.primary != node {
                        // Replaced while it was down: it comes back as a primary all the same.
                        self.nodes[node].divergent.get_or_insert_with(Vec::new);
                    }
                    // A new process: its replicas cannot continue; they resynchronise in full.
                    for other in 0..self.nodes.len() {
                        if self.nodes[other]
                            .replica
                            .as_ref()
                            .is_some_and(|r| r.master == node)
                        {
                            self.links[other].needs_full_sync = true;
                            if let Some(r) = self.nodes[other].replica.as_mut() {
                                r.link_up = false;
                            }
                        }
                    }
                }
                if let Some(r) = self.nodes[node].replica.as_mut() {
                    r.link_up = false;
                    self.links[node].needs_full_sync = true;
                }
            }
            EventAction::Pause { node } => self.nodes[*node].paused = true,
            EventAction::Resume { node } => {
                self.nodes[*node].paused = false;
                if let Some(&(due, _)) = self.links[*node].queue.front() {
                    self.schedule(due.max(now_us), Event::Replicate(*node as u16));
                }
            }
            EventAction::Partition(partition) => {
                self.net.partition(partition);
                self.break_unreachable_links(now_us);
            }
            EventAction::Heal => self.net.heal(),
            EventAction::LinkDown { node } => {
                self.net.cut_link(*node, true);
                self.break_unreachable_links(now_us);
            }
            EventAction::LinkUp { node } => self.net.cut_link(*node, false),
            EventAction::Failover { to } => self.operator_failover(*to, now_us, ledger),
            _ => {}
        }
        self.reconnect(now_us, ledger);
    }

    fn break_unreachable_links(&mut self, now_us: u64) {
        for node in 0..self.nodes.len() {
            let cut = self.nodes[node]
                .replica
                .as_ref()
                .is_some_and(|r| !self.net.link_open(r.master, node));
            if cut {
                self.break_link(node, now_us);
            }
        }
    }

    fn operator(&mut self, index: usize, now_us: u64, ledger: &mut Ledger) {
        let action = &self.config.events[index].action;
        if action.is_fault() {
            self.fault(action, now_us, ledger);
            return;
        }
        let primary = self.primary;
        if self.nodes[primary].down || self.nodes[primary].paused {
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
        self.ship_from(primary, now_us);
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
        self.previous_errors = errors;
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
        let mut stream = PrimaryStream::new(config.replicas.len() + 1, 0, 0);
        stream.good_replicas = config.replicas.len() as u32;
        primary.stream = Some(stream);
    }
    // What persistence made durable matters only if a node can crash: without crash events the
    // undo log would cost memory and time for nothing.
    let crashes = config.events.iter().any(|e| {
        matches!(
            e.action,
            EventAction::Crash { .. } | EventAction::Restart { .. }
        )
    });
    // The primary's own link is idle until it becomes a replica.
    let nodes_count = config.replicas.len() + 1;
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
    let first = (
        "primary",
        LinkLag::Fixed { us: 1_000 },
        crate::sim::config::DEFAULT_BANDWIDTH_BYTES_PER_S,
    );
    let links = std::iter::once(first)
        .chain(
            config
                .replicas
                .iter()
                .map(|r| (r.name.as_str(), r.lag, r.bandwidth_bytes_per_s)),
        )
        .map(|(name, lag, bandwidth)| Link {
            queue: VecDeque::new(),
            stranded: Vec::new(),
            pending: VecDeque::new(),
            needs_full_sync: false,
            unsent_writes: Vec::new(),
            divergent: BTreeMap::new(),
            sync_due_us: 0,
            last_delivery_us: 0,
            lag,
            bandwidth_bytes_per_s: bandwidth,
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
        net: Network::new(nodes_count, config.clients.len()),
        sentinels: config
            .sentinel
            .as_ref()
            .map(|s| Sentinels::new(s, nodes_count, config.seed)),
        to_demote: Vec::new(),
        timeline: Vec::new(),
        believed: vec![0; config.clients.len()],
        next_resolve_us: vec![0; config.clients.len()],
        clients,
        routing,
        queue: BinaryHeap::new(),
        sequence: 0,
        samples: Vec::new(),
        previous_hits: 0,
        previous_errors: 0,
        previous_sampled: 0,
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
    let sentinel_count = world.sentinels.as_ref().map_or(0, |s| s.len());
    for index in 0..sentinel_count {
        if let Some(sentinels) = world.sentinels.as_mut() {
            let first = sentinels.next_tick_us(index, 0);
            world.schedule(first, Event::Sentinel(index as u16));
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
                if !node_ref.down && !node_ref.paused {
                    node_ref.cron(time_us, &mut ledger);
                }
                let next = time_us + node_ref.cron_period_us();
                world.schedule(next, Event::Cron(node));
                world.ship_from(node as usize, time_us);
            }
            Event::Replicate(replica) => world.deliver(replica as usize, time_us, &mut ledger),
            Event::Ack(node) => {
                world.replication_cron(node as usize, time_us);
                world.schedule(time_us + 1_000_000, Event::Ack(node));
            }
            Event::Sentinel(index) => world.sentinel_tick(index as usize, time_us, &mut ledger),
            Event::SyncDone(node) => world.finish_full_sync(node as usize, time_us, &mut ledger),
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
        sentinel_log: world.sentinels.map(|s| s.log).unwrap_or_default(),
        timeline: world.timeline,
    }
}
