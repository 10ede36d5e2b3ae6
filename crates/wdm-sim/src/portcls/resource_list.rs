//! `IResourceList`: the resources `PnP` assigned, as `PortCls` hands them to `StartDevice`, and
//! `PcNewResourceSublist`.
//!
//! The object keeps two `CM_RESOURCE_LIST` images (translated and untranslated) with room for
//! its capacity, so every descriptor pointer it hands out stays valid for the object's life.

use alloc::vec::Vec;
use core::cell::{RefCell, RefMut};
use core::mem::size_of;

use com_object::{ComObject, ResourceListImpl};
use dmus_sys::com::PUNKNOWN;
use dmus_sys::kernel::{
    CM_FULL_RESOURCE_DESCRIPTOR, CM_PARTIAL_RESOURCE_DESCRIPTOR, CM_RESOURCE_LIST,
    CM_RESOURCE_TYPE, Isa, NTSTATUS, PASSIVE_LEVEL, PCM_PARTIAL_RESOURCE_DESCRIPTOR,
    PCM_RESOURCE_LIST, POOL_TYPE, STATUS_INSUFFICIENT_RESOURCES, STATUS_INVALID_PARAMETER,
    STATUS_NOT_SUPPORTED, STATUS_SUCCESS,
};
use dmus_sys::portcls::{IResourceList, PRESOURCELIST};

use crate::current::with_state;
use crate::finding::Finding;
use crate::sim_object::{Registered, SimObject, address_of, new_object};

const KIND: &str = "IResourceList";

/// Bytes of a `CM_RESOURCE_LIST` before its first partial descriptor.
const HEADER: usize = size_of::<CM_RESOURCE_LIST>() - size_of::<CM_PARTIAL_RESOURCE_DESCRIPTOR>();
/// Offset of the partial list's `Count` in a `CM_RESOURCE_LIST`.
const PARTIAL_COUNT: usize = HEADER - size_of::<u32>();
const _: () = assert!(
    PARTIAL_COUNT % 4 == 0 && HEADER % 4 == 0,
    "u32-aligned header fields"
);

/// A resource list image with room for `capacity` descriptors, 4-byte aligned like the
/// packed structures in it.
struct Image {
    words: Vec<u32>,
}

impl Image {
    fn new(capacity: usize) -> Self {
        let bytes = HEADER + capacity.max(1) * size_of::<CM_PARTIAL_RESOURCE_DESCRIPTOR>();
        let mut image = Self {
            words: alloc::vec![0; bytes.div_ceil(4)],
        };
        let full = CM_FULL_RESOURCE_DESCRIPTOR {
            InterfaceType: Isa,
            BusNumber: 0,
            PartialResourceList: dmus_sys::kernel::CM_PARTIAL_RESOURCE_LIST {
                Version: 1,
                Revision: 1,
                Count: 0,
                PartialDescriptors: [empty_descriptor()],
            },
        };
        // One full descriptor, then the full descriptor right after the count.
        image.words[0] = 1;
        let at = image
            .words
            .as_mut_ptr()
            .wrapping_add(1)
            .cast::<CM_FULL_RESOURCE_DESCRIPTOR>();
        // SAFETY: the image holds at least a CM_RESOURCE_LIST's header and one descriptor;
        // the word buffer is 4-byte aligned, as the packed(4) structure needs.
        unsafe { at.write_unaligned(full) };
        image
    }

    fn base(&mut self) -> *mut u32 {
        self.words.as_mut_ptr()
    }

    fn descriptor(&mut self, index: usize) -> PCM_PARTIAL_RESOURCE_DESCRIPTOR {
        self.base()
            .wrapping_byte_add(HEADER + index * size_of::<CM_PARTIAL_RESOURCE_DESCRIPTOR>())
            .cast()
    }

    fn set(&mut self, index: usize, count: usize, value: CM_PARTIAL_RESOURCE_DESCRIPTOR) {
        let at = self.descriptor(index);
        // SAFETY: `index` < capacity (checked by the callers), so the write lands inside the
        // image, 4-byte aligned in a u32 buffer (the descriptor is packed(4)).
        unsafe { at.write_unaligned(value) };
        self.words[PARTIAL_COUNT / 4] = u32::try_from(count).unwrap_or(u32::MAX);
    }
}

const fn empty_descriptor() -> CM_PARTIAL_RESOURCE_DESCRIPTOR {
    CM_PARTIAL_RESOURCE_DESCRIPTOR {
        Type: 0,
        ShareDisposition: 0,
        Flags: 0,
        u: dmus_sys::kernel::CM_PARTIAL_RESOURCE_DESCRIPTOR_U {
            DevicePrivate: dmus_sys::kernel::CM_PARTIAL_RESOURCE_PRIVATE { Data: [0; 3] },
        },
    }
}

