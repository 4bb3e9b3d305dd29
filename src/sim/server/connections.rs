//! A node's client connections over their life, as Redis 7.0.15 allocates and trims them: the
//! `client` struct and what `createClient` allocates beside it, the query buffer
//! (`query_buffer.rs`: made room for at each read, a buffer of its own for a fat argument,
//! trimmed by `clientsCronResizeQueryBuffer`), the reply buffer `c->buf` (16 KB at creation,
//! resized by `clientsCronResizeOutputBuffer` from its `buf_peak`) and the reply list a large
//! or pipelined reply spills into, freed once written.
//!
//! `used_memory` sees every allocation at once; `mem_clients_normal` is what `clientsCron`
//! last recorded of each connection (`updateClientMemoryUsage`), as INFO reads it from the
//! cron's running totals. The cron visits `numclients / hz` connections a tick (at least 5),
//! rotating the list, so each one about once a second. Pools pick their connections round
//! robin, one round trip at a time.

use crate::sim::config::OutputBufferLimit;
use crate::sim::keyspace::memory::{jemalloc_size, CLIENT_STRUCT_BYTES, CLIENT_UNTRACKED_BYTES};
use crate::sim::server::query_buffer::QueryBuffer;
pub use crate::sim::server::query_buffer::PROTO_IOBUF_LEN;
use crate::sim::server::resp::RequestBytes;

/// `PROTO_REPLY_CHUNK_BYTES`: the reply buffer at creation, and the smallest reply-list block.
pub const PROTO_REPLY_CHUNK_BYTES: u64 = 16 * 1024;
/// `PROTO_REPLY_MIN_BYTES`: the reply buffer never shrinks below this.
pub const PROTO_REPLY_MIN_BYTES: u64 = 1024;
/// `NET_MAX_WRITES_PER_EVENT`: a write event stops once it has written more than this (unless
/// the server is over maxmemory).
const NET_MAX_WRITES_PER_EVENT: u64 = 64 * 1024;
/// `CLIENTS_CRON_MIN_ITERATIONS`.
const CLIENTS_CRON_MIN_ITERATIONS: usize = 5;
/// `CLIENTS_PEAK_MEM_USAGE_SLOTS`: one slot per second of INFO's recent maxima.
const PEAK_SLOTS: usize = 8;
/// `reply-buffer-peak-reset-time` default (`REPLY_BUFFER_DEFAULT_PEAK_RESET_TIME`), ms.
const REPLY_BUFFER_PEAK_RESET_MS: u64 = 5000;
/// `sizeof(clientReplyBlock)` (size, used): the header of each reply-list block.
const REPLY_BLOCK_HEADER_BYTES: u64 = 16;
/// `sizeof(listNode) + sizeof(clientReplyBlock)`, which `getClientOutputBufferMemoryUsage`
/// adds per block.
const REPLY_BLOCK_COUNTED_OVERHEAD: u64 = 24 + 16;
/// The list node holding a block (24 bytes, jemalloc's 32-byte class).
const LIST_NODE_BYTES: u64 = 32;
/// The idle time after which the query buffer is emptied: `idletime > 2` in whole seconds.
const QUERY_BUFFER_IDLE_S: u64 = 2;

/// One connection.
#[derive(Debug, Clone)]
struct Connection {
    /// The client (by index) whose pool holds it.
    owner: u32,
    open: bool,
    /// `c->querybuf` and its peak.
    query: QueryBuffer,
    /// A fat argument's object (the old query buffer, or a copy of the bulk), `c->argv`'s
    /// until the command is done with it (the value it stores, or freed).
    argv_alloc: u64,
    /// `c->lastinteraction`, Unix seconds.
    last_interaction_s: u64,
    /// `c->buf_usable_size`.
    buf_usable: u64,
    /// `c->bufpos`: reply bytes in `c->buf` not yet written.
    bufpos: u64,
    /// `c->buf_peak`.
    buf_peak: u64,
    /// `c->buf_peak_last_reset_time`: createClient stores Unix seconds where the cron
    /// compares milliseconds, so the first visit always resets the peak.
    buf_peak_reset_ms: u64,
    /// `c->reply_bytes`: the sizes of the reply-list blocks.
    reply_bytes: u64,
    /// Blocks in the reply list, and free bytes in the last one.
    reply_blocks: u64,
    reply_tail_free: u64,
    /// Bytes the reply blocks take in jemalloc's classes, with their list nodes.
    reply_allocated: u64,
    /// What the cron last recorded (`c->last_memory_usage`).
    last_memory_usage: u64,
    /// When the connection entered its client-eviction bucket (`listAddNodeTail` onto the
    /// bucket's list), by [`Connections::bucket_entries`]; None: in no bucket (eviction off).
    bucket_entry: Option<u64>,
    /// `c->obuf_soft_limit_reached_time`, Unix seconds (0: not reached).
    soft_limit_since_s: u64,
}

