//! A sequence of consent-ledger appends interleaved with as-of queries:
//! nothing panics, a refused append records nothing, an accepted one adds
//! one event, and a duplicate id is always refused.
#![no_main]

use std::collections::HashSet;

use libfuzzer_sys::fuzz_target;
use privacy_engine::{ConsentQualities, ConsentQuery, ConsentStore, InMemoryLedger};
use privacy_engine_fuzz::{LedgerOp, category_with_covering, permission, purpose, recipient, subject};

fuzz_target!(|ops: Vec<LedgerOp>| {
    let mut ledger = InMemoryLedger::new();
    let mut ids = HashSet::new();
    for op in ops.iter().take(64) {
        match op {
            LedgerOp::Append(e) => {
                let event = e.get();
                let (id, who) = (event.id, event.subject.clone());
                let (len, of_subject) = (ledger.len(), ledger.events(&who).count());
                match ledger.append(event) {
                    Ok(()) => {
                        assert!(ids.insert(id), "duplicate event id {id} accepted");
                        assert_eq!(ledger.len(), len + 1, "accepted append did not add one event");
                        assert_eq!(ledger.events(&who).count(), of_subject + 1);
                    }
                    Err(_) => {
                        assert_eq!(ledger.len(), len, "refused append changed len()");
                        assert_eq!(ledger.events(&who).count(), of_subject, "refused append recorded an event");
                    }
                }
            }
            LedgerOp::HasConsent { subject: s, purpose: p, category: c, covering, recipient: r, required, at } => {
                let (s, p, r) = (subject(*s), purpose(*p), r.map(recipient));
                let (category, covering) = category_with_covering(*c, *covering);
                let mut query = ConsentQuery::new(&s, &p, &category, at.get().to_utc())
                    .covering(&covering)
                    .required(ConsentQualities::from_bits_truncate(*required));
                query.recipient = r.as_ref();
                let _ = ledger.has_consent(&query);
            }
            LedgerOp::Status { subject: s, purpose: p, category: c, recipient: r, at } => {
                let (category, _) = category_with_covering(*c, false);
                let r = r.map(recipient);
                let _ = ledger.status(&subject(*s), &purpose(*p), &category, r.as_ref(), at.get().to_utc());
            }
            LedgerOp::PermissionOn { subject: s, permission: p, at } => {
                let _ = ledger.permission_on(&subject(*s), permission(*p), at.get().to_utc());
            }
        }
    }
});
