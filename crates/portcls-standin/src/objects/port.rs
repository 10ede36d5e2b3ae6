//! The DMus port (`PcNewPort(CLSID_PortDMus)`): `IPortDMus` for the miniport and `IServiceSink`
//! for the service groups, whose requests it turns into `IMiniportDMus::Service`.
//!
//! `IPort::Init` binds the miniport as PortCls does: it queries `IMiniportDMus`, makes the
//! allocator and the master clock, calls `IMiniportDMus::Init` with itself, joins the service
//! group Init hands back, and reads the filter descriptor. [`Port::release_children`] is what
//! PortCls does when the device is removed: the port lets go of its miniport and groups,
//! breaking the cycle a miniport that keeps its `IPortDMus` forms with it.

use com_object::{ComObject, ComRef, PortDMusImpl, PortImpl, ServiceSinkImpl};
use dmus_sys::com::{IUnknown, PUNKNOWN};
use dmus_sys::dmus_com::{IID_IMiniportDMus, IMiniportDMus, IPortDMus};
use dmus_sys::kernel::{
    ACCESS_MASK, DEVICE_REGISTRY_PROPERTY, NT_SUCCESS, NTSTATUS, PDEVICE_OBJECT, PIRP,
    POBJECT_ATTRIBUTES, PVOID, STATUS_INSUFFICIENT_RESOURCES, STATUS_INVALID_DEVICE_REQUEST,
    STATUS_INVALID_PARAMETER, STATUS_NOT_SUPPORTED, STATUS_SUCCESS, STATUS_UNSUCCESSFUL,
};
use dmus_sys::portcls::{
    IServiceGroup, IServiceSink, PCFILTER_DESCRIPTOR, PREGISTRYKEY, PRESOURCELIST, PSERVICEGROUP,
};

use super::allocator::Allocator;
use super::clock::Clock;
use super::{add_ref, release};
use crate::pool::Pool;
use crate::spin::SpinMutex;

/// Service groups a port joins.
const GROUPS: usize = 4;
/// Ports alive at once.
const PORTS: usize = 4;

/// The live ports (identities), so a registered subdevice is known to be one of ours.
static LIVE: SpinMutex<[usize; PORTS]> = SpinMutex::new([0; PORTS]);

/// Whether `identity` is a live port PcNewPort made.
pub fn is_port(identity: usize) -> bool {
    identity != 0 && LIVE.lock().contains(&identity)
}

/// What an initialised port holds (each pointer one reference).
#[derive(Default)]
struct Binding {
    miniport: usize,
    groups: [usize; GROUPS],
    descriptor: usize,
}

/// A DMus port.
pub struct Port {
    binding: SpinMutex<Binding>,
    allocator: SpinMutex<Option<ComRef<Allocator>>>,
    clock: SpinMutex<Option<ComRef<Clock>>>,
}

// SAFETY: the ComRefs are to our own free-threaded objects (their state is behind locks or
// atomics); the binding holds plain addresses.
unsafe impl Send for Port {}

com_object::class!(Port, Pool: IPortDMus, IServiceSink);

/// What the job needs of an initialised port to open streams.
#[derive(Clone, Copy, Debug)]
pub struct Bound {
    /// The miniport's `IMiniportDMus` (the port's reference).
    pub miniport: *mut IMiniportDMus,
    /// The filter descriptor GetDescription gave.
    pub descriptor: *const PCFILTER_DESCRIPTOR,
}

impl Port {
    /// A new port (one reference, the caller's).
    ///
    /// # Errors
    /// No memory.
    pub fn try_new() -> Result<ComRef<Self>, NTSTATUS> {
        let port = ComRef::try_new(Self {
            binding: SpinMutex::new(Binding::default()),
            allocator: SpinMutex::new(None),
            clock: SpinMutex::new(None),
        })?;
        let mut live = LIVE.lock();
        let slot = live
            .iter_mut()
            .find(|slot| **slot == 0)
            .ok_or(STATUS_INSUFFICIENT_RESOURCES)?;
        *slot = port.identity().as_ptr() as usize;
        drop(live);
        Ok(port)
    }

    /// The miniport and descriptor, once Init succeeded.
    pub fn bound(&self) -> Option<Bound> {
        let binding = self.binding.lock();
        (binding.miniport != 0 && binding.descriptor != 0).then_some(Bound {
            miniport: binding.miniport as *mut IMiniportDMus,
            descriptor: binding.descriptor as *const PCFILTER_DESCRIPTOR,
        })
    }

    /// The allocator (a new reference), once Init made it.
    pub fn allocator(&self) -> Option<ComRef<Allocator>> {
        self.allocator.lock().as_ref().map(|a| a.to_ref())
    }

