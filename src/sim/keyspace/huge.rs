//! Per-key arrays on huge pages where the system offers them.
//!
//! A keyspace of a million keys keeps 24 MB of slots and 4 MB of dict links, read at random:
//! with 4 KB pages nearly every access also misses the TLB and walks the page table, and a
//! prefetch hint pays that walk too. On 2 MB pages the whole array fits in a few dozen TLB
//! entries. Linux gives them to a region marked `MADV_HUGEPAGE` when transparent huge pages are
//! set to `madvise` (the usual default) or `always`; elsewhere the advice is a no-op. A memory
//! hint only: contents, results and determinism are untouched.

/// Arrays smaller than this stay on ordinary pages (a huge page would be mostly empty).
const HUGE_MIN_BYTES: usize = 4 << 20;
const HUGE_PAGE_BYTES: usize = 2 << 20;

/// `vec![value; len]`, with the memory advised onto huge pages before it is first written
/// (pages are backed at first touch, so advice given after filling would come too late).
pub fn filled_vec<T: Clone>(value: T, len: usize) -> Vec<T> {
    let mut vec: Vec<T> = Vec::with_capacity(len);
    advise_huge(
        vec.as_mut_ptr().cast::<u8>(),
        len * std::mem::size_of::<T>(),
    );
    vec.resize(len, value);
    vec
}

#[cfg(target_os = "linux")]
fn advise_huge(start: *mut u8, bytes: usize) {
    if bytes < HUGE_MIN_BYTES {
        return;
    }
    // The whole huge pages inside the allocation.
    let begin = (start as usize).next_multiple_of(HUGE_PAGE_BYTES);
    let end = (start as usize + bytes) / HUGE_PAGE_BYTES * HUGE_PAGE_BYTES;
    if end <= begin {
        return;
    }
    // SAFETY: the range lies inside an allocation this function's caller owns; MADV_HUGEPAGE
    // changes how its pages are backed, never their contents. A refusal (no THP support) is
    // harmless and ignored.
    unsafe {
        libc::madvise(begin as *mut libc::c_void, end - begin, libc::MADV_HUGEPAGE);
    }
}

#[cfg(not(target_os = "linux"))]
fn advise_huge(_start: *mut u8, _bytes: usize) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_filled_vec_holds_its_value_at_every_size() {
        for len in [0, 1, 1000, (HUGE_MIN_BYTES / 4) + 12_345] {
            let vec = filled_vec(7u32, len);
            assert_eq!(vec.len(), len);
            assert!(vec.iter().all(|&v| v == 7));
        }
    }
}