impl Connection {
    fn new(owner: u32, unix_ms: u64) -> Connection {
        Connection {
            owner,
            open: true,
            query: QueryBuffer::new(),
            argv_alloc: 0,
            last_interaction_s: unix_ms / 1000,
            buf_usable: PROTO_REPLY_CHUNK_BYTES,
            bufpos: 0,
            buf_peak: PROTO_REPLY_CHUNK_BYTES,
            buf_peak_reset_ms: unix_ms / 1000,
            reply_bytes: 0,
            reply_blocks: 0,
            reply_tail_free: 0,
            reply_allocated: 0,
            last_memory_usage: 0,
            bucket_entry: None,
            soft_limit_since_s: 0,
        }
    }

    /// Everything the connection holds in used_memory.
    fn allocated(&self) -> u64 {
        CLIENT_STRUCT_BYTES
            + CLIENT_UNTRACKED_BYTES
            + self.query.allocated()
            + self.argv_alloc
            + self.buf_usable
            + self.reply_allocated
    }

    /// `getClientOutputBufferMemoryUsage` of a normal client.
    fn output_usage(&self) -> u64 {
        self.reply_bytes + REPLY_BLOCK_COUNTED_OVERHEAD * self.reply_blocks
    }

    /// `getClientMemoryUsage` between commands (no argv): output, query buffer, struct, buf.
    fn memory_usage(&self) -> u64 {
        self.output_usage() + self.query.allocated() + CLIENT_STRUCT_BYTES + self.buf_usable
    }

    /// The round trip's next request read (`readQueryFromClient` and `processInputBuffer`):
    /// the event loop writes the replies so far before each read after the round trip's first.
    fn read(&mut self, request: RequestBytes, more_follows: bool, unix_s: u64, write_all: bool) {
        let taken = self.query.take(request, more_follows);
        for _ in 0..taken.later_reads {
            self.write_event(write_all);
        }
        if taken.argv_bytes > 0 {
            self.argv_alloc = taken.argv_bytes;
        }
        self.last_interaction_s = unix_s;
    }

    /// `_addReplyToBufferOrList`: into `c->buf` while the list is empty, the rest into the
    /// list's tail block and then new blocks of at least PROTO_REPLY_CHUNK_BYTES.
    fn add_reply(&mut self, mut bytes: u64) {
        if self.reply_blocks == 0 {
            let into_buf = bytes.min(self.buf_usable - self.bufpos);
            self.bufpos += into_buf;
            self.buf_peak = self.buf_peak.max(self.bufpos);
            bytes -= into_buf;
        }
        if bytes == 0 {
            return;
        }
        let into_tail = bytes.min(self.reply_tail_free);
        self.reply_tail_free -= into_tail;
        bytes -= into_tail;
        if bytes > 0 {
            let usable =
                jemalloc_size(bytes.max(PROTO_REPLY_CHUNK_BYTES) + REPLY_BLOCK_HEADER_BYTES);
            let size = usable - REPLY_BLOCK_HEADER_BYTES;
            self.reply_blocks += 1;
            self.reply_bytes += size;
            self.reply_tail_free = size - bytes;
            self.reply_allocated += usable + LIST_NODE_BYTES;
        }
    }

    /// One write event (`writeToClient` from beforeSleep): `c->buf`, then whole reply blocks
    /// while the writev is under NET_MAX_WRITES_PER_EVENT, and no more, unless the server is
    /// over maxmemory. Written blocks are freed. Blocks are taken as equally full.
    fn write_event(&mut self, write_all: bool) {
        let mut written = self.bufpos;
        let mut blocks = 0;
        while written < NET_MAX_WRITES_PER_EVENT && blocks < self.reply_blocks {
            written += self.reply_bytes / self.reply_blocks;
            blocks += 1;
        }
        if write_all || blocks == self.reply_blocks {
            self.flush();
            return;
        }
        let bytes = self.reply_bytes * blocks / self.reply_blocks;
        let allocated = self.reply_allocated * blocks / self.reply_blocks;
        self.bufpos = 0;
        self.reply_blocks -= blocks;
        self.reply_bytes -= bytes;
        self.reply_allocated -= allocated;
    }

