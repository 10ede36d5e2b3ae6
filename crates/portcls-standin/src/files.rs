//! Reading the job and writing the results by NT path through `ZwCreateFile`, at
//! PASSIVE_LEVEL on the job thread: whole small files ([`read_limited`], [`write()`]), and streams
//! whose memory does not grow with the file: the job read a line at a time through a
//! bounded buffer ([`LineReader`]), the WAV written a period at a time ([`Writer`], its
//! header fixed up at the end).

use alloc::vec::Vec;

use dmus_sys::kernel::{
    IO_STATUS_BLOCK, IO_STATUS_BLOCK_STATUS, LARGE_INTEGER, NT_SUCCESS, NTSTATUS,
    STATUS_BUFFER_OVERFLOW, STATUS_INSUFFICIENT_RESOURCES, UNICODE_STRING,
};

use crate::kernel::{
    FILE_ATTRIBUTE_NORMAL, FILE_NON_DIRECTORY_FILE, FILE_OPEN, FILE_OVERWRITE_IF, FILE_SHARE_READ,
    FILE_SYNCHRONOUS_IO_NONALERT, GENERIC_READ, GENERIC_WRITE, HANDLE, OBJ_CASE_INSENSITIVE,
    OBJ_KERNEL_HANDLE, OBJECT_ATTRIBUTES, SYNCHRONIZE, ZwClose, ZwCreateFile, ZwReadFile,
    ZwWriteFile,
};

/// Bytes read at a time.
const CHUNK: usize = 4096;

/// The longest line of a job file, bytes: an `event` line of a sysex of about 350,000 bytes
/// (three characters a byte). The job itself may be any length: it is read a line at a time.
pub const MAX_JOB_LINE_BYTES: usize = 1 << 20;

fn io_status() -> IO_STATUS_BLOCK {
    IO_STATUS_BLOCK {
        u: IO_STATUS_BLOCK_STATUS { Status: 0 },
        Information: 0,
    }
}

/// Opens `path` (an NT path such as `\??\C:\rdmus\job.txt`).
fn open(path: &str, write: bool) -> Result<HANDLE, NTSTATUS> {
    let mut name: Vec<u16> = Vec::new();
    name.try_reserve_exact(path.len())
        .map_err(|_| STATUS_INSUFFICIENT_RESOURCES)?;
    name.extend(path.encode_utf16());
    let bytes = u16::try_from(name.len() * 2).map_err(|_| STATUS_BUFFER_OVERFLOW)?;
    let mut unicode = UNICODE_STRING {
        Length: bytes,
        MaximumLength: bytes,
        Buffer: name.as_mut_ptr(),
    };
    let mut attributes = OBJECT_ATTRIBUTES {
        Length: u32::try_from(core::mem::size_of::<OBJECT_ATTRIBUTES>()).unwrap_or(0),
        RootDirectory: core::ptr::null_mut(),
        ObjectName: &raw mut unicode,
        Attributes: OBJ_CASE_INSENSITIVE | OBJ_KERNEL_HANDLE,
        SecurityDescriptor: core::ptr::null_mut(),
        SecurityQualityOfService: core::ptr::null_mut(),
    };
    let mut handle: HANDLE = core::ptr::null_mut();
    let mut status_block = io_status();
    let (access, disposition) = if write {
        (GENERIC_WRITE | SYNCHRONIZE, FILE_OVERWRITE_IF)
    } else {
        (GENERIC_READ | SYNCHRONIZE, FILE_OPEN)
    };
    // SAFETY: every pointer is to a local that outlives the call; PASSIVE_LEVEL.
    let status = unsafe {
        ZwCreateFile(
            &raw mut handle,
            access,
            &raw mut attributes,
            &raw mut status_block,
            core::ptr::null_mut(),
            FILE_ATTRIBUTE_NORMAL,
            FILE_SHARE_READ,
            disposition,
            FILE_SYNCHRONOUS_IO_NONALERT | FILE_NON_DIRECTORY_FILE,
            core::ptr::null_mut(),
            0,
        )
    };
    if NT_SUCCESS(status) {
        Ok(handle)
    } else {
        Err(status)
    }
}

