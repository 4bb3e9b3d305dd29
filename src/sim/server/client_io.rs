//! A node's side of its client connections: pools opening and closing, a command read into a
//! connection's query buffer before `processCommand`, its reply queued (sized from the RESP
//! encoding of what the command found) and written at the end of the read, and `clientsCron`.
//! Connections close when the server says so: `client-output-buffer-limit normal` as a reply
//! grows, `maxmemory-clients` (7.0's `evictClients`) before each command and in `beforeSleep`.

use crate::sim::config::MaxmemoryClients;
use crate::sim::keyspace::db::ValueKind;
use crate::sim::keyspace::memory::{sds_header_len, ROBJ_BYTES};
use crate::sim::server::command::CommandKind;
use crate::sim::server::connections::{Closed, ConnectionId};
use crate::sim::server::node::Node;
use crate::sim::server::protocol::{Reply, Request};
use crate::sim::server::resp;

impl Node {
    /// Opens client `owner`'s pool of `connections` (each a fresh connection: 16 KB reply
    /// buffer, empty query buffer), unless it is open.
    pub fn connect_client(&mut self, owner: u32, connections: u32) {
        assert!(connections >= 1, "a client has at least one connection");
        if self.connections.has_pool(owner) {
            return;
        }
        let unix_ms = self.unix_ms();
        let room = self.normal_connection_room();
        self.connections
            .open_pool(owner, connections, unix_ms, room);
    }

    /// Whether every connection client `owner` asked for was refused at `maxclients`.
    pub fn refuses_client(&self, owner: u32) -> bool {
        self.connections.is_refused(owner)
    }

    /// INFO rejected_connections.
    pub fn rejected_connections(&self) -> u64 {
        self.connections.rejected_connections
    }

    /// Closes client `owner`'s pool: it stopped.
    pub fn disconnect_client(&mut self, owner: u32) {
        self.connections.close_pool(owner);
    }

    /// INFO connected_clients: every connection of every client.
    pub fn connected_clients(&self) -> u64 {
        self.connections.connected()
    }

    /// INFO mem_clients_normal: what clientsCron last recorded of each connection.
    pub fn mem_clients_normal(&self) -> u64 {
        self.connections.mem_clients_normal()
    }

    /// INFO client_recent_max_input_buffer and client_recent_max_output_buffer.
    pub fn client_recent_max_buffers(&self) -> (u64, u64) {
        self.connections.recent_max_buffers()
    }

    /// The connection client `owner`'s next round trip goes through, if its pool is here.
    pub fn begin_round_trip(&mut self, owner: u32) -> Option<ConnectionId> {
        let unix_ms = self.unix_ms();
        let room = self.normal_connection_room();
        self.connections.begin_round_trip(owner, unix_ms, room)
    }

    /// What `acceptCommonHandler` leaves client connections of `maxclients`: it refuses one
    /// once `listLength(server.clients)` reaches it, and a primary's replicas are in that list
    /// (`connected_slaves`), so each attached replica takes one.
    pub(super) fn normal_connection_room(&self) -> u32 {
        self.config
            .maxclients
            .saturating_sub(self.connected_replicas())
    }

    /// Reads `request` on `connection` (before it runs, so its query buffer counts toward the
    /// eviction that precedes it). Past what one read takes, the replies so far are written
    /// first, one write event's worth. `more_follows`: the round trip sends more commands
    /// behind this one (where a big argument's bytes end up depends on it).
    pub fn read_request(
        &mut self,
        connection: ConnectionId,
        request: &Request,
        more_follows: bool,
    ) {
        if !self.connections.is_open(connection) {
            return;
        }
        let bytes = resp::request_layout(
            request.command,
            self.keys.key_len(request.key),
            request.argument,
        );
        let unix_ms = self.unix_ms();
        let maxmemory = self.config.maxmemory_bytes;
        let write_all = maxmemory > 0 && self.used_memory() >= maxmemory;
        self.connections
            .read(connection, bytes, more_follows, unix_ms, write_all);
    }

    /// processCommand's `evictClients`, before the key eviction: past `maxmemory-clients` it
    /// closes the largest connections, maybe this one. Returns whether the command runs.
    pub fn before_command(&mut self, connection: ConnectionId) -> bool {
        self.evict_clients();
        self.connections.is_open(connection)
    }

    /// Queues the reply to `request` on `connection`; returns whether the connection is still
    /// open (`client-output-buffer-limit normal` closes it as the reply list grows past it).
    pub fn queue_reply(
        &mut self,
        connection: ConnectionId,
        request: &Request,
        reply: Reply,
    ) -> bool {
        if !self.connections.is_open(connection) {
            return false;
        }
        // The big argument became the value, or was freed: no longer the connection's.
        self.connections.command_done(connection);
        let bytes = self.reply_bytes(request, reply);
        let unix_ms = self.unix_ms();
        let limit = self.config.normal_output_buffer_limit;
        let closed = self
            .connections
            .reply(connection, bytes, limit, unix_ms)
            .is_some();
        if !closed {
            self.record_client_memory(connection);
        }
        // call() records the peak after each command, replies queued included.
        self.note_memory_peak();
        !closed
    }

