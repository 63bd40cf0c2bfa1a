//! The one place of the crate that does I/O: an append-only audit log in a
//! file.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
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
/// refused until [`repair`](Self::repair) cuts the torn record off. One
/// writer at a time: the store takes no lock on the file.
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
        let mut store = Self { path, file, torn: false };
        store.torn = store.load()?.torn().is_some();
        Ok(store)
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
        let torn = self.load()?.torn().copied();
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
        let mut bytes = Vec::new();
        let mut file = &self.file;
        file.seek(SeekFrom::Start(0)).map_err(|e| self.io("cannot read", e))?;
        file.read_to_end(&mut bytes).map_err(|e| self.io("cannot read", e))?;
        Ok(split_records(&bytes))
    }
}

/// Splits a file into its line-terminated records and a torn tail.
fn split_records(bytes: &[u8]) -> StoredRecords {
    let mut records = Vec::new();
    let mut rest = bytes;
    let mut offset = 0u64;
    while let Some(end) = rest.iter().position(|&b| b == b'\n') {
        let (line, tail) = rest.split_at(end);
        records.push(line.to_vec());
        rest = tail.get(1..).unwrap_or_default();
        offset += line.len() as u64 + 1;
    }
    let torn = (!rest.is_empty()).then(|| TornRecord::new(offset, rest.len() as u64));
    StoredRecords::new(records, torn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_complete_records_and_a_torn_tail() {
        let s = split_records(b"a\nbc\nde");
        assert_eq!(s.records(), &[b"a".to_vec(), b"bc".to_vec()]);
        assert_eq!(s.torn(), Some(&TornRecord::new(5, 2)));
        assert_eq!(split_records(b"a\n").torn(), None);
        assert!(split_records(b"").records().is_empty());
    }
}
