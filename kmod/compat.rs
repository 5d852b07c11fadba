// SPDX-License-Identifier: GPL-2.0

//! What differs between the kernel lines vusbkey builds for (6.12 and 7.2), in one place.
//!
//! Kbuild passes `--cfg vusbkey_since_<major>_<minor>` for each version boundary below that
//! the tree being built against has reached (from its `VERSION` and `PATCHLEVEL`); this
//! file is the only one that reads those cfgs.
//!
//! Differences removed rather than wrapped, so that both lines take one code path:
//! - `module!`'s author key (`author` in 6.12, `authors` later): `MODULE_AUTHOR` in shim.c;
//! - the clock (`Ktime` in 6.12, `Instant<C>` later): the frame number is read in shim.c;
//! - `kernel::str::CStr` (the kernel's own type in 6.12, `core::ffi::CStr` later):
//!   params.rs uses `core::ffi::CStr`, which both lines have;
//! - `pr_*!` formats with `{}` only the kernel's own `Display` from 6.18 on (primitives,
//!   `str`): the module logs strings and numbers, never its own `Display` types;
//! - `WQ_PERCPU` (6.17), which 7.x wants said: shim.c, by `LINUX_VERSION_CODE`.

/// Inside `unsafe impl Backend for IrqSaveBackend` (irqlock.rs): the methods later lines
/// added to the kernel crate's lock `Backend` trait: `try_lock` (6.13) and
/// `assert_is_held` (6.14). On 6.12 it expands to nothing.
macro_rules! lock_backend_extras {
    () => {
        #[cfg(vusbkey_since_6_13)]
        unsafe fn try_lock(ptr: *mut Self::State) -> Option<Self::GuardState> {
            let mut flags = 0;
            // SAFETY: the caller guarantees `ptr` points to a lock initialised by `init`;
            // `flags` is written only when the lock was taken.
            unsafe { crate::ffi::vusbkey_spin_trylock_irqsave(ptr, &mut flags) }.then_some(flags)
        }

        #[cfg(vusbkey_since_6_14)]
        unsafe fn assert_is_held(ptr: *mut Self::State) {
            // SAFETY: the caller guarantees `ptr` points to a lock initialised by `init`.
            unsafe { crate::ffi::vusbkey_spin_assert_is_held(ptr) }
        }
    };
}
pub(crate) use lock_backend_extras;
