//! A connection's query buffer (`c->querybuf`, an sds) as Redis 7.0.15 sizes it, followed byte
//! for byte through a round trip's stream (src/networking.c, src/server.c, src/sds.c):
//!
//! - `readQueryFromClient` makes room before every read. A buffer whose `sdsalloc` is under
//!   PROTO_IOBUF_LEN grows to what it holds plus 16 KB without the greedy doubling
//!   (`sdsMakeRoomForNonGreedy`) and the read asks for 16 KB: the empty sds of a new connection
//!   becomes 20,474 bytes of room (a 20,480-byte allocation), and so does any buffer
//!   clientsCron trimmed below 16 KB, at its next read. A larger one grows greedily
//!   (`sdsMakeRoomFor`: twice what it needs, below 1 MB) only when less than 16 KB is free
//!   behind what it already holds, and the read takes all its free room.
//! - `querybuf_peak` is the buffer's length after each read (`sdslen` once `nread` is added):
//!   a pipeline read in one go counts whole, not command by command.
//! - What a read leaves unparsed at the end of `processInputBuffer` (the part of an argument
//!   not yet whole) is moved to the front (`sdsrange`) and the next read appends to it.
//! - `processMultibulkBuffer`, meeting a bulk of PROTO_MBULK_BIG_ARG (32 KB) or more whose
//!   data behind the parsed point is no more than the bulk and its CRLF, moves that data to
//!   the front and makes room for exactly the bulk; the next read asks for exactly what is
//!   missing. The buffer, holding just the bulk, becomes the argument's object and a fresh
//!   `sdsnewlen(bulklen+2)` takes its place ("we'll see another one"). A bulk already whole
//!   with more behind it is copied out (`createStringObject`) and the buffer stays.
//! - `clientsCronResizeQueryBuffer`, when more than 4 KB is free: idle for over 2 s, the
//!   buffer shrinks to its data (`sdsRemoveFreeSpace`); else one over PROTO_RESIZE_THRESHOLD
//!   (32 KB) of `sdsalloc` and more than twice its peak shrinks to the peak (`sdsResize`, which
//!   records the size asked, not the allocation's). Either way the peak restarts from the
//!   buffer's length.
//!
//! Every client's round trip is sent whole before the server reads (a pipeline in one write),
//! so a read takes all it asks for while the round trip has bytes left. Between round trips
//! the buffer is empty (`sdslen` 0).

use crate::sim::keyspace::memory::{jemalloc_size, sds_bytes, PROTO_MBULK_BIG_ARG, ROBJ_BYTES};
use crate::sim::server::resp::RequestBytes;

/// `PROTO_IOBUF_LEN`: what one read asks the socket for, and the room a read makes.
pub const PROTO_IOBUF_LEN: u64 = 16 * 1024;
/// `PROTO_RESIZE_THRESHOLD`: a query buffer above this shrinks toward its recent peak.
pub const PROTO_RESIZE_THRESHOLD: u64 = 32 * 1024;
/// `SDS_MAX_PREALLOC`: greedy growth doubles below this and adds this much above.
const SDS_MAX_PREALLOC: u64 = 1024 * 1024;
/// Free query-buffer space worth reclaiming: `sdsavail(c->querybuf) > 1024*4`.
const QUERY_BUFFER_WASTE_BYTES: u64 = 4 * 1024;
/// The header of an empty sds (`sdsempty()` is sdshdr8, never sdshdr5).
const SDSHDR8_BYTES: u64 = 3;

/// The read in progress in a round trip.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Read {
    /// Bytes of an unfinished argument the buffer held before it (moved to the front).
    carried: u64,
    /// What it asked the socket for (`readlen`).
    asked: u64,
    /// Of those, the bytes no command has taken yet.
    left: u64,
}

/// What taking one request in did besides filling the buffer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Taken {
    /// Reads that followed an earlier read of the round trip: the event loop writes the
    /// replies queued so far before each.
    pub later_reads: u32,
    /// The fat value's object (`robj` and sds), outside the query buffer now, if the request
    /// had one of PROTO_MBULK_BIG_ARG or more: the old buffer itself, or a copy.
    pub argv_bytes: u64,
}

