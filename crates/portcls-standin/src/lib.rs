//! portcls-standin: a stand-in `portcls.sys`, written by us, that plays PortCls' part for the
//! real x64 `rdmus.sys` under Wine's kernel (issue 14, item 2).
//!
//! Wine has no portcls.sys. A module of that name in the prefix's
//! `C:\windows\system32\drivers` satisfies rdmus.sys's imports, and Wine's loader maps it into
//! winedevice.exe as a dependency of the driver. This crate is that module: a no_std cdylib
//! cross-built for `x86_64-pc-windows-msvc` exactly like rdmus.sys (raw-dylib imports,
//! rust-lld), built, renamed and checked by `cargo xtask standin` (output
//! `target/standin/x64/portcls.sys`; the check: it exports every function the x64 rdmus.sys
//! imports from portcls.sys).
//!
//! # What it exports
//! What rdmus.sys imports from portcls.sys: `PcInitializeAdapterDriver`,
//! `PcAddAdapterDevice`, `PcNewPort`, `PcNewServiceGroup`, `PcNewInterruptSync`,
//! `PcRegisterSubdevice` (`exports`), and the module entry `DllMain(hinst, reason, reserved)`,
//! which returns TRUE: the module imports from ntdll.dll (the vectored exception handler), so
//! Wine initialises it as a DLL (issue 14's trial).
//!
//! # What a run does
//! `PcInitializeAdapterDriver` (from rdmus's DriverEntry) records AddDevice, installs it in the
//! driver extension and PortCls' unload routine, and starts the job thread (`runner`). The
//! thread waits until DriverEntry has returned (rdmus puts its own unload in front of ours
//! just before), reads the job ([`job`]: `C:\rdmus\job.txt`, a line at a time: once to check
//! it, then its events as the clock needs them), installs the exception handler
//! that emulates the MPU-401 (`veh`, [`card`], [`decode`]), and then, as the PnP manager and
//! PortCls would:
//! 1. creates a PDO and calls the driver's AddDevice, whose `PcAddAdapterDevice` creates the
//!    FDO (`FILE_DEVICE_KS`, PortCls' extension size) and records StartDevice;
//! 2. calls StartDevice with a start IRP and an `IResourceList` holding the card's two ports
//!    (`CM_RESOURCE_PORT_IO`) and its interrupt (unless the job says `irq none`);
//!    `PcNewPort(CLSID_PortDMus)` gives our DMus port (`objects::port`), whose `Init`
//!    queries `IMiniportDMus`, makes the allocator and the master clock, calls the miniport's
//!    Init (which resets the card and enters UART mode through `in`/`out`, creates its
//!    service group and interrupt sync and connects the ISR), joins the service group and
//!    reads the filter descriptor; `PcRegisterSubdevice` keeps the port;
//! 3. opens the render pin (`format midi`: pin 0, KSMUSICFORMAT; `format dmus`: pin 1,
//!    DMUS_EVENTHEADER) when the job has events, and the capture pin (pin 4, connected to the
//!    port's capture sink) when it has input; walks each stream STOP → ACQUIRE → PAUSE →
//!    RUN; presentation time 0 is 20 ms after RUN;
//! 4. runs the clock loop every millisecond: raises the card's interrupt when injected input
//!    is due (the ISR runs under the interrupt sync's lock), runs pending service requests
//!    (`IMiniportDMus::Service` through the port's sink), and hands render events to the
//!    stream's `PutMessage` as chains of the allocator's events, `SchedulePreFetch` (at least
//!    5 ms) ahead of their master time; until everything is delivered and `tail_ms` has passed;
//! 5. for a synth job (`device synth`, no resources) instead: asks for the sample rate (and
//!    the voices and effects the job names) with `KSPROPERTY_SYNTH_PORTPARAMETERS`, downloads the bank (`dls NAME`: built into
//!    DirectMusic download buffers with the dls crate, waves then instruments, each a
//!    `KSPROPERTY_SYNTH_DLS_DOWNLOAD` through the filter's automation table, `property`'s
//!    kernel-mode request), opens the render pin of the job's format (0 legacy MIDI, 1
//!    DirectMusic) and the wave-out pin (2,
//!    16-bit stereo PCM, `DMUS_STREAM_WAVE_SINK`) and plays the port's wave sink: frame 0
//!    plays at presentation time 0, and each 10 ms period is rendered when it starts playing
//!    (`ISynthSinkDMus::SyncToMaster(its master time, TRUE for the first)`, then `Render`);
//!    afterwards every download is unloaded (`KSPROPERTY_SYNTH_DLS_UNLOAD`);
//! 6. walks the streams back to STOP, disconnects and releases them, removes the device (the
//!    port lets go of its miniport and groups, as PortCls' ReleaseChildren; the registration's
//!    reference goes; the FDO and PDO are deleted), removes the handler and writes the outputs.
//!
//! `sc stop` then unloads the driver: rdmus's unload calls ours, which waits (bounded) for the
//! job thread and writes `unload.txt`.
//!
//! # Output files (`C:\rdmus` in the prefix)
//! | file | content |
//! |---|---|
//! | `standin.log` | each step and its NTSTATUS, rewritten after every line (a crash leaves it) |
//! | `wire.tsv` | the bytes on the card's MIDI out, `rdmus play --wire` format ([`wire_log`]): `time_us<TAB>hex`, µs from presentation time 0; appended every millisecond as the job thread drains the card's log (memory bounded by a burst, not the song) |
//! | `out.wav` | the synth's audio, `rdmus play --wav` format ([`wav`]): 16-bit stereo PCM at the granted rate, the job's `frames` (or its last event time plus `tail_ms`); written a 10 ms period at a time as it renders, the header fixed up at the end (memory does not grow with the song) |
//! | `capture.tsv` | the captured messages, `rdmus record` format: `time_us<TAB>message` (a sysex the driver split across interrupts joined again), the driver's stamp of the first byte less one byte time, from presentation time 0 |
//! | `pool.txt` | the stand-in's pool accounting once the device is removed (the job's own log buffer left out): `blocks_outstanding`, `bytes_outstanding`, `objects_alive`, `allocations`, `allocation_failures`, `peak_bytes` (the most bytes outstanding at once), one `name<TAB>value` a line |
//! | `unload.txt` | the same after the driver's unload: all zero outstanding, or a leak |
//! | `stats.txt` | MPU-401 with a render stream: `lost_events`, the render stream's `KSPROPERTY_SYNTH_RUNNINGSTATS` `LostNotes` after STOP (a node property through the pin). Synth: what `rdmus play` reads through the synth's properties, one `name<TAB>value` a line: `voices_granted` (PORTPARAMETERS), `voices_peak` (RUNNINGSTATS after every period), `lost_notes` (RUNNINGSTATS at the end), `stolen_voices`, `late_events`, `dropped_events` and `clipped_samples` (rdmus's own property set, named by `lost_notes_set`) |
//! | `done.txt` | written last by the job: `ok`, or `failed: REASON` |
//!
//! The accounting covers what the stand-in owns: its pool blocks, its COM objects, and the
//! allocator's events and buffers (the log says how many were out when the streams closed;
//! a stream that loses events fails the job). rdmus's own pool goes to ntoskrnl directly.
//!
//! # Running it
//! `wine/run.sh RDMUS_SYS PORTCLS_SYS JOB OUT_DIR [SECONDS [EXTRA_MODULE...]]` (a manual
//! equivalent of crates/wine-run, the harness CI uses). Wine 8.0's hal.dll
//! `KeStallExecutionProcessor` and ntoskrnl's `KeRemoveQueueDpc` are stubs that end the
//! process when called; the MPU-401 init stalls, so the image must be the test bench copy
//! whose imports of those go to a shim module (issue 14, item 3).
//!
//! Wine 8.0's `KeSetTimerEx` cancels the timer first and waits for its callback
//! (`TpWaitForTimer`), so a DPC that re-arms its own timer waits for itself: rdmus's MPU-401
//! render DPC does that when bytes are left to write after a burst (a 3-note chord, 9 bytes,
//! at once), and the job thread then spun in `PutMessage` on the stream lock the DPC held
//! (winedbg backtrace: `ke_timer_complete_proc` → rdmus → `KeSetTimerEx` → `KeCancelTimer` →
//! `TpWaitForTimer`). The shim therefore supplies the timer and DPC routines too, with its
//! own timer thread and Windows' semantics (a DPC may re-arm its own timer; nothing waits
//! for a running DPC): `crates/wine-run/src/shim.rs`. Jobs with chords and bursts play to the
//! end on the bench copy (`crates/wine-run/tests/wine_timers.rs`); with Wine's own timers
//! they hung (`standin.log` stopped at the last `t = ... ms` line).
//!
//! # Where it differs from PortCls
//! - The allocator's lookaside lists (`objects::allocator`: events, and buffers of 256 bytes,
//!   on `NPAGED_LOOKASIDE_LIST`s Wine's `ExInitializeNPagedLookasideList` sets up, with
//!   wdm.h's inline allocate/free) are fed from the stand-in's counted pool, and each entry
//!   carries a mark that refuses a second return; Wine never trims a list's depth (4).
//! - Service requests and interrupts run on the job thread, polled every millisecond, not in
//!   a DPC and an ISR (Wine has neither for a driver); IRQL is whatever Wine reports (CR8
//!   reads 0).
//! - No KS IRPs: user-mode pin opens do not reach a driver under Wine 8.0, so streams are
//!   opened and fed from inside, events built with mxf (as the port's unpacker would).
//! - The wave sink renders on the job thread in real time (one 10 ms period when it starts
//!   playing, no latency), the sample clock exactly on the master clock (no device drift).
//!   During a synth job the master clock is held at the job's own time and stepped to each
//!   period's master time before `SyncToMaster` (real time only paces the loop): the synth's
//!   drift correction sees what the simulation's wave sink shows it, so the audio is the same
//!   on every run and equal to the simulation's, sample for sample.
//!
//! # Host build
//! On the host the crate builds too (cargo builds every member of the workspace, as for the
//! rdmus.sys image crate) and runs the unit tests of its kernel-free parts; the exports, the
//! entry and everything that calls the kernel exist only for `target_os = "windows"`.
#![no_std]
// The docs quote the DDK's vocabulary (PortCls, DriverEntry, PASSIVE_LEVEL, AddDevice).
#![allow(clippy::doc_markdown)]

// A host cdylib takes its panic runtime from std; on Windows targets the module has its own
// panic handler.
#[cfg(all(target_os = "windows", not(target_arch = "x86_64")))]
compile_error!(
    "the stand-in emulates x86-64 port I/O (CONTEXT offsets, in/out): build it for x86_64-pc-windows-msvc"
);

extern crate alloc;
#[cfg(not(target_os = "windows"))]
extern crate std;

pub mod adapter_driver;
pub mod card;
pub mod decode;
#[cfg(target_os = "windows")]
pub mod devices;
#[cfg(target_os = "windows")]
pub mod exports;
#[cfg(target_os = "windows")]
pub mod files;
pub mod job;
#[cfg(target_os = "windows")]
pub mod kernel;
#[cfg(target_os = "windows")]
pub mod objects;
#[cfg(target_os = "windows")]
pub mod pool;
#[cfg(target_os = "windows")]
pub mod property;
#[cfg(target_os = "windows")]
pub mod runner;
#[cfg(target_os = "windows")]
mod runtime;
pub mod spin;
#[cfg(target_os = "windows")]
pub mod veh;
pub mod wav;
pub mod wire_log;
