//! A counting global allocator, to measure the heap our forward pass keeps (loop stacks).
//!
//! Only `benches/report.rs` installs it (`#[global_allocator]`); elsewhere the counters stay at
//! zero. Two relaxed atomic adds per allocation: the tape crate, which allocates, pays them too,
//! which is noise next to `malloc` itself.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

pub struct Counting;

static ALLOCATED: AtomicUsize = AtomicUsize::new(0);
static FREED: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATED.fetch_add(layout.size(), Relaxed);
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCATED.fetch_add(layout.size(), Relaxed);
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        FREED.fetch_add(layout.size(), Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        FREED.fetch_add(layout.size(), Relaxed);
        ALLOCATED.fetch_add(new_size, Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Heap bytes currently allocated through [`Counting`] (0 where it is not installed).
pub fn live_bytes() -> usize {
    ALLOCATED.load(Relaxed).wrapping_sub(FREED.load(Relaxed))
}

/// Runs `f` and returns what it returned and the heap bytes it left allocated. The pool of
/// loop-stack memory is emptied first, so that stacks are allocated by `f` as on a first call
/// instead of taken from memory already counted.
pub fn heap_kept_by<R>(f: impl FnOnce() -> R) -> (R, usize) {
    autodiff::stacks::release_buffers();
    let before = live_bytes();
    let r = f();
    (r, live_bytes().wrapping_sub(before))
}
