//! Answering a PortCls property request (`PCPROPERTY_REQUEST`).
//!
//! The value-size protocol is KS's: a GET with `ValueSize == 0` asks how big
//! the value is (answer `STATUS_BUFFER_OVERFLOW` with `ValueSize` set to it), a
//! buffer that is too small gets `STATUS_BUFFER_TOO_SMALL` and `ValueSize` 0,
//! and a success sets `ValueSize` to the bytes written. [`size_check`] is that
//! rule as a pure function; [`PropertyRequest`] applies it to the raw request.

use dmus_sys::com::PUNKNOWN;
use dmus_sys::kernel::{
    NTSTATUS, STATUS_BUFFER_OVERFLOW, STATUS_BUFFER_TOO_SMALL, STATUS_INVALID_PARAMETER,
    STATUS_SUCCESS,
};
use dmus_sys::portcls::PCPROPERTY_REQUEST;

/// The outcome of checking a value buffer of `value_size` bytes for a value of `needed` bytes.
///
/// # Errors
/// `(status, value_size_to_report)`: `STATUS_BUFFER_OVERFLOW` with `needed` for a
/// size query (`value_size == 0`), `STATUS_BUFFER_TOO_SMALL` with 0 for a short
/// buffer, `STATUS_INVALID_PARAMETER` with 0 for a missing buffer.
pub fn size_check(value_size: u32, needed: u32, has_value: bool) -> Result<(), (NTSTATUS, u32)> {
    if value_size == 0 {
        Err((STATUS_BUFFER_OVERFLOW, needed))
    } else if value_size < needed {
        Err((STATUS_BUFFER_TOO_SMALL, 0))
    } else if !has_value {
        Err((STATUS_INVALID_PARAMETER, 0))
    } else {
        Ok(())
    }
}

/// A property request PortCls handed to a handler. Valid for the handler call.
pub struct PropertyRequest {
    request: *mut PCPROPERTY_REQUEST,
}

impl PropertyRequest {
    /// Wraps the handler's argument; `None` for null.
    ///
    /// # Safety
    /// `request` is null or the live request PortCls passed to the handler, with
    /// `Value` valid for `ValueSize` bytes and `Instance` for `InstanceSize`
    /// bytes, and the wrapper is used only during that call.
    #[must_use]
    pub unsafe fn new(request: *mut PCPROPERTY_REQUEST) -> Option<Self> {
        if request.is_null() {
            None
        } else {
            Some(Self { request })
        }
    }

    fn fields(&self) -> PCPROPERTY_REQUEST {
        // SAFETY: a live request (constructor contract); a plain copy of its fields. Any IRQL
        // (memory only).
        unsafe { self.request.read() }
    }

    /// The `PCPROPERTY_ITEM_FLAG_*` verb.
    #[must_use]
    pub fn verb(&self) -> u32 {
        self.fields().Verb
    }

    /// The property id from the matched item (`u32::MAX` when PortCls gave none).
    #[must_use]
    pub fn id(&self) -> u32 {
        let item = self.fields().PropertyItem;
        if item.is_null() {
            return u32::MAX;
        }
        // SAFETY: a non-null item is the PortCls item from our static table. Any IRQL (memory
        // only).
        unsafe { (*item).Id }
    }

    /// The node the request addresses (`u32::MAX` for filter and pin properties).
    #[must_use]
    pub fn node(&self) -> u32 {
        self.fields().Node
    }

    /// The miniport (`MajorTarget`).
    #[must_use]
    pub fn major_target(&self) -> PUNKNOWN {
        self.fields().MajorTarget
    }

    /// The stream, for pin-instance properties (`MinorTarget`), else null.
    #[must_use]
    pub fn minor_target(&self) -> PUNKNOWN {
        self.fields().MinorTarget
    }

    /// The value buffer's size in bytes.
    #[must_use]
    pub fn value_size(&self) -> u32 {
        self.fields().ValueSize
    }

    fn set_value_size(&mut self, size: u32) {
        // SAFETY: a live request (constructor contract); ValueSize is the
        // handler's output. Any IRQL (memory only).
        unsafe { (*self.request).ValueSize = size };
    }

    /// Answers a GET with `value`, following the size protocol. Returns the status.
    pub fn reply<T: Copy>(&mut self, value: &T) -> NTSTATUS {
        let needed = u32::try_from(core::mem::size_of::<T>()).unwrap_or(u32::MAX);
        let fields = self.fields();
        if let Err((status, reported)) =
            size_check(fields.ValueSize, needed, !fields.Value.is_null())
        {
            self.set_value_size(reported);
            return status;
        }
        // SAFETY: Value holds at least size_of::<T>() bytes (checked) and
        // belongs to this request; unaligned because KS buffers need not be
        // aligned for T. Any IRQL (memory only).
        unsafe { fields.Value.cast::<T>().write_unaligned(*value) };
        self.set_value_size(needed);
        STATUS_SUCCESS
    }

