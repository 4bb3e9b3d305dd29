//! TEMPORARY STUB — replaced by the aggregate value models.
use crate::sim::config::ServerConfig;
#[derive(Debug, Clone, Copy)]
pub struct EncodingLimits;
impl EncodingLimits {
    pub fn from_config(_c: &ServerConfig) -> Self {
        EncodingLimits
    }
}
#[derive(Debug, Clone)]
pub enum Aggregate {
    Hash(HashValue),
    List(ListValue),
    Set(SetValue),
    Zset(ZsetValue),
}
impl Aggregate {
    pub fn bytes(&self) -> u64 {
        16 + 8 * self.len()
    }
    pub fn len(&self) -> u64 {
        match self {
            Aggregate::Hash(h) => h.0.len() as u64,
            Aggregate::List(l) => l.0.len() as u64,
            Aggregate::Set(s) => s.0.len() as u64,
            Aggregate::Zset(z) => z.0.len() as u64,
        }
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
#[derive(Debug, Clone, Default)]
pub struct HashValue(std::collections::BTreeMap<u32, u32>);
impl HashValue {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn hset(&mut self, f: u32, l: u32, _x: &EncodingLimits) -> bool {
        self.0.insert(f, l).is_none()
    }
    pub fn hdel(&mut self, f: u32) -> bool {
        self.0.remove(&f).is_some()
    }
}
#[derive(Debug, Clone, Default)]
pub struct ListValue(Vec<u32>);
impl ListValue {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn lpush(&mut self, l: u32, _x: &EncodingLimits) {
        self.0.push(l)
    }
    pub fn lpop(&mut self) -> Option<u32> {
        self.0.pop()
    }
}
#[derive(Debug, Clone, Default)]
pub struct SetValue(std::collections::BTreeSet<u32>);
impl SetValue {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn sadd(&mut self, m: u32, _x: &EncodingLimits) -> bool {
        self.0.insert(m)
    }
    pub fn srem(&mut self, m: u32) -> bool {
        self.0.remove(&m)
    }
}
#[derive(Debug, Clone, Default)]
pub struct ZsetValue(std::collections::BTreeMap<u32, i64>);
impl ZsetValue {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn zadd(&mut self, m: u32, s: i64, _x: &EncodingLimits) -> bool {
        self.0.insert(m, s).is_none()
    }
    pub fn zrem(&mut self, m: u32) -> bool {
        self.0.remove(&m).is_some()
    }
}
