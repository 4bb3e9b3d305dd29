//! A node's place in replication: standalone, a primary with its stream, or a replica with its
//! link state. Only the state; what a node does in each role is in `replica.rs`.

use crate::sim::cluster::replication::{PrimaryStream, ReplicaState};

/// What a node is in replication. A node is never both: a promoted replica drops its link
/// state for a stream, and a primary told to follow drops its stream for a link. A primary
/// deposed without knowing it is still `Primary` (its stream goes on; see `Node::divergent`).
#[derive(Debug, Clone)]
pub enum Role {
    /// A primary without replicas: nothing is streamed.
    Standalone,
    /// A primary streaming its changes to its replicas.
    Primary(PrimaryStream),
    /// A replica of another node.
    Replica(ReplicaState),
}

impl Role {
    /// The replication offset this node has reached: its stream's on a primary, what it
    /// applied on a replica, 0 on a node that never replicated.
    pub fn offset(&self) -> u64 {
        match self {
            Role::Primary(stream) => stream.offset,
            Role::Replica(replica) => replica.processed_offset,
            Role::Standalone => 0,
        }
    }

    pub fn stream(&self) -> Option<&PrimaryStream> {
        match self {
            Role::Primary(stream) => Some(stream),
            Role::Standalone | Role::Replica(_) => None,
        }
    }

    pub fn stream_mut(&mut self) -> Option<&mut PrimaryStream> {
        match self {
            Role::Primary(stream) => Some(stream),
            Role::Standalone | Role::Replica(_) => None,
        }
    }

    pub fn replica(&self) -> Option<&ReplicaState> {
        match self {
            Role::Replica(replica) => Some(replica),
            Role::Standalone | Role::Primary(_) => None,
        }
    }

    pub fn replica_mut(&mut self) -> Option<&mut ReplicaState> {
        match self {
            Role::Replica(replica) => Some(replica),
            Role::Standalone | Role::Primary(_) => None,
        }
    }
}
