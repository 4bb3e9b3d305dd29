//! A round trip whose commands the node runs itself: Redis's own policies (sampled LRU, LFU,
//! random, volatile-*, noeviction). Which key goes depends on the node's dict layout, its
//! rehashing, the eviction pool and its random stream, so the keys stay in the node and
//! `Node::execute` decides every figure exactly as under the full engine; what the kernel
//! leaves out is the engine around it (the event per command, the client model, the
//! connection bookkeeping of each command, which `Trips` replaces).

use super::{tally, Replayer, Rows};
use crate::sim::engine::clients::holds_write_of;
use crate::sim::ledger::KeyId;
use crate::sim::server::{Argument, CommandKind, Node, Reply, Request};

/// How many records ahead a round trip loads its key's slot and bucket: one key a request
/// spreads the hints out, where a batch of them queued behind the core's few fill buffers.
const PREFETCH_AHEAD: usize = 16;

/// `World::one_command` for one GET on the client's connection, and its read-through refill;
/// returns when the client's next round trip starts.
#[inline]
pub(super) fn round_trip(
    client: &mut Replayer,
    node: &mut Node,
    db: u32,
    shared: bool,
    rows: &mut Rows,
) -> Option<u64> {
    let now_us = rows.now_us;
    node.set_time(now_us);
    if !client.opened {
        client.opened = true;
        node.connect_client(u32::from(client.actor.0), 1);
    }
    if let Some(upcoming) = client.cursor.upcoming_keys(PREFETCH_AHEAD, 1) {
        for key in upcoming {
            node.prefetch(db, KeyId(key));
        }
    }
    let next = client.cursor.next();
    let key = KeyId(next.key);
    let request = Request {
        client: client.actor,
        db,
        command: CommandKind::Get,
        key,
        argument: Argument::None,
        client_wrote_key: shared && client.has_written(key),
        next_use: next.next_use,
        primary_has_key: false,
        flags: 0,
    };
    let reply = node.execute(&request, rows.ledger);
    let trips = &mut client.trips;
    trips.key_len = trips.key_len.max(rows.keys.key_len(key) as u16);
    trips.note_reply(now_us, node.reply_bytes(&request, reply));
    // queue_reply notes the peak after each command read on a connection.
    node.note_memory_peak();
    tally(&mut client.counts, CommandKind::Get, reply);
    node.before_sleep(rows.ledger);
    if reply == Reply::Miss && client.cursor.read_through() {
        let refill = Request {
            command: CommandKind::Set,
            argument: Argument::Value {
                len: next.value_size,
                ttl_ms: None,
            },
            ..request
        };
        let refill_reply = node.execute(&refill, rows.ledger);
        tally(&mut client.counts, CommandKind::Set, refill_reply);
        let acknowledged = matches!(refill_reply, Reply::Ok | Reply::Integer(_));
        if shared && acknowledged && holds_write_of(node, db, key, client.actor) {
            client.mark_written(key, rows.keys.len());
        }
        node.before_sleep(rows.ledger);
    }
    client.cursor.next_arrival_us()
}
