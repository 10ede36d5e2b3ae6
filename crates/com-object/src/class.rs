//! What makes a Rust struct a COM class: its interfaces (one vtable pointer each), the ids
//! `QueryInterface` answers with each, and its [`Storage`]. The [`class!`](crate::class!)
//! macro implements these for a struct; nothing else should.

use core::ffi::c_void;

use dmus_sys::GUID;
use dmus_sys::com::IID_IUnknown;

use crate::interface::Interface;
use crate::storage::Storage;

/// One interface of an object in memory: a pointer to that interface's vtable (the layout of
/// dmus-sys's `#[repr(C)] struct IFoo { lpVtbl }`).
pub type VtablePointer = *const c_void;

/// The interface pointers at the start of an object: an array of [`VtablePointer`]s.
///
/// # Safety
/// `Self` is `[VtablePointer; Self::COUNT]`.
pub unsafe trait Slots: Copy + 'static {
    /// How many interfaces.
    const COUNT: usize;
}

// SAFETY: exactly the array the trait describes.
unsafe impl<const N: usize> Slots for [VtablePointer; N] {
    const COUNT: usize = N;
}

/// A COM class: a struct whose objects are [`ComObject`](crate::ComObject)s.
///
/// # Safety
/// Implemented by [`class!`](crate::class!) only: `INTERFACES[n]` points to a vtable built
/// for this class at slot `n` (its thunks step back `n` pointers to the object), and `IIDS[n]`
/// are the interface ids that vtable serves.
pub unsafe trait Class: Sized {
    /// The class's name (diagnostics; the simulation's registry).
    const NAME: &'static str;
    /// Where the objects live and how their references are counted.
    type Storage: Storage;
    /// The interface pointers, one per interface, the first also the `IUnknown`.
    type Interfaces: Slots;
    /// The vtables, in slot order.
    const INTERFACES: Self::Interfaces;
    /// Per slot, the interface ids `QueryInterface` answers with that slot's pointer (the
    /// interface's own and its bases', `IUnknown` apart: that is always slot 0).
    const IIDS: &'static [&'static [GUID]];

    /// The slot that serves `iid`, if the class has that interface.
    #[must_use]
    fn slot_of(iid: &GUID) -> Option<usize> {
        if *iid == IID_IUnknown {
            return Some(0);
        }
        Self::IIDS.iter().position(|ids| ids.contains(iid))
    }
}

/// The class has interface `I` at slot [`Self::SLOT`].
///
/// # Safety
/// Implemented by [`class!`](crate::class!) only: the vtable at `SLOT` is `I`'s.
pub unsafe trait HasInterface<I: Interface>: Class {
    /// The interface's slot.
    const SLOT: usize;
}

/// Declares a struct a COM class: `class!(Type, Storage: IFoo, IBar)` (one to three
/// interfaces; the first is the object's `IUnknown`). The struct implements the trait of
/// each interface listed and of their bases (`IMiniportDMus` needs [`MiniportImpl`] and
/// [`MiniportDMusImpl`]); one const vtable per interface is generated for it.
/// `class!(Type, Storage: IUnknown)` (written bare) declares an object with `IUnknown`
/// alone, such as an outer object for aggregation.
///
/// [`MiniportImpl`]: crate::MiniportImpl
/// [`MiniportDMusImpl`]: crate::MiniportDMusImpl
#[macro_export]
macro_rules! class {
    ($class:ty, $storage:ty: IUnknown $(,)?) => {
        $crate::class!(@class $class, $storage, 1, [$crate::dmus_sys::com::IUnknown => 0]);
    };
    ($class:ty, $storage:ty: $i0:ty $(,)?) => {
        $crate::class!(@class $class, $storage, 1, [$i0 => 0]);
        $crate::class!(@identity $class);
    };
    ($class:ty, $storage:ty: $i0:ty, $i1:ty $(,)?) => {
        $crate::class!(@class $class, $storage, 2, [$i0 => 0, $i1 => 1]);
        $crate::class!(@identity $class);
    };
    ($class:ty, $storage:ty: $i0:ty, $i1:ty, $i2:ty $(,)?) => {
        $crate::class!(@class $class, $storage, 3, [$i0 => 0, $i1 => 1, $i2 => 2]);
        $crate::class!(@identity $class);
    };
    (@identity $class:ty) => {
        // SAFETY: every vtable starts with IUnknown's; slot 0 is the identity.
        unsafe impl $crate::HasInterface<$crate::dmus_sys::com::IUnknown> for $class {
            const SLOT: usize = 0;
        }
    };
    (@class $class:ty, $storage:ty, $count:literal, [$($interface:ty => $slot:literal),+]) => {
        // SAFETY: each vtable below is built for this class at the slot it is stored in, and
        // serves the ids of its own interface.
        unsafe impl $crate::Class for $class {
            const NAME: &'static str = ::core::stringify!($class);
            type Storage = $storage;
            type Interfaces = [$crate::VtablePointer; $count];
            const INTERFACES: Self::Interfaces = [$({
                const VTABLE: &<$interface as $crate::Interface>::Vtbl =
                    &$crate::Vtable::<$interface>::new::<$class, $slot>();
                ::core::ptr::from_ref(VTABLE).cast()
            }),+];
            const IIDS: &'static [&'static [$crate::dmus_sys::GUID]] =
                &[$(<$interface as $crate::Interface>::IIDS),+];
        }
        $(
            // SAFETY: the vtable at this slot is the interface's (above).
            unsafe impl $crate::HasInterface<$interface> for $class {
                const SLOT: usize = $slot;
            }
        )+
    };
}