/// `c->querybuf` and `c->querybuf_peak`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryBuffer {
    /// `sdsZmallocSize`: the allocation in its jemalloc class.
    allocated: u64,
    /// `sdsalloc`: what the sds may hold, the allocation's usable bytes less header and NUL,
    /// or the size `sdsResize` was asked for.
    capacity: u64,
    /// The sds header's bytes (its type's; `sdsResize` may keep a larger one).
    header: u64,
    /// `c->querybuf_peak`.
    peak: u64,
    /// None: the round trip has not read yet.
    read: Option<Read>,
}

impl QueryBuffer {
    /// `sdsempty()`, as `createClient` makes it: an sdshdr8 and its NUL in the 8-byte class,
    /// whose usable room is 4 bytes.
    pub fn new() -> QueryBuffer {
        let allocated = jemalloc_size(SDSHDR8_BYTES + 1);
        QueryBuffer {
            allocated,
            capacity: allocated - SDSHDR8_BYTES - 1,
            header: SDSHDR8_BYTES,
            peak: 0,
            read: None,
        }
    }

    /// `sdsZmallocSize(c->querybuf)`.
    pub fn allocated(&self) -> u64 {
        self.allocated
    }

    /// `sdsalloc(c->querybuf)`: CLIENT LIST's `qbuf-free` between round trips.
    #[cfg(test)]
    pub fn capacity(&self) -> u64 {
        self.capacity
    }

    /// `c->querybuf_peak`.
    #[cfg(test)]
    pub fn peak(&self) -> u64 {
        self.peak
    }

    /// The round trip is over (or a new one starts): its next bytes come in a read of their
    /// own.
    pub fn end_round_trip(&mut self) {
        self.read = None;
    }

    /// Takes in the next request of the round trip; `more_follows` whether the round trip
    /// sends more behind it.
    pub fn take(&mut self, request: RequestBytes, more_follows: bool) -> Taken {
        let mut taken = Taken::default();
        self.consume(request.head, &mut taken);
        if let Some(len) = request.value {
            let bulk = len + 2;
            if len >= PROTO_MBULK_BIG_ARG {
                let stream = if more_follows {
                    u64::MAX
                } else {
                    bulk + request.tail
                };
                let behind = self.left().min(stream);
                if behind > bulk {
                    // Whole, with more behind it: copied into an object of its own.
                    taken.argv_bytes = ROBJ_BYTES + sds_bytes(len);
                    self.consume(bulk, &mut taken);
                } else {
                    self.take_fat_bulk(bulk, behind, &mut taken);
                }
            } else {
                self.consume(bulk, &mut taken);
            }
        }
        self.consume(request.tail, &mut taken);
        taken
    }

    /// `clientsCronResizeQueryBuffer` between round trips (the buffer is empty), with whether
    /// the client has been idle for more than two seconds.
    pub fn cron_resize(&mut self, idle: bool) {
        if self.capacity > QUERY_BUFFER_WASTE_BYTES {
            if idle {
                self.resize(0);
            } else if self.capacity > PROTO_RESIZE_THRESHOLD && self.capacity / 2 > self.peak {
                self.resize(self.peak);
            }
        }
        self.peak = 0;
    }

    /// Bytes the read in progress holds that no command has taken yet.
    fn left(&self) -> u64 {
        self.read.map_or(0, |read| read.left)
    }

    /// Takes `bytes` of the stream, parsed as one piece (the arguments up to a value, a value
    /// and its CRLF, the arguments after it): from the read in progress, then from new reads,
    /// each appending to the part of the piece the buffer already holds.
    fn consume(&mut self, bytes: u64, taken: &mut Taken) {
        if bytes == 0 {
            return;
        }
        let mut have = 0;
        loop {
            if let Some(read) = self.read.as_mut() {
                if have + read.left >= bytes {
                    read.left -= bytes - have;
                    self.note_peak();
                    return;
                }
                have += read.left;
                read.left = 0;
                self.note_peak();
                taken.later_reads += 1;
            }
            self.start_read(have);
        }
    }

    /// `readQueryFromClient` with `carried` bytes in the buffer: room made, then a read.
    fn start_read(&mut self, carried: u64) {
        let asked = if self.capacity < PROTO_IOBUF_LEN {
            self.make_room(carried, PROTO_IOBUF_LEN, false);
            PROTO_IOBUF_LEN
        } else {
            self.make_room(carried, PROTO_IOBUF_LEN, true);
            self.capacity - carried
        };
        self.read = Some(Read {
            carried,
            asked,
            left: asked,
        });
    }

