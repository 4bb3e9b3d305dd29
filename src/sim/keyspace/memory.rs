//! Redis 7.0's memory accounting, byte for byte (redis-fidelity.md section 3).
//!
//! `used_memory` counts every zmalloc allocation at jemalloc's usable size. This module owns the
//! size classes and the per-structure costs; the keyspace adds them up. Nothing here allocates.

/// `used_memory_startup` of an empty Redis 7.0.15 (Debian 12, jemalloc 5.3.0) with the default
/// `maxclients` 10000, MEASURED. [`used_memory_startup`] gives it for another maxclients.
pub const USED_MEMORY_STARTUP: u64 = 876_216;
/// `maxclients`' default, with which [`USED_MEMORY_STARTUP`] was measured.
pub const MAXCLIENTS_DEFAULT: u32 = 10_000;
/// `CONFIG_FDSET_INCR` (CONFIG_MIN_RESERVED_FDS + 96): the event loop's slots beyond maxclients.
const CONFIG_FDSET_INCR: u64 = 32 + 96;

/// The event loop's per-descriptor arrays (`aeCreateEventLoop(maxclients + CONFIG_FDSET_INCR)`):
/// `aeFileEvent` (32 bytes), `aeFiredEvent` (8) and ae_epoll's `struct epoll_event` (12,
/// packed) per slot, each array one allocation.
fn event_loop_bytes(maxclients: u32) -> u64 {
    let setsize = u64::from(maxclients) + CONFIG_FDSET_INCR;
    jemalloc_size(32 * setsize) + jemalloc_size(8 * setsize) + jemalloc_size(12 * setsize)
}

/// `used_memory_startup` with `maxclients` (as `adjustOpenFilesLimit` left it: the descriptor
/// limit less 32 when the process may not open maxclients + 32 files).
#[inline]
pub fn used_memory_startup(maxclients: u32) -> u64 {
    // Every command notes the peak: the default needs no arithmetic.
    if maxclients == MAXCLIENTS_DEFAULT {
        return USED_MEMORY_STARTUP;
    }
    USED_MEMORY_STARTUP - event_loop_bytes(MAXCLIENTS_DEFAULT) + event_loop_bytes(maxclients)
}
/// A connection's `client` struct (`createClient`, src/networking.c), in jemalloc's 768-byte
/// class: MEASURED on 7.0.15 as CLIENT LIST's `tot-mem` of an idle connection (1,800) less its
/// reply buffer (1,024) and its empty query buffer (8).
pub const CLIENT_STRUCT_BYTES: u64 = 768;
/// The reply buffer `c->buf` once `clientsCronResizeOutputBuffer` has shrunk it: it starts at
/// `PROTO_REPLY_CHUNK_BYTES` (16 KB) and, as soon as a 5 s peak window saw less than half of it
/// used, drops to `PROTO_REPLY_MIN_BYTES` (1 KB), two cron visits (about 2 s) after the
/// connection opens when its replies are small.
pub const CLIENT_REPLY_BUFFER_BYTES: u64 = 1024;
/// The query buffer of a connection that sent a command in the last two seconds: the first read
/// grows the empty sds to `PROTO_IOBUF_LEN` (16 KB) + a 5-byte header + 1
/// (`sdsMakeRoomForNonGreedy`), 20,480 bytes in jemalloc's classes, kept while the connection is
/// in use (under `PROTO_RESIZE_THRESHOLD`, 32 KB, only idleness trims it).
pub const CLIENT_QUERY_BUFFER_ACTIVE_BYTES: u64 = 20_480;
/// The query buffer after `clientsCronResizeQueryBuffer` found it idle for over two seconds:
/// `sdsRemoveFreeSpace` leaves an empty sdshdr8, in the 8-byte class.
pub const CLIENT_QUERY_BUFFER_IDLE_BYTES: u64 = 8;
/// What a connection allocates that `getClientMemoryUsage` leaves out, so that it is in
/// used_memory (and `used_memory_dataset`) but not in `mem_clients_normal`: `createClient`'s
/// three lists (reply, watched keys, pubsub patterns: 48 B each) and three dicts (blocking keys,
/// pubsub channels, shard channels: 52 → 64 B each), the `server.clients` list node (32 B), the
/// `connection` struct (64 B), and the client's leaf in the `clients_index` rax (16 B plus about
/// 10 B of its parent's child arrays, amortised over consecutive ids). 432 B derived + 26 B for
/// the rax; MEASURED as 458–459 B per connection (used_memory − mem_clients_normal) with 10 to
/// 1,000 idle connections on 7.0.15.
pub const CLIENT_UNTRACKED_BYTES: u64 = 458;
/// `mem_clients_normal` of a connection carrying a client's commands (`getClientMemoryUsage`:
/// struct, query buffer, reply buffer): 22,272 bytes.
pub const CLIENT_ACTIVE_CONNECTION_BYTES: u64 =
    CLIENT_STRUCT_BYTES + CLIENT_QUERY_BUFFER_ACTIVE_BYTES + CLIENT_REPLY_BUFFER_BYTES;
