//! One Rust trait per COM interface rdmus implements, and the const vtable builder of each:
//! `Vtable::<IFoo>::new::<C, N>()` is `IFoo`'s vtable for class `C` at slot `N`, every slot a
//! generic thunk that recovers the object and calls `C`'s trait method.
//!
//! A trait's methods take the object (`this: &ComObject<Self>`, which derefs to the class's
//! value) and the interface's arguments as the caller passed them. A method is `unsafe` when
//! an argument is a raw pointer whose validity is the caller's promise (the DDI's contract,
//! repeated in its `# Safety`); the thunk passes the promise on.

use core::marker::PhantomData;

pub mod clock;
pub mod identified;
pub mod interrupt_sync;
pub mod miniport;
pub mod mxf;
pub mod port;
pub mod power;
pub mod resource_list;
pub mod service;

pub use clock::MasterClockImpl;
pub use identified::{Identified, InterfaceId};
pub use interrupt_sync::InterruptSyncImpl;
pub use miniport::{MiniportDMusImpl, MiniportImpl};
pub use mxf::{AllocatorMxfImpl, MxfImpl, SynthSinkDMusImpl};
pub use port::{PortDMusImpl, PortImpl};
pub use power::PowerNotifyImpl;
pub use resource_list::ResourceListImpl;
pub use service::{ServiceGroupImpl, ServiceSinkImpl};

/// The vtable builder of interface `I`: `Vtable::<I>::new::<C, N>()`.
pub struct Vtable<I>(PhantomData<I>);

/// Defines a generic vtable thunk: recovers the object of class `C` from its slot-`N`
/// pointer and calls the trait method, passing the arguments on. `unsafe` methods get the
/// caller's promise about their pointer arguments passed on with them.
macro_rules! thunk {
    (safe $name:ident: $trait:ident::$method:ident($interface:ty $(, $arg:ident: $ty:ty)*) $(-> $ret:ty)?) => {
        unsafe extern "system" fn $name<C: $trait, const N: usize>(
            this: *mut $interface,
            $($arg: $ty),*
        ) $(-> $ret)? {
            // SAFETY: called through slot N's vtable: a live object's slot-N pointer. Any
            // IRQL (memory only).
            let object = unsafe { $crate::unknown::this::<C, N, _>(this) };
            C::$method(object $(, $arg)*)
        }
    };
    (unsafe $name:ident: $trait:ident::$method:ident($interface:ty $(, $arg:ident: $ty:ty)*) $(-> $ret:ty)?) => {
        unsafe extern "system" fn $name<C: $trait, const N: usize>(
            this: *mut $interface,
            $($arg: $ty),*
        ) $(-> $ret)? {
            // SAFETY: called through slot N's vtable: a live object's slot-N pointer. Any
            // IRQL (memory only).
            let object = unsafe { $crate::unknown::this::<C, N, _>(this) };
            // SAFETY: the caller's arguments, valid per the interface's contract (the trait
            // method's `# Safety`), passed on. The method's own IRQL.
            unsafe { C::$method(object $(, $arg)*) }
        }
    };
}
use thunk;