    /// The master clock (a new reference), once Init made it.
    pub fn clock(&self) -> Option<ComRef<Clock>> {
        self.clock.lock().as_ref().map(|c| c.to_ref())
    }

    /// Lets go of the miniport and the service groups (device removal). PASSIVE_LEVEL.
    pub fn release_children(this: &ComObject<Self>) {
        let binding = core::mem::take(&mut *this.binding.lock());
        let sink = this.as_interface::<IServiceSink>().as_ptr();
        for group in binding.groups.into_iter().filter(|&group| group != 0) {
            let group = group as *mut IServiceGroup;
            // SAFETY: the port's reference keeps the group alive; a plain vtable read.
            let vtable = unsafe { com_object::vtable(group) };
            // SAFETY: RemoveMember of our own sink (absent: nothing happens). PASSIVE_LEVEL.
            unsafe { (vtable.RemoveMember)(group, sink) };
            // SAFETY: the port's reference, given up once.
            unsafe { release(group.cast()) };
        }
        if binding.miniport != 0 {
            // SAFETY: the port's reference on its miniport, given up once. PASSIVE_LEVEL.
            unsafe { release(binding.miniport as PUNKNOWN) };
        }
    }

    /// Joins `group` (the port keeps the reference the caller gives it). PASSIVE_LEVEL.
    fn join(this: &ComObject<Self>, group: PSERVICEGROUP) {
        let sink = this.as_interface::<IServiceSink>().as_ptr();
        // SAFETY: a live group; a plain vtable read.
        let vtable = unsafe { com_object::vtable(group) };
        // SAFETY: AddMember with our live sink (a group that has it already refuses). PASSIVE_LEVEL.
        let _ = unsafe { (vtable.AddMember)(group, sink) };
        let mut binding = this.binding.lock();
        if let Some(slot) = binding.groups.iter_mut().find(|slot| **slot == 0) {
            *slot = group as usize;
        } else {
            drop(binding);
            // No room: give the reference back rather than leak it.
            // SAFETY: the reference the caller handed over.
            unsafe { release(group.cast()) };
        }
    }
}

impl Drop for Port {
    fn drop(&mut self) {
        let identity =
            (core::ptr::from_mut(self) as usize).wrapping_sub(ComObject::<Self>::VALUE_OFFSET);
        for slot in LIVE.lock().iter_mut().filter(|slot| **slot == identity) {
            *slot = 0;
        }
        // A port released without removal (a failed StartDevice) still owns its children.
        let binding = core::mem::take(&mut *self.binding.lock());
        for group in binding.groups.into_iter().filter(|&group| group != 0) {
            // SAFETY: the port's reference on the group, given up once (our sink, a member,
            // holds no reference on the group: no cycle left).
            unsafe { release(group as PUNKNOWN) };
        }
        if binding.miniport != 0 {
            // SAFETY: the port's reference on its miniport.
            unsafe { release(binding.miniport as PUNKNOWN) };
        }
    }
}

/// `QueryInterface` for `IMiniportDMus` on a miniport's `IUnknown`: one reference.
///
/// # Safety
/// `unknown` is a live object. PASSIVE_LEVEL.
unsafe fn query_miniport(unknown: PUNKNOWN) -> Result<*mut IMiniportDMus, NTSTATUS> {
    // SAFETY: the caller's live object; a plain vtable read.
    let vtable = unsafe { com_object::vtable::<IUnknown>(unknown) };
    let mut out: PVOID = core::ptr::null_mut();
    // SAFETY: QueryInterface with a valid id and out pointer.
    let status = unsafe { (vtable.QueryInterface)(unknown, &IID_IMiniportDMus, &raw mut out) };
    if !NT_SUCCESS(status) {
        return Err(status);
    }
    if out.is_null() {
        return Err(STATUS_UNSUCCESSFUL);
    }
    Ok(out.cast())
}

