//! Replication links: shipping a primary's stream to its replicas, delivery after the link's
//! lag, ACKs and good replicas, broken links and the backlog, partial and full resyncs.

use std::collections::{BTreeMap, VecDeque};

use super::{pair_mut, Event, World};
use crate::sim::cluster::replication::StreamEntry;
use crate::sim::config::{LinkLag, SocketBuffers};
use crate::sim::ledger::watch::WatchEvent;
use crate::sim::ledger::{Cause, KeyId, Ledger};
use crate::sim::random::dist::sample_lognormal;
use crate::sim::random::rng::Stream;

/// The replication link into one node, from whichever node it follows.
pub(super) struct Link {
    /// Entries sent and their arrival time, in order.
    pub(super) queue: VecDeque<(u64, StreamEntry)>,
    /// Entries that never arrived because the primary's machine failed with them in flight.
    pub(super) stranded: Vec<StreamEntry>,
    /// Entries the primary produced while the link was broken: its backlog, for a partial
    /// resynchronisation.
    pub(super) pending: VecDeque<StreamEntry>,
    /// The backlog no longer reaches back to what the replica has: only a full sync will do.
    pub(super) needs_full_sync: bool,
    /// Client writes the replica never received once the backlog overflowed (what a
    /// promotion of this replica would lose).
    pub(super) unsent_writes: Vec<(u32, KeyId)>,
    /// Keys this node holds whose writes were declared lost (`failover` when it was replaced,
    /// `split-brain` for what it accepted afterwards): its full sync wipes them as such.
    pub(super) lost_keys: BTreeMap<(u32, KeyId), Cause>,
    /// When the full sync in progress completes.
    pub(super) sync_due_us: u64,
    pub(super) last_delivery_us: u64,
    pub(super) lag: LinkLag,
    pub(super) bandwidth_bytes_per_s: u64,
    pub(super) stream: Stream,
    /// The connection's kernel buffers: `queue` holds at most their total.
    pub(super) buffers: SocketBuffers,
    /// The master's output buffer for this replica: stream the kernel has not taken yet.
    pub(super) output: VecDeque<StreamEntry>,
    /// While a full sync runs: when the master forks its snapshot, and the first stream byte
    /// after the fork (everything from there waits in the output buffer until the replica
    /// has loaded the snapshot).
    pub(super) fork_at_us: u64,
    pub(super) fork_from: Option<u64>,
    /// Since when the output buffer has been over the soft limit.
    pub(super) soft_limit_since_us: Option<u64>,
    /// The master closed the connection (output buffer limit): the replica's next
    /// replication cron connects again.
    pub(super) needs_reconnect: bool,
}

impl Link {
    pub(super) fn lag_us(&mut self) -> u64 {
        match self.lag {
            LinkLag::Fixed { us } => us,
            LinkLag::Uniform { min_us, max_us } => self.stream.between(min_us, max_us),
            LinkLag::Lognormal { median_us, p99_us } => {
                sample_lognormal(median_us, p99_us, &mut self.stream)
            }
        }
    }

    pub(super) fn reset(&mut self) {
        self.queue.clear();
        self.pending.clear();
        self.stranded.clear();
        self.unsent_writes.clear();
        self.output.clear();
        self.fork_from = None;
        self.soft_limit_since_us = None;
    }

    /// The backlog no longer covers the replica: keep only which client writes it missed.
    pub(super) fn overflow(&mut self) {
        self.needs_full_sync = true;
        let missed = self.pending.drain(..).filter(|e| e.op.is_client_write());
        self.unsent_writes.extend(missed.filter_map(|e| e.op.key()));
    }
}

