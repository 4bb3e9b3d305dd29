//! The fidelity suite: vanish against a real Redis 7.0.15.
//!
//! `cargo test --features fidelity --test fidelity` starts its own `redis-server` processes
//! (Debian's 7.0.15, `apt-get install redis-server`) on free loopback ports, one or more per
//! test, with no persistence, and kills them when the test ends. Each test drives the real
//! server over RESP and a simulated node through the same steps, and prints simulated vs real
//! as a table with the tolerance it judges by. Without `redis-server` every test that needs one
//! fails; none passes silently.
//!
//! * `memory`: used_memory of N keys per shape (redis-fidelity.md 3.4), an empty server with one
//!   client, a command's first-call latency histogram.
//! * `diagnose`: one INFO pair per cause around a real server causing it, the first cause
//!   named; `diagnose redis://…` and `watch` on a live server; the `from-info` round trip.
//! * `connections`: used_memory and mem_clients_normal of an empty server with 1 to 1,000 idle
//!   connections (redis-fidelity.md 1.2); connections past `maxclients` refused.
//! * `expiry`: lazy expiry, the active cycle's reclaim rate, EXPIRE 0 (section 2).
//! * `info`: INFO field names and the counters vanish models (section 7).
//! * `eviction`: hit ratio, evictions and OOM rejections of the eight policies under a paced
//!   Zipf cache-aside workload (section 1).
//! * `replication`: a real primary and replica against a simulated pair: the replication
//!   offset of every propagated command, byte for byte; INFO replication's fields; a replica
//!   that never expires a key itself (sections 4, 7 and 2.6).
//! * `failover`: a replica stopped (SIGSTOP) while the primary acknowledges writes, the primary
//!   killed, the replica promoted: the acknowledged writes lost, and that they are the newest,
//!   promoted before and after the replica reads its buffered stream (section 4).
//! * `min_replicas`: a primary with `min-replicas-to-write 1` whose only replica is stopped
//!   (SIGSTOP): how long it acknowledges writes before -NOREPLICAS, how many, and when it
//!   accepts them again after the resume (section 4).
//! * `stall`: a replica stopped (SIGSTOP) while 10,000 writes of 1 KB and of 100 B go on, the
//!   primary killed, shut down with `NOSAVE NOW` or with a plain `SHUTDOWN`: the writes the
//!   kernel's socket buffers could not hold are lost; a replica over its
//!   `client-output-buffer-limit` resyncs in a loop (section 4).
//! * `sentinel`: a primary killed under three real Sentinels: which replica is promoted, how
//!   long after the kill, when the Sentinels name it and the other replica follows it, against
//!   the simulator's Sentinels over many seeds (section 5).
//!
//! * `monitor`: a MONITOR capture of every kind of key removal, replayed: each read's hit or
//!   miss and cause, and the server's keyspace hits, misses, expired keys and Commandstats
//!   calls (issue 12).
//! * `workloads`: shapes `eviction` leaves out — large values rewritten (and read) among small
//!   keys under LFU and LRU, mixed short TTLs under the volatile policies, noeviction with
//!   overwrites, DEL and PEXPIRE over several connections, refused writes retried (sections 1
//!   and 2).
//! * `large_values`: what a 200 KB value costs in flight, step by step: its SET's argument and
//!   fresh query buffer, its GET's reply waiting while a pipeline runs, after clientsCron.
//!
//! Redis's own maxmemory.tcl assertions (section 8.1), which need no server, are in
//! `tests/it/eviction.rs` and run with plain `cargo test`.

// A crate root's modules resolve beside it (tests/), so each names its file in tests/fidelity/.
#[path = "fidelity/connections.rs"]
mod connections;
#[path = "fidelity/diagnose.rs"]
mod diagnose;
#[path = "fidelity/eviction.rs"]
mod eviction;
#[path = "fidelity/expiry.rs"]
mod expiry;
#[path = "fidelity/failover.rs"]
mod failover;
#[path = "fidelity/info.rs"]
mod info;
#[path = "fidelity/large_values.rs"]
mod large_values;
#[path = "fidelity/memory.rs"]
mod memory;
#[path = "fidelity/min_replicas.rs"]
mod min_replicas;
#[path = "fidelity/monitor.rs"]
mod monitor;
#[path = "fidelity/redis.rs"]
mod redis;
#[path = "fidelity/replication.rs"]
mod replication;
#[path = "fidelity/sentinel.rs"]
mod sentinel;
#[path = "fidelity/sim.rs"]
mod sim;
#[path = "fidelity/stall.rs"]
mod stall;
#[path = "fidelity/table.rs"]
mod table;
#[path = "fidelity/workloads.rs"]
mod workloads;