impl PortImpl for Port {
    unsafe fn init(
        this: &ComObject<Self>,
        device: PDEVICE_OBJECT,
        _irp: PIRP,
        unknown_miniport: PUNKNOWN,
        unknown_adapter: PUNKNOWN,
        resources: PRESOURCELIST,
    ) -> NTSTATUS {
        if unknown_miniport.is_null() || device.is_null() {
            return STATUS_INVALID_PARAMETER;
        }
        if this.binding.lock().miniport != 0 {
            return STATUS_UNSUCCESSFUL;
        }
        // SAFETY: the caller's live miniport. PASSIVE_LEVEL.
        let miniport = match unsafe { query_miniport(unknown_miniport) } {
            Ok(miniport) => miniport,
            Err(status) => return status,
        };
        let (allocator, clock) = match (Allocator::try_new(), Clock::try_new()) {
            (Ok(allocator), Ok(clock)) => (allocator, clock),
            (Err(status), _) | (_, Err(status)) => {
                // SAFETY: the reference QueryInterface gave.
                unsafe { release(miniport.cast()) };
                return status;
            }
        };
        *this.allocator.lock() = Some(allocator);
        *this.clock.lock() = Some(clock);
        this.binding.lock().miniport = miniport as usize;
        // SAFETY: the live miniport (our reference); a plain vtable read.
        let vtable = unsafe { com_object::vtable(miniport) };
        let mut group: PSERVICEGROUP = core::ptr::null_mut();
        // SAFETY: IMiniportDMus::Init at PASSIVE_LEVEL with the adapter's objects, this port,
        // and a writable out pointer for the service group.
        let status = unsafe {
            (vtable.Init)(
                miniport,
                unknown_adapter,
                resources,
                this.as_interface::<IPortDMus>().as_ptr(),
                &raw mut group,
            )
        };
        if !NT_SUCCESS(status) {
            if !group.is_null() {
                // SAFETY: a failed Init may still have handed a referenced group out.
                unsafe { release(group.cast()) };
            }
            Self::release_children(this);
            return status;
        }
        if !group.is_null() {
            Self::join(this, group);
        }
        let mut descriptor: *mut PCFILTER_DESCRIPTOR = core::ptr::null_mut();
        // SAFETY: IMiniport's vtable starts IMiniportDMus's; a writable out pointer. PASSIVE_LEVEL.
        let described =
            unsafe { (vtable.base.GetDescription)(miniport.cast(), &raw mut descriptor) };
        if !NT_SUCCESS(described) || descriptor.is_null() {
            Self::release_children(this);
            return if NT_SUCCESS(described) {
                STATUS_UNSUCCESSFUL
            } else {
                described
            };
        }
        this.binding.lock().descriptor = descriptor as usize;
        STATUS_SUCCESS
    }

    unsafe fn get_device_property(
        _this: &ComObject<Self>,
        _property: DEVICE_REGISTRY_PROPERTY,
        _length: u32,
        _buffer: PVOID,
        result: *mut u32,
    ) -> NTSTATUS {
        // The stand-in's devices have no PnP registry entries.
        if !result.is_null() {
            // SAFETY: non-null and writable (the caller's contract).
            unsafe { result.write(0) };
        }
        STATUS_INVALID_DEVICE_REQUEST
    }

    unsafe fn new_registry_key(
        _this: &ComObject<Self>,
        key: *mut PREGISTRYKEY,
        _outer: PUNKNOWN,
        _key_type: u32,
        _access: ACCESS_MASK,
        _attributes: POBJECT_ATTRIBUTES,
        _options: u32,
        _disposition: *mut u32,
    ) -> NTSTATUS {
        // No registry for the stand-in's devices; a miniport copes with the key being absent.
        if !key.is_null() {
            // SAFETY: non-null and writable (the caller's contract).
            unsafe { key.write(core::ptr::null_mut()) };
        }
        STATUS_NOT_SUPPORTED
    }
}

impl PortDMusImpl for Port {
    unsafe fn notify(_this: &ComObject<Self>, group: PSERVICEGROUP) {
        if group.is_null() {
            return;
        }
        // SAFETY: the miniport's live group; a plain vtable read.
        let vtable = unsafe { com_object::vtable(group) };
        // SAFETY: RequestService only marks the group (the job thread services it). Any IRQL.
        unsafe { (vtable.base.RequestService)(group.cast()) };
    }

    unsafe fn register_service_group(this: &ComObject<Self>, group: PSERVICEGROUP) {
        if group.is_null() {
            return;
        }
        // SAFETY: the miniport's live group; the port keeps this reference.
        unsafe { add_ref(group.cast()) };
        Self::join(this, group);
    }
}

impl ServiceSinkImpl for Port {
    fn request_service(this: &ComObject<Self>) {
        let miniport = this.binding.lock().miniport as *mut IMiniportDMus;
        if miniport.is_null() {
            return;
        }
        // SAFETY: the port's reference keeps the miniport alive during the call (removal runs
        // on the job thread, which is also the only caller of service requests).
        let vtable = unsafe { com_object::vtable(miniport) };
        // SAFETY: IMiniportDMus::Service, as PortCls' service DPC calls it.
        unsafe { (vtable.Service)(miniport) };
    }
}
