//! `KeyNames`: a trace's distinct key names, stored without a heap allocation per name.
//!
//! Cache-research traces name objects by number, so while every name is a number the names are
//! kept as the numbers (8 bytes a key) and written out with `itoa`: the ledger writes millions
//! of names, and reading each from its own `String` cost two cache misses a row (13 % of a
//! 10 M-request replay). Once a name that is not a number arrives, every name moves to one byte
//! arena with end offsets. Either way the names are the same; equality compares names.

use std::borrow::Cow;
use std::fmt;

use crate::sim::keyspace::memory::decimal_len;

#[derive(Clone)]
pub struct KeyNames {
    store: Store,
}

#[derive(Clone)]
enum Store {
    /// Every name is the decimal of its number.
    Numbers(Vec<u64>),
    /// The names back to back; name `i` ends at `ends[i]` and starts where `i - 1` ends.
    Text { bytes: String, ends: Vec<usize> },
}

impl Default for KeyNames {
    fn default() -> Self {
        KeyNames::new()
    }
}

impl KeyNames {
    pub fn new() -> KeyNames {
        KeyNames {
            store: Store::Numbers(Vec::new()),
        }
    }

    pub fn len(&self) -> usize {
        match &self.store {
            Store::Numbers(numbers) => numbers.len(),
            Store::Text { ends, .. } => ends.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether every name is a number (so none holds a prefix separator or needs quoting).
    pub fn all_numbers(&self) -> bool {
        matches!(self.store, Store::Numbers(_))
    }

    /// Adds a key named by the decimal of `number`.
    pub fn push_number(&mut self, number: u64) {
        match &mut self.store {
            Store::Numbers(numbers) => numbers.push(number),
            Store::Text { bytes, ends } => {
                bytes.push_str(itoa::Buffer::new().format(number));
                ends.push(bytes.len());
            }
        }
    }

    /// Adds a key named `name`.
    pub fn push_text(&mut self, name: &str) {
        if let Store::Numbers(numbers) = &self.store {
            let mut bytes = String::with_capacity(numbers.len() * 8 + name.len());
            let mut ends = Vec::with_capacity(numbers.len() + 1);
            for number in numbers {
                bytes.push_str(itoa::Buffer::new().format(*number));
                ends.push(bytes.len());
            }
            self.store = Store::Text { bytes, ends };
        }
        if let Store::Text { bytes, ends } = &mut self.store {
            bytes.push_str(name);
            ends.push(bytes.len());
        }
    }

    /// Appends name `local` to `out`.
    #[inline]
    pub fn push_name(&self, local: u32, out: &mut String) {
        match &self.store {
            Store::Numbers(numbers) => {
                out.push_str(itoa::Buffer::new().format(numbers[local as usize]));
            }
            Store::Text { bytes, ends } => out.push_str(text(bytes, ends, local)),
        }
    }

    /// The number name `local` is the decimal of, if the names are numbers (the ledger writes
    /// it without building the name).
    #[inline]
    pub fn number(&self, local: u32) -> Option<u64> {
        match &self.store {
            Store::Numbers(numbers) => Some(numbers[local as usize]),
            Store::Text { .. } => None,
        }
    }

    /// Every name as its number, when every name is one.
    pub fn numbers(&self) -> Option<&[u64]> {
        match &self.store {
            Store::Numbers(numbers) => Some(numbers),
            Store::Text { .. } => None,
        }
    }

    pub fn name(&self, local: u32) -> Cow<'_, str> {
        match &self.store {
            Store::Numbers(numbers) => Cow::Owned(numbers[local as usize].to_string()),
            Store::Text { bytes, ends } => Cow::Borrowed(text(bytes, ends, local)),
        }
    }

    /// The length of name `local` in bytes.
    pub fn name_len(&self, local: u32) -> usize {
        match &self.store {
            Store::Numbers(numbers) => decimal_len(numbers[local as usize]) as usize,
            Store::Text { bytes, ends } => text(bytes, ends, local).len(),
        }
    }

    /// Whether name `local` is `name`.
    pub fn is(&self, local: u32, name: &str) -> bool {
        match &self.store {
            Store::Numbers(numbers) => canonical_number(name) == Some(numbers[local as usize]),
            Store::Text { bytes, ends } => text(bytes, ends, local) == name,
        }
    }

    /// Bytes held on the heap.
    pub fn heap_bytes(&self) -> usize {
        match &self.store {
            Store::Numbers(numbers) => numbers.capacity() * 8,
            Store::Text { bytes, ends } => bytes.capacity() + ends.capacity() * 8,
        }
    }

    pub fn shrink_to_fit(&mut self) {
        match &mut self.store {
            Store::Numbers(numbers) => numbers.shrink_to_fit(),
            Store::Text { bytes, ends } => {
                bytes.shrink_to_fit();
                ends.shrink_to_fit();
            }
        }
    }

    /// Local ids in an order `find` can binary-search.
    pub fn sorted(&self) -> Vec<u32> {
        let mut ids: Vec<u32> = (0..self.len() as u32).collect();
        match &self.store {
            Store::Numbers(numbers) => ids.sort_unstable_by_key(|id| numbers[*id as usize]),
            Store::Text { bytes, ends } => {
                ids.sort_unstable_by(|a, b| text(bytes, ends, *a).cmp(text(bytes, ends, *b)))
            }
        }
        ids
    }

    /// The local id named `name`, searched in `sorted` (from `sorted`).
    pub fn find(&self, sorted: &[u32], name: &str) -> Option<u32> {
        let index = match &self.store {
            Store::Numbers(numbers) => {
                let number = canonical_number(name)?;
                sorted.binary_search_by_key(&number, |id| numbers[*id as usize])
            }
            Store::Text { bytes, ends } => {
                sorted.binary_search_by(|id| text(bytes, ends, *id).cmp(name))
            }
        };
        index.ok().map(|index| sorted[index])
    }
}

/// Name `local` of a text store.
#[inline]
fn text<'a>(bytes: &'a str, ends: &[usize], local: u32) -> &'a str {
    let local = local as usize;
    let start = if local == 0 { 0 } else { ends[local - 1] };
    &bytes[start..ends[local]]
}

