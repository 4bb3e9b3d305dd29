//! The reference replay kernel's (`engine::reference_replay`) side of a node's connections:
//! the round trips one client made since the last `clientsCron`, applied in one go.
//!
//! The kernel runs only where this is exact (`reference_replay/eligible.rs`): one connection,
//! one command a round trip, requests that fit the first read's query buffer and replies that
//! fit the smallest reply buffer, no client eviction, no output-buffer limit. A round trip then
//! leaves the connection as the largest request and reply of the interval and the latest
//! interaction would: the query buffer's first growth, its peak and the reply buffer's peak
//! are maxima, the rest is the time of the last read. The same `Connections` calls as
//! `client_io.rs` make, in its order.

use crate::sim::server::node::Node;
use crate::sim::server::resp::RequestBytes;

impl Node {
    /// Client `owner`'s round trips since the last `clientsCron`, as one whose request took
    /// `request_bytes` and reply `reply_bytes` (the interval's largest), read at `at_us` (the
    /// last one's time).
    pub fn replayed_round_trips(
        &mut self,
        owner: u32,
        at_us: u64,
        request_bytes: u64,
        reply_bytes: u64,
    ) {
        self.set_time(at_us);
        let unix_ms = self.unix_ms();
        let room = self.normal_connection_room();
        let Some(connection) = self.connections.begin_round_trip(owner, unix_ms, room) else {
            return;
        };
        self.connections.read(
            connection,
            RequestBytes::plain(request_bytes),
            false,
            unix_ms,
            false,
        );
        self.connections.command_done(connection);
        let limit = self.config.normal_output_buffer_limit;
        let closed = self
            .connections
            .reply(connection, reply_bytes, limit, unix_ms);
        assert!(closed.is_none(), "an eligible replay closes no connection");
        self.connections.flush(connection);
    }
}
