//! `IResourceList`: the resources StartDevice gets. The MPU-401's list holds an I/O range of
//! two ports (`CM_RESOURCE_PORT_IO`) and, when the job gives one, an interrupt; the synth's
//! is empty. Translated and untranslated lists are the same (no bus translation in Wine).

use com_object::{ComObject, ComRef, ResourceListImpl};
use dmus_sys::kernel::{
    CM_FULL_RESOURCE_DESCRIPTOR, CM_PARTIAL_RESOURCE_DESCRIPTOR, CM_PARTIAL_RESOURCE_DESCRIPTOR_U,
    CM_PARTIAL_RESOURCE_INTERRUPT, CM_PARTIAL_RESOURCE_LIST, CM_PARTIAL_RESOURCE_RANGE,
    CM_RESOURCE_INTERRUPT_LATCHED, CM_RESOURCE_LIST, CM_RESOURCE_PORT_IO, CM_RESOURCE_TYPE,
    CmResourceShareDeviceExclusive, CmResourceTypeInterrupt, CmResourceTypePort, LARGE_INTEGER,
    NTSTATUS, PCM_PARTIAL_RESOURCE_DESCRIPTOR, PCM_RESOURCE_LIST, STATUS_NOT_SUPPORTED,
};
use dmus_sys::portcls::IResourceList;

use crate::pool::Pool;

/// The most descriptors a list holds.
const MAX_ENTRIES: usize = 2;

/// A `CM_RESOURCE_LIST` with room for [`MAX_ENTRIES`] descriptors: the second follows the
/// first in memory, as the C flexible array lays them out.
#[repr(C)]
struct ListMemory {
    list: CM_RESOURCE_LIST,
    more: [CM_PARTIAL_RESOURCE_DESCRIPTOR; MAX_ENTRIES - 1],
}

/// A resource list object.
pub struct ResourceList {
    memory: ListMemory,
    count: usize,
}

com_object::class!(ResourceList, Pool: IResourceList);

/// Zeroed descriptor.
const EMPTY: CM_PARTIAL_RESOURCE_DESCRIPTOR = CM_PARTIAL_RESOURCE_DESCRIPTOR {
    Type: 0,
    ShareDisposition: 0,
    Flags: 0,
    u: CM_PARTIAL_RESOURCE_DESCRIPTOR_U {
        Generic: CM_PARTIAL_RESOURCE_RANGE {
            Start: LARGE_INTEGER::from_quad(0),
            Length: 0,
        },
    },
};

impl ResourceList {
    /// A list with the card's two ports at `port` and its interrupt `irq`, or an empty list
    /// (`port` `None`: the synth).
    ///
    /// # Errors
    /// No memory for the object.
    pub fn try_new(port: Option<u16>, irq: Option<u32>) -> Result<ComRef<Self>, NTSTATUS> {
        let mut descriptors = [EMPTY; MAX_ENTRIES];
        let mut count = 0;
        if let Some(base) = port {
            descriptors[count] = CM_PARTIAL_RESOURCE_DESCRIPTOR {
                Type: CmResourceTypePort,
                ShareDisposition: CmResourceShareDeviceExclusive,
                Flags: CM_RESOURCE_PORT_IO,
                u: CM_PARTIAL_RESOURCE_DESCRIPTOR_U {
                    Port: CM_PARTIAL_RESOURCE_RANGE {
                        Start: LARGE_INTEGER::from_quad(i64::from(base)),
                        Length: 2,
                    },
                },
            };
            count += 1;
            if let Some(irq) = irq {
                descriptors[count] = CM_PARTIAL_RESOURCE_DESCRIPTOR {
                    Type: CmResourceTypeInterrupt,
                    ShareDisposition: CmResourceShareDeviceExclusive,
                    Flags: CM_RESOURCE_INTERRUPT_LATCHED,
                    u: CM_PARTIAL_RESOURCE_DESCRIPTOR_U {
                        Interrupt: CM_PARTIAL_RESOURCE_INTERRUPT {
                            Level: irq,
                            Vector: irq,
                            Affinity: 1,
                        },
                    },
                };
                count += 1;
            }
        }
        let [first, second] = descriptors;
        ComRef::try_new(Self {
            memory: ListMemory {
                list: CM_RESOURCE_LIST {
                    Count: 1,
                    List: [CM_FULL_RESOURCE_DESCRIPTOR {
                        InterfaceType: 1, // Isa
                        BusNumber: 0,
                        PartialResourceList: CM_PARTIAL_RESOURCE_LIST {
                            Version: 1,
                            Revision: 1,
                            Count: u32::try_from(count).unwrap_or(0),
                            PartialDescriptors: [first],
                        },
                    }],
                },
                more: [second],
            },
            count,
        })
    }