/// `mem_clients_normal` of an idle pool connection once clientsCron has trimmed both of its
/// buffers (a few seconds after its last command): 1,800 bytes.
pub const CLIENT_IDLE_CONNECTION_BYTES: u64 =
    CLIENT_STRUCT_BYTES + CLIENT_QUERY_BUFFER_IDLE_BYTES + CLIENT_REPLY_BUFFER_BYTES;

/// What a client's pool of `connections` costs in used_memory: the one carrying its commands,
/// the idle others, and what each allocates outside `mem_clients_normal`.
pub fn client_pool_bytes(connections: u32) -> u64 {
    assert!(connections >= 1, "a client has at least one connection");
    CLIENT_ACTIVE_CONNECTION_BYTES
        + u64::from(connections - 1) * CLIENT_IDLE_CONNECTION_BYTES
        + u64::from(connections) * CLIENT_UNTRACKED_BYTES
}

/// The hdr_histogram Redis 7.0 allocates on a command's first call when `latency-tracking` is
/// on (the default), kept for the life of the process. MEASURED on 7.0.15 by the fidelity suite.
pub const LATENCY_HISTOGRAM_BYTES: u64 = 24_688;
/// `dictEntry` is 24 bytes, allocated in the 32-byte class.
pub const DICT_ENTRY_BYTES: u64 = 32;
/// A bucket of a hash table is one pointer.
pub const BUCKET_BYTES: u64 = 8;
/// `redisObject`.
pub const ROBJ_BYTES: u64 = 16;
/// A `dict` struct (52 bytes in 7.0), in the 64-byte class.
pub const DICT_STRUCT_BYTES: u64 = 64;
/// `OBJ_ENCODING_EMBSTR_SIZE_LIMIT`.
pub const EMBSTR_SIZE_LIMIT: u64 = 44;
/// `OBJ_SHARED_INTEGERS`: 0..9999 are shared objects.
pub const SHARED_INTEGERS: i64 = 10_000;
/// `PROTO_MBULK_BIG_ARG`: bulk arguments this large reuse the query buffer as the value's sds.
pub const PROTO_MBULK_BIG_ARG: u64 = 32 * 1024;

/// jemalloc 5.3's usable size for a request of `n` bytes (x86-64, 16-byte quantum).
///
/// n ≤ 8 → 8; n ≤ 128 → multiple of 16; above, four classes per doubling: for
/// 2^k < n ≤ 2^(k+1) round up to a multiple of 2^(k−2).
pub fn jemalloc_size(n: u64) -> u64 {
    if n <= 8 {
        return 8;
    }
    if n <= 128 {
        return (n + 15) & !15;
    }
    // k such that 2^k < n ≤ 2^(k+1)
    let k = 63 - (n - 1).leading_zeros() as u64;
    let step = 1u64 << (k - 2);
    (n + step - 1) & !(step - 1)
}

