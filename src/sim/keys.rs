//! The scenario's key table: every key name a run can touch, as a dense id.
//!
//! Generated keys are `prefix + decimal id`; clients that share a prefix share keys. Families
//! occupy contiguous id ranges, so the hot path carries only a `KeyId` and the name (or its
//! length, which is all the memory model needs) is derived on demand.

use crate::sim::config::ClientConfig;
use crate::sim::ledger::KeyId;
use crate::sim::memory::decimal_len;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Family {
    pub prefix: String,
    /// First key id of the family.
    pub start: u32,
    pub count: u32,
}

#[derive(Debug, Clone, Default)]
pub struct KeyTable {
    families: Vec<Family>,
    total: u32,
}

impl KeyTable {
    /// One family per distinct prefix, sized by the largest keyspace using it, in order of first
    /// appearance. Returns the table and, per client, the index of its family.
    pub fn from_clients(clients: &[ClientConfig]) -> (KeyTable, Vec<usize>) {
        let mut table = KeyTable::default();
        let mut counts: Vec<(String, u64)> = Vec::new();
        let mut family_of_client = Vec::with_capacity(clients.len());
        for client in clients {
            let prefix = &client.keyspace.prefix;
            let index = match counts.iter().position(|(p, _)| p == prefix) {
                Some(index) => {
                    counts[index].1 = counts[index].1.max(client.keyspace.keys);
                    index
                }
                None => {
                    counts.push((prefix.clone(), client.keyspace.keys));
                    counts.len() - 1
                }
            };
            family_of_client.push(index);
        }
        for (prefix, count) in counts {
            // Validation caps the total far below u32::MAX.
            let count = count as u32;
            table.families.push(Family {
                prefix,
                start: table.total,
                count,
            });
            table.total += count;
        }
        (table, family_of_client)
    }

    pub fn len(&self) -> usize {
        self.total as usize
    }

    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    pub fn families(&self) -> &[Family] {
        &self.families
    }

    pub fn family(&self, index: usize) -> &Family {
        &self.families[index]
    }

    /// The family index of a key.
    pub fn family_of(&self, key: KeyId) -> usize {
        self.families
            .partition_point(|family| family.start <= key.0)
            .saturating_sub(1)
    }

    /// The key of `local` within family `family`.
    #[inline]
    pub fn key(&self, family: usize, local: u64) -> KeyId {
        KeyId(self.families[family].start + local as u32)
    }

    /// Length of the key's name in bytes.
    #[inline]
    pub fn key_len(&self, key: KeyId) -> u64 {
        let family = &self.families[self.family_of(key)];
        family.prefix.len() as u64 + decimal_len(u64::from(key.0 - family.start))
    }

    pub fn name(&self, key: KeyId) -> String {
        let family = &self.families[self.family_of(key)];
        format!("{}{}", family.prefix, key.0 - family.start)
    }

    /// The id of a key name, if the name belongs to the table.
    pub fn lookup(&self, name: &str) -> Option<KeyId> {
        self.families.iter().find_map(|family| {
            let digits = name.strip_prefix(family.prefix.as_str())?;
            let canonical = !digits.is_empty()
                && digits.bytes().all(|b| b.is_ascii_digit())
                && (digits == "0" || !digits.starts_with('0'));
            let local: u64 = if canonical {
                digits.parse().ok()?
            } else {
                return None;
            };
            (local < u64::from(family.count)).then(|| KeyId(family.start + local as u32))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::config::*;

    fn client(prefix: &str, keys: u64) -> ClientConfig {
        ClientConfig {
            name: prefix.to_string(),
            rate: 1.0,
            arrivals: Arrivals::Poisson,
            db: 0,
            start_us: 0,
            stop_us: None,
            keyspace: KeyspaceConfig {
                keys,
                prefix: prefix.to_string(),
                popularity: Popularity::Uniform,
            },
            commands: vec![(CommandKind::Get, 1)],
            value_size: ValueSize::Fixed(10),
            ttl: None,
            on_miss: OnMiss::None,
            fields: 16,
            trace: None,
        }
    }

    #[test]
    fn shared_prefixes_share_keys() {
        let clients = [client("a:", 10), client("b:", 5), client("a:", 20)];
        let (table, families) = KeyTable::from_clients(&clients);
        assert_eq!(families, vec![0, 1, 0]);
        assert_eq!(table.len(), 25);
        assert_eq!(table.family(1).start, 20);
        assert_eq!(table.name(KeyId(19)), "a:19");
        assert_eq!(table.name(KeyId(20)), "b:0");
        assert_eq!(table.family_of(KeyId(24)), 1);
        assert_eq!(table.key_len(KeyId(9)), 3);
        assert_eq!(table.key_len(KeyId(10)), 4);
    }

    #[test]
    fn lookup_accepts_only_canonical_names_in_range() {
        let (table, _) = KeyTable::from_clients(&[client("s:", 100)]);
        assert_eq!(table.lookup("s:42"), Some(KeyId(42)));
        assert_eq!(table.lookup("s:0"), Some(KeyId(0)));
        assert_eq!(table.lookup("s:042"), None);
        assert_eq!(table.lookup("s:100"), None);
        assert_eq!(table.lookup("s:"), None);
        assert_eq!(table.lookup("x:1"), None);
    }
}
