//! What a bulk argument of `PROTO_MBULK_BIG_ARG` (32 KB) or more costs around its command
//! (src/networking.c `processMultibulkBuffer`, src/server.c `clientsCronResizeQueryBuffer`).
//!
//! Such an argument is read straight into the connection's query buffer, which then becomes the
//! value's sds; the connection gets a fresh query buffer of the argument's size ("if we saw a
//! fat argument we'll see another one"). Both are allocated before `processCommand` runs
//! `performEvictions`, so eviction makes room for the value before it is stored (`argv.rs`,
//! like every argument), and for the new buffer besides. clientsCron trims that buffer back to the 16 KB a connection reads into
//! (20,480 bytes allocated) on its second visit: the first still finds the fat read as the
//! buffer's recent peak. With a handful of connections every cron tick visits each one.

use crate::sim::keyspace::memory::{
    jemalloc_size, sds_header_len, CLIENT_QUERY_BUFFER_ACTIVE_BYTES,
};
use crate::sim::ledger::Actor;

/// Cron visits after which a fat query buffer is back to the active size.
const VISITS_TO_TRIM: u8 = 2;

/// The query buffer `sdsnewlen(SDS_NOINIT, len + 2)` allocates after a fat argument of `len`.
pub fn fat_query_buffer_bytes(len: u64) -> u64 {
    let size = len + 2;
    jemalloc_size(sds_header_len(size) + size + 1)
}

#[derive(Debug, Clone, Copy)]
struct FatBuffer {
    client: Actor,
    bytes: u64,
    visits_left: u8,
}

/// The connections holding a fat query buffer.
#[derive(Debug, Clone, Default)]
pub struct BigArguments {
    buffers: Vec<FatBuffer>,
    /// The buffers' bytes beyond the active size they replaced, summed.
    extra_bytes: u64,
}

impl BigArguments {
    /// `client` sent a fat argument of `len` bytes: the connection's query buffer is now fat.
    pub fn receive(&mut self, client: Actor, len: u64) {
        let bytes = fat_query_buffer_bytes(len);
        self.buffers.retain(|buffer| buffer.client != client);
        self.buffers.push(FatBuffer {
            client,
            bytes,
            visits_left: VISITS_TO_TRIM,
        });
        self.recount();
    }

    /// clientsCron's visit of every connection.
    pub fn cron(&mut self) {
        if self.buffers.is_empty() {
            return;
        }
        for buffer in &mut self.buffers {
            buffer.visits_left -= 1;
        }
        self.buffers.retain(|buffer| buffer.visits_left > 0);
        self.recount();
    }

    fn recount(&mut self) {
        self.extra_bytes = self
            .buffers
            .iter()
            .map(|buffer| {
                buffer
                    .bytes
                    .saturating_sub(CLIENT_QUERY_BUFFER_ACTIVE_BYTES)
            })
            .sum();
    }

    /// Bytes the fat query buffers hold beyond the active buffers they replaced (in
    /// `mem_clients_normal`).
    #[inline]
    pub fn query_buffer_extra_bytes(&self) -> u64 {
        self.extra_bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fat_buffer_lasts_two_cron_visits() {
        let mut big = BigArguments::default();
        big.receive(Actor::client(0), 200_000);
        assert_eq!(fat_query_buffer_bytes(200_000), 229_376);
        assert_eq!(big.query_buffer_extra_bytes(), 229_376 - 20_480);
        big.cron();
        assert_eq!(big.query_buffer_extra_bytes(), 229_376 - 20_480);
        big.cron();
        assert_eq!(big.query_buffer_extra_bytes(), 0);
    }

    #[test]
    fn one_fat_buffer_per_connection() {
        let mut big = BigArguments::default();
        big.receive(Actor::client(0), 100_000);
        big.receive(Actor::client(0), 50_000);
        assert_eq!(
            big.query_buffer_extra_bytes(),
            fat_query_buffer_bytes(50_000) - 20_480
        );
        big.receive(Actor::client(1), 50_000);
        assert_eq!(
            big.query_buffer_extra_bytes(),
            2 * (fat_query_buffer_bytes(50_000) - 20_480)
        );
    }
}