    /// `writeToClient` having written everything: the buffer is reused, the blocks freed.
    fn flush(&mut self) {
        self.bufpos = 0;
        self.reply_bytes = 0;
        self.reply_blocks = 0;
        self.reply_tail_free = 0;
        self.reply_allocated = 0;
        self.soft_limit_since_s = 0;
    }

    /// `checkClientOutputBufferLimits`.
    fn over_limit(&mut self, limit: OutputBufferLimit, unix_s: u64) -> bool {
        let used = self.output_usage();
        let hard = limit.hard_bytes != 0 && used >= limit.hard_bytes;
        let mut soft = limit.soft_bytes != 0 && used >= limit.soft_bytes;
        if soft {
            if self.soft_limit_since_s == 0 {
                self.soft_limit_since_s = unix_s;
                soft = false;
            } else if unix_s - self.soft_limit_since_s <= limit.soft_seconds {
                soft = false;
            }
        } else {
            self.soft_limit_since_s = 0;
        }
        hard || soft
    }

    /// `clientsCronResizeQueryBuffer`.
    fn resize_query_buffer(&mut self, unix_s: u64) {
        let idle_s = unix_s.saturating_sub(self.last_interaction_s);
        self.query.cron_resize(idle_s > QUERY_BUFFER_IDLE_S);
    }

    /// `clientsCronResizeOutputBuffer`.
    fn resize_output_buffer(&mut self, unix_ms: u64) {
        let shrink_to = self.buf_usable / 2;
        let expand_to = self.buf_usable * 2;
        let mut new_size = 0;
        if shrink_to >= PROTO_REPLY_MIN_BYTES && self.buf_peak < shrink_to {
            new_size = PROTO_REPLY_MIN_BYTES.max(self.buf_peak + 1);
        } else if expand_to < PROTO_REPLY_CHUNK_BYTES * 2 && self.buf_peak == self.buf_usable {
            new_size = PROTO_REPLY_CHUNK_BYTES.min(expand_to);
        }
        if unix_ms.saturating_sub(self.buf_peak_reset_ms) >= REPLY_BUFFER_PEAK_RESET_MS {
            self.buf_peak = self.bufpos;
            self.buf_peak_reset_ms = unix_ms;
        }
        if new_size != 0 {
            self.buf_usable = jemalloc_size(new_size);
        }
    }
}

/// The connections of one node, in `server.clients` order (newest last).
#[derive(Debug, Clone, Default)]
pub struct Connections {
    list: Vec<Connection>,
    /// Each client's connections (indices into `list`), and the next one its pool hands out.
    pools: Vec<Pool>,
    /// Open connections (`listLength(server.clients)`).
    open: u64,
    /// Σ allocated() over open connections.
    allocated: u64,
    /// Whether client eviction is on: recording a usage then puts the connection in its
    /// bucket (`updateClientMemUsageAndBucket`), else takes it out.
    pub eviction_on: bool,
    /// Connections that entered a bucket so far: the order within a bucket.
    bucket_entries: u64,
    /// Σ last_memory_usage over open connections (`stat_clients_type_memory[NORMAL]`).
    recorded: u64,
    /// The cron's rotation: the next connection it visits, counted from the tail.
    rotation: usize,
    peak_input: [u64; PEAK_SLOTS],
    peak_output: [u64; PEAK_SLOTS],
    /// Connections closed for their output buffer, and by client eviction (INFO
    /// `evicted_clients`).
    pub closed_for_output_limit: u64,
    pub evicted_clients: u64,
    /// Connections refused at `maxclients` (INFO `rejected_connections`).
    pub rejected_connections: u64,
    /// The owners of the connections the server closed since [`Connections::take_closed`].
    closed: Vec<(u32, Closed)>,
}

#[derive(Debug, Clone, Default)]
struct Pool {
    members: Vec<usize>,
    next: usize,
    /// The connection of the round trip in progress.
    current: Option<usize>,
}

/// A connection a client's pool handed out for one round trip.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionId(usize);

/// Why a connection was closed by the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Closed {
    /// `client-output-buffer-limit` reached.
    OutputBufferLimit,
    /// `maxmemory-clients` reached (`evictClients`).
    Evicted,
}