    /// The bulk of a fat argument, `behind` bytes of it read already (its header parsed,
    /// nothing after it in the buffer): moved to the front, room for exactly it, a read of
    /// what it misses, then the buffer handed to the argument and a fresh one of its size in
    /// its place.
    fn take_fat_bulk(&mut self, bulk: u64, behind: u64, taken: &mut Taken) {
        self.make_room(behind, bulk - behind, false);
        if let Some(read) = self.read.as_mut() {
            read.left -= behind;
        }
        self.note_peak();
        if behind < bulk {
            assert_eq!(self.left(), 0, "a bulk not yet whole is all the read took");
            taken.later_reads += 1;
            self.read = Some(Read {
                carried: behind,
                asked: bulk - behind,
                left: 0,
            });
            self.note_peak();
        }
        taken.argv_bytes = ROBJ_BYTES + self.allocated;
        let header = growing_header_len(bulk);
        self.allocated = jemalloc_size(header + bulk + 1);
        self.capacity = usable(self.allocated, header);
        self.header = header;
        // What follows comes in a read of its own.
        self.read = Some(Read {
            carried: 0,
            asked: 0,
            left: 0,
        });
    }

    /// `if (c->querybuf_peak < qblen) c->querybuf_peak = qblen` after the read, counting the
    /// bytes taken so far of a read the round trip may not fill.
    fn note_peak(&mut self) {
        if let Some(read) = self.read {
            self.peak = self.peak.max(read.carried + read.asked - read.left);
        }
    }

    /// `_sdsMakeRoomFor(s, addlen, greedy)` on an sds of `len` bytes.
    fn make_room(&mut self, len: u64, addlen: u64, greedy: bool) {
        assert!(len <= self.capacity, "the buffer holds what it has");
        if self.capacity - len >= addlen {
            return;
        }
        let needed = len + addlen;
        let new_len = match (greedy, needed < SDS_MAX_PREALLOC) {
            (false, _) => needed,
            (true, true) => needed * 2,
            (true, false) => needed + SDS_MAX_PREALLOC,
        };
        let header = growing_header_len(new_len);
        self.allocated = jemalloc_size(header + new_len + 1);
        self.capacity = usable(self.allocated, header);
        self.header = header;
    }

    /// `sdsResize(s, size, 1)` of an empty sds: a header as small as `size` needs (sdshdr8 at
    /// least), kept if it is larger than sdshdr8 and larger than needed (`realloc`);
    /// `sdsalloc` becomes `size` itself.
    fn resize(&mut self, size: u64) {
        if self.capacity == size {
            return;
        }
        let wanted = growing_header_len(size);
        let keeps_header =
            wanted == self.header || (wanted < self.header && wanted > SDSHDR8_BYTES);
        if !keeps_header {
            self.header = wanted;
        }
        self.allocated = jemalloc_size(self.header + size + 1);
        self.capacity = size;
    }
}

/// `sdsHdrSize(sdsReqType(len))` for a buffer that grows: never sdshdr5.
fn growing_header_len(len: u64) -> u64 {
    if len < 1 << 8 {
        SDSHDR8_BYTES
    } else if len < 1 << 16 {
        5
    } else if len < 1 << 32 {
        9
    } else {
        17
    }
}