/// A resource list: its images and entry types (the sim runs on one thread; a `RefCell` lets
/// `AddEntry` grow it through the shared object every COM call gets).
struct ResourceList(RefCell<Entries>);

/// What a resource list holds.
struct Entries {
    translated: Image,
    untranslated: Image,
    types: Vec<u8>,
    capacity: usize,
}

com_object::class!(ResourceList, Registered<ResourceList>: IResourceList);

impl SimObject for ResourceList {
    const KIND: &'static str = KIND;
    const QUERY_INTERFACE: &'static str = "IResourceList::QueryInterface";
}

/// Makes a resource list holding `entries` (translated, untranslated), one reference (the
/// caller's), with room for `capacity` entries in all.
#[must_use]
pub fn new_resource_list(
    entries: &[(
        CM_PARTIAL_RESOURCE_DESCRIPTOR,
        CM_PARTIAL_RESOURCE_DESCRIPTOR,
    )],
    capacity: usize,
) -> PRESOURCELIST {
    let capacity = capacity.max(entries.len());
    let mut list = Entries {
        translated: Image::new(capacity),
        untranslated: Image::new(capacity),
        types: Vec::with_capacity(capacity),
        capacity,
    };
    for (translated, untranslated) in entries {
        list.push(*translated, *untranslated);
    }
    new_object::<_, IResourceList>(ResourceList(RefCell::new(list))).as_ptr()
}

impl Entries {
    fn push(
        &mut self,
        translated: CM_PARTIAL_RESOURCE_DESCRIPTOR,
        untranslated: CM_PARTIAL_RESOURCE_DESCRIPTOR,
    ) -> bool {
        let index = self.types.len();
        if index >= self.capacity {
            return false;
        }
        self.types.push(translated.Type);
        self.translated.set(index, index + 1, translated);
        self.untranslated.set(index, index + 1, untranslated);
        true
    }

    /// The list index of the `n`th entry of type `kind`.
    fn index_of(&self, kind: CM_RESOURCE_TYPE, n: u32) -> Option<usize> {
        self.types
            .iter()
            .enumerate()
            .filter(|&(_, &t)| i32::from(t) == kind)
            .nth(usize::try_from(n).ok()?)
            .map(|(i, _)| i)
    }
}

/// Whether `object` is a live resource list of the sim (a finding if not).
fn is_live(object: usize, call: &'static str) -> bool {
    with_state(call, |m| {
        let known = m
            .com
            .get(object)
            .is_some_and(|r| r.kind == KIND && r.refs > 0);
        if !known {
            m.record(Finding::UninitializedObject {
                call,
                kind: KIND,
                object,
            });
        }
        known
    })
}

/// The entries of a live list (`None` and a finding after its last `Release`).
fn entries<'a>(
    this: &'a ComObject<ResourceList>,
    call: &'static str,
) -> Option<RefMut<'a, Entries>> {
    is_live(address_of(this), call).then(|| this.0.borrow_mut())
}

impl ResourceListImpl for ResourceList {
    fn number_of_entries(this: &ComObject<Self>) -> u32 {
        entries(this, "IResourceList::NumberOfEntries")
            .map_or(0, |o| u32::try_from(o.types.len()).unwrap_or(u32::MAX))
    }

    fn number_of_entries_of_type(this: &ComObject<Self>, kind: CM_RESOURCE_TYPE) -> u32 {
        entries(this, "IResourceList::NumberOfEntriesOfType").map_or(0, |o| {
            let n = o.types.iter().filter(|&&t| i32::from(t) == kind).count();
            u32::try_from(n).unwrap_or(u32::MAX)
        })
    }

    fn find_translated_entry(
        this: &ComObject<Self>,
        kind: CM_RESOURCE_TYPE,
        index: u32,
    ) -> PCM_PARTIAL_RESOURCE_DESCRIPTOR {
        let Some(mut o) = entries(this, "IResourceList::FindTranslatedEntry") else {
            return core::ptr::null_mut();
        };
        o.index_of(kind, index)
            .map_or(core::ptr::null_mut(), |i| o.translated.descriptor(i))
    }

    fn find_untranslated_entry(
        this: &ComObject<Self>,
        kind: CM_RESOURCE_TYPE,
        index: u32,
    ) -> PCM_PARTIAL_RESOURCE_DESCRIPTOR {
        let Some(mut o) = entries(this, "IResourceList::FindUntranslatedEntry") else {
            return core::ptr::null_mut();
        };
        o.index_of(kind, index)
            .map_or(core::ptr::null_mut(), |i| o.untranslated.descriptor(i))
    }