    fn descriptors(&self) -> *mut CM_PARTIAL_RESOURCE_DESCRIPTOR {
        let list = &raw const self.memory.list.List[0]
            .PartialResourceList
            .PartialDescriptors;
        list.cast::<CM_PARTIAL_RESOURCE_DESCRIPTOR>().cast_mut()
    }

    fn find(&self, kind: CM_RESOURCE_TYPE, index: u32) -> PCM_PARTIAL_RESOURCE_DESCRIPTOR {
        let base = self.descriptors();
        let mut seen = 0;
        for slot in 0..self.count {
            // SAFETY: `slot` < count ≤ MAX_ENTRIES: inside ListMemory, whose descriptors are
            // contiguous (repr(C), align 4 throughout). Memory only.
            let descriptor = unsafe { base.add(slot) };
            // SAFETY: as above; an initialised descriptor.
            let descriptor_kind = unsafe { (*descriptor).Type };
            if i32::from(descriptor_kind) == kind {
                if seen == index {
                    return descriptor;
                }
                seen += 1;
            }
        }
        core::ptr::null_mut()
    }
}

impl ResourceListImpl for ResourceList {
    fn number_of_entries(this: &ComObject<Self>) -> u32 {
        u32::try_from(this.count).unwrap_or(0)
    }

    fn number_of_entries_of_type(this: &ComObject<Self>, kind: CM_RESOURCE_TYPE) -> u32 {
        let mut found = 0;
        while !this.find(kind, found).is_null() {
            found += 1;
        }
        found
    }

    fn find_translated_entry(
        this: &ComObject<Self>,
        kind: CM_RESOURCE_TYPE,
        index: u32,
    ) -> PCM_PARTIAL_RESOURCE_DESCRIPTOR {
        this.find(kind, index)
    }

    fn find_untranslated_entry(
        this: &ComObject<Self>,
        kind: CM_RESOURCE_TYPE,
        index: u32,
    ) -> PCM_PARTIAL_RESOURCE_DESCRIPTOR {
        this.find(kind, index)
    }

    unsafe fn add_entry(
        _this: &ComObject<Self>,
        _translated: PCM_PARTIAL_RESOURCE_DESCRIPTOR,
        _untranslated: PCM_PARTIAL_RESOURCE_DESCRIPTOR,
    ) -> NTSTATUS {
        // The lists StartDevice gets are complete; only sublists (PcNewResourceSublist, which
        // rdmus does not import) are filled with AddEntry.
        STATUS_NOT_SUPPORTED
    }

    unsafe fn add_entry_from_parent(
        _this: &ComObject<Self>,
        _parent: *mut IResourceList,
        _kind: CM_RESOURCE_TYPE,
        _index: u32,
    ) -> NTSTATUS {
        STATUS_NOT_SUPPORTED
    }

    fn translated_list(this: &ComObject<Self>) -> PCM_RESOURCE_LIST {
        (&raw const this.memory.list).cast_mut()
    }

    fn untranslated_list(this: &ComObject<Self>) -> PCM_RESOURCE_LIST {
        (&raw const this.memory.list).cast_mut()
    }
}
