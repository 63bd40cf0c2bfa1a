//! Integration tests of the evidence features through the public API only:
//! the hash-chained audit log (tampering, truncation, torn writes in the
//! file store, replay), signed consent receipts and keyed pseudonyms.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod answers;
mod chain;
mod cli;
mod file_store;
mod keys;
mod pseudonyms;
mod receipts;
mod replay;

use std::sync::OnceLock;

use chrono::{DateTime, FixedOffset};
use privacy_engine::{
    Action, AuditLog, AuditStore, CategoryKey, ChainKey, ConsentChange, ConsentEvent, ConsentQualities, Engine,
    InMemoryLedger, Permission, Policy, PolicyRef, PseudonymKey, Pseudonymiser, Request, Scope, Subject,
};
use uuid::Uuid;

/// The seed-004 policy document.
pub(crate) const SEED_004: &str = include_str!("../../examples/policies/seed-004.json");

/// The seed-004 policy.
pub(crate) fn policy() -> Policy {
    Policy::from_json(SEED_004).unwrap()
}

/// The seed-004 engine, built once.
pub(crate) fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| Engine::new(policy()).unwrap())
}

/// A time.
pub(crate) fn t(s: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(s).unwrap()
}

/// A category key.
pub(crate) fn key(s: &str) -> CategoryKey {
    CategoryKey::new(s).unwrap()
}

/// The pseudonym key ring of the tests.
pub(crate) fn pseudonyms() -> Pseudonymiser {
    Pseudonymiser::new(PseudonymKey::from_bytes("k1", &[7; 32]).unwrap())
}

/// A chain key.
pub(crate) fn chain_key() -> ChainKey {
    ChainKey::from_bytes(&[42; 32]).unwrap()
}

/// A ledger event for subject `u` under seed 004.
pub(crate) fn event(n: u128, at: &str, subject: &str, change: ConsentChange) -> ConsentEvent {
    let p = policy();
    ConsentEvent::new(Uuid::from_u128(n), t(at), subject, p.id, p.version, change)
}

/// The face-verification scope.
pub(crate) fn face_scope() -> Scope {
    Scope::new(vec!["face_verification".into()], vec![key("user.biometric.face")])
}

/// Separate consent to face verification and the camera switched on for
/// `subject`, then a withdrawal on 2024-06-01.
pub(crate) fn face_events(subject: &str) -> Vec<ConsentEvent> {
    vec![
        event(1, "2024-05-01T09:00:00+08:00", subject, ConsentChange::PermissionOn { permission: Permission::Camera }),
        event(
            2,
            "2024-05-01T09:00:00+08:00",
            subject,
            ConsentChange::Grant { qualities: ConsentQualities::separate(), scope: face_scope(), expires: None },
        ),
        event(3, "2024-06-01T09:00:00+08:00", subject, ConsentChange::Withdraw { scope: face_scope() }),
    ]
}

/// A ledger holding [`face_events`].
pub(crate) fn ledger(subject: &str) -> InMemoryLedger {
    let mut l = InMemoryLedger::new();
    for e in face_events(subject) {
        l.append(e).unwrap();
    }
    l
}

/// A few requests by `subject`: permitted and denied, with a birth date,
/// a share with obligations.
pub(crate) fn requests(subject: &str) -> Vec<Request> {
    let adult = Subject::new(subject).age(30);
    let mut with_birth = Subject::new(subject);
    with_birth.birth_date = Some("1990-02-03".parse().unwrap());
    vec![
        Request::new(
            Action::Collect,
            adult.clone(),
            vec![key("user.contact.phone_number")],
            t("2024-05-01T10:00:00+08:00"),
        )
        .purpose("registration_login"),
        Request::new(Action::Collect, with_birth, vec![key("user.biometric.face")], t("2024-05-02T10:00:00+08:00"))
            .purpose("face_verification"),
        Request::new(Action::Collect, adult.clone(), vec![key("user.biometric.face")], t("2024-06-02T10:00:00+08:00"))
            .purpose("face_verification"),
        Request::new(Action::Share, adult, vec![key("user.contact.address")], t("2024-05-03T10:00:00+08:00"))
            .purpose("payment_delivery")
            .recipient("partner.logistics"),
    ]
}

/// Records the consent events and decisions of [`requests`] for `subject`
/// into a log, interleaved, and returns the number of entries.
pub(crate) fn fill<S: AuditStore>(log: &mut AuditLog<S>, subject: &str) -> usize {
    let ledger = ledger(subject);
    let policy_ref = PolicyRef::of(engine().policy());
    let mut n = 0u128;
    let mut next = || {
        n += 1;
        Uuid::from_u128(1000 + n)
    };
    for e in face_events(subject).iter().take(2) {
        log.record_consent(next(), e.at, e).unwrap();
    }
    for r in requests(subject) {
        let d = engine().evaluate(&r, &ledger);
        log.record_decision(next(), r.at, &r, &d, &policy_ref).unwrap();
    }
    let w = &face_events(subject)[2];
    log.record_consent(next(), w.at, w).unwrap();
    usize::try_from(log.head().len).unwrap()
}
