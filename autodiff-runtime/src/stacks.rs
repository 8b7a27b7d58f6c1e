//! The loop stacks of the generated forward passes, and the memory they keep between calls.
//!
//! A gradient that records `n` iterations fills a stack of `n` records on every call. Allocated
//! afresh each time, its memory is new to the process each time too when it is large (the
//! allocator returns big freed blocks to the system): every page of it faults on first
//! write, and on the ADBench mixture at `d = 10` (7 MB of records) that was a third of the
//! gradient's time. A [`Stack`] gives its memory, emptied, to a small per-thread pool when it
//! is dropped, under the place in the generated code that made it (`site`); the next stack made
//! there on this thread starts with it. The pool keeps at most [`KEEP_BYTES`] per thread;
//! [`release_buffers`] frees what the calling thread keeps.

use core::alloc::Layout;
use core::ptr::NonNull;
use std::cell::RefCell;

/// What the pool keeps per thread at most, in bytes. A stack bigger than this is freed as usual.
pub const KEEP_BYTES: usize = 256 << 20;
/// How many blocks the pool keeps per thread at most (its slots are a fixed array, so that the
/// pool itself never allocates): a program that differentiates many functions has a stack or
/// two per loop in each `_grad` and `_vjp`.
const KEEP_BLOCKS: usize = 128;

/// A block of memory that was a stack's, emptied.
struct Block {
    site: usize,
    ptr: NonNull<u8>,
    layout: Layout,
}

impl Drop for Block {
    fn drop(&mut self) {
        // SAFETY: `ptr` was allocated by the global allocator with `layout` (it was a `Vec`'s
        // buffer of exactly `layout.size()` bytes at `layout.align()`), and nothing else owns it.
        unsafe { std::alloc::dealloc(self.ptr.as_ptr(), self.layout) }
    }
}

thread_local! {
    static POOL: RefCell<[Option<Block>; KEEP_BLOCKS]> = const {
        RefCell::new([const { None }; KEEP_BLOCKS])
    };
}

/// A loop's stack of records: a `Vec` (it dereferences to one) whose memory goes back to the
/// calling thread's pool when it is dropped, for the next stack made at the same `site`.
pub struct Stack<T> {
    records: Vec<T>,
    site: usize,
}

impl<T> Stack<T> {
    /// An empty stack, with the memory the last stack made at `site` on this thread left, if
    /// the pool kept it.
    #[inline]
    pub fn new(site: usize) -> Self {
        let size = core::mem::size_of::<T>();
        let records = match take(site, Layout::new::<T>()) {
            Some(b) => {
                let b = core::mem::ManuallyDrop::new(b);
                // SAFETY: the block was allocated by the global allocator with the alignment of
                // `T` and a size of `capacity · size_of::<T>()` bytes (`take` checked both),
                // which is the layout a `Vec<T>` of that capacity owns; its length is 0, so
                // nothing in it is read as a `T`.
                unsafe {
                    Vec::from_raw_parts(b.ptr.as_ptr().cast::<T>(), 0, b.layout.size() / size)
                }
            }
            None => Vec::new(),
        };
        Stack { records, site }
    }
}

impl<T> core::ops::Deref for Stack<T> {
    type Target = Vec<T>;
    #[inline(always)]
    fn deref(&self) -> &Vec<T> {
        &self.records
    }
}

impl<T> core::ops::DerefMut for Stack<T> {
    #[inline(always)]
    fn deref_mut(&mut self) -> &mut Vec<T> {
        &mut self.records
    }
}

impl<T> Drop for Stack<T> {
    /// Gives the memory of the records to the pool, under the stack's site, where it has room.
    /// Only this and [`Stack::new`] depend on `T`: the pool's own work is in functions that do
    /// not, compiled once rather than for every record type of every generated function.
    fn drop(&mut self) {
        self.records.clear();
        let bytes = self.records.capacity() * core::mem::size_of::<T>();
        if bytes == 0 || bytes > KEEP_BYTES {
            return;
        }
        let Ok(layout) = Layout::from_size_align(bytes, core::mem::align_of::<T>()) else {
            return;
        };
        let mut records = core::mem::ManuallyDrop::new(core::mem::take(&mut self.records));
        // A `Vec` with a nonzero capacity of a type that is not zero-sized has a real allocation.
        let ptr = NonNull::new(records.as_mut_ptr().cast::<u8>()).expect("an allocated Vec");
        give(Block {
            site: self.site,
            ptr,
            layout,
        });
    }
}

/// The block the pool keeps for `site`, where its layout fits records of layout `elem` (a
/// zero-sized record needs none).
fn take(site: usize, elem: Layout) -> Option<Block> {
    if elem.size() == 0 {
        return None;
    }
    let block = POOL
        .try_with(|p| {
            let mut p = p.try_borrow_mut().ok()?;
            let slot = p
                .iter_mut()
                .find(|b| b.as_ref().is_some_and(|b| b.site == site))?;
            slot.take()
        })
        .ok()
        .flatten()?;
    // Another type at this site (a generic function): the block is freed.
    (block.layout.align() == elem.align() && block.layout.size() % elem.size() == 0)
        .then_some(block)
}

/// Gives `block` to the pool, where it has room.
fn give(block: Block) {
    let bytes = block.layout.size();
    // If the pool is full, borrowed or gone (the thread is ending), the block is freed here.
    let _ = POOL.try_with(move |p| {
        if let Ok(mut p) = p.try_borrow_mut() {
            let kept: usize = p.iter().flatten().map(|b| b.layout.size()).sum();
            if kept + bytes <= KEEP_BYTES {
                // A free slot, else the slot of the smallest block, if it is smaller: the
                // large stacks are the ones whose pages cost a call most.
                let slot = match p.iter().position(|b| b.is_none()) {
                    Some(free) => Some(free),
                    None => p
                        .iter()
                        .enumerate()
                        .min_by_key(|(_, b)| b.as_ref().map_or(0, |b| b.layout.size()))
                        .filter(|(_, b)| b.as_ref().is_some_and(|b| b.layout.size() < bytes))
                        .map(|(at, _)| at),
                };
                if let Some(at) = slot {
                    p[at] = Some(block);
                }
            }
        }
    });
}

/// Frees the memory that the calling thread's pool keeps for the loop stacks of later calls
/// (see the module docs): for a long-lived thread after its last gradient of a large problem.
pub fn release_buffers() {
    let _ = POOL.try_with(|p| {
        if let Ok(mut p) = p.try_borrow_mut() {
            p.iter_mut().for_each(|b| *b = None);
        }
    });
}

/// The bytes the calling thread's pool keeps.
pub fn kept_bytes() -> usize {
    POOL.try_with(|p| {
        p.try_borrow()
            .map_or(0, |p| p.iter().flatten().map(|b| b.layout.size()).sum())
    })
    .unwrap_or(0)
}
