//! The one place of the crate that does I/O: an append-only audit log in a
//! file.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use super::store::{AuditStore, StoredRecords, TornRecord};
use crate::error::Error;

/// An append-only audit log in a file: one record per line, each written
/// with its line break in a single write and synced to disk before
/// [`append`](AuditStore::append) returns.
///
/// A crash in the middle of a write leaves a final line without its line
/// break. [`load`](AuditStore::load) reports it as a [`TornRecord`] while
/// every complete record before it stays valid and verifiable; appending is
/// refused until [`repair`](Self::repair) cuts the torn record off.
///
/// One writer at a time: opening takes an exclusive advisory lock on the
/// file (`flock` on Unix, `LockFileEx` on Windows), held until the store is
/// dropped, and a second store opened on the same file, in this process or
/// another, is refused with an error instead of interleaving its entries.
/// A log many processes or instances write goes in a database store.
///
/// # Example
///
/// ```no_run
/// use privacy_engine::{AuditLog, FileAuditStore, PseudonymKey, Pseudonymiser};
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let mut store = FileAuditStore::open("audit.log")?;
/// if let Some(torn) = store.repair()? {
///     eprintln!("cut a torn record of {} bytes", torn.len());
/// }
/// let pseudonyms = Pseudonymiser::new(PseudonymKey::from_bytes("k1", &[7; 32])?);
/// let log = AuditLog::open(store, pseudonyms)?;
/// # let _ = log;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct FileAuditStore {
    path: PathBuf,
    file: File,
    /// Set when the file ends in a torn record or a write failed: appending
    /// would glue the next record onto the torn one.
    torn: bool,
}

impl FileAuditStore {
    /// Opens the file, creating it if missing.
    ///
    /// # Errors
    ///
    /// An error of kind [`Audit`](crate::ErrorKind::Audit) if the file
    /// cannot be opened or read.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, Error> {
        let path = path.as_ref().to_path_buf();
        let file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(&path)
            .map_err(|e| Error::audit_io(format!("cannot open audit log `{}`", path.display()), e))?;
        file.try_lock().map_err(|e| match e {
            std::fs::TryLockError::WouldBlock => Error::audit(format!(
                "audit log `{}` is open for writing elsewhere: a file log has one writer",
                path.display()
            )),
            std::fs::TryLockError::Error(e) => {
                Error::audit_io(format!("cannot lock audit log `{}`", path.display()), e)
            }
        })?;
        let mut store = Self { path, file, torn: false };
        store.torn = store.ends_torn()?;
        Ok(store)
    }

    /// Whether the file ends in a torn record: it is not empty and its last
    /// byte is not a line break. Reads one byte, whatever the file's size.
    fn ends_torn(&self) -> Result<bool, Error> {
        let mut file = &self.file;
        let len = file.seek(SeekFrom::End(0)).map_err(|e| self.io("cannot read", e))?;
        if len == 0 {
            return Ok(false);
        }
        let mut last = [0u8];
        file.seek(SeekFrom::Start(len - 1))
            .and_then(|_| file.read_exact(&mut last))
            .map_err(|e| self.io("cannot read", e))?;
        Ok(last != [b'\n'])
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Cuts off a torn final record, if there is one, and returns it.
    ///
    /// # Errors
    ///
    /// An error of kind [`Audit`](crate::ErrorKind::Audit) if the file
    /// cannot be read, truncated or synced.
    pub fn repair(&mut self) -> Result<Option<TornRecord>, Error> {
        let torn = self.scan(&mut |_| ControlFlow::Continue(()))?;
        if let Some(t) = torn {
            self.file.set_len(t.offset()).map_err(|e| self.io("cannot truncate", e))?;
            self.file.sync_all().map_err(|e| self.io("cannot sync", e))?;
        }
        self.torn = false;
        Ok(torn)
    }

    fn io(&self, what: &str, e: std::io::Error) -> Error {
        Error::audit_io(format!("{what} audit log `{}`", self.path.display()), e)
    }
}

