//! The file store: records survive reopening, a torn final write is
//! detected while earlier records still verify, and repair cuts it off.

use std::io::Write;
use std::path::PathBuf;

use privacy_engine::{AuditLog, AuditStore, BreakKind, ErrorKind, FileAuditStore, Verification, verify_records};

use crate::{fill, pseudonyms};

/// A fresh path in the temporary directory, removed when dropped.
struct TempPath(PathBuf);

impl TempPath {
    fn new(name: &str) -> Self {
        let p = std::env::temp_dir().join(format!("privacy-engine-{}-{name}.log", std::process::id()));
        let _ = std::fs::remove_file(&p);
        Self(p)
    }
}

impl Drop for TempPath {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[test]
fn records_survive_reopening_and_verify() {
    let path = TempPath::new("reopen");
    let mut log = AuditLog::open_plain(FileAuditStore::open(&path.0).unwrap(), pseudonyms()).unwrap();
    fill(&mut log, "user-42");
    let head = log.head();
    drop(log);

    let text = std::fs::read_to_string(&path.0).unwrap();
    assert_eq!(text.lines().count(), 7);
    assert!(text.ends_with('\n'));

    let mut log = AuditLog::open_plain(FileAuditStore::open(&path.0).unwrap(), pseudonyms()).unwrap();
    assert_eq!(log.head(), head);
    fill(&mut log, "user-43");
    assert!(log.verify(Some(&head)).unwrap().is_intact());
    assert_eq!(log.entries().unwrap().len(), 14);
}

#[test]
fn a_torn_final_write_is_detected_and_earlier_entries_still_verify() {
    let path = TempPath::new("torn");
    let mut log = AuditLog::open_plain(FileAuditStore::open(&path.0).unwrap(), pseudonyms()).unwrap();
    fill(&mut log, "user-42");
    let head = log.head();
    let full = std::fs::read(&path.0).unwrap();
    drop(log);

    // A crash in the middle of writing one more record: half of a record,
    // no line break.
    let last_line = full[..full.len() - 1].rsplit(|&b| b == b'\n').next().unwrap();
    let mut f = std::fs::OpenOptions::new().append(true).open(&path.0).unwrap();
    f.write_all(&last_line[..last_line.len() / 2]).unwrap();
    drop(f);

    let mut store = FileAuditStore::open(&path.0).unwrap();
    let loaded = store.load().unwrap();
    assert_eq!(loaded.records().len(), 7);
    let torn = *loaded.torn().unwrap();
    assert_eq!(torn.offset(), full.len() as u64);
    assert_eq!(torn.len(), (last_line.len() / 2) as u64);

    match verify_records(&loaded, None, Some(&head)) {
        Verification::Broken(b) => {
            assert_eq!((b.index(), b.kind()), (7, BreakKind::Torn));
            assert_eq!(b.intact(), head, "every complete record before the torn one verifies");
        }
        Verification::Intact(_) => panic!("a torn record must be reported"),
    }

    // Appending would glue a record onto the torn one: refused.
    assert_eq!(store.append(b"{}").unwrap_err().kind(), ErrorKind::Audit);
    let err = AuditLog::open_plain(&mut store, pseudonyms()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Audit);

    // Repair cuts it off; the log verifies and goes on.
    assert_eq!(store.repair().unwrap(), Some(torn));
    assert_eq!(std::fs::read(&path.0).unwrap(), full);
    assert_eq!(store.repair().unwrap(), None);
    let mut log = AuditLog::open_plain(store, pseudonyms()).unwrap();
    assert!(log.verify(Some(&head)).unwrap().is_intact());
    fill(&mut log, "user-43");
    assert!(log.verify(Some(&head)).unwrap().is_intact());
}

#[test]
fn a_corrupt_complete_record_in_the_file_is_reported_at_its_position() {
    let path = TempPath::new("corrupt");
    let mut log = AuditLog::open_plain(FileAuditStore::open(&path.0).unwrap(), pseudonyms()).unwrap();
    fill(&mut log, "user-42");
    drop(log);
    let mut bytes = std::fs::read(&path.0).unwrap();
    let second_line = bytes.iter().position(|&b| b == b'\n').unwrap() + 1;
    bytes[second_line + 10] ^= 0x20;
    std::fs::write(&path.0, &bytes).unwrap();
    let store = FileAuditStore::open(&path.0).unwrap();
    match verify_records(&store.load().unwrap(), None, None) {
        Verification::Broken(b) => assert_eq!(b.index(), 1),
        Verification::Intact(_) => panic!("the edit must be detected"),
    }
}

/// Issue 13 item 8: opening reads the file one record at a time and
/// verifies every entry; a 20,000-entry log (5,000 in a debug build, where
/// it takes seconds) opens, continues, and is refused once an entry in its
/// middle is altered.
#[test]
fn a_large_log_opens_verified_and_a_middle_edit_is_refused() {
    const N: u128 = if cfg!(debug_assertions) { 5_000 } else { 20_000 };
    let path = TempPath::new("large");
    let mut log = AuditLog::open(privacy_engine::InMemoryAuditStore::new(), pseudonyms()).unwrap();
    let events = crate::face_events("user-42");
    for n in 0..N {
        let e = &events[usize::try_from(n % 3).unwrap()];
        log.record_consent(uuid::Uuid::from_u128(n), e.at, e).unwrap();
    }
    let head = log.head();
    let mut bytes = Vec::new();
    for r in log.store().records() {
        bytes.extend_from_slice(r);
        bytes.push(b'\n');
    }
    std::fs::write(&path.0, &bytes).unwrap();
    let mut log = AuditLog::open(FileAuditStore::open(&path.0).unwrap(), pseudonyms()).unwrap();
    assert_eq!(log.head(), head);
    log.record_consent(uuid::Uuid::from_u128(N), events[0].at, &events[0]).unwrap();
    assert!(log.verify(Some(&head)).unwrap().is_intact());
    drop(log);

    let text = std::fs::read_to_string(&path.0).unwrap();
    let middle = text.lines().nth(usize::try_from(N / 2).unwrap()).unwrap();
    let edited = middle.replacen("\"withdraw\"", "\"grant\"", 1).replacen("\"status\":\"", "\"status\":\"x", 1);
    assert_ne!(middle, edited);
    std::fs::write(&path.0, text.replacen(middle, &edited, 1)).unwrap();
    let err = AuditLog::open(FileAuditStore::open(&path.0).unwrap(), pseudonyms()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Audit);
    assert!(err.to_string().contains(&format!("audit entry {}", N / 2)), "{err}");
}