impl Connections {
    /// Opens a pool of `count` connections for client `owner` unless it has one; returns
    /// whether it opened any. Past `maxclients` open connections the rest are refused: the
    /// pool keeps what it got, and one that got none tries again at its next round trip.
    pub fn open_pool(&mut self, owner: u32, count: u32, unix_ms: u64, maxclients: u32) -> bool {
        let owner_index = owner as usize;
        if self.pools.len() <= owner_index {
            self.pools.resize_with(owner_index + 1, Pool::default);
        }
        if !self.pools[owner_index].members.is_empty() {
            return false;
        }
        for _ in 0..count {
            if let Some(index) = self.accept(owner, unix_ms, maxclients) {
                self.pools[owner_index].members.push(index);
            }
        }
        !self.pools[owner_index].members.is_empty()
    }

    /// `acceptCommonHandler`'s admission control: a new connection while fewer than
    /// `maxclients` are open (the node's `maxclients` less its replicas' links); else Redis
    /// writes "-ERR max number of clients reached", closes it and counts it in
    /// `rejected_connections`.
    fn accept(&mut self, owner: u32, unix_ms: u64, maxclients: u32) -> Option<usize> {
        if self.open >= u64::from(maxclients) {
            self.rejected_connections += 1;
            return None;
        }
        let index = self.list.len();
        self.list.push(Connection::new(owner, unix_ms));
        self.admit(index);
        Some(index)
    }

    /// Whether client `owner` tried to connect and holds no open connection: every one it
    /// asked for was refused at `maxclients`.
    pub fn is_refused(&self, owner: u32) -> bool {
        self.pools
            .get(owner as usize)
            .is_some_and(|pool| pool.members.iter().all(|&index| !self.list[index].open))
    }

    /// Closes every connection of client `owner` (the application stopped).
    pub fn close_pool(&mut self, owner: u32) {
        let Some(pool) = self.pools.get_mut(owner as usize) else {
            return;
        };
        let members = std::mem::take(&mut pool.members);
        pool.current = None;
        for index in members {
            self.release(index);
        }
    }

    /// Whether client `owner` has a pool here.
    pub fn has_pool(&self, owner: u32) -> bool {
        self.pools
            .get(owner as usize)
            .is_some_and(|pool| !pool.members.is_empty())
    }

    /// The connection client `owner`'s next round trip uses: the pool's members in turn. A
    /// member the server closed is replaced by a new connection, as a pool reconnects; if
    /// `maxclients` refuses it, another open member serves (None if there is none).
    pub fn begin_round_trip(
        &mut self,
        owner: u32,
        unix_ms: u64,
        maxclients: u32,
    ) -> Option<ConnectionId> {
        let pool = self.pools.get_mut(owner as usize)?;
        if pool.members.is_empty() {
            return None;
        }
        pool.current = None;
        // `next` stays below the pool's size: no division on the command path.
        let size = pool.members.len();
        let slot = if pool.next < size {
            pool.next
        } else {
            pool.next % size
        };
        pool.next = if slot + 1 == size { 0 } else { slot + 1 };
        let mut index = pool.members[slot];
        if !self.list[index].open {
            index = match self.accept(owner, unix_ms, maxclients) {
                Some(fresh) => {
                    self.pools[owner as usize].members[slot] = fresh;
                    fresh
                }
                None => self.pools[owner as usize]
                    .members
                    .iter()
                    .copied()
                    .find(|&member| self.list[member].open)?,
            };
        }
        self.pools[owner as usize].current = Some(index);
        self.list[index].query.end_round_trip();
        Some(ConnectionId(index))
    }

    /// The round trip's next request read on the connection, after the replies so far are
    /// written if it needs a new read (all of them when `write_all`: the server is over
    /// maxmemory); `more_follows`, whether the round trip sends more commands behind it.
    pub fn read(
        &mut self,
        id: ConnectionId,
        request: RequestBytes,
        more_follows: bool,
        unix_ms: u64,
        write_all: bool,
    ) {
        self.change(id.0, |connection| {
            connection.read(request, more_follows, unix_ms / 1000, write_all)
        });
    }

    /// The command ran: its arguments are stored or freed.
    pub fn command_done(&mut self, id: ConnectionId) {
        if self.list[id.0].open {
            self.change(id.0, |connection| connection.argv_alloc = 0);
        }
    }