impl AuditStore for FileAuditStore {
    fn append(&mut self, record: &[u8]) -> Result<(), Error> {
        if self.torn {
            return Err(Error::audit(format!(
                "audit log `{}` ends in a torn record: repair it before appending",
                self.path.display()
            )));
        }
        if record.contains(&b'\n') {
            return Err(Error::audit("an audit record may not hold a line break".to_owned()));
        }
        let mut line = Vec::with_capacity(record.len() + 1);
        line.extend_from_slice(record);
        line.push(b'\n');
        if let Err(e) = self.file.write_all(&line).and_then(|()| self.file.sync_data()) {
            self.torn = true;
            return Err(self.io("cannot write to", e));
        }
        Ok(())
    }

    fn load(&self) -> Result<StoredRecords, Error> {
        let mut records = Vec::new();
        let torn = self.scan(&mut |r| {
            records.push(r.to_vec());
            ControlFlow::Continue(())
        })?;
        Ok(StoredRecords::new(records, torn))
    }

    /// Reads the file one line at a time through a buffer: memory bounded
    /// by the longest record, whatever the file's size.
    fn scan(&self, visit: &mut dyn FnMut(&[u8]) -> ControlFlow<()>) -> Result<Option<TornRecord>, Error> {
        let mut file = &self.file;
        file.seek(SeekFrom::Start(0)).map_err(|e| self.io("cannot read", e))?;
        let mut reader = BufReader::with_capacity(READ_BUFFER, file);
        let mut line = Vec::new();
        let mut offset = 0u64;
        loop {
            line.clear();
            let n = reader.read_until(b'\n', &mut line).map_err(|e| self.io("cannot read", e))?;
            let Some(record) = line.strip_suffix(b"\n") else {
                return Ok((n > 0).then(|| TornRecord::new(offset, n as u64)));
            };
            if visit(record).is_break() {
                return Ok(None);
            }
            offset += n as u64;
        }
    }
}

/// The read buffer of [`FileAuditStore::scan`], in bytes.
const READ_BUFFER: usize = 64 * 1024;

#[cfg(test)]
mod tests {
    use super::*;

    /// The records of a file holding `bytes`.
    fn records_of(name: &str, bytes: &[u8]) -> StoredRecords {
        let path = std::env::temp_dir().join(format!("privacy-engine-unit-{}-{name}.log", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let loaded = std::fs::write(&path, bytes)
            .map_err(|e| Error::audit_io("cannot write".to_owned(), e))
            .and_then(|()| FileAuditStore::open(&path))
            .and_then(|s| s.load());
        let _ = std::fs::remove_file(&path);
        loaded.unwrap_or_default()
    }

    #[test]
    fn splits_complete_records_and_a_torn_tail() {
        let s = records_of("split", b"a\nbc\nde");
        assert_eq!(s.records(), &[b"a".to_vec(), b"bc".to_vec()]);
        assert_eq!(s.torn(), Some(&TornRecord::new(5, 2)));
        assert_eq!(records_of("whole", b"a\n").torn(), None);
        assert!(records_of("empty", b"").records().is_empty());
    }

    #[test]
    fn a_second_writer_is_refused_until_the_first_is_dropped() -> Result<(), Error> {
        let dir = std::env::temp_dir().join(format!("pe-lock-{}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| Error::audit_io("mkdir".to_owned(), e))?;
        let path = dir.join("audit.log");
        let mut first = FileAuditStore::open(&path)?;
        let second = FileAuditStore::open(&path);
        assert!(second.as_ref().is_err_and(|e| e.to_string().contains("one writer")), "{second:?}");
        first.append(b"{}")?;
        drop(first);
        let mut again = FileAuditStore::open(&path)?;
        again.append(b"{}")?;
        assert_eq!(again.load()?.records().len(), 2);
        drop(again);
        let _ = std::fs::remove_dir_all(&dir);
        Ok(())
    }
}
