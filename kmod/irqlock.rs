// SPDX-License-Identifier: GPL-2.0

//! An interrupt-safe spinlock (`spin_lock_irqsave`), which the kernel crate lacks (6.12 and
//! 7.2 alike).
//!
//! usbcore may call `urb_enqueue`, `urb_dequeue` and `hub_status_data` from any context,
//! hard IRQ included, so the HCD's state lock must disable interrupts. This plugs a
//! `spin_lock_irqsave` backend into the kernel crate's generic [`Lock`], which gives the
//! usual guard type and lockdep class for free.

use crate::ffi;
use kernel::bindings;
use kernel::sync::lock::{Backend, Lock};

/// A spinlock taken with interrupts disabled; the guard restores them.
pub(crate) type IrqSpinLock<T> = Lock<T, IrqSaveBackend>;

/// [`Backend`] for [`IrqSpinLock`]; the guard state is the saved interrupt flags.
pub(crate) struct IrqSaveBackend;

// SAFETY: `lock` and `unlock` are `spin_lock_irqsave`/`spin_unlock_irqrestore`, which give
// mutual exclusion; the flags saved by `lock` are handed back to `unlock` unchanged.
unsafe impl Backend for IrqSaveBackend {
    type State = bindings::spinlock_t;
    type GuardState = kernel::ffi::c_ulong;

    unsafe fn init(
        ptr: *mut Self::State,
        name: *const kernel::ffi::c_char,
        key: *mut bindings::lock_class_key,
    ) {
        // SAFETY: the caller guarantees `ptr` is valid for writes and `name`/`key` live forever.
        unsafe { bindings::__spin_lock_init(ptr, name, key) }
    }

    unsafe fn lock(ptr: *mut Self::State) -> Self::GuardState {
        // SAFETY: the caller guarantees `ptr` points to a lock initialised by `init`.
        unsafe { ffi::vusbkey_spin_lock_irqsave(ptr) }
    }

    unsafe fn unlock(ptr: *mut Self::State, guard_state: &Self::GuardState) {
        // SAFETY: the caller owns the lock; `guard_state` holds the flags `lock` saved.
        unsafe { ffi::vusbkey_spin_unlock_irqrestore(ptr, *guard_state) }
    }

    crate::compat::lock_backend_extras!();
}