fn close(handle: HANDLE) {
    // SAFETY: a handle `open` gave, closed once. PASSIVE_LEVEL.
    let _ = unsafe { ZwClose(handle) };
}

/// The whole file at `path`, at most `limit` bytes.
///
/// # Errors
/// The open or read status, a longer file, or no memory.
pub fn read_limited(path: &str, limit: usize) -> Result<Vec<u8>, NTSTATUS> {
    let handle = open(path, false)?;
    let mut data = Vec::new();
    let result = (|| {
        // On the heap: a page-sized local would need the stack probe, which the module does
        // not link (as rdmus.sys does not).
        let mut chunk = Vec::new();
        chunk
            .try_reserve_exact(CHUNK)
            .map_err(|_| STATUS_INSUFFICIENT_RESOURCES)?;
        chunk.resize(CHUNK, 0_u8);
        loop {
            let mut status_block = io_status();
            // SAFETY: a synchronous read into a local buffer of the given length. PASSIVE_LEVEL.
            let status = unsafe {
                ZwReadFile(
                    handle,
                    core::ptr::null_mut(),
                    core::ptr::null_mut(),
                    core::ptr::null_mut(),
                    &raw mut status_block,
                    chunk.as_mut_ptr().cast(),
                    u32::try_from(chunk.len()).unwrap_or(0),
                    core::ptr::null_mut(),
                    core::ptr::null_mut(),
                )
            };
            if !NT_SUCCESS(status) || status_block.Information == 0 {
                // End of file (STATUS_END_OF_FILE) or an error after what was read.
                return if data.is_empty() && !NT_SUCCESS(status) && status != END_OF_FILE {
                    Err(status)
                } else {
                    Ok(())
                };
            }
            let got = status_block.Information.min(chunk.len());
            if data.len() + got > limit {
                return Err(STATUS_BUFFER_OVERFLOW);
            }
            data.try_reserve(got)
                .map_err(|_| STATUS_INSUFFICIENT_RESOURCES)?;
            data.extend_from_slice(&chunk[..got]);
        }
    })();
    close(handle);
    result.map(|()| data)
}

/// A file read a line at a time through one 4 KiB buffer, closed on drop.
pub struct LineReader {
    handle: HANDLE,
    chunk: Vec<u8>,
    start: usize,
    end: usize,
    at_end: bool,
}

impl LineReader {
    /// Opens the file at `path`.
    ///
    /// # Errors
    /// The open status, or no memory for the buffer.
    pub fn open(path: &str) -> Result<Self, NTSTATUS> {
        let mut chunk = Vec::new();
        // On the heap: a page-sized local would need the stack probe, which the module does
        // not link (as rdmus.sys does not).
        chunk
            .try_reserve_exact(CHUNK)
            .map_err(|_| STATUS_INSUFFICIENT_RESOURCES)?;
        chunk.resize(CHUNK, 0_u8);
        let handle = open(path, false)?;
        Ok(Self {
            handle,
            chunk,
            start: 0,
            end: 0,
            at_end: false,
        })
    }

    /// The next line into `line` (replaced; without its `\n`); false at the end of the file.
    ///
    /// # Errors
    /// A read status, `STATUS_BUFFER_OVERFLOW` for a line longer than `max` bytes (memory is
    /// bounded by the longest line, never by the file), or no memory.
    pub fn next_line(&mut self, line: &mut Vec<u8>, max: usize) -> Result<bool, NTSTATUS> {
        line.clear();
        loop {
            let waiting = &self.chunk[self.start..self.end];
            if let Some(newline) = waiting.iter().position(|&byte| byte == b'\n') {
                Self::take(line, &waiting[..newline], max)?;
                self.start += newline + 1;
                return Ok(true);
            }
            Self::take(line, waiting, max)?;
            self.start = self.end;
            if self.at_end {
                return Ok(!line.is_empty());
            }
            self.fill()?;
        }
    }

