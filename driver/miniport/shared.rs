//! `Sync` for the static descriptor tables PortCls reads.
//!
//! PortCls' descriptors (`PCFILTER_DESCRIPTOR` and everything it points to)
//! are plain C structs full of raw pointers, so Rust does not let them sit in a
//! `static`. They are never written after compilation, and every pointer in
//! them points to another such static, so sharing them between threads is
//! sound; [`Shared`] says so once.

/// A value that is only ever read, shared by every thread.
#[repr(transparent)]
pub struct Shared<T>(pub T);

// SAFETY: `Shared` is only used for statics that nothing writes (the miniports'
// descriptor tables, whose raw pointers point to other immutable statics), so
// concurrent reads from any thread at any IRQL are data-race free.
unsafe impl<T> Sync for Shared<T> {}

impl<T> Shared<T> {
    /// The address of the shared value, as the `*mut` PortCls' C signatures ask
    /// for; PortCls only reads through it.
    #[must_use]
    pub const fn as_mut_ptr(&'static self) -> *mut T {
        core::ptr::from_ref(&self.0).cast_mut()
    }
}
