//! How Redis servers relate to one another: the replication stream with its offsets and the
//! replica's state, Redis Sentinel as a decision module (failure detection, election,
//! promotion), and the network that decides who can reach whom. The engine carries out what
//! these decide.

pub mod network;
pub mod replication;
pub mod sentinel;
