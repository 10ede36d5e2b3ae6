//! `IResourceList`: the hardware resources PnP assigned to a device.

use dmus_sys::com::IUnknown;
use dmus_sys::kernel::{
    CM_RESOURCE_TYPE, NTSTATUS, PCM_PARTIAL_RESOURCE_DESCRIPTOR, PCM_RESOURCE_LIST,
};
use dmus_sys::portcls::{IResourceList, IResourceListVtbl};

use super::{Vtable, thunk};
use crate::class::Class;
use crate::object::ComObject;

/// `IResourceList` (every method PASSIVE_LEVEL). The descriptors and lists it hands out stay
/// valid for the object's life.
pub trait ResourceListImpl: Class {
    /// `NumberOfEntries`.
    fn number_of_entries(this: &ComObject<Self>) -> u32;

    /// `NumberOfEntriesOfType`.
    fn number_of_entries_of_type(this: &ComObject<Self>, kind: CM_RESOURCE_TYPE) -> u32;

    /// `FindTranslatedEntry`: the `index`th entry of type `kind`, or null.
    fn find_translated_entry(
        this: &ComObject<Self>,
        kind: CM_RESOURCE_TYPE,
        index: u32,
    ) -> PCM_PARTIAL_RESOURCE_DESCRIPTOR;

    /// `FindUntranslatedEntry`: the `index`th entry of type `kind`, or null.
    fn find_untranslated_entry(
        this: &ComObject<Self>,
        kind: CM_RESOURCE_TYPE,
        index: u32,
    ) -> PCM_PARTIAL_RESOURCE_DESCRIPTOR;

    /// `AddEntry`.
    ///
    /// # Safety
    /// `translated` and `untranslated` are null or readable descriptors.
    unsafe fn add_entry(
        this: &ComObject<Self>,
        translated: PCM_PARTIAL_RESOURCE_DESCRIPTOR,
        untranslated: PCM_PARTIAL_RESOURCE_DESCRIPTOR,
    ) -> NTSTATUS;

    /// `AddEntryFromParent`: copies the `index`th entry of type `kind` of `parent`.
    ///
    /// # Safety
    /// `parent` is null or a live `IResourceList`.
    unsafe fn add_entry_from_parent(
        this: &ComObject<Self>,
        parent: *mut IResourceList,
        kind: CM_RESOURCE_TYPE,
        index: u32,
    ) -> NTSTATUS;

    /// `TranslatedList`.
    fn translated_list(this: &ComObject<Self>) -> PCM_RESOURCE_LIST;

    /// `UntranslatedList`.
    fn untranslated_list(this: &ComObject<Self>) -> PCM_RESOURCE_LIST;
}

thunk!(safe number_of_entries: ResourceListImpl::number_of_entries(IResourceList) -> u32);
thunk!(safe number_of_entries_of_type: ResourceListImpl::number_of_entries_of_type(IResourceList, kind: CM_RESOURCE_TYPE) -> u32);
thunk!(safe find_translated_entry: ResourceListImpl::find_translated_entry(IResourceList, kind: CM_RESOURCE_TYPE, index: u32) -> PCM_PARTIAL_RESOURCE_DESCRIPTOR);
thunk!(safe find_untranslated_entry: ResourceListImpl::find_untranslated_entry(IResourceList, kind: CM_RESOURCE_TYPE, index: u32) -> PCM_PARTIAL_RESOURCE_DESCRIPTOR);
thunk!(unsafe add_entry: ResourceListImpl::add_entry(IResourceList, translated: PCM_PARTIAL_RESOURCE_DESCRIPTOR, untranslated: PCM_PARTIAL_RESOURCE_DESCRIPTOR) -> NTSTATUS);
thunk!(unsafe add_entry_from_parent: ResourceListImpl::add_entry_from_parent(IResourceList, parent: *mut IResourceList, kind: CM_RESOURCE_TYPE, index: u32) -> NTSTATUS);
thunk!(safe translated_list: ResourceListImpl::translated_list(IResourceList) -> PCM_RESOURCE_LIST);
thunk!(safe untranslated_list: ResourceListImpl::untranslated_list(IResourceList) -> PCM_RESOURCE_LIST);

impl Vtable<IResourceList> {
    /// `IResourceList`'s vtable for class `C` at slot `N`.
    #[must_use]
    pub const fn new<C: ResourceListImpl, const N: usize>() -> IResourceListVtbl {
        IResourceListVtbl {
            base: Vtable::<IUnknown>::new::<C, N>(),
            NumberOfEntries: number_of_entries::<C, N>,
            NumberOfEntriesOfType: number_of_entries_of_type::<C, N>,
            FindTranslatedEntry: find_translated_entry::<C, N>,
            FindUntranslatedEntry: find_untranslated_entry::<C, N>,
            AddEntry: add_entry::<C, N>,
            AddEntryFromParent: add_entry_from_parent::<C, N>,
            TranslatedList: translated_list::<C, N>,
            UntranslatedList: untranslated_list::<C, N>,
        }
    }
}
