//! Stored audit records from untrusted bytes, split on `\n` as a file
//! store keeps them (a last record without its `\n` is torn):
//! `verify_records` answers intact or broken, and opening a log on them
//! succeeds or fails, never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use privacy_engine::{
    AuditLog, InMemoryAuditStore, PseudonymKey, Pseudonymiser, StoredRecords, TornRecord, verify_records,
};

fuzz_target!(|data: &[u8]| {
    let mut records: Vec<Vec<u8>> = data.split(|&b| b == b'\n').map(<[u8]>::to_vec).collect();
    let last = records.pop().unwrap_or_default();
    let torn = (!last.is_empty()).then(|| TornRecord::new((data.len() - last.len()) as u64, last.len() as u64));
    let _ = verify_records(&StoredRecords::new(records.clone(), torn), None, None);
    if let Ok(key) = PseudonymKey::from_bytes("k", &[7; 32]) {
        let _ = AuditLog::open(InMemoryAuditStore::from_records(records), Pseudonymiser::new(key));
    }
});