    /// The value of a SET, when the buffer holds a whole `T`.
    ///
    /// # Errors
    /// The size protocol's status (see [`size_check`]).
    pub fn read_value<T: Copy>(&self) -> Result<T, NTSTATUS> {
        let needed = u32::try_from(core::mem::size_of::<T>()).unwrap_or(u32::MAX);
        let fields = self.fields();
        match size_check(fields.ValueSize, needed, !fields.Value.is_null()) {
            Err((STATUS_BUFFER_OVERFLOW, _)) => Err(STATUS_BUFFER_TOO_SMALL),
            Err((status, _)) => Err(status),
            // SAFETY: Value holds at least size_of::<T>() readable bytes
            // (checked); T is plain data. Any IRQL (memory only).
            Ok(()) => Ok(unsafe { fields.Value.cast::<T>().read_unaligned() }),
        }
    }

    /// The instance data after the `KSPROPERTY`, when it holds a whole `T`.
    #[must_use]
    pub fn instance<T: Copy>(&self) -> Option<T> {
        let fields = self.fields();
        let big_enough = usize::try_from(fields.InstanceSize)
            .is_ok_and(|size| size >= core::mem::size_of::<T>());
        if fields.Instance.is_null() || !big_enough {
            return None;
        }
        // SAFETY: Instance holds InstanceSize ≥ size_of::<T>() readable bytes
        // (checked); T is plain data. Any IRQL (memory only).
        Some(unsafe { fields.Instance.cast::<T>().read_unaligned() })
    }
}

#[cfg(test)]
mod tests {
    use dmus_sys::kernel::{
        STATUS_BUFFER_OVERFLOW, STATUS_BUFFER_TOO_SMALL, STATUS_INVALID_PARAMETER, STATUS_SUCCESS,
    };
    use dmus_sys::portcls::{PCPROPERTY_ITEM, PCPROPERTY_REQUEST};

    use super::{PropertyRequest, size_check};

    #[test]
    fn the_size_protocol_follows_ks() {
        assert_eq!(size_check(0, 8, true), Err((STATUS_BUFFER_OVERFLOW, 8)));
        assert_eq!(size_check(4, 8, true), Err((STATUS_BUFFER_TOO_SMALL, 0)));
        assert_eq!(size_check(8, 8, false), Err((STATUS_INVALID_PARAMETER, 0)));
        assert_eq!(size_check(8, 8, true), Ok(()));
        assert_eq!(size_check(64, 8, true), Ok(()));
    }

    fn request(item: &PCPROPERTY_ITEM, value: &mut [u8]) -> PCPROPERTY_REQUEST {
        PCPROPERTY_REQUEST {
            MajorTarget: core::ptr::null_mut(),
            MinorTarget: core::ptr::null_mut(),
            Node: 0,
            PropertyItem: item,
            Verb: 1,
            InstanceSize: 0,
            Instance: core::ptr::null_mut(),
            ValueSize: u32::try_from(value.len()).unwrap(),
            Value: value.as_mut_ptr().cast(),
            Irp: core::ptr::null_mut(),
        }
    }

    #[test]
    fn a_reply_writes_the_value_and_its_size() {
        let item = PCPROPERTY_ITEM {
            Set: core::ptr::null(),
            Id: 4,
            Flags: 1,
            Handler: None,
        };
        let mut value = [0xAAu8; 12];
        let mut raw = request(&item, &mut value);
        // SAFETY: a request built above whose buffers outlive the wrapper. Host test,
        // PASSIVE_LEVEL.
        let mut wrapped = unsafe { PropertyRequest::new(&raw mut raw) }.unwrap();
        assert_eq!(wrapped.id(), 4);
        assert_eq!(wrapped.reply(&0x0102_0304u32), STATUS_SUCCESS);
        assert_eq!(wrapped.value_size(), 4);
        assert_eq!(wrapped.read_value::<u32>(), Ok(0x0102_0304));
        assert_eq!(value[..4], 0x0102_0304u32.to_ne_bytes());
        assert_eq!(value[4], 0xAA, "nothing written past the value");

        let mut empty = [0u8; 0];
        let mut raw = request(&item, &mut empty);
        // SAFETY: as above. Host test, PASSIVE_LEVEL.
        let mut wrapped = unsafe { PropertyRequest::new(&raw mut raw) }.unwrap();
        assert_eq!(wrapped.reply(&0u64), STATUS_BUFFER_OVERFLOW);
        assert_eq!(wrapped.value_size(), 8, "a size query learns the size");

        let mut short = [0u8; 2];
        let mut raw = request(&item, &mut short);
        // SAFETY: as above. Host test, PASSIVE_LEVEL.
        let wrapped = unsafe { PropertyRequest::new(&raw mut raw) }.unwrap();
        assert_eq!(wrapped.read_value::<u64>(), Err(STATUS_BUFFER_TOO_SMALL));
    }
}
