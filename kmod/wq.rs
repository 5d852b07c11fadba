// SPDX-License-Identifier: GPL-2.0

//! The module's workqueue, where URBs are executed and completed: `WQ_MEM_RECLAIM` (it
//! serves a block device), per-CPU and high priority (the worker runs on the CPU of the
//! submitter, which then waits for it). Created at load, destroyed at unload after the HCD
//! is gone.

use crate::ffi;
use core::sync::atomic::{AtomicPtr, Ordering};
use kernel::bindings;
use kernel::prelude::*;
use kernel::workqueue::Queue;

/// The workqueue; NULL outside [`create`] .. [`destroy`].
///
/// INVARIANT: NULL, or a workqueue from `alloc_workqueue` not yet destroyed.
static WQ: AtomicPtr<bindings::workqueue_struct> = AtomicPtr::new(core::ptr::null_mut());

/// Allocates the workqueue (module init, before the HCD exists).
pub(crate) fn create() -> Result {
    // SAFETY: plain allocation; no preconditions.
    let wq = unsafe { ffi::vusbkey_alloc_workqueue() };
    if wq.is_null() {
        return Err(ENOMEM);
    }
    // INVARIANT: a new workqueue.
    WQ.store(wq, Ordering::Release);
    Ok(())
}

/// The workqueue. Only called by the HCD, which exists strictly between [`create`] and
/// [`destroy`].
pub(crate) fn queue() -> &'static Queue {
    let wq = WQ.load(Ordering::Acquire);
    // SAFETY: `wq` is the workqueue made by `create`; it is destroyed only by `destroy`, at
    // module exit, after the HCD (the only caller) was removed and its work flushed.
    unsafe { Queue::from_raw(wq) }
}

/// Waits until every queued work item has run.
pub(crate) fn flush() {
    let wq = WQ.load(Ordering::Acquire);
    if !wq.is_null() {
        // SAFETY: `wq` is live (see `queue`).
        unsafe { bindings::__flush_workqueue(wq) };
    }
}

/// Drains and frees the workqueue (module exit, after the HCD is gone).
pub(crate) fn destroy() {
    // INVARIANT: NULL from now on.
    let wq = WQ.swap(core::ptr::null_mut(), Ordering::AcqRel);
    if !wq.is_null() {
        // SAFETY: `wq` came from `create` and nobody can queue on it any more.
        unsafe { bindings::destroy_workqueue(wq) };
    }
}

/// While alive, the current task's allocations do no I/O (`memalloc_noio_save`): the worker
/// completes block I/O, so reclaim must not wait on I/O from it. (The kernel crate has no
/// `GFP_NOIO`.)
///
/// Not `Send`: the scope belongs to the task that opened it.
///
/// # Invariants
///
/// `self.0` is what `memalloc_noio_save` returned on the task that owns the value, and is
/// not restored yet.
pub(crate) struct NoIo(u32, core::marker::PhantomData<*mut ()>);

impl NoIo {
    /// Enters a no-I/O allocation scope until the value is dropped.
    pub(crate) fn enter() -> Self {
        // SAFETY: no preconditions; the scope is closed by `Drop`, on the same task.
        // INVARIANT: the flags just saved, on this task (`NoIo` is not `Send`).
        Self(unsafe { ffi::vusbkey_noio_save() }, core::marker::PhantomData)
    }
}

impl Drop for NoIo {
    fn drop(&mut self) {
        // SAFETY: restores the flags `enter` saved, on the same task (`NoIo` is not `Send`).
        unsafe { ffi::vusbkey_noio_restore(self.0) }
    }
}
