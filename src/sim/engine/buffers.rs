//! The primary's side of a replication connection (src/networking.c, src/replication.c): the
//! kernel takes the stream while the TCP window is open — the primary's send buffer plus the
//! replica's receive buffer — and the rest waits in the primary's output buffer, a reference
//! into 7.0's shared replication buffer. A replica that stops reading closes the window once
//! the two kernel buffers are full; from then on its output buffer grows, counts in
//! `mem_clients_slaves`, and past `client-output-buffer-limit replica` the replica is dropped
//! and must resynchronise.

use super::{Event, World};
use crate::sim::config::OutputBufferLimit;
use crate::sim::server::replica::{replica_blocks, REPL_BLOCK_ACCOUNTED};

impl World<'_> {
    /// Stream bytes the kernel holds for replica `node`: sent, in flight or unread.
    pub(super) fn kernel_bytes(&self, node: usize) -> u64 {
        let queue = &self.links[node].queue;
        match (queue.front(), queue.back()) {
            (Some((_, first)), Some((_, last))) => last.offset - first.start,
            _ => 0,
        }
    }

    /// Hands replica `node`'s output buffer to the kernel while the window is open (`writeToClient`
    /// until EAGAIN). A first entry larger than the whole window still goes once the kernel is
    /// empty, as a partial write would.
    pub(super) fn drain_output(&mut self, node: usize, now_us: u64) {
        self.write_output(node, now_us, false);
    }

    /// As [`World::drain_output`], by a direct write outside the event loop when `direct`
    /// (`flushSlavesOutputBuffers`), which fills the send buffer to its size.
    pub(super) fn write_output(&mut self, node: usize, now_us: u64, direct: bool) {
        let capacity = self.links[node].buffers.window_bytes(direct);
        let was_idle = self.links[node].queue.is_empty();
        loop {
            let held = self.kernel_bytes(node);
            let link = &mut self.links[node];
            let Some(entry) = link.output.front() else {
                break;
            };
            let bytes = entry.offset - entry.start;
            if held > 0 && held + bytes > capacity {
                break;
            }
            let Some(entry) = link.output.pop_front() else {
                break;
            };
            let due = (now_us + link.lag_us()).max(link.last_delivery_us);
            link.last_delivery_us = due;
            link.queue.push_back((due, entry));
        }
        if was_idle {
            if let Some(&(due, _)) = self.links[node].queue.front() {
                self.schedule(due.max(now_us), Event::Replicate(node as u16));
            }
        }
    }

    /// The first stream byte the master holds for replica `node` outside the kernel: the
    /// start of its output buffer, or of what followed the fork of its full sync.
    fn output_buffer_from(&self, node: usize) -> Option<u64> {
        let link = &self.links[node];
        let syncing = self.nodes[node].replica().is_some_and(|r| r.syncing);
        if syncing {
            return link.fork_from;
        }
        link.output.front().map(|entry| entry.start + 1)
    }

    /// `getClientOutputBufferMemoryUsage` of replica `node`: every block of the shared buffer
    /// from the one its output starts in to the head, with their headers.
    pub(super) fn output_buffer_bytes(&self, node: usize, head: u64) -> u64 {
        self.output_buffer_from(node)
            .map_or(0, |from| replica_blocks(from, head) * REPL_BLOCK_ACCOUNTED)
    }

    /// Tells `master` the oldest byte its replicas still need from its buffer.
    pub(super) fn refresh_replica_buffer(&mut self, master: usize) {
        let oldest = (0..self.nodes.len())
            .filter(|&node| self.follows(node, master))
            .filter_map(|node| self.output_buffer_from(node))
            .min();
        if let Some(stream) = self.nodes[master].stream_mut() {
            stream.replica_buffer_from = oldest;
        }
    }

    fn follows(&self, node: usize, master: usize) -> bool {
        node != master
            && !self.nodes[node].is_down()
            && self.nodes[node]
                .replica()
                .is_some_and(|r| r.master == master)
    }

    /// `closeClientOnOutputBufferLimitReached` for every replica of `master`.
    pub(super) fn check_output_limits(&mut self, master: usize, now_us: u64) {
        self.refresh_replica_buffer(master);
        let Some(head) = self.nodes[master].stream().map(|s| s.offset) else {
            return;
        };
        let limit = self.config.server.replica_output_buffer_limit;
        for node in 0..self.nodes.len() {
            if !self.follows(node, master) {
                continue;
            }
            let used = self.output_buffer_bytes(node, head);
            let since = &mut self.links[node].soft_limit_since_us;
            if over_limit(limit, used, since, now_us) {
                self.drop_for_output_limit(node, master, used, now_us);
            }
        }
        self.refresh_replica_buffer(master);
    }

    /// The master closes replica `node`'s connection: what the kernel holds still arrives,
    /// the output buffer stays in the master's backlog for a partial resync if the backlog
    /// still covers it, and a full sync in progress is abandoned. A replica that was
    /// streaming reconnects at its next replication cron; one in the middle of a transfer
    /// reconnects at once (`cancelReplicationHandshake(1)` on the read error) and asks for a
    /// full sync again.
    fn drop_for_output_limit(&mut self, node: usize, master: usize, used: u64, now_us: u64) {
        let what = format!(
            "{} dropped by {}: output buffer {used} bytes over client-output-buffer-limit replica",
            self.nodes[node].name, self.nodes[master].name
        );
        self.timeline.push((now_us, what));
        let head = self.nodes[master].stream().map_or(0, |s| s.offset);
        let backlog = self.config.server.repl_backlog_size;
        let Some(replica) = self.nodes[node].replica_mut() else {
            return;
        };
        let was_syncing = std::mem::replace(&mut replica.syncing, false);
        replica.link_lost(now_us);
        let processed = replica.processed_offset;
        let link = &mut self.links[node];
        link.soft_limit_since_us = None;
        link.fork_from = None;
        link.needs_reconnect = !was_syncing;
        link.pending.extend(link.output.drain(..));
        if was_syncing || head.saturating_sub(processed) > backlog {
            // The SyncDone event of the abandoned transfer no longer matches.
            link.sync_due_us = 0;
            link.overflow();
        }
        if let Some(stream) = self.nodes[master].stream_mut() {
            if let Some(ack) = stream.acks.get_mut(node) {
                *ack = None;
            }
        }
        if was_syncing {
            self.reconnect_link(node, now_us);
        }
    }
}

