//! COM objects declared once, the way windows-rs's `#[implement]` does it.
//!
//! A class (a plain Rust struct holding an object's state) implements one Rust trait per COM
//! interface it offers ([`MxfImpl`], [`MiniportDMusImpl`], [`PowerNotifyImpl`], ...) and is
//! declared a class once with [`class!`], which generates one const vtable per (class,
//! interface) and the [`Class`] facts `QueryInterface` needs. The object in memory is a
//! [`ComObject`]: one vtable pointer per interface first (the first is the object's
//! `IUnknown`, its COM identity), then the reference count, then the class's value. Every
//! vtable slot is a generic thunk written once in this crate: it steps back from the
//! interface pointer to the object by the interface's slot (windows-rs's this-adjustment) and
//! calls the trait method. `QueryInterface`, `AddRef` and `Release` are written once too
//! ([`unknown`]), after style.md's rules: null arguments are refused, a miss writes null and
//! fails with `STATUS_NOINTERFACE`, a hit adds a reference; the count orders its release
//! before the free and catches an over-release ([`RefCount`]).
//!
//! Where an object's memory comes from and how its references are counted is the class's
//! [`Storage`]: the driver's objects live in tagged nonpaged pool with the count inside the
//! object; the simulation's may live on the host heap and count in its registry.
//!
//! # Threads
//! A COM caller may call any method of an object from any thread, at once: the thunks hand the
//! trait methods a shared `&ComObject<C>`, so a class keeps its mutable state behind locks or
//! atomics (the driver's spin locks and kernel mutex), as COM's free-threaded contract asks.
//! The layer does not require `C: Sync`: the driver's classes hold raw kernel handles whose
//! thread rules the kernel, not the type system, states.
//!
//! # Unsafe
//! This crate is a documented home of unsafe code: the unsafe of this-pointer recovery (from
//! an interface pointer back to its object) and of vtable generation (thunks that turn the
//! caller's raw pointers into references), plus reading the vtable of a foreign interface
//! pointer ([`vtable`]). Each block says why it is sound; the IRQL rules are COM's:
//! `QueryInterface`, `AddRef` and `Release` touch memory only and run at any IRQL ≤
//! DISPATCH_LEVEL (the last `Release` frees through the class's [`Storage`], whose own rule
//! applies).
#![no_std]
// The docs quote the DDK's vocabulary (PortCls, DISPATCH_LEVEL, DirectMusic) in almost every
// line; backticking each would bury the prose (as in dmus-sys and the driver).
#![allow(clippy::doc_markdown)]
// `Vtable::<IFoo>::new` builds IFoo's vtable, not a `Vtable`: the builder is named for the
// interface it serves, the way windows-rs's `IFoo_Vtbl::new` is.
#![allow(clippy::new_ret_no_self)]

pub mod class;
pub mod interface;
pub mod interfaces;
pub mod object;
pub mod refcount;
pub mod reference;
pub mod storage;
pub mod unknown;

#[cfg(test)]
mod tests;

pub use class::{Class, HasInterface, Slots, VtablePointer};
/// The ABI crate, for [`class!`]'s expansion.
#[doc(hidden)]
pub use dmus_sys;
pub use interface::{Interface, add_ref, release, vtable};
pub use interfaces::{
    AllocatorMxfImpl, InterruptSyncImpl, MasterClockImpl, MiniportDMusImpl, MiniportImpl, MxfImpl,
    PortDMusImpl, PortImpl, PowerNotifyImpl, ResourceListImpl, ServiceGroupImpl, ServiceSinkImpl,
    SynthSinkDMusImpl, Vtable,
};
pub use interfaces::{Identified, InterfaceId};
pub use object::ComObject;
pub use refcount::{RefCount, Released, release_result};
pub use reference::ComRef;
pub use storage::{Refusal, Storage};
