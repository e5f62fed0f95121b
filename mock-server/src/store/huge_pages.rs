//! The loaded set's table in huge pages, where the system offers them.
//!
//! Why: with ids drawn at random among 100,000 calls, a lookup reads one slot of an 8 MB table,
//! and on 4 KiB pages that read is also a TLB miss whose page walk (two-dimensional in a virtual
//! machine) costs more than the slot's own cache miss. Backed by 2 MiB pages, the table needs
//! four TLB entries: `perf` put `Loaded::find` at 4.9% of the mock's time on 4 KiB pages and
//! 3.3% on huge pages (`bench/scale.sh` load, random ids).
//!
//! How: the table's block is allocated as usual, and its whole 2 MiB pages are marked
//! `MADV_HUGEPAGE` before anything is written to them, so the kernel backs them with huge pages
//! as they are first touched, when transparent huge pages are `always` or `madvise` (the default
//! of most distributions). With `never`, or off Linux, this changes nothing. The table is filled
//! right after it is allocated (every page of it, at 100,000 calls in 131,072 slots), so this
//! costs no resident memory the 4 KiB pages would not.

use std::alloc::Layout;
use std::ptr::NonNull;

use allocator_api2::alloc::{AllocError, Allocator, Global};

/// A huge page on x86_64 and aarch64 Linux (with 4 KiB base pages).
const HUGE_PAGE: usize = 2 << 20;

/// The global allocator, with blocks of two huge pages or more marked for huge pages.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct HugePages;

// SAFETY: every block comes from `Global` and goes back to it with the same layout; `advise`
// changes how the kernel backs a block's pages, never its contents or its extent.
unsafe impl Allocator for HugePages {
    fn allocate(&self, layout: Layout) -> Result<NonNull<[u8]>, AllocError> {
        let block = Global.allocate(layout)?;
        if block.len() >= 2 * HUGE_PAGE {
            advise(block);
        }
        Ok(block)
    }

    unsafe fn deallocate(&self, ptr: NonNull<u8>, layout: Layout) {
        // SAFETY: the caller hands back a block of this allocator with its layout, and this
        // allocator's blocks are `Global`'s (see `allocate`).
        unsafe { Global.deallocate(ptr, layout) }
    }
}

/// Marks the whole huge pages inside `block` for huge pages.
#[cfg(target_os = "linux")]
fn advise(block: NonNull<[u8]>) {
    let start = block.as_ptr() as *mut u8 as usize;
    let (from, to) = whole_pages(start, block.len());
    if to > from {
        // SAFETY: MADV_HUGEPAGE only changes how the kernel backs the range, never what it
        // holds, and the range lies inside a block this process just allocated. A refusal
        // (THP not built in, an old kernel) leaves the block as it was: nothing to do.
        let _ = unsafe { libc::madvise(from as *mut libc::c_void, to - from, libc::MADV_HUGEPAGE) };
    }
}

#[cfg(not(target_os = "linux"))]
fn advise(_: NonNull<[u8]>) {}

/// The huge pages wholly inside `[start, start + len)`, as (first byte, end).
fn whole_pages(start: usize, len: usize) -> (usize, usize) {
    let from = start.next_multiple_of(HUGE_PAGE);
    let to = (start + len) / HUGE_PAGE * HUGE_PAGE;
    (from, to.max(from))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_whole_huge_pages_inside_the_block_are_marked() {
        let mb = 1 << 20;
        assert_eq!(
            whole_pages(HUGE_PAGE, 3 * HUGE_PAGE),
            (HUGE_PAGE, 4 * HUGE_PAGE)
        );
        assert_eq!(
            whole_pages(HUGE_PAGE + 16, 3 * HUGE_PAGE),
            (2 * HUGE_PAGE, 4 * HUGE_PAGE)
        );
        assert_eq!(whole_pages(mb, 3 * mb), (HUGE_PAGE, 4 * mb));
        // No whole huge page inside: nothing.
        assert_eq!(whole_pages(mb, HUGE_PAGE), (HUGE_PAGE, HUGE_PAGE));
        assert_eq!(whole_pages(16, 100), (HUGE_PAGE, HUGE_PAGE));
    }

    #[test]
    fn a_large_block_holds_what_is_written_and_goes_back_whole() {
        let layout = Layout::from_size_align(5 * HUGE_PAGE + 64, 64).unwrap();
        let block = HugePages.allocate(layout).unwrap();
        assert!(block.len() >= layout.size());
        let bytes = block.as_ptr() as *mut u8;
        // SAFETY: the block is at least `layout.size()` bytes, this test's alone.
        unsafe {
            for i in (0..layout.size()).step_by(4096) {
                bytes.add(i).write((i / 4096) as u8);
            }
            for i in (0..layout.size()).step_by(4096) {
                assert_eq!(bytes.add(i).read(), (i / 4096) as u8);
            }
            HugePages.deallocate(block.cast(), layout);
        }
    }
}