/// Whether an output buffer of `used` bytes breaks `limit`: at once over the hard limit, or
/// over the soft one for more than its seconds (`since` keeps when it went over).
fn over_limit(limit: OutputBufferLimit, used: u64, since: &mut Option<u64>, now_us: u64) -> bool {
    if limit.hard_bytes > 0 && used >= limit.hard_bytes {
        return true;
    }
    if limit.soft_bytes == 0 || used < limit.soft_bytes {
        *since = None;
        return false;
    }
    let start = *since.get_or_insert(now_us);
    now_us - start > limit.soft_seconds * 1_000_000
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMIT: OutputBufferLimit = OutputBufferLimit {
        hard_bytes: 1000,
        soft_bytes: 500,
        soft_seconds: 2,
    };

    #[test]
    fn the_hard_limit_drops_at_once_the_soft_one_after_its_seconds() {
        let mut since = None;
        assert!(over_limit(LIMIT, 1000, &mut since, 0));
        assert!(!over_limit(LIMIT, 600, &mut since, 0));
        assert!(!over_limit(LIMIT, 600, &mut since, 2_000_000));
        assert!(over_limit(LIMIT, 600, &mut since, 2_000_001));
    }

    #[test]
    fn going_under_the_soft_limit_restarts_its_clock() {
        let mut since = None;
        assert!(!over_limit(LIMIT, 600, &mut since, 0));
        assert!(!over_limit(LIMIT, 100, &mut since, 1_000_000));
        assert!(!over_limit(LIMIT, 600, &mut since, 2_500_000));
        assert!(!over_limit(LIMIT, 600, &mut since, 4_000_000));
        assert!(over_limit(LIMIT, 600, &mut since, 4_500_001));
        let disabled = OutputBufferLimit {
            hard_bytes: 0,
            soft_bytes: 0,
            soft_seconds: 0,
        };
        assert!(!over_limit(disabled, u64::MAX, &mut None, 0));
    }
}