impl World<'_> {
    /// Whether `master` streams to `replica` now (the link is up and open).
    pub(super) fn streams_to(&self, master: usize, replica: usize) -> bool {
        let node = &self.nodes[replica];
        !node.is_down()
            && node
                .replica()
                .is_some_and(|r| r.master == master && r.link_up && !r.syncing)
            && self.net.link_open(master, replica)
    }

    /// Moves what `master` streamed since the last call onto the links of its replicas, or
    /// into their backlog while a link is broken.
    pub(super) fn ship_from(&mut self, master: usize, now_us: u64) {
        let Some(stream) = self.nodes[master].stream_mut() else {
            return;
        };
        if stream.outbox.is_empty() {
            return;
        }
        let entries = std::mem::take(&mut stream.outbox);
        let head = stream.offset;
        let backlog = self.config.server.repl_backlog_size;
        for node in 0..self.links.len() {
            let Some(replica) = self.nodes[node].replica() else {
                continue;
            };
            if node == master || replica.master != master || self.nodes[node].is_down() {
                continue;
            }
            let processed = replica.processed_offset;
            let syncing = replica.syncing;
            if syncing {
                // The snapshot is forked once the diskless delay has passed; from then on the
                // replica's output buffer holds everything (`canFeedReplicaReplBuffer`).
                let link = &mut self.links[node];
                if link.fork_from.is_none() && now_us >= link.fork_at_us {
                    link.fork_from = entries.first().map(|e| e.start + 1);
                }
            } else if self.streams_to(master, node) {
                self.links[node].output.extend(entries.iter().cloned());
                self.drain_output(node, now_us);
            } else {
                let link = &mut self.links[node];
                link.pending.extend(entries.iter().cloned());
                if link.needs_full_sync || head.saturating_sub(processed) > backlog {
                    // The backlog wrapped past the replica's offset.
                    link.overflow();
                }
            }
        }
        self.check_output_limits(master, now_us);
    }

    /// Replica `node` applies every entry that has arrived by `now_us`.
    pub(super) fn deliver(&mut self, node: usize, now_us: u64, ledger: &mut Ledger) {
        if self.nodes[node].is_down() || self.nodes[node].replica().is_none() {
            self.links[node].queue.clear();
            return;
        }
        if self.nodes[node].is_paused() {
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
                if entry.op.key().is_some_and(|(_, key)| ledger.watches(key)) {
                    ledger.note(WatchEvent::Arrival {
                        time_us: now_us,
                        node: replica.id,
                        offset: entry.offset,
                    });
                }
            }
        }
        // What the replica read opened the window again.
        self.drain_output(node, now_us);
        if let Some(&(due, _)) = self.links[node].queue.front() {
            self.schedule(due, Event::Replicate(node as u16));
        }
        if let Some(master) = self.nodes[node].replica().map(|r| r.master) {
            self.refresh_replica_buffer(master);
        }
    }

    /// Node `node`'s replication cron (once a second): a replica sends REPLCONF ACK; a primary
    /// counts its good replicas for `min-replicas-to-write`.
    pub(super) fn replication_cron(&mut self, node: usize, now_us: u64) {
        let n = &self.nodes[node];
        if n.is_down() || n.is_paused() {
            return;
        }
        if let Some(replica) = n.replica() {
            let (master, offset) = (replica.master, replica.processed_offset);
            if !replica.link_up && !replica.syncing && self.links[node].needs_reconnect {
                // A replica whose master closed its connection reconnects from its
                // replicationCron (`connectWithMaster`).
                self.links[node].needs_reconnect = false;
                self.reconnect_link(node, now_us);
                return;
            }
            if self.streams_to(master, node) && !self.nodes[master].is_paused() {
                if let Some(Some(ack)) = self.nodes[master]
                    .stream_mut()
                    .and_then(|s| s.acks.get_mut(node))
                {
                    *ack = (offset, now_us);
                }
            }
            return;
        }
        self.count_good_replicas(node, now_us);
    }

    pub(super) fn count_good_replicas(&mut self, master: usize, now_us: u64) {
        let max_lag_s = u64::from(self.config.server.min_replicas_max_lag_s);
        let timeout_us = u64::from(self.config.server.repl_timeout_s) * 1_000_000;
        let now_s = now_us / 1_000_000;
        let following: Vec<bool> = (0..self.nodes.len())
            .map(|r| {
                r != master
                    && !self.nodes[r].is_down()
                    && self.nodes[r]
                        .replica()
                        .is_some_and(|s| s.master == master && !s.syncing)
            })
            .collect();
        let mut dropped = Vec::new();
        if let Some(stream) = self.nodes[master].stream_mut() {
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

    /// The link into `node` breaks: what was in flight or in the master's output buffer waits
    /// in its backlog.
    pub(super) fn break_link(&mut self, node: usize, now_us: u64) {
        let Some(replica) = self.nodes[node].replica_mut() else {
            return;
        };
        replica.link_lost(now_us);
        let link = &mut self.links[node];
        let mut in_flight: VecDeque<StreamEntry> = VecDeque::new();
        while let Some((due, entry)) = link.queue.pop_back() {
            if due <= now_us {
                link.queue.push_back((due, entry));
                break;
            }
            in_flight.push_front(entry);
        }
        // Then what the master still held for it, then what came since: stream order.
        in_flight.extend(link.output.drain(..));
        in_flight.extend(link.pending.drain(..));
        link.pending = in_flight;
    }

    /// Reconnects every broken link whose master can be reached again: a partial resync from
    /// the backlog when it still covers the replica's offset, a full one otherwise. Then tells
    /// nodes an operator's failover replaced to follow the primary.
    pub(super) fn reconnect(&mut self, now_us: u64, ledger: &mut Ledger) {
        let waiting = std::mem::take(&mut self.to_demote);
        for node in waiting {
            let primary = self.primary;
            if self.nodes[node].is_down()
                || self.nodes[node].is_paused()
                || !self.net.nodes_connected(node, primary)
            {
                self.to_demote.push(node);
            } else {
                self.follow(node, primary, now_us, ledger);
            }
        }
        for node in 0..self.nodes.len() {
            self.reconnect_link(node, now_us);
        }
    }

    /// The replica `node` connects to its master again if its link is down and the master can
    /// be reached: a partial resync from the backlog when it still covers the replica's
    /// offset, a full one otherwise.
    pub(super) fn reconnect_link(&mut self, node: usize, now_us: u64) {
        let n = &self.nodes[node];
        let Some(replica) = n.replica() else {
            return;
        };
        let master = replica.master;
        let m = &self.nodes[master];
        if replica.link_up
            || replica.syncing
            || n.is_down()
            || n.is_paused()
            || m.is_down()
            || m.is_paused()
            || m.stream().is_none()
            || !self.net.link_open(master, node)
        {
            return;
        }
        let head = m.stream().map_or(0, |s| s.offset);
        let gap = head.saturating_sub(replica.processed_offset);
        if self.links[node].needs_full_sync || gap > self.config.server.repl_backlog_size {
            self.start_full_sync(node, now_us);
            return;
        }
        // PSYNC +CONTINUE: the backlog resends what the replica missed.
        self.nodes[master].stats.sync_partial_ok += 1;
        if let Some(r) = self.nodes[node].replica_mut() {
            r.link_up = true;
        }
        let link = &mut self.links[node];
        let missed: Vec<StreamEntry> = link.pending.drain(..).collect();
        link.output.extend(missed);
        self.drain_output(node, now_us);
        // What arrived while the replica was stopped is due already: it is read now.
        if let Some(&(due, _)) = self.links[node].queue.front() {
            self.schedule(due.max(now_us), Event::Replicate(node as u16));
        }
        let offset = self.nodes[node].replica().map_or(0, |r| r.processed_offset);
        if let Some(ack) = self.nodes[master]
            .stream_mut()
            .and_then(|s| s.acks.get_mut(node))
        {
            *ack = Some((offset, now_us));
        }
        // replicaPutOnline refreshes the good-replica count at once.
        self.count_good_replicas(master, now_us);
    }

    /// A full resynchronisation of `node` with its master begins: after
    /// `repl-diskless-sync-delay` and the snapshot's transfer at the link's bandwidth, the
    /// replica flushes its dataset and loads the master's (until then it serves its old data).
    pub(super) fn start_full_sync(&mut self, node: usize, now_us: u64) {
        let Some(replica) = self.nodes[node].replica_mut() else {
            return;
        };
        replica.link_lost(now_us);
        replica.syncing = true;
        let master = replica.master;
        let dataset = self.nodes[master].used_memory();
        let link = &mut self.links[node];
        link.queue.clear();
        // Unsent stream of the old connection: the snapshot will carry its effect.
        link.pending.extend(link.output.drain(..));
        link.overflow();
        link.needs_full_sync = false;
        link.soft_limit_since_us = None;
        let delay = u64::from(self.config.server.repl_diskless_sync_delay_s) * 1_000_000;
        let transfer = dataset.saturating_mul(1_000_000) / link.bandwidth_bytes_per_s.max(1);
        link.fork_at_us = now_us + delay;
        link.fork_from = None;
        link.sync_due_us = now_us + delay + transfer.max(1);
        // `syncCommand` counts a full resync when it starts, completed or not.
        self.nodes[master].stats.sync_full += 1;
        let due = link.sync_due_us;
        self.schedule(due, Event::SyncDone(node as u16));
    }

    /// The snapshot of a full sync has arrived: the replica's dataset becomes its master's.
    pub(super) fn finish_full_sync(&mut self, node: usize, now_us: u64, ledger: &mut Ledger) {
        let Some(replica) = self.nodes[node].replica() else {
            return;
        };
        if !replica.syncing || self.links[node].sync_due_us != now_us {
            return;
        }
        let master = replica.master;
        let m = &self.nodes[master];
        if self.nodes[node].is_down()
            || m.is_down()
            || m.is_paused()
            || m.stream().is_none()
            || !self.net.link_open(master, node)
        {
            // The transfer failed; the next reconnection starts over.
            if let Some(r) = self.nodes[node].replica_mut() {
                r.syncing = false;
            }
            self.links[node].needs_full_sync = true;
            self.links[node].fork_from = None;
            self.refresh_replica_buffer(master);
            return;
        }
        let offset = m.stream().map_or(0, |s| s.offset);
        let lost: Vec<((u32, KeyId), Cause)> = std::mem::take(&mut self.links[node].lost_keys)
            .into_iter()
            .collect();
        self.links[node].unsent_writes.clear();
        let (replica, source) = pair_mut(&mut self.nodes, node, master);
        replica.set_time(now_us);
        replica.full_sync_from(source, offset, &lost, ledger);
        self.links[node].queue.clear();
        self.links[node].last_delivery_us = now_us;
        self.links[node].fork_from = None;
        self.refresh_replica_buffer(master);
        let m = &mut self.nodes[master];
        if let Some(stream) = m.stream_mut() {
            if let Some(ack) = stream.acks.get_mut(node) {
                *ack = Some((offset, now_us));
            }
        }
        self.count_good_replicas(master, now_us);
    }

    pub(super) fn break_unreachable_links(&mut self, now_us: u64) {
        for node in 0..self.nodes.len() {
            let cut = self.nodes[node]
                .replica()
                .is_some_and(|r| !self.net.link_open(r.master, node));
            if cut {
                self.break_link(node, now_us);
            }
        }
    }
}