/// Header bytes of an sds string of `len` bytes (`sdsReqType`); an empty string uses sdshdr8.
pub fn sds_header_len(len: u64) -> u64 {
    if len == 0 {
        3
    } else if len < 32 {
        1
    } else if len < 256 {
        3
    } else if len < 65_536 {
        5
    } else if len < (1 << 32) {
        9
    } else {
        17
    }
}

/// The allocation of an sds string of `len` bytes: header, bytes and the NUL terminator.
pub fn sds_bytes(len: u64) -> u64 {
    jemalloc_size(sds_header_len(len) + len + 1)
}

/// An sds built by `sdsnewlen` for a key: keys always use the type fitting their length, except
/// that an empty key is sdshdr8 too.
pub fn key_bytes(key_len: u64) -> u64 {
    sds_bytes(key_len)
}

/// How a string value is stored (`tryObjectEncoding`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StringEncoding {
    /// A canonical integer in the shared-object range: no allocation.
    SharedInt,
    /// A canonical integer in its own robj.
    Int,
    /// robj and sds in one allocation (≤ 44 bytes).
    Embstr,
    /// robj plus a separate sds.
    Raw,
}

impl StringEncoding {
    pub fn redis_name(self) -> &'static str {
        match self {
            StringEncoding::SharedInt | StringEncoding::Int => "int",
            StringEncoding::Embstr => "embstr",
            StringEncoding::Raw => "raw",
        }
    }
}

/// Bytes of a non-numeric string value of `len` bytes received over the network.
pub fn string_value_bytes(len: u64) -> (StringEncoding, u64) {
    if len <= EMBSTR_SIZE_LIMIT {
        // robj (16) + sdshdr8 (3) + bytes + NUL, one block
        (
            StringEncoding::Embstr,
            jemalloc_size(ROBJ_BYTES + 3 + len + 1),
        )
    } else if len >= PROTO_MBULK_BIG_ARG {
        // The query buffer, sized for the argument plus CRLF, becomes the value's sds.
        let sds = jemalloc_size(sds_header_len(len + 2) + len + 3);
        (StringEncoding::Raw, ROBJ_BYTES + sds)
    } else {
        (StringEncoding::Raw, ROBJ_BYTES + sds_bytes(len))
    }
}

/// Bytes of an integer value. `share_allowed` is false when maxmemory is set with an LRU/LFU
/// policy (redis-fidelity 1.8), which needs per-key metadata and so a private object.
pub fn int_value_bytes(value: i64, share_allowed: bool) -> (StringEncoding, u64) {
    if share_allowed && (0..SHARED_INTEGERS).contains(&value) {
        (StringEncoding::SharedInt, 0)
    } else {
        (StringEncoding::Int, ROBJ_BYTES)
    }
}

/// Number of decimal digits of `n` (a generated key's numeric suffix).
pub fn decimal_len(mut n: u64) -> u64 {
    let mut digits = 1;
    while n >= 10 {
        n /= 10;
        digits += 1;
    }
    digits
}

/// Number of characters of `value` in canonical decimal form (with a '-' for negatives).
pub fn signed_decimal_len(value: i64) -> u64 {
    if value < 0 {
        1 + decimal_len(value.unsigned_abs())
    } else {
        decimal_len(value as u64)
    }
}