    /// A reply of `bytes` queued on the connection; returns Closed if the output buffer limit
    /// closed it (`closeClientOnOutputBufferLimitReached`, checked when the list grows).
    pub fn reply(
        &mut self,
        id: ConnectionId,
        bytes: u64,
        limit: OutputBufferLimit,
        unix_ms: u64,
    ) -> Option<Closed> {
        let blocks_before = self.list[id.0].reply_blocks;
        self.change(id.0, |connection| connection.add_reply(bytes));
        let connection = &mut self.list[id.0];
        if connection.reply_blocks > blocks_before && connection.over_limit(limit, unix_ms / 1000) {
            self.closed_for_output_limit += 1;
            self.closed
                .push((connection.owner, Closed::OutputBufferLimit));
            self.release(id.0);
            return Some(Closed::OutputBufferLimit);
        }
        None
    }

    /// The replies written (the end of a read's commands, in beforeSleep).
    pub fn flush(&mut self, id: ConnectionId) {
        if self.list[id.0].open {
            self.change(id.0, |connection| {
                connection.flush();
                connection.query.end_round_trip();
            });
        }
    }

    /// One `clientsCron` pass at `unix_ms` with the server's `hz`.
    pub fn cron(&mut self, unix_ms: u64, hz: u32) {
        let unix_s = unix_ms / 1000;
        let slot = (unix_s % PEAK_SLOTS as u64) as usize;
        let zero = (slot + 1) % PEAK_SLOTS;
        self.peak_input[zero] = 0;
        self.peak_output[zero] = 0;
        let clients = self.open as usize;
        let mut iterations = clients / hz.max(1) as usize;
        if iterations < CLIENTS_CRON_MIN_ITERATIONS {
            iterations = clients.min(CLIENTS_CRON_MIN_ITERATIONS);
        }
        let total = self.list.len();
        let mut visited = 0;
        let mut scanned = 0;
        while visited < iterations && scanned < total {
            // listRotateTailToHead: the newest first, then back through the list.
            self.rotation = (self.rotation + 1) % total;
            let index = total - 1 - self.rotation;
            scanned += 1;
            if !self.list[index].open {
                continue;
            }
            visited += 1;
            self.change(index, |connection| {
                connection.resize_query_buffer(unix_s);
                connection.resize_output_buffer(unix_ms);
            });
            let connection = &self.list[index];
            self.peak_input[slot] = self.peak_input[slot].max(connection.query.allocated());
            self.peak_output[slot] = self.peak_output[slot].max(connection.output_usage());
            self.record(index);
        }
    }

    /// `updateClientMemUsageAndBucket`: the connection's usage now, and with eviction on its
    /// bucket: one it enters anew (or first) it joins at the tail.
    fn record(&mut self, index: usize) {
        let connection = &mut self.list[index];
        let usage = connection.memory_usage();
        let previous = connection.last_memory_usage;
        self.recorded = self.recorded - previous + usage;
        connection.last_memory_usage = usage;
        connection.bucket_entry = match connection.bucket_entry {
            _ if !self.eviction_on => None,
            Some(entry) if bucket(previous) == bucket(usage) => Some(entry),
            _ => {
                self.bucket_entries += 1;
                Some(self.bucket_entries)
            }
        };
    }

    /// INFO `client_recent_max_input_buffer` and `client_recent_max_output_buffer`.
    pub fn recent_max_buffers(&self) -> (u64, u64) {
        // The slots of the last seconds (0 with no client connected, as Redis prints).
        (
            self.peak_input.iter().copied().fold(0, u64::max),
            self.peak_output.iter().copied().fold(0, u64::max),
        )
    }

    /// INFO connected_clients.
    pub fn connected(&self) -> u64 {
        self.open
    }

    /// What every open connection holds in used_memory.
    pub fn allocated_bytes(&self) -> u64 {
        self.allocated
    }

    /// INFO mem_clients_normal: what the cron last recorded of each open connection.
    pub fn mem_clients_normal(&self) -> u64 {
        self.recorded
    }

    /// Client eviction (`evictClients`): while the recorded memory of normal clients reaches
    /// `limit` (0: off), frees the largest: the top `log2` bucket first, and in it the first
    /// to have entered it. Returns how many it closed.
    pub fn evict(&mut self, limit: u64) -> u64 {
        let mut evicted = 0;
        while limit > 0 && self.recorded >= limit {
            let victim = (0..self.list.len())
                .filter(|&index| self.list[index].open)
                .filter_map(|index| {
                    let connection = &self.list[index];
                    let entry = connection.bucket_entry?;
                    Some((
                        bucket(connection.last_memory_usage),
                        u64::MAX - entry,
                        index,
                    ))
                })
                .max()
                .map(|(_, _, index)| index);
            let Some(index) = victim else {
                break;
            };
            self.closed.push((self.list[index].owner, Closed::Evicted));
            evicted += 1;
            self.evicted_clients += 1;
            self.release(index);
        }
        evicted
    }