    /// The round trip's replies written (beforeSleep's handleClientsWithPendingWrites), then
    /// beforeSleep's `evictClients`. With client eviction on, the connection's usage is
    /// recorded at the end of processInputBuffer and after the write, as 7.0 does.
    pub fn end_round_trip(&mut self, connection: ConnectionId) {
        if self.connections.is_open(connection) {
            self.record_client_memory(connection);
            self.connections.flush(connection);
            self.record_client_memory(connection);
        }
        self.evict_clients();
    }

    /// Whether the connection is open (the server has not closed it).
    pub fn connection_open(&self, connection: ConnectionId) -> bool {
        self.connections.is_open(connection)
    }

    /// Whether the server closed a connection since the last `take_closed_connections`.
    #[inline]
    pub fn closed_connections_pending(&self) -> bool {
        self.connections.closed_pending()
    }

    /// The connections the server closed since the last call: each one's client and why.
    pub fn take_closed_connections(&mut self) -> Vec<(u32, Closed)> {
        self.connections.take_closed()
    }

    /// INFO evicted_clients.
    pub fn evicted_clients(&self) -> u64 {
        self.connections.evicted_clients
    }

    /// `clientsCron`, first in serverCron, and the `evictClients` of the beforeSleep after it.
    pub(super) fn clients_cron(&mut self) {
        let unix_ms = self.unix_ms();
        self.connections.eviction_on = self.client_eviction_limit() > 0;
        self.connections.cron(unix_ms, self.config.hz);
        self.evict_clients();
    }

    /// `updateClientMemUsageAndBucket`, which records a connection's usage outside the cron
    /// only while client eviction is on.
    fn record_client_memory(&mut self, connection: ConnectionId) {
        if self.client_eviction_limit() > 0 {
            self.connections.eviction_on = true;
            self.connections.record_now(connection);
        }
    }

    /// CONFIG SET maxmemory-clients (`applyClientMaxMemoryUsage`): switched on, every
    /// connection's usage is recorded at once; the beforeSleep after the command evicts.
    pub(super) fn set_maxmemory_clients(&mut self, limit: MaxmemoryClients) {
        let was_on = self.client_eviction_limit() > 0;
        self.config.maxmemory_clients = limit;
        if !was_on && self.client_eviction_limit() > 0 {
            self.connections.eviction_on = true;
            self.connections.record_all();
        }
        self.evict_clients();
    }

    fn evict_clients(&mut self) {
        let limit = self.client_eviction_limit();
        if limit > 0 {
            self.connections.evict(limit);
        }
    }

    fn client_eviction_limit(&self) -> u64 {
        self.config
            .maxmemory_clients
            .limit_bytes(self.config.maxmemory_bytes)
    }

    /// The reply's bytes from what the command found: a bulk of the value's length for a string
    /// hit, an array of its elements for LRANGE/SMEMBERS/ZRANGE.
    pub(crate) fn reply_bytes(&self, request: &Request, reply: Reply) -> u64 {
        match reply {
            Reply::Ok => resp::OK_BYTES,
            Reply::Integer(n) => resp::integer_bytes(n),
            Reply::Error(error) => resp::error_bytes(error),
            Reply::Miss => resp::miss_bytes(request.command),
            Reply::Hit => self.hit_bytes(request),
            // A record that only gathers for a later one of the same call: the call's one
            // reply is the last record's.
            Reply::Continued => 0,
        }
    }

    fn hit_bytes(&self, request: &Request) -> u64 {
        let db = &self.dbs[request.db as usize];
        let slot = db.slot(request.key);
        match request.command {
            CommandKind::Exists => resp::integer_bytes(1),
            CommandKind::Ttl => resp::integer_bytes(-1),
            CommandKind::Get => {
                let sent = db
                    .sent_len(request.key)
                    .filter(|&len| self.string_value(len) == (slot.kind(), slot.value));
                let len = sent.map_or_else(|| string_len(slot.kind(), slot.value), u64::from);
                resp::bulk_bytes(len)
            }
            _ => {
                let Some(aggregate) = db.aggregate(request.key) else {
                    return resp::NULL_BULK_BYTES;
                };
                let count = aggregate.len().max(1);
                // The model keeps sizes, not elements: each element is taken at the
                // aggregate's bytes per element less a dict entry or listpack header's worth,
                // an estimate (members are `<id>` / `m<id>`, fields `f<id>`).
                let element = (aggregate.bytes() / count).saturating_sub(16).max(1);
                if request.command == CommandKind::Hget {
                    resp::bulk_bytes(element)
                } else {
                    resp::bulk_array_bytes(aggregate.len(), element)
                }
            }
        }
    }
}

/// A string value's length from what the slot keeps (its allocation, or the integer): the
/// allocation less the object and sds headers, which jemalloc's rounding can exceed by up to a
/// quarter.
fn string_len(kind: ValueKind, value: u32) -> u64 {
    let value = u64::from(value);
    match kind {
        ValueKind::Int | ValueKind::SharedInt => resp::decimal_len(value),
        ValueKind::Embstr => value.saturating_sub(ROBJ_BYTES + 3 + 1),
        _ => {
            let sds = value.saturating_sub(ROBJ_BYTES);
            sds.saturating_sub(sds_header_len(sds) + 1)
        }
    }
}