    fn take(line: &mut Vec<u8>, bytes: &[u8], max: usize) -> Result<(), NTSTATUS> {
        if line.len() + bytes.len() > max {
            return Err(STATUS_BUFFER_OVERFLOW);
        }
        line.try_reserve(bytes.len())
            .map_err(|_| STATUS_INSUFFICIENT_RESOURCES)?;
        line.extend_from_slice(bytes);
        Ok(())
    }

    /// Reads the next chunk (the buffer is empty).
    fn fill(&mut self) -> Result<(), NTSTATUS> {
        let mut status_block = io_status();
        // SAFETY: a synchronous read into the reader's buffer of the given length.
        // PASSIVE_LEVEL.
        let status = unsafe {
            ZwReadFile(
                self.handle,
                core::ptr::null_mut(),
                core::ptr::null_mut(),
                core::ptr::null_mut(),
                &raw mut status_block,
                self.chunk.as_mut_ptr().cast(),
                u32::try_from(self.chunk.len()).unwrap_or(0),
                core::ptr::null_mut(),
                core::ptr::null_mut(),
            )
        };
        self.start = 0;
        self.end = 0;
        if status == END_OF_FILE || (NT_SUCCESS(status) && status_block.Information == 0) {
            self.at_end = true;
            return Ok(());
        }
        if !NT_SUCCESS(status) {
            return Err(status);
        }
        self.end = status_block.Information.min(self.chunk.len());
        Ok(())
    }
}

impl Drop for LineReader {
    fn drop(&mut self) {
        close(self.handle);
    }
}

/// `STATUS_END_OF_FILE`.
const END_OF_FILE: NTSTATUS = i32::from_ne_bytes(0xC000_0011_u32.to_ne_bytes());

/// Writes `bytes` as the whole file at `path`.
///
/// # Errors
/// The open or write status.
pub fn write(path: &str, bytes: &[u8]) -> Result<(), NTSTATUS> {
    let handle = open(path, true)?;
    let status = write_handle(handle, bytes, None);
    close(handle);
    status
}

/// One synchronous `ZwWriteFile` of `bytes` at `offset` (`None`: the current position).
fn write_handle(handle: HANDLE, bytes: &[u8], offset: Option<i64>) -> Result<(), NTSTATUS> {
    let mut status_block = io_status();
    let mut at = LARGE_INTEGER::from_quad(offset.unwrap_or(0));
    let at_pointer = if offset.is_some() {
        &raw mut at
    } else {
        core::ptr::null_mut()
    };
    // SAFETY: a synchronous write of a borrowed buffer of the given length, the offset a
    // local (or null: the file's position). PASSIVE_LEVEL.
    let status = unsafe {
        ZwWriteFile(
            handle,
            core::ptr::null_mut(),
            core::ptr::null_mut(),
            core::ptr::null_mut(),
            &raw mut status_block,
            bytes.as_ptr().cast_mut().cast(),
            u32::try_from(bytes.len()).unwrap_or(u32::MAX),
            at_pointer,
            core::ptr::null_mut(),
        )
    };
    if NT_SUCCESS(status) {
        Ok(())
    } else {
        Err(status)
    }
}

/// A file written piece by piece (created or truncated), closed on drop.
pub struct Writer {
    handle: HANDLE,
}

impl Writer {
    /// Creates (or truncates) the file at `path`.
    ///
    /// # Errors
    /// The open status.
    pub fn create(path: &str) -> Result<Self, NTSTATUS> {
        open(path, true).map(|handle| Self { handle })
    }

    /// Appends `bytes` at the file's position.
    ///
    /// # Errors
    /// The write status.
    pub fn append(&mut self, bytes: &[u8]) -> Result<(), NTSTATUS> {
        write_handle(self.handle, bytes, None)
    }

    /// Writes `bytes` at `offset` (a header fixed up once the length is known).
    ///
    /// # Errors
    /// The write status.
    pub fn write_at(&mut self, offset: i64, bytes: &[u8]) -> Result<(), NTSTATUS> {
        write_handle(self.handle, bytes, Some(offset))
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        close(self.handle);
    }
}
