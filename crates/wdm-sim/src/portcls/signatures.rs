//! Compile-time proof that each portcls.sys export the port model defines has exactly the type
//! of dmus-sys's import declaration (both coerce to one function-pointer type, or this module
//! does not compile).

macro_rules! same_signature {
    ($module:ident :: $name:ident ($($arg:tt),*)) => {
        const _: () = {
            let _ = [super::$module::$name as unsafe extern "system" fn($($arg),*) -> _, dmus_sys::imports::$name];
        };
    };
}

same_signature!(adapter::PcInitializeAdapterDriver(_, _, _));
same_signature!(adapter::PcAddAdapterDevice(_, _, _, _, _));
same_signature!(adapter::PcRegisterSubdevice(_, _, _));
same_signature!(adapter::PcRegisterPhysicalConnection(_, _, _, _, _));
same_signature!(adapter::PcRegisterAdapterPowerManagement(_, _));
same_signature!(adapter::PcDispatchIrp(_, _));
same_signature!(port::PcNewPort(_, _));
same_signature!(service::PcNewServiceGroup(_, _));
same_signature!(resource_list::PcNewResourceSublist(_, _, _, _, _));