/// Bucket array size for a hash table holding `n` keys while growing: max(4, next power of two ≥ n).
pub fn table_size_for(n: u64) -> u64 {
    n.max(4).next_power_of_two()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn startup_memory_follows_maxclients_through_the_event_loop_arrays() {
        // MEASURED on 7.0.15 (one server per maxclients, ulimit -n 20000: 20000 became 19968):
        // used_memory_startup 348,816 / 401,136 / 876,144 / 1,416,912. The differences are the
        // three arrays to within 128 bytes (the length of the --maxclients argument's string).
        let measured = [
            (100, 348_816),
            (1_000, 401_136),
            (10_000, 876_144),
            (19_968, 1_416_912),
        ];
        for pair in measured.windows(2) {
            let ((low, low_bytes), (high, high_bytes)) = (pair[0], pair[1]);
            let modelled = used_memory_startup(high) - used_memory_startup(low);
            let real: u64 = high_bytes - low_bytes;
            assert!(
                modelled.abs_diff(real) <= 128,
                "{low}→{high}: {modelled} vs {real}"
            );
        }
        assert_eq!(used_memory_startup(MAXCLIENTS_DEFAULT), USED_MEMORY_STARTUP);
        assert_eq!(event_loop_bytes(10_000), 327_680 + 81_920 + 131_072);
    }

    #[test]
    fn jemalloc_classes_match_the_documented_list() {
        let classes = [
            8, 16, 32, 48, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384, 448, 512, 640, 768,
            896, 1024, 1280, 1536, 1792, 2048, 2560, 3072, 3584, 4096, 5120, 6144, 7168, 8192,
            10240, 12288, 14336, 16384, 20480, 24576, 28672, 32768, 40960, 49152, 57344, 65536,
            81920,
        ];
        let mut previous = 0;
        for class in classes {
            assert_eq!(jemalloc_size(class), class, "class {class} is its own size");
            assert_eq!(
                jemalloc_size(previous + 1),
                class,
                "{} rounds up to {class}",
                previous + 1
            );
            previous = class;
        }
    }

    #[test]
    fn sds_headers_follow_sds_req_type() {
        assert_eq!(sds_header_len(0), 3);
        assert_eq!(sds_header_len(31), 1);
        assert_eq!(sds_header_len(32), 3);
        assert_eq!(sds_header_len(255), 3);
        assert_eq!(sds_header_len(256), 5);
        assert_eq!(sds_header_len(65_535), 5);
        assert_eq!(sds_header_len(65_536), 9);
    }

    #[test]
    fn embstr_boundaries() {
        // redis-fidelity 3.3: L 0–12: 32; 13–28: 48; 29–44: 64; 45 is raw.
        assert_eq!(string_value_bytes(0), (StringEncoding::Embstr, 32));
        assert_eq!(string_value_bytes(12).1, 32);
        assert_eq!(string_value_bytes(13).1, 48);
        assert_eq!(string_value_bytes(28).1, 48);
        assert_eq!(string_value_bytes(29).1, 64);
        assert_eq!(string_value_bytes(44), (StringEncoding::Embstr, 64));
        assert_eq!(string_value_bytes(45), (StringEncoding::Raw, 16 + 64));
        assert_eq!(string_value_bytes(100).1, 16 + 112);
    }

    #[test]
    fn big_values_reuse_the_query_buffer() {
        // MEASURED: L = 65530 gives 81,920 for the sds instead of 65,536.
        assert_eq!(string_value_bytes(65_530).1, 16 + 81_920);
    }

    #[test]
    fn shared_integers() {
        assert_eq!(int_value_bytes(42, true), (StringEncoding::SharedInt, 0));
        assert_eq!(int_value_bytes(42, false), (StringEncoding::Int, 16));
        assert_eq!(int_value_bytes(123_456, true), (StringEncoding::Int, 16));
        assert_eq!(int_value_bytes(-1, true), (StringEncoding::Int, 16));
    }

    #[test]
    fn table_sizes_double_after_a_power_of_two() {
        assert_eq!(table_size_for(0), 4);
        assert_eq!(table_size_for(4), 4);
        assert_eq!(table_size_for(5), 8);
        assert_eq!(table_size_for(65_536), 65_536);
        assert_eq!(table_size_for(65_537), 131_072);
    }
}
