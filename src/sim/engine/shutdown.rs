//! SHUTDOWN as 7.0 runs it (src/server.c `prepareForShutdown`, `isReadyToShutdown`,
//! `finishShutdown`): unless `NOW` (or `shutdown-timeout 0`), a node with lagging replicas
//! pauses writes (`CLIENT_PAUSE_WRITE`: a write gets no reply), sends `REPLCONF GETACK *` down
//! its stream and waits, checking at every serverCron, until every replica has acknowledged its
//! whole offset or the timeout passes. Then it saves an RDB when save points exist (unless
//! `NOSAVE`; always with `SAVE`), writes what it can of its replicas' output buffers into their
//! sockets (`flushSlavesOutputBuffers`), and exits: like a kill, the kernel still delivers
//! what the sockets hold, and the rest of the output buffers is gone.

use super::World;
use crate::sim::cluster::replication::{ReplOp, GETACK_BYTES};
use crate::sim::config::ShutdownFlags;

/// A SHUTDOWN waiting for replicas.
#[derive(Debug, Clone, Copy)]
pub(super) struct PendingShutdown {
    pub deadline_us: u64,
    pub flags: ShutdownFlags,
}

impl World<'_> {
    /// `SHUTDOWN` on `node` now. A stopped or gone process cannot take the command.
    pub(super) fn shutdown(&mut self, node: usize, flags: ShutdownFlags, now_us: u64) {
        let n = &self.nodes[node];
        if n.is_down() || n.is_paused() || self.shutdowns[node].is_some() {
            return;
        }
        let timeout_us = u64::from(self.config.server.shutdown_timeout_s) * 1_000_000;
        if flags.now || timeout_us == 0 || self.replicas_caught_up(node) {
            self.finish_shutdown(node, flags, now_us);
            return;
        }
        self.shutdowns[node] = Some(PendingShutdown {
            deadline_us: now_us + timeout_us,
            flags,
        });
        self.nodes[node].set_time(now_us);
        if let Some(stream) = self.nodes[node].stream_mut() {
            stream.push(ReplOp::GetAck, GETACK_BYTES);
        }
        self.ship_from(node, now_us);
    }

    /// serverCron's check of a SHUTDOWN in progress.
    pub(super) fn shutdown_cron(&mut self, node: usize, now_us: u64) {
        let Some(pending) = self.shutdowns[node] else {
            return;
        };
        if now_us >= pending.deadline_us || self.replicas_caught_up(node) {
            self.finish_shutdown(node, pending.flags, now_us);
        }
    }

    /// Whether a write sent to `node` now waits unanswered behind its SHUTDOWN's pause.
    pub(super) fn writes_paused(&self, node: usize) -> bool {
        self.shutdowns[node].is_some()
    }

    /// `isReadyToShutdown`: every attached replica has acknowledged the whole stream.
    fn replicas_caught_up(&self, node: usize) -> bool {
        let Some(stream) = self.nodes[node].stream() else {
            return true;
        };
        stream
            .acks
            .iter()
            .flatten()
            .all(|&(offset, _)| offset == stream.offset)
    }

    fn finish_shutdown(&mut self, node: usize, flags: ShutdownFlags, now_us: u64) {
        self.shutdowns[node] = None;
        let has_save_points = !self.config.persistence.save_points.is_empty();
        let save = flags.save || (has_save_points && !flags.nosave);
        let n = &mut self.nodes[node];
        n.set_time(now_us);
        let saved = match n.durability.as_mut() {
            Some(durability) if save => {
                durability.shutdown_save(now_us);
                true
            }
            _ => false,
        };
        for replica in 0..self.nodes.len() {
            if self.streams_to(node, replica) {
                self.write_output(replica, now_us, true);
            }
        }
        let what = format!(
            "{} exits (shutdown, {})",
            self.nodes[node].name,
            if saved { "RDB saved" } else { "no RDB" }
        );
        self.timeline.push((now_us, what));
        self.process_lost(node, false, now_us);
    }
}

/// How the timeline names a SHUTDOWN's flags: `nosave now`, or `plain`.
pub(super) fn flags_label(flags: ShutdownFlags) -> String {
    let words: Vec<&str> = [
        (flags.save, "save"),
        (flags.nosave, "nosave"),
        (flags.now, "now"),
        (flags.force, "force"),
    ]
    .into_iter()
    .filter_map(|(set, word)| set.then_some(word))
    .collect();
    if words.is_empty() {
        "plain".to_string()
    } else {
        words.join(" ")
    }
}