    unsafe fn add_entry(
        this: &ComObject<Self>,
        translated: PCM_PARTIAL_RESOURCE_DESCRIPTOR,
        untranslated: PCM_PARTIAL_RESOURCE_DESCRIPTOR,
    ) -> NTSTATUS {
        const CALL: &str = "IResourceList::AddEntry";
        if translated.is_null() || untranslated.is_null() {
            with_state(CALL, |m| {
                m.record(Finding::NullArgument {
                    call: CALL,
                    argument: "Translated/Untranslated",
                });
            });
            return STATUS_INVALID_PARAMETER;
        }
        let Some(mut o) = entries(this, CALL) else {
            return STATUS_INVALID_PARAMETER;
        };
        // SAFETY: both non-null and readable by the caller's contract.
        let t = unsafe { translated.read_unaligned() };
        // SAFETY: as above.
        let u = unsafe { untranslated.read_unaligned() };
        if o.push(t, u) {
            STATUS_SUCCESS
        } else {
            STATUS_INSUFFICIENT_RESOURCES
        }
    }

    unsafe fn add_entry_from_parent(
        this: &ComObject<Self>,
        parent: *mut IResourceList,
        kind: CM_RESOURCE_TYPE,
        index: u32,
    ) -> NTSTATUS {
        const CALL: &str = "IResourceList::AddEntryFromParent";
        if !is_live(parent as usize, CALL) {
            return STATUS_INVALID_PARAMETER;
        }
        // SAFETY: the registry says `parent` is a live resource list of the sim (its kind),
        // so its IResourceList pointer; it lives through this call (the caller's reference).
        let Some(parent) = (unsafe { ComObject::<Self>::from_interface(parent) }) else {
            return STATUS_INVALID_PARAMETER;
        };
        let (t, u) = {
            let mut p = parent.0.borrow_mut();
            let Some(at) = p.index_of(kind, index) else {
                return STATUS_INVALID_PARAMETER;
            };
            let t = p.translated.descriptor(at);
            let u = p.untranslated.descriptor(at);
            // SAFETY: descriptors inside the parent's live image.
            let t = unsafe { t.read_unaligned() };
            // SAFETY: as above.
            let u = unsafe { u.read_unaligned() };
            (t, u)
        };
        let Some(mut o) = entries(this, CALL) else {
            return STATUS_INVALID_PARAMETER;
        };
        if o.push(t, u) {
            STATUS_SUCCESS
        } else {
            STATUS_INSUFFICIENT_RESOURCES
        }
    }

    fn translated_list(this: &ComObject<Self>) -> PCM_RESOURCE_LIST {
        entries(this, "IResourceList::TranslatedList")
            .map_or(core::ptr::null_mut(), |mut o| o.translated.base().cast())
    }

    fn untranslated_list(this: &ComObject<Self>) -> PCM_RESOURCE_LIST {
        entries(this, "IResourceList::UntranslatedList")
            .map_or(core::ptr::null_mut(), |mut o| o.untranslated.base().cast())
    }
}

/// `PcNewResourceSublist`: `PASSIVE_LEVEL`. An empty list with room for `MaximumEntries`,
/// to be filled from `ParentList` with `AddEntryFromParent`. Aggregation is not modelled.
///
/// # Safety
/// `OutResourceList` is NULL (a finding) or writable; `ParentList` a live resource list.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn PcNewResourceSublist(
    OutResourceList: *mut PRESOURCELIST,
    OuterUnknown: PUNKNOWN,
    PoolType: POOL_TYPE,
    ParentList: PRESOURCELIST,
    MaximumEntries: u32,
) -> NTSTATUS {
    const CALL: &str = "PcNewResourceSublist";
    let _ = PoolType;
    let ok = with_state(CALL, |m| {
        m.check_call(CALL, PASSIVE_LEVEL, true);
        if OutResourceList.is_null() || ParentList.is_null() {
            m.record(Finding::NullArgument {
                call: CALL,
                argument: "OutResourceList/ParentList",
            });
            return Err(STATUS_INVALID_PARAMETER);
        }
        if !OuterUnknown.is_null() {
            return Err(STATUS_NOT_SUPPORTED);
        }
        Ok(())
    });
    if let Err(status) = ok {
        return status;
    }
    let list = new_resource_list(&[], usize::try_from(MaximumEntries).unwrap_or(0));
    // SAFETY: non-null and writable (checked; caller's contract).
    unsafe { OutResourceList.write(list) };
    STATUS_SUCCESS
}