    /// Whether a connection was closed since the last [`Connections::take_closed`].
    #[inline]
    pub fn closed_pending(&self) -> bool {
        !self.closed.is_empty()
    }

    /// The connections the server closed since the last call: each one's owner and why.
    pub fn take_closed(&mut self) -> Vec<(u32, Closed)> {
        std::mem::take(&mut self.closed)
    }

    /// Updates one connection's usage now (`updateClientMemUsageAndBucket`, which 7.0 calls
    /// after each command and write only when client eviction is on).
    pub fn record_now(&mut self, id: ConnectionId) {
        if self.list[id.0].open {
            self.record(id.0);
        }
    }

    /// Updates every open connection's usage now, in `server.clients` order, as
    /// `applyClientMaxMemoryUsage` does when eviction is switched on: the buckets start in
    /// that order.
    pub fn record_all(&mut self) {
        for index in 0..self.list.len() {
            self.record_now(ConnectionId(index));
        }
    }

    /// Whether the connection is still open.
    pub fn is_open(&self, id: ConnectionId) -> bool {
        self.list[id.0].open
    }

    fn admit(&mut self, index: usize) {
        self.open += 1;
        self.allocated += self.list[index].allocated();
    }

    fn release(&mut self, index: usize) {
        let connection = &mut self.list[index];
        if !connection.open {
            return;
        }
        connection.open = false;
        self.open -= 1;
        self.allocated -= connection.allocated();
        self.recorded -= connection.last_memory_usage;
        connection.last_memory_usage = 0;
    }

    /// Applies a change to an open connection, keeping the allocated total.
    fn change(&mut self, index: usize, apply: impl FnOnce(&mut Connection)) {
        let connection = &mut self.list[index];
        assert!(connection.open, "a closed connection changes");
        let before = connection.allocated();
        apply(connection);
        self.allocated = self.allocated - before + connection.allocated();
    }
}