/// The number whose decimal is exactly `name` (no sign, no leading zero), if there is one.
fn canonical_number(name: &str) -> Option<u64> {
    let digits = !name.is_empty() && name.bytes().all(|b| b.is_ascii_digit());
    if !digits || (name.len() > 1 && name.starts_with('0')) {
        return None;
    }
    name.parse().ok()
}

impl<S: AsRef<str>> FromIterator<S> for KeyNames {
    fn from_iter<I: IntoIterator<Item = S>>(names: I) -> Self {
        let mut table = KeyNames::new();
        for name in names {
            table.push_text(name.as_ref());
        }
        table
    }
}

impl PartialEq for KeyNames {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && (0..self.len() as u32).all(|i| self.name(i) == other.name(i))
    }
}

impl Eq for KeyNames {}

impl<const N: usize> PartialEq<[&str; N]> for KeyNames {
    fn eq(&self, other: &[&str; N]) -> bool {
        self.len() == N
            && other
                .iter()
                .enumerate()
                .all(|(i, name)| self.is(i as u32, name))
    }
}

impl fmt::Debug for KeyNames {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_list()
            .entries((0..self.len() as u32).map(|i| self.name(i)))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_stay_numbers_until_a_text_name_arrives() {
        let mut names = KeyNames::new();
        names.push_number(42);
        names.push_number(u64::MAX);
        assert!(matches!(names.store, Store::Numbers(_)));
        assert_eq!(names, ["42", &u64::MAX.to_string()[..]]);
        assert_eq!(names.name_len(1), 20);
        names.push_text("user:é");
        names.push_number(7);
        assert!(matches!(names.store, Store::Text { .. }));
        assert_eq!(names, ["42", &u64::MAX.to_string()[..], "user:é", "7"]);
        let mut out = String::from(">");
        names.push_name(2, &mut out);
        assert_eq!(out, ">user:é");
        assert_eq!(names.name_len(2), 7);
    }

    #[test]
    fn find_uses_the_sorted_order_and_only_canonical_numbers() {
        let mut numbers = KeyNames::new();
        for number in [30, 4, 1000, 0] {
            numbers.push_number(number);
        }
        let sorted = numbers.sorted();
        assert_eq!(numbers.find(&sorted, "1000"), Some(2));
        assert_eq!(numbers.find(&sorted, "0"), Some(3));
        assert_eq!(numbers.find(&sorted, "04"), None);
        assert_eq!(numbers.find(&sorted, "+4"), None);
        assert_eq!(numbers.find(&sorted, "5"), None);
        assert!(!numbers.is(1, "04"));
        let text: KeyNames = ["b", "a", "30"].into_iter().collect();
        let sorted = text.sorted();
        assert_eq!(text.find(&sorted, "a"), Some(1));
        assert_eq!(text.find(&sorted, "30"), Some(2));
        assert_eq!(text.find(&sorted, "c"), None);
    }

    #[test]
    fn equality_compares_names_whatever_the_store() {
        let mut numbers = KeyNames::new();
        numbers.push_number(1);
        numbers.push_number(2);
        let text: KeyNames = ["1", "2"].into_iter().collect();
        assert_eq!(numbers, text);
        assert_ne!(numbers, ["1", "3"].into_iter().collect::<KeyNames>());
        assert_eq!(format!("{numbers:?}"), "[\"1\", \"2\"]");
    }
}