/// `sdsalloc` after a fresh allocation: its usable bytes less header and NUL, within what
/// the header's type can record (`sdsTypeMaxSize`).
fn usable(allocated: u64, header: u64) -> u64 {
    let most = match header {
        SDSHDR8_BYTES => u64::from(u8::MAX),
        5 => u64::from(u16::MAX),
        9 => u64::from(u32::MAX),
        _ => u64::MAX,
    };
    (allocated - header - 1).min(most)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::server::command::CommandKind;
    use crate::sim::server::protocol::Argument;
    use crate::sim::server::resp::request_layout;

    /// `SET <key of key_len bytes> <len bytes>`.
    fn set(key_len: u64, len: u32) -> RequestBytes {
        request_layout(
            CommandKind::Set,
            key_len,
            Argument::Value { len, ttl_ms: None },
        )
    }

    /// One round trip of `requests`, pipelined; returns the reads after the first.
    fn round_trip(buffer: &mut QueryBuffer, requests: &[RequestBytes]) -> Taken {
        buffer.end_round_trip();
        let mut all = Taken::default();
        for (index, &request) in requests.iter().enumerate() {
            let taken = buffer.take(request, index + 1 < requests.len());
            all.later_reads += taken.later_reads;
            all.argv_bytes += taken.argv_bytes;
        }
        all
    }

    /// A connection after its first command (`CLIENT SETNAME`, a SET of 40 bytes...).
    fn used() -> QueryBuffer {
        let mut buffer = QueryBuffer::new();
        round_trip(&mut buffer, &[set(1, 40)]);
        buffer
    }

    // The CLIENT LIST figures below were measured on a real 7.0.15 (`qbuf-free` between
    // round trips, when `qbuf=0`).

    #[test]
    fn the_first_read_makes_room_for_16_kb_without_doubling() {
        let mut buffer = QueryBuffer::new();
        assert_eq!((buffer.allocated(), buffer.capacity()), (8, 4));
        assert_eq!(round_trip(&mut buffer, &[set(1, 40)]).later_reads, 0);
        assert_eq!((buffer.allocated(), buffer.capacity()), (20_480, 20_474));
        assert_eq!(buffer.peak(), set(1, 40).total());
    }

    #[test]
    fn a_fat_bulk_leaves_a_fresh_buffer_of_its_size() {
        // SET k <60000 B>: qbuf-free=65530; SET k2 <80000 B>: 81910 (an sdshdr32).
        for (len, allocated, capacity) in [(60_000, 65_536, 65_530), (80_000, 81_920, 81_910)] {
            let mut buffer = used();
            let taken = round_trip(&mut buffer, &[set(2, len)]);
            assert_eq!(
                (buffer.allocated(), buffer.capacity()),
                (allocated, capacity)
            );
            // The old buffer, grown to the bulk, is the argument's object now; it took a
            // read of its own after the one that met its header.
            assert_eq!(taken.argv_bytes, ROBJ_BYTES + allocated);
            assert_eq!(taken.later_reads, 1);
            assert_eq!(buffer.peak(), u64::from(len) + 2);
        }
    }

    #[test]
    fn a_buffer_trimmed_below_16_kb_grows_back_at_its_next_read() {
        // SET k <60000 B>, then a SET of 40 B every 50 ms: after clientsCron's trim the
        // next read makes room for 16 KB again, qbuf-free=20474 (not the trimmed size).
        let mut buffer = used();
        round_trip(&mut buffer, &[set(1, 60_000)]);
        buffer.cron_resize(false);
        assert_eq!(buffer.capacity(), 65_530, "the bulk's read is the peak");
        round_trip(&mut buffer, &[set(1, 40)]);
        buffer.cron_resize(false);
        assert_eq!(buffer.capacity(), set(1, 40).total(), "trimmed to the peak");
        assert_eq!(buffer.allocated(), 80);
        round_trip(&mut buffer, &[set(1, 40)]);
        assert_eq!((buffer.allocated(), buffer.capacity()), (20_480, 20_474));
    }

    #[test]
    fn the_peak_is_what_a_read_took_not_one_command() {
        // SET k2 <80000 B>, then pipelines of three SETs of 6000 B every 50 ms: the trim
        // keeps the three (18,090 bytes in one read), qbuf-free=18090, and no read grows it.
        let mut buffer = used();
        round_trip(&mut buffer, &[set(2, 80_000)]);
        let three = [set(2, 6_000); 3];
        assert_eq!(three[0].total(), 6_030);
        round_trip(&mut buffer, &three);
        buffer.cron_resize(false);
        round_trip(&mut buffer, &three);
        assert_eq!(buffer.peak(), 18_090);
        buffer.cron_resize(false);
        assert_eq!(buffer.capacity(), 18_090);
        // sdsResize kept the sdshdr32 (realloc): 9 + 18,090 + 1 in the 20 KB class.
        assert_eq!(buffer.allocated(), 20_480);
        for _ in 0..3 {
            assert_eq!(round_trip(&mut buffer, &three).later_reads, 0);
            buffer.cron_resize(false);
            assert_eq!(buffer.capacity(), 18_090);
        }
    }

    #[test]
    fn a_pipeline_whose_second_read_has_less_than_16_kb_free_doubles_the_buffer() {
        // Three SETs of 7000 B (21,090 bytes) on a used connection: the first read takes
        // 20,474, leaving 6,386 bytes of the third value; 14,088 free is under 16 KB, so the
        // buffer grows greedily to twice 6,386 + 16,384: qbuf-free=49146, and clientsCron
        // trims it to the first read's 20,474 (qbuf-free=20474 1.5 s later).
        let mut buffer = used();
        let taken = round_trip(&mut buffer, &[set(2, 7_000); 3]);
        assert_eq!(taken.later_reads, 1);
        assert_eq!((buffer.allocated(), buffer.capacity()), (49_152, 49_146));
        assert_eq!(buffer.peak(), 20_474);
        buffer.cron_resize(false);
        assert_eq!((buffer.allocated(), buffer.capacity()), (20_480, 20_474));
        // Six: the same growth, but the second read holds 28,092 bytes, more than half: the
        // next visit keeps it, the one after (no read since) trims it to nothing
        // (qbuf-free=0 0.15 s later), and a read makes room for 16 KB again.
        let mut buffer = used();
        round_trip(&mut buffer, &[set(2, 7_000); 6]);
        assert_eq!(buffer.capacity(), 49_146);
        assert_eq!(buffer.peak(), 6_386 + 616 + 3 * 7_030);
        buffer.cron_resize(false);
        assert_eq!(buffer.capacity(), 49_146);
        buffer.cron_resize(false);
        assert_eq!((buffer.allocated(), buffer.capacity()), (8, 0));
        round_trip(&mut buffer, &[set(1, 40)]);
        assert_eq!(buffer.capacity(), 20_474);
    }

    #[test]
    fn a_fat_bulk_whole_with_more_behind_is_copied_and_the_buffer_stays() {
        // SET a <60000 B>, SET b <40000 B>, SET c z in one pipeline on a new connection:
        // qbuf-free=65530, the first bulk's fresh buffer, which read the second one whole.
        let mut buffer = QueryBuffer::new();
        let taken = round_trip(&mut buffer, &[set(1, 60_000), set(1, 40_000), set(1, 1)]);
        assert_eq!(buffer.capacity(), 65_530);
        assert_eq!(
            taken.argv_bytes,
            ROBJ_BYTES + 65_536 + ROBJ_BYTES + sds_bytes(40_000),
            "the first bulk took the old buffer, the second was copied"
        );
    }

    #[test]
    fn a_fat_bulk_whole_with_nothing_behind_takes_the_buffer() {
        let mut buffer = QueryBuffer::new();
        round_trip(&mut buffer, &[set(1, 60_000)]);
        let taken = round_trip(&mut buffer, &[set(1, 40_000)]);
        assert_eq!(taken.later_reads, 0, "read whole into the 64 KB buffer");
        assert_eq!(taken.argv_bytes, ROBJ_BYTES + 65_536);
        assert_eq!(buffer.allocated(), sds_bytes(40_002));
    }

    #[test]
    fn an_idle_buffer_is_emptied_and_grows_back() {
        let mut buffer = used();
        buffer.cron_resize(true);
        assert_eq!((buffer.allocated(), buffer.capacity()), (8, 0));
        round_trip(&mut buffer, &[set(1, 40)]);
        assert_eq!((buffer.allocated(), buffer.capacity()), (20_480, 20_474));
    }

    #[test]
    fn a_buffer_under_32_kb_or_near_its_peak_stays() {
        let mut buffer = used();
        buffer.cron_resize(false);
        assert_eq!(buffer.capacity(), 20_474, "under PROTO_RESIZE_THRESHOLD");
        round_trip(&mut buffer, &[set(1, 40_000)]);
        round_trip(&mut buffer, &[set(1, 20_000)]);
        buffer.cron_resize(false);
        assert_eq!(buffer.capacity(), 40_954, "not twice the peak");
        round_trip(&mut buffer, &[set(1, 20_000)]);
        buffer.cron_resize(false);
        assert_eq!(buffer.capacity(), 20_030, "twice the peak: trimmed to it");
        round_trip(&mut buffer, &[set(1, 20_000)]);
        assert_eq!(buffer.capacity(), 20_030, "16 KB free: no growth");
    }
}
