//! Who can reach whom: the sides of a partition, and replication links cut on their own.
//!
//! Sentinels run beside a node and share its side. Without a partition everything is on side 0.

use crate::sim::config::{Partition, SentinelHost};

#[derive(Debug, Clone)]
pub struct Network {
    node_side: Vec<u8>,
    client_side: Vec<u8>,
    /// Per node: its incoming replication link is cut (`link-down`).
    link_cut: Vec<bool>,
}

impl Network {
    pub fn new(nodes: usize, clients: usize) -> Network {
        Network {
            node_side: vec![0; nodes],
            client_side: vec![0; clients],
            link_cut: vec![false; nodes],
        }
    }

    pub fn partition(&mut self, partition: &Partition) {
        for (side, new) in self.node_side.iter_mut().zip(&partition.node_side) {
            *side = *new;
        }
        for (side, new) in self.client_side.iter_mut().zip(&partition.client_side) {
            *side = *new;
        }
    }

    pub fn heal(&mut self) {
        self.node_side.fill(0);
        self.client_side.fill(0);
    }

    pub fn cut_link(&mut self, node: usize, cut: bool) {
        if let Some(flag) = self.link_cut.get_mut(node) {
            *flag = cut;
        }
    }

    #[inline]
    pub fn nodes_connected(&self, a: usize, b: usize) -> bool {
        self.node_side[a] == self.node_side[b]
    }

    #[inline]
    pub fn client_reaches(&self, client: usize, node: usize) -> bool {
        self.client_side[client] == self.node_side[node]
    }

    /// The side a Sentinel's machine is on.
    #[inline]
    pub fn host_side(&self, host: SentinelHost) -> u8 {
        match host {
            SentinelHost::Node(node) => self.node_side[node],
            SentinelHost::Client(client) => self.client_side[client],
        }
    }

    #[inline]
    pub fn host_reaches_node(&self, host: SentinelHost, node: usize) -> bool {
        self.host_side(host) == self.node_side[node]
    }

    #[inline]
    pub fn client_reaches_host(&self, client: usize, host: SentinelHost) -> bool {
        self.client_side[client] == self.host_side(host)
    }

    /// Whether `master` can stream to `replica` over the network.
    #[inline]
    pub fn link_open(&self, master: usize, replica: usize) -> bool {
        !self.link_cut[replica] && self.nodes_connected(master, replica)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_partition_separates_sides_and_heal_joins_them() {
        let mut network = Network::new(3, 2);
        network.partition(&Partition {
            node_side: vec![0, 0, 1],
            client_side: vec![1, 0],
        });
        assert!(network.nodes_connected(0, 1));
        assert!(!network.nodes_connected(0, 2));
        assert!(network.client_reaches(0, 2) && !network.client_reaches(0, 0));
        assert!(!network.link_open(0, 2));
        network.cut_link(1, true);
        assert!(!network.link_open(0, 1));
        network.heal();
        assert!(network.link_open(0, 2) && !network.link_open(0, 1));
        network.cut_link(1, false);
        assert!(network.link_open(0, 1));
    }
}