/// `getMemUsageBucket`: log2 of the usage, between CLIENT_MEM_USAGE_BUCKET_MIN_LOG (15) and
/// MAX_LOG (33).
fn bucket(usage: u64) -> u32 {
    (64 - usage.leading_zeros()).clamp(15, 33)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::keyspace::memory::{sds_bytes, string_value_bytes};
    use crate::sim::server::command::CommandKind;
    use crate::sim::server::protocol::Argument;
    use crate::sim::server::resp;

    const START_MS: u64 = 1_767_225_600_000;
    const MAXCLIENTS: u32 = 10_000;

    #[test]
    fn connections_past_maxclients_are_refused_and_counted() {
        let mut connections = Connections::default();
        assert!(connections.open_pool(0, 3, START_MS, 5));
        assert!(
            connections.open_pool(1, 4, START_MS, 5),
            "two of four admitted"
        );
        assert_eq!(connections.connected(), 5);
        assert_eq!(connections.rejected_connections, 2);
        assert!(!connections.is_refused(1));
        assert!(!connections.open_pool(2, 1, START_MS, 5));
        assert!(connections.is_refused(2));
        assert!(connections.begin_round_trip(2, START_MS, 5).is_none());
        assert_eq!(connections.rejected_connections, 3);
        // A pool that got two connections hands out those two in turn.
        let first = connections.begin_round_trip(1, START_MS, 5).unwrap();
        let second = connections.begin_round_trip(1, START_MS, 5).unwrap();
        assert_ne!(first, second);
        assert_eq!(connections.begin_round_trip(1, START_MS, 5), Some(first));
        connections.close_pool(0);
        assert!(connections.open_pool(2, 1, START_MS, 5), "room again");
        assert!(!connections.is_refused(2));
    }

    fn one(unix_ms: u64) -> (Connections, ConnectionId) {
        let mut connections = Connections::default();
        connections.open_pool(0, 1, unix_ms, MAXCLIENTS);
        let id = connections
            .begin_round_trip(0, unix_ms, MAXCLIENTS)
            .unwrap();
        (connections, id)
    }

    fn ping(connections: &mut Connections, id: ConnectionId, unix_ms: u64) {
        connections.read(id, RequestBytes::plain(14), false, unix_ms, false);
        connections.reply(id, 7, OutputBufferLimit::NONE, unix_ms);
        connections.flush(id);
    }

    #[test]
    fn a_new_connection_costs_38090_bytes_after_its_first_command() {
        let (mut connections, id) = one(START_MS);
        assert_eq!(connections.allocated_bytes(), 768 + 458 + 8 + 16_384);
        ping(&mut connections, id, START_MS);
        // MEASURED on 7.0.15: 38,090 bytes over startup right after the first command.
        assert_eq!(connections.allocated_bytes(), 38_090);
        assert_eq!(
            connections.mem_clients_normal(),
            0,
            "the cron has not seen it"
        );
    }

    #[test]
    fn cron_trims_an_idle_connection_to_2258_bytes() {
        let (mut connections, id) = one(START_MS);
        ping(&mut connections, id, START_MS);
        // First visit resets the peak (the seconds/milliseconds mix-up), the second shrinks
        // the reply buffer to 1 KB; the query buffer goes once idle for more than 2 s.
        connections.cron(START_MS + 100, 10);
        assert_eq!(connections.allocated_bytes(), 38_090);
        connections.cron(START_MS + 1_100, 10);
        assert_eq!(connections.allocated_bytes(), 768 + 458 + 20_480 + 1024);
        connections.cron(START_MS + 2_100, 10);
        assert_eq!(connections.allocated_bytes(), 768 + 458 + 20_480 + 1024);
        connections.cron(START_MS + 3_100, 10);
        assert_eq!(connections.allocated_bytes(), 2_258);
        assert_eq!(connections.mem_clients_normal(), 1_800);
    }

    #[test]
    fn a_reply_that_fills_the_buffer_doubles_it_at_the_next_visit() {
        let (mut connections, id) = one(START_MS);
        ping(&mut connections, id, START_MS);
        connections.cron(START_MS + 100, 10);
        connections.cron(START_MS + 1_100, 10);
        connections.read(id, RequestBytes::plain(30), false, START_MS + 1_200, false);
        connections.reply(id, 1_500, OutputBufferLimit::NONE, START_MS + 1_200);
        // 1,024 in the buffer, the rest in a 16 KB block (20,480 with its header's class).
        assert_eq!(
            connections.allocated_bytes(),
            768 + 458 + 20_480 + 1024 + 20_480 + 32
        );
        connections.flush(id);
        connections.cron(START_MS + 2_100, 10);
        assert_eq!(connections.allocated_bytes(), 768 + 458 + 20_480 + 2048);
    }

    /// `SET k <len bytes>`.
    fn fat(len: u64) -> RequestBytes {
        resp::request_layout(
            CommandKind::Set,
            1,
            Argument::Value {
                len: len as u32,
                ttl_ms: None,
            },
        )
    }

    #[test]
    fn a_fat_argument_and_its_fresh_query_buffer_count_until_the_command_and_the_cron() {
        let (mut connections, id) = one(START_MS);
        let empty = QueryBuffer::new().allocated();
        let before = connections.allocated_bytes() - empty;
        let len = 6 * 1024 * 1024;
        connections.read(id, fat(len), false, START_MS, false);
        // The old buffer, grown to the bulk, is the argument's object: a value's allocation.
        let value = string_value_bytes(len).1;
        let fresh = sds_bytes(len + 2);
        assert_eq!(connections.allocated_bytes(), before + value + fresh);
        connections.command_done(id);
        assert_eq!(connections.allocated_bytes(), before + fresh);
        // The first visit sees the bulk as the peak; the next, a second later, trims the
        // empty buffer to its (zero) peak, as it shrinks the unused reply buffer to 1 KB.
        connections.cron(START_MS + 100, 10);
        assert_eq!(connections.allocated_bytes(), before + fresh);
        connections.cron(START_MS + 1_100, 10);
        assert_eq!(connections.allocated_bytes(), 2_258);
    }

    #[test]
    fn the_replies_so_far_are_written_before_each_later_read() {
        let (mut connections, id) = one(START_MS);
        ping(&mut connections, id, START_MS);
        let idle = connections.allocated_bytes();
        // One read of 20,474 takes both: the first reply's block waits.
        connections.read(id, RequestBytes::plain(10_000), true, START_MS, false);
        connections.reply(id, 40_000, OutputBufferLimit::NONE, START_MS);
        connections.read(id, RequestBytes::plain(10_000), true, START_MS, false);
        let block = jemalloc_size(40_000 - 16_384 + REPLY_BLOCK_HEADER_BYTES) + LIST_NODE_BYTES;
        assert_eq!(connections.allocated_bytes(), idle + block);
        // The third needs a read of its own: the event loop writes in between.
        connections.read(id, RequestBytes::plain(10_000), false, START_MS, false);
        assert_eq!(connections.allocated_bytes(), idle);
    }

    #[test]
    fn a_pool_hands_out_its_connections_in_turn() {
        let mut connections = Connections::default();
        connections.open_pool(3, 3, START_MS, MAXCLIENTS);
        let ids: Vec<_> = (0..4)
            .map(|_| {
                connections
                    .begin_round_trip(3, START_MS, MAXCLIENTS)
                    .unwrap()
            })
            .collect();
        assert_eq!(ids[0], ConnectionId(0));
        assert_eq!(ids[1], ConnectionId(1));
        assert_eq!(ids[2], ConnectionId(2));
        assert_eq!(ids[3], ConnectionId(0));
        assert_eq!(connections.connected(), 3);
        connections.close_pool(3);
        assert_eq!(connections.connected(), 0);
        assert_eq!(connections.allocated_bytes(), 0);
    }

    #[test]
    fn a_reply_list_past_the_hard_limit_closes_the_connection() {
        let (mut connections, id) = one(START_MS);
        connections.read(id, RequestBytes::plain(30), false, START_MS, false);
        let limit = OutputBufferLimit {
            hard_bytes: 64 * 1024,
            soft_bytes: 0,
            soft_seconds: 0,
        };
        assert_eq!(connections.reply(id, 40_000, limit, START_MS), None);
        assert_eq!(
            connections.reply(id, 40_000, limit, START_MS),
            Some(Closed::OutputBufferLimit)
        );
        assert_eq!(connections.connected(), 0);
        assert_eq!(connections.allocated_bytes(), 0);
    }

    #[test]
    fn client_eviction_frees_the_largest_first() {
        let mut connections = Connections {
            eviction_on: true,
            ..Connections::default()
        };
        connections.open_pool(0, 2, START_MS, MAXCLIENTS);
        connections.open_pool(1, 1, START_MS, MAXCLIENTS);
        let id = connections
            .begin_round_trip(1, START_MS, MAXCLIENTS)
            .unwrap();
        connections.read(id, RequestBytes::plain(30), false, START_MS, false);
        connections.record_now(id);
        for owner in 0..2 {
            let id = connections
                .begin_round_trip(owner, START_MS, MAXCLIENTS)
                .unwrap();
            connections.record_now(id);
        }
        let evicted = connections.evict(connections.mem_clients_normal() - 1);
        assert_eq!(evicted, 1);
        assert_eq!(connections.take_closed(), vec![(1, Closed::Evicted)]);
        assert_eq!(connections.evicted_clients, 1);
        assert_eq!(connections.evict(0), 0, "0 is off");
    }

    #[test]
    fn client_eviction_takes_the_first_to_enter_the_top_bucket_not_the_oldest() {
        let mut connections = Connections {
            eviction_on: true,
            ..Connections::default()
        };
        connections.open_pool(0, 1, START_MS, MAXCLIENTS);
        connections.open_pool(1, 1, START_MS, MAXCLIENTS);
        let older = connections
            .begin_round_trip(0, START_MS, MAXCLIENTS)
            .unwrap();
        let newer = connections
            .begin_round_trip(1, START_MS, MAXCLIENTS)
            .unwrap();
        connections.record_all();
        // Both grow from 2^14..2^15 into 2^15..2^16 with their first read: the newer first.
        for id in [newer, older] {
            connections.read(id, RequestBytes::plain(30), false, START_MS, false);
            connections.record_now(id);
        }
        let (a, b) = (
            connections.list[older.0].last_memory_usage,
            connections.list[newer.0].last_memory_usage,
        );
        assert_eq!((bucket(a), bucket(b)), (16, 16));
        assert_eq!(connections.evict(connections.mem_clients_normal() - 1), 1);
        assert_eq!(connections.take_closed(), vec![(1, Closed::Evicted)]);
        connections.eviction_on = false;
        connections.record_now(older);
        assert_eq!(
            connections.evict(1),
            0,
            "out of every bucket once eviction is off"
        );
    }
}
