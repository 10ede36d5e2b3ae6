//! Compile-time proof that each definition has exactly the type of dmus-sys's import
//! declaration: both coerce to one function-pointer type, or this module does not compile.
//! (`DbgPrintEx` is variadic in the import and cannot be defined so on stable Rust; see
//! `debug::DbgPrintEx`.)

macro_rules! same_signature {
    ($abi:literal, $module:ident :: $name:ident ($($arg:tt),*)) => {
        const _: () = {
            let _ = [super::$module::$name as unsafe extern $abi fn($($arg),*) -> _, dmus_sys::imports::$name];
        };
    };
}

same_signature!("system", pool::ExAllocatePool2(_, _, _));
same_signature!("system", pool::ExFreePoolWithTag(_, _));
same_signature!(
    "system",
    pool::ExInitializeNPagedLookasideList(_, _, _, _, _, _, _)
);
same_signature!("system", pool::ExDeleteNPagedLookasideList(_));
same_signature!("system", mm::MmCopyMemory(_, _, _, _, _));
same_signature!("system", mm::MmGetSystemRoutineAddress(_));
same_signature!("system", pool::ExAllocatePoolWithTag(_, _, _));
same_signature!("system", slist::ExpInterlockedPopEntrySList(_));
same_signature!("system", slist::ExpInterlockedPushEntrySList(_, _));
same_signature!("system", slist::ExpInterlockedFlushSList(_));
same_signature!("system", dpc_timer::KeInitializeDpc(_, _, _));
same_signature!("system", dpc_timer::KeInsertQueueDpc(_, _, _));
same_signature!("system", dpc_timer::KeRemoveQueueDpc(_));
same_signature!("system", dpc_timer::KeFlushQueuedDpcs());
same_signature!("system", dpc_timer::KeInitializeTimerEx(_, _));
same_signature!("system", dpc_timer::KeSetTimerEx(_, _, _, _));
same_signature!("system", dpc_timer::KeCancelTimer(_));
same_signature!("system", dpc_timer::ExAllocateTimer(_, _, _));
same_signature!("system", dpc_timer::ExSetTimer(_, _, _, _));
same_signature!("system", dpc_timer::ExCancelTimer(_, _));
same_signature!("system", dpc_timer::ExDeleteTimer(_, _, _, _));
same_signature!("system", dpc_timer::KeQueryInterruptTimePrecise(_));
same_signature!("system", work::IoAllocateWorkItem(_));
same_signature!("system", work::IoQueueWorkItem(_, _, _, _));
same_signature!("system", work::IoFreeWorkItem(_));
same_signature!("system", sync::KeAcquireSpinLockRaiseToDpc(_));
same_signature!("system", sync::KeReleaseSpinLock(_, _));
same_signature!("system", sync::KeAcquireSpinLockAtDpcLevel(_));
same_signature!("system", sync::KeReleaseSpinLockFromDpcLevel(_));
same_signature!("system", sync::KeSaveExtendedProcessorState(_, _));
same_signature!("system", sync::KeRestoreExtendedProcessorState(_));
same_signature!("system", sync::KeGetCurrentIrql());
same_signature!("system", mutex::KeInitializeMutex(_, _));
same_signature!("system", mutex::KeWaitForSingleObject(_, _, _, _, _));
same_signature!("system", mutex::KeReleaseMutex(_, _));
same_signature!("system", sync::KfRaiseIrql(_));
same_signature!("system", sync::KeLowerIrql(_));
same_signature!("system", hal::KeQueryPerformanceCounter(_));
same_signature!("system", hal::KeStallExecutionProcessor(_));
same_signature!("system", hal::READ_PORT_UCHAR(_));
same_signature!("system", hal::WRITE_PORT_UCHAR(_, _));
same_signature!("system", interrupt_sync::PcNewInterruptSync(_, _, _, _, _));
same_signature!("system", interrupt_sync::PcGetTimeInterval(_));

// `KeBugCheckEx` returns `!`, which `-> _` cannot name; spelled out instead.
const _: () = {
    type BugCheck = unsafe extern "system" fn(u32, usize, usize, usize, usize) -> !;
    let _: [BugCheck; 2] = [super::debug::KeBugCheckEx, dmus_sys::imports::KeBugCheckEx];
};
