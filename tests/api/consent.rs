//! Consent qualities, and the in-memory ledger read through the
//! `ConsentStore` trait and its `status`.

use chrono::{DateTime, Utc};
use privacy_engine::{
    CONSENT_HORIZON, CONSENT_SKEW, CategoryKey, CompactLedger, ConsentChange, ConsentEvent, ConsentQualities,
    ConsentQuery, ConsentStatus, ConsentStore, ErrorKind, InMemoryLedger, Permission, PurposeId, RecipientId, Scope,
    SubjectId,
};
use uuid::Uuid;

// ---------------------------------------------------------------------------
// Helpers.

fn key(s: &str) -> CategoryKey {
    CategoryKey::new(s).unwrap()
}

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn scope(purpose: &str, category: &str) -> Scope {
    Scope::new(vec![purpose.into()], vec![key(category)])
}

fn to(mut s: Scope, recipient: &str) -> Scope {
    s.recipient = Some(recipient.into());
    s
}

fn event(id: u128, at: &str, change: ConsentChange) -> ConsentEvent {
    event_for("alice", id, at, change)
}

fn event_for(subject: &str, id: u128, at: &str, change: ConsentChange) -> ConsentEvent {
    ConsentEvent::new(Uuid::from_u128(id), at.parse().unwrap(), subject, "seed-004", "2021-08-20", change)
}

fn grant(qualities: ConsentQualities, scope: Scope) -> ConsentChange {
    ConsentChange::Grant { qualities, scope, expires: None }
}

/// A question about `alice`.
struct Ask {
    subject: SubjectId,
    purpose: PurposeId,
    category: CategoryKey,
    covering: Vec<CategoryKey>,
    recipient: Option<RecipientId>,
    required: ConsentQualities,
}

impl Ask {
    fn new(purpose: &str, category: &str) -> Self {
        Self {
            subject: "alice".into(),
            purpose: purpose.into(),
            category: key(category),
            covering: Vec::new(),
            recipient: None,
            required: ConsentQualities::explicit(),
        }
    }

    fn covering(mut self, keys: &[&str]) -> Self {
        self.covering = keys.iter().map(|k| key(k)).collect();
        self
    }

    fn recipient(mut self, r: &str) -> Self {
        self.recipient = Some(r.into());
        self
    }

    fn required(mut self, q: ConsentQualities) -> Self {
        self.required = q;
        self
    }

    fn at(&self, store: &impl ConsentStore, at: &str) -> bool {
        let mut query = ConsentQuery::new(&self.subject, &self.purpose, &self.category, t(at))
            .covering(&self.covering)
            .required(self.required);
        query.recipient = self.recipient.as_ref();
        store.has_consent(&query)
    }
}

fn status(l: &InMemoryLedger, purpose: &str, category: &str, recipient: Option<&str>, at: &str) -> ConsentStatus {
    let r: Option<RecipientId> = recipient.map(Into::into);
    l.status(&"alice".into(), &purpose.into(), &key(category), r.as_ref(), t(at))
}

const T0: &str = "2024-01-01T10:00:00+08:00";
const T1: &str = "2024-02-01T10:00:00+08:00";
const T2: &str = "2024-03-01T10:00:00+08:00";

// ---------------------------------------------------------------------------
// Qualities.

#[test]
fn implied_consent_satisfies_nothing_but_implied() {
    let implied = ConsentQualities::IMPLIED;
    assert!(implied.is_empty());
    assert!(!implied.satisfies(ConsentQualities::affirmative()));
    assert!(!implied.satisfies(ConsentQualities::explicit()));
    assert!(!implied.satisfies(ConsentQualities::separate()));
    assert!(!implied.satisfies(ConsentQualities::SEPARATE));
    assert!(!implied.satisfies(ConsentQualities::EXPLICIT));
    assert!(implied.satisfies(ConsentQualities::IMPLIED));
}

#[test]
fn explicit_is_not_separate_but_separate_is_explicit() {
    assert!(!ConsentQualities::explicit().satisfies(ConsentQualities::separate()));
    assert!(!ConsentQualities::explicit().satisfies(ConsentQualities::SEPARATE));
    assert!(ConsentQualities::separate().satisfies(ConsentQualities::explicit()));
    assert!(ConsentQualities::separate().satisfies(ConsentQualities::affirmative()));
    assert!(ConsentQualities::explicit().satisfies(ConsentQualities::affirmative()));
    assert!(!ConsentQualities::affirmative().satisfies(ConsentQualities::explicit()));
    // Written is its own quality.
    assert!(!ConsentQualities::separate().satisfies(ConsentQualities::WRITTEN));
}

#[test]
fn guardian_requirement_needs_a_guardian_grant() {
    let required = ConsentQualities::separate() | ConsentQualities::GUARDIAN;
    assert!(!ConsentQualities::separate().satisfies(required));
    assert!((ConsentQualities::separate() | ConsentQualities::GUARDIAN).satisfies(required));
    // A guardian's grant that is only explicit is not separate.
    assert!(!(ConsentQualities::explicit() | ConsentQualities::GUARDIAN).satisfies(required));
}

#[test]
fn coherence() {
    assert!(ConsentQualities::IMPLIED.is_coherent());
    assert!(ConsentQualities::affirmative().is_coherent());
    assert!(ConsentQualities::explicit().is_coherent());
    assert!(ConsentQualities::separate().is_coherent());
    assert!((ConsentQualities::separate() | ConsentQualities::GUARDIAN).is_coherent());
    assert!(!ConsentQualities::SEPARATE.is_coherent());
    assert!(!(ConsentQualities::AFFIRMATIVE | ConsentQualities::SEPARATE).is_coherent());
    assert!(!ConsentQualities::EXPLICIT.is_coherent());
    assert!(!ConsentQualities::WRITTEN.is_coherent());
}

#[test]
fn qualities_serialise_as_a_list_of_names() {
    let q = ConsentQualities::separate() | ConsentQualities::GUARDIAN;
    let json = serde_json::to_string(&q).unwrap();
    assert_eq!(json, r#"["affirmative","explicit","separate","guardian"]"#);
    assert_eq!(serde_json::from_str::<ConsentQualities>(&json).unwrap(), q);
    assert_eq!(serde_json::to_string(&ConsentQualities::IMPLIED).unwrap(), "[]");
    assert_eq!(serde_json::from_str::<ConsentQualities>("[]").unwrap(), ConsentQualities::IMPLIED);
    // Order does not matter.
    assert_eq!(
        serde_json::from_str::<ConsentQualities>(r#"["separate","explicit","affirmative"]"#).unwrap(),
        ConsentQualities::separate()
    );
    assert_eq!(ConsentQualities::separate().to_string(), "affirmative+explicit+separate");
    assert_eq!(ConsentQualities::IMPLIED.to_string(), "implied");
}

#[test]
fn unknown_quality_names_are_rejected() {
    let err = serde_json::from_str::<ConsentQualities>(r#"["affirmative","express"]"#).unwrap_err();
    assert!(err.to_string().contains("express"), "{err}");
    assert!(serde_json::from_str::<ConsentQualities>(r#"["Explicit"]"#).is_err());
    assert!(serde_json::from_str::<ConsentQualities>(r#""explicit""#).is_err());
    assert!(serde_json::from_str::<ConsentQualities>("3").is_err());
}

// ---------------------------------------------------------------------------
// Appending.

#[test]
fn incoherent_grants_are_refused() {
    let mut l = InMemoryLedger::new();
    for (n, q) in [
        ConsentQualities::SEPARATE,
        ConsentQualities::AFFIRMATIVE | ConsentQualities::SEPARATE,
        ConsentQualities::EXPLICIT,
    ]
    .into_iter()
    .enumerate()
    {
        let err = l.append(event(n as u128, T0, grant(q, scope("ads", "user")))).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Ledger, "{q}");
        let msg = err.to_string();
        assert!(msg.contains("incoherent"), "{msg}");
        assert!(!msg.ends_with('.') && !msg.contains('\n'), "{msg}");
    }
    assert!(l.is_empty());
    assert_eq!(l.len(), 0);
}

#[test]
fn empty_scopes_are_refused() {
    let mut l = InMemoryLedger::new();
    let no_purpose = Scope::new(vec![], vec![key("user")]);
    let no_category = Scope::new(vec!["ads".into()], vec![]);
    for (n, s) in [no_purpose, no_category].into_iter().enumerate() {
        let err = l.append(event(n as u128, T0, grant(ConsentQualities::explicit(), s))).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Ledger);
    }
    let err =
        l.append(event(9, T0, ConsentChange::Withdraw { scope: Scope::new(vec![], vec![key("user")]) })).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Ledger);
    assert!(l.is_empty());
}

#[test]
fn duplicate_event_ids_are_refused_and_nothing_is_lost() {
    let mut l = InMemoryLedger::new();
    l.append(event(1, T0, grant(ConsentQualities::explicit(), scope("ads", "user.device")))).unwrap();
    l.append(event(2, T1, ConsentChange::Withdraw { scope: scope("ads", "user.device") })).unwrap();
    let before: Vec<ConsentEvent> = l.events(&"alice".into()).cloned().collect();

    // Same id, different content, subject and time: refused.
    let dup = event_for("bob", 1, T2, grant(ConsentQualities::separate(), scope("ads", "user")));
    let err = l.append(dup).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Ledger);
    assert!(err.to_string().contains(&Uuid::from_u128(1).to_string()), "{err}");

    assert_eq!(l.len(), 2);
    let after: Vec<ConsentEvent> = l.events(&"alice".into()).cloned().collect();
    assert_eq!(after, before);
    assert_eq!(l.events(&"bob".into()).count(), 0);
    // The withdrawal still holds.
    assert!(!Ask::new("ads", "user.device").at(&l, T2));
    assert!(Ask::new("ads", "user.device").at(&l, T0));
}

#[test]
fn a_long_history_still_refuses_every_duplicate_id() {
    // Past its first 64 events a subject's ids are kept in a set in the
    // compact ledger: a duplicate of the first, of one near the switch and
    // of the last is refused all the same, and nothing is added.
    let mut c = CompactLedger::new();
    for id in 0..200u128 {
        c.append(event(id, T0, grant(ConsentQualities::explicit(), scope("ads", "user.device")))).unwrap();
    }
    for id in [0u128, 63, 64, 65, 199] {
        let err = c.append(event(id, T1, ConsentChange::Withdraw { scope: scope("ads", "user.device") })).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Ledger, "id {id}");
    }
    assert_eq!(c.len(), 200);
    assert!(Ask::new("ads", "user.device").at(&c, T2));
}

#[test]
fn extend_stops_at_the_first_refused_event_and_keeps_the_earlier_ones() {
    let mut l = InMemoryLedger::new();
    let err = l
        .extend([
            event(1, T0, grant(ConsentQualities::explicit(), scope("ads", "user"))),
            event(2, T1, grant(ConsentQualities::SEPARATE, scope("ads", "user"))),
            event(3, T2, grant(ConsentQualities::explicit(), scope("ads", "user"))),
        ])
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Ledger);
    let ids: Vec<u128> = l.events(&"alice".into()).map(|e| e.id.as_u128()).collect();
    assert_eq!(ids, vec![1]);
}

#[test]
fn out_of_order_appends_are_ordered_by_time() {
    let mut l = InMemoryLedger::new();
    // Appended: withdraw at T1, then grant at T0 (earlier), then grant at T2.
    l.append(event(1, T1, ConsentChange::Withdraw { scope: scope("ads", "user.device") })).unwrap();
    l.append(event(2, T0, grant(ConsentQualities::explicit(), scope("ads", "user.device")))).unwrap();
    l.append(event(3, T2, grant(ConsentQualities::explicit(), scope("ads", "user.device")))).unwrap();
    // Same instant as T1 in another offset: after event 1 (append order).
    l.append(event(4, "2024-02-01T02:00:00Z", ConsentChange::Refuse { scope: scope("ads", "user.device") })).unwrap();
    let ids: Vec<u128> = l.events(&"alice".into()).map(|e| e.id.as_u128()).collect();
    assert_eq!(ids, vec![2, 1, 4, 3]);

    // The grant appended late still counts from its own time.
    let ask = Ask::new("ads", "user.device");
    assert!(ask.at(&l, "2024-01-15T00:00:00+08:00"));
    assert!(!ask.at(&l, "2024-02-15T00:00:00+08:00"));
    assert!(ask.at(&l, "2024-03-15T00:00:00+08:00"));
    assert_eq!(status(&l, "ads", "user.device", None, "2024-02-15T00:00:00+08:00"), ConsentStatus::Refused);
}

// ---------------------------------------------------------------------------
// As-of queries.

#[test]
fn as_of_before_at_and_after_a_withdrawal() {
    let mut l = InMemoryLedger::new();
    l.append(event(1, T0, grant(ConsentQualities::separate(), scope("face_verification", "user.biometric.face"))))
        .unwrap();
    l.append(event(2, T1, ConsentChange::Withdraw { scope: scope("face_verification", "user.biometric.face") }))
        .unwrap();
    let ask = Ask::new("face_verification", "user.biometric.face").required(ConsentQualities::separate());

    assert!(!ask.at(&l, "2024-01-01T09:59:59+08:00"), "before the grant");
    assert!(ask.at(&l, T0), "a grant at exactly T counts at T");
    assert!(ask.at(&l, "2024-01-31T23:59:59+08:00"), "before the withdrawal");
    assert!(!ask.at(&l, T1), "a withdrawal at exactly T counts at T");
    assert!(!ask.at(&l, "2024-02-01T02:00:00Z"), "the same instant in UTC");
    assert!(!ask.at(&l, T2), "after the withdrawal");

    assert_eq!(
        status(&l, "face_verification", "user.biometric.face", None, "2023-12-31T00:00:00Z"),
        ConsentStatus::Unknown
    );
    assert_eq!(status(&l, "face_verification", "user.biometric.face", None, T0), ConsentStatus::Given);
    assert_eq!(status(&l, "face_verification", "user.biometric.face", None, T1), ConsentStatus::Withdrawn);
    assert_eq!(status(&l, "face_verification", "user.biometric.face", None, T2), ConsentStatus::Withdrawn);
}

#[test]
fn consent_is_per_subject_and_per_purpose() {
    let mut l = InMemoryLedger::new();
    l.append(event_for("bob", 1, T0, grant(ConsentQualities::separate(), scope("ads", "user.device")))).unwrap();
    l.append(event(2, T0, grant(ConsentQualities::separate(), scope("analytics", "user.device")))).unwrap();
    assert!(!Ask::new("ads", "user.device").at(&l, T1), "bob's grant is not alice's");
    assert!(Ask::new("analytics", "user.device").at(&l, T1));
    let mut bob = Ask::new("ads", "user.device");
    bob.subject = "bob".into();
    assert!(bob.at(&l, T1));
}

#[test]
fn a_grant_needs_the_required_qualities() {
    let mut l = InMemoryLedger::new();
    l.append(event(1, T0, grant(ConsentQualities::IMPLIED, scope("ads", "user.location.precise")))).unwrap();
    l.append(event(2, T0, grant(ConsentQualities::explicit(), scope("ads", "user.location.precise")))).unwrap();
    let ask = Ask::new("ads", "user.location.precise");
    assert!(ask.at(&l, T1));
    assert!(!ask.required(ConsentQualities::separate()).at(&l, T1), "explicit does not satisfy separate");

    let mut l = InMemoryLedger::new();
    l.append(event(1, T0, grant(ConsentQualities::IMPLIED, scope("ads", "user")))).unwrap();
    assert!(!Ask::new("ads", "user").required(ConsentQualities::affirmative()).at(&l, T1));
    assert!(!Ask::new("ads", "user").required(ConsentQualities::explicit()).at(&l, T1));
}

#[test]
fn guardian_required_needs_a_guardian_grant_in_the_ledger() {
    let mut l = InMemoryLedger::new();
    l.append(event(1, T0, grant(ConsentQualities::separate(), scope("games", "user.account")))).unwrap();
    let ask = Ask::new("games", "user.account").required(ConsentQualities::separate() | ConsentQualities::GUARDIAN);
    assert!(!ask.at(&l, T1));
    l.append(event(
        2,
        T1,
        grant(ConsentQualities::separate() | ConsentQualities::GUARDIAN, scope("games", "user.account")),
    ))
    .unwrap();
    assert!(ask.at(&l, T1));
    assert!(!ask.at(&l, "2024-01-31T00:00:00Z"));
}

#[test]
fn withdrawal_on_an_ancestor_ends_a_grant_on_a_descendant() {
    let mut l = InMemoryLedger::new();
    l.append(event(1, T0, grant(ConsentQualities::explicit(), scope("ads", "user.device.device_id.imei")))).unwrap();
    l.append(event(2, T1, ConsentChange::Withdraw { scope: scope("ads", "user.device") })).unwrap();
    let ask = Ask::new("ads", "user.device.device_id.imei");
    assert!(ask.at(&l, T0));
    assert!(!ask.at(&l, T1));
    assert_eq!(status(&l, "ads", "user.device.device_id.imei", None, T1), ConsentStatus::Withdrawn);
}

#[test]
fn withdrawal_on_a_sibling_or_another_purpose_leaves_a_grant_alone() {
    let mut l = InMemoryLedger::new();
    l.append(event(1, T0, grant(ConsentQualities::explicit(), scope("ads", "user.device.device_id.imei")))).unwrap();
    l.append(event(2, T1, ConsentChange::Withdraw { scope: scope("ads", "user.device.model") })).unwrap();
    l.append(event(3, T1, ConsentChange::Withdraw { scope: scope("analytics", "user") })).unwrap();
    assert!(Ask::new("ads", "user.device.device_id.imei").at(&l, T2));
    assert_eq!(status(&l, "ads", "user.device.device_id.imei", None, T2), ConsentStatus::Given);
}

#[test]
fn revocation_and_expiry_events_end_a_grant() {
    for (n, ending) in [
        ConsentChange::Revoke { scope: scope("ads", "user.device") },
        ConsentChange::Expire { scope: scope("ads", "user.device") },
        ConsentChange::Refuse { scope: scope("ads", "user.device") },
    ]
    .into_iter()
    .enumerate()
    {
        let want = ending.status().unwrap();
        let mut l = InMemoryLedger::new();
        l.append(event(1, T0, grant(ConsentQualities::explicit(), scope("ads", "user.device")))).unwrap();
        l.append(event(2, T1, ending)).unwrap();
        let ask = Ask::new("ads", "user.device");
        assert!(ask.at(&l, T0), "case {n}");
        assert!(!ask.at(&l, T1), "case {n}");
        assert_eq!(status(&l, "ads", "user.device", None, T1), want, "case {n}");
    }
}

#[test]
fn a_grant_with_an_expiry_lapses_by_itself() {
    let mut l = InMemoryLedger::new();
    l.append(event(
        1,
        T0,
        ConsentChange::Grant {
            qualities: ConsentQualities::explicit(),
            scope: scope("ads", "user.device"),
            expires: Some(T1.parse().unwrap()),
        },
    ))
    .unwrap();
    let ask = Ask::new("ads", "user.device");
    assert!(ask.at(&l, T0));
    assert!(ask.at(&l, "2024-02-01T09:59:59+08:00"));
    assert!(!ask.at(&l, T1), "expired at exactly the expiry time");
    assert!(!ask.at(&l, T2));
    assert_eq!(status(&l, "ads", "user.device", None, "2024-01-15T00:00:00Z"), ConsentStatus::Given);
    assert_eq!(status(&l, "ads", "user.device", None, T2), ConsentStatus::Expired);
    assert!(!ConsentStatus::Expired.is_valid_for_processing());
}

#[test]
fn refusal_after_a_grant() {
    let mut l = InMemoryLedger::new();
    l.append(event(1, T0, grant(ConsentQualities::explicit(), scope("ads", "user.device")))).unwrap();
    l.append(event(2, T1, ConsentChange::Refuse { scope: scope("ads", "user.device") })).unwrap();
    assert!(!Ask::new("ads", "user.device").at(&l, T2));
    assert_eq!(status(&l, "ads", "user.device", None, T2), ConsentStatus::Refused);
}

#[test]
fn regrant_after_withdrawal_is_renewed_consent() {
    let mut l = InMemoryLedger::new();
    l.append(event(1, T0, grant(ConsentQualities::explicit(), scope("ads", "user.device")))).unwrap();
    l.append(event(2, T1, ConsentChange::Withdraw { scope: scope("ads", "user.device") })).unwrap();
    l.append(event(3, T2, grant(ConsentQualities::explicit(), scope("ads", "user.device")))).unwrap();
    let ask = Ask::new("ads", "user.device");
    assert!(ask.at(&l, T0));
    assert!(!ask.at(&l, T1));
    assert!(ask.at(&l, T2));
    let s = status(&l, "ads", "user.device", None, T2);
    assert_eq!(s, ConsentStatus::RenewedGiven);
    assert!(s.is_valid_for_processing());
    assert_eq!(s.dpv(), "dpv:RenewedConsentGiven");
}

#[test]
fn a_grant_after_a_refusal_is_not_renewed() {
    let mut l = InMemoryLedger::new();
    l.append(event(1, T0, ConsentChange::Refuse { scope: scope("ads", "user.device") })).unwrap();
    l.append(event(2, T1, grant(ConsentQualities::explicit(), scope("ads", "user.device")))).unwrap();
    assert_eq!(status(&l, "ads", "user.device", None, T0), ConsentStatus::Refused);
    assert_eq!(status(&l, "ads", "user.device", None, T1), ConsentStatus::Given);
}

#[test]
fn statuses_have_dpv_names_and_serialise_as_them() {
    for (s, name, valid) in [
        (ConsentStatus::Unknown, "dpv:ConsentUnknown", false),
        (ConsentStatus::Given, "dpv:ConsentGiven", true),
        (ConsentStatus::RenewedGiven, "dpv:RenewedConsentGiven", true),
        (ConsentStatus::Refused, "dpv:ConsentRefused", false),
        (ConsentStatus::Withdrawn, "dpv:ConsentWithdrawn", false),
        (ConsentStatus::Revoked, "dpv:ConsentRevoked", false),
        (ConsentStatus::Expired, "dpv:ConsentExpired", false),
    ] {
        assert_eq!(s.dpv(), name);
        assert_eq!(s.is_valid_for_processing(), valid, "{name}");
        assert_eq!(serde_json::to_string(&s).unwrap(), format!("\"{name}\""));
        assert_eq!(serde_json::from_str::<ConsentStatus>(&format!("\"{name}\"")).unwrap(), s);
    }
}

#[test]
fn permissions_switch_on_and_off() {
    let mut l = InMemoryLedger::new();
    let alice: SubjectId = "alice".into();
    assert!(!l.permission_on(&alice, Permission::Camera, t(T2)), "off until switched on");
    l.append(event(1, T0, ConsentChange::PermissionOn { permission: Permission::Camera })).unwrap();
    l.append(event(2, T1, ConsentChange::PermissionOff { permission: Permission::Camera })).unwrap();
    l.append(event(3, T0, ConsentChange::PermissionOn { permission: Permission::Location })).unwrap();
    assert!(!l.permission_on(&alice, Permission::Camera, t("2023-12-31T00:00:00Z")));
    assert!(l.permission_on(&alice, Permission::Camera, t(T0)));
    assert!(!l.permission_on(&alice, Permission::Camera, t(T1)));
    assert!(l.permission_on(&alice, Permission::Location, t(T2)));
    assert!(!l.permission_on(&alice, Permission::Contacts, t(T2)));
    assert!(!l.permission_on(&"bob".into(), Permission::Location, t(T2)));
    // A permission is not consent.
    assert!(!Ask::new("ads", "user.location.precise").required(ConsentQualities::IMPLIED).at(&l, T2));
    // Through a reference, as the evaluator reads it.
    let by_ref: &InMemoryLedger = &l;
    assert!(ConsentStore::permission_on(&by_ref, &alice, Permission::Location, t(T2)));
}

#[test]
fn recipient_scoped_grants_answer_only_for_that_recipient() {
    let mut l = InMemoryLedger::new();
    l.append(event(1, T0, grant(ConsentQualities::separate(), to(scope("marketing", "user.contact"), "partner_a"))))
        .unwrap();
    let ask = Ask::new("marketing", "user.contact").required(ConsentQualities::separate());
    assert!(ask.covering(&[]).recipient("partner_a").at(&l, T1));
    assert!(
        !Ask::new("marketing", "user.contact").required(ConsentQualities::separate()).recipient("partner_b").at(&l, T1)
    );
    assert!(
        !Ask::new("marketing", "user.contact").required(ConsentQualities::separate()).at(&l, T1),
        "no recipient asked"
    );
    assert_eq!(status(&l, "marketing", "user.contact", Some("partner_a"), T1), ConsentStatus::Given);
    assert_eq!(status(&l, "marketing", "user.contact", Some("partner_b"), T1), ConsentStatus::Unknown);

    // Withdrawing for another recipient leaves it; withdrawing for it, or
    // for every recipient, ends it.
    l.append(event(2, T1, ConsentChange::Withdraw { scope: to(scope("marketing", "user.contact"), "partner_b") }))
        .unwrap();
    let a = Ask::new("marketing", "user.contact").required(ConsentQualities::separate()).recipient("partner_a");
    assert!(a.at(&l, T1));
    l.append(event(3, T2, ConsentChange::Withdraw { scope: scope("marketing", "user.contact") })).unwrap();
    assert!(!a.at(&l, T2));
}

#[test]
fn a_withdrawal_for_one_recipient_ends_general_grants_for_that_recipient() {
    // A general grant covers every recipient of the purpose; withdrawing it
    // for one recipient stops disclosure to that recipient only.
    let mut l = InMemoryLedger::new();
    l.append(event(1, T0, grant(ConsentQualities::separate(), scope("marketing", "user.contact")))).unwrap();
    let ask = |r: &str| Ask::new("marketing", "user.contact").required(ConsentQualities::separate()).recipient(r);
    assert!(ask("partner_a").at(&l, T1) && ask("partner_b").at(&l, T1));
    l.append(event(2, T1, ConsentChange::Withdraw { scope: to(scope("marketing", "user.contact"), "partner_a") }))
        .unwrap();
    assert!(!ask("partner_a").at(&l, T1));
    assert!(ask("partner_b").at(&l, T1));
    assert!(Ask::new("marketing", "user.contact").required(ConsentQualities::separate()).at(&l, T1), "own use");
    assert_eq!(status(&l, "marketing", "user.contact", Some("partner_a"), T1), ConsentStatus::Withdrawn);
    assert_eq!(status(&l, "marketing", "user.contact", Some("partner_b"), T1), ConsentStatus::Given);
}

// ---------------------------------------------------------------------------
// Descendants, covering and sensitivity.

#[test]
fn an_ancestor_grant_covers_a_descendant_only_when_listed_in_covering() {
    let mut l = InMemoryLedger::new();
    l.append(event(1, T0, grant(ConsentQualities::explicit(), scope("ads", "user.device")))).unwrap();
    // The engine lists `user.device` (Personal) as covering the IMEI
    // (Personal): same sensitivity.
    let covered = Ask::new("ads", "user.device.device_id.imei").covering(&["user.device.device_id", "user.device"]);
    assert!(covered.at(&l, T1));
    // The ledger itself does not walk the hierarchy: without `covering`, an
    // ancestor's grant does not answer.
    assert!(!Ask::new("ads", "user.device.device_id.imei").at(&l, T1));
    // A covering list that names unrelated keys does not help either.
    assert!(!Ask::new("ads", "user.device.device_id.imei").covering(&["user.location"]).at(&l, T1));
    // A grant on a descendant never covers its ancestor.
    let mut l = InMemoryLedger::new();
    l.append(event(1, T0, grant(ConsentQualities::explicit(), scope("ads", "user.device.device_id.imei")))).unwrap();
    assert!(!Ask::new("ads", "user.device").at(&l, T1));
}

#[test]
fn a_personal_ancestor_grant_does_not_cover_a_sensitive_descendant() {
    use privacy_engine::{Sensitivity, Taxonomy};

    // What the engine computes for covering: the ancestors whose sensitivity
    // is at least the category's. Done here by hand from the taxonomy.
    let taxonomy = Taxonomy::builtin();
    let covering_of = |k: &str| -> Vec<CategoryKey> {
        let k = key(k);
        let own = taxonomy.get(&k).unwrap().sensitivity;
        std::iter::successors(k.parent(), CategoryKey::parent)
            .filter(|a| taxonomy.get(a).is_some_and(|i| i.sensitivity >= own))
            .collect()
    };
    let precise = covering_of("user.location.precise");
    assert_eq!(taxonomy.get(&key("user.location.precise")).unwrap().sensitivity, Sensitivity::Sensitive);
    assert!(precise.is_empty(), "neither `user.location` nor `user` is sensitive: {precise:?}");
    let imei = covering_of("user.device.device_id.imei");
    assert_eq!(imei, vec![key("user.device.device_id"), key("user.device"), key("user")]);

    let mut l = InMemoryLedger::new();
    l.append(event(1, T0, grant(ConsentQualities::separate(), scope("ads", "user")))).unwrap();
    let precise_ask = Ask { covering: precise, ..Ask::new("ads", "user.location.precise") };
    assert!(!precise_ask.at(&l, T1), "a grant on `user` must not cover precise location");
    let imei_ask = Ask { covering: imei, ..Ask::new("ads", "user.device.device_id.imei") };
    assert!(imei_ask.at(&l, T1), "a grant on `user` covers the IMEI");
    // Were the engine to list `user` as covering, the ledger would follow it:
    // the limit is the engine's, not the ledger's.
    assert!(Ask::new("ads", "user.location.precise").covering(&["user"]).at(&l, T1));
}

// ---------------------------------------------------------------------------
// Serialisation.

#[test]
fn consent_events_round_trip() {
    let events = [
        event(
            1,
            T0,
            ConsentChange::Grant {
                qualities: ConsentQualities::separate() | ConsentQualities::GUARDIAN,
                scope: to(scope("marketing", "user.contact.phone_number"), "partner_a"),
                expires: Some("2025-01-01T00:00:00+08:00".parse().unwrap()),
            },
        ),
        event(2, T1, grant(ConsentQualities::IMPLIED, scope("registration", "user"))),
        event(3, T1, ConsentChange::Withdraw { scope: scope("marketing", "user.contact") }),
        event(4, T1, ConsentChange::Refuse { scope: scope("marketing", "user.contact") }),
        event(5, T1, ConsentChange::Expire { scope: scope("marketing", "user.contact") }),
        event(6, T1, ConsentChange::Revoke { scope: scope("marketing", "user.contact") }),
        event(7, T2, ConsentChange::PermissionOn { permission: Permission::CallLogs }),
        event(8, T2, ConsentChange::PermissionOff { permission: Permission::DeviceInfo }),
    ];
    for e in events {
        let json = serde_json::to_string(&e).unwrap();
        let back: ConsentEvent = serde_json::from_str(&json).unwrap();
        assert_eq!(back, e, "{json}");
        // The offset is kept, not normalised to UTC.
        assert_eq!(back.at.offset(), e.at.offset());
    }
}

#[test]
fn consent_event_json_form() {
    let json = r#"{
        "id": "00000000-0000-0000-0000-000000000001",
        "at": "2024-01-01T10:00:00+08:00",
        "subject": "alice",
        "policy_id": "seed-004",
        "policy_version": "2021-08-20",
        "change": {
            "type": "grant",
            "qualities": ["affirmative", "explicit"],
            "scope": {"purposes": ["ads"], "categories": ["user.device"]}
        }
    }"#;
    let e: ConsentEvent = serde_json::from_str(json).unwrap();
    assert_eq!(e, event(1, T0, grant(ConsentQualities::explicit(), scope("ads", "user.device"))));
    // Unknown fields, bad keys and unknown qualities are refused.
    for bad in [
        json.replace(r#""subject""#, r#""colour": 1, "subject""#),
        json.replace(r#""purposes""#, r#""colour": 1, "purposes""#),
        json.replace("user.device", "User.Device"),
        json.replace(r#""explicit""#, r#""express""#),
        json.replace(r#""grant""#, r#""grunt""#),
    ] {
        assert!(serde_json::from_str::<ConsentEvent>(&bad).is_err(), "{bad}");
    }
}

// ---------------------------------------------------------------------------
// Arrival order, late events, and the recording horizon (issue 13 item 2).

/// The same events in both ledgers, in the order given.
fn both(events: &[ConsentEvent]) -> (InMemoryLedger, CompactLedger) {
    let (mut memory, mut compact) = (InMemoryLedger::new(), CompactLedger::new());
    for e in events {
        memory.append(e.clone()).unwrap();
        compact.append(e.clone()).unwrap();
    }
    (memory, compact)
}

#[test]
fn reversed_appends_are_kept_in_arrival_order_and_answered_by_time() {
    // 30,000 events, newest first, alternating grant (even seconds) and
    // withdrawal (odd): appending pushes (the ledgers used to insert at the
    // event's time, O(n²): 6 s for this history), and the arrival order
    // coming back unchanged shows no event was moved.
    const N: i64 = 30_000;
    let base = t("2024-01-01T00:00:00Z");
    let events: Vec<ConsentEvent> = (0..N)
        .map(|i| {
            let secs = N - i;
            let at = (base + chrono::TimeDelta::seconds(secs)).fixed_offset().to_rfc3339();
            let s = scope("ads", "user.device");
            let change = if secs % 2 == 0 {
                grant(ConsentQualities::explicit(), s)
            } else {
                ConsentChange::Withdraw { scope: s }
            };
            event(i as u128, &at, change)
        })
        .collect();
    let (memory, compact) = both(&events);
    let arrived: Vec<u128> = memory.arrivals(&"alice".into()).map(|(e, _)| e.id.as_u128()).collect();
    assert_eq!(arrived, (0..N as u128).collect::<Vec<_>>());
    let arrived: Vec<u128> = compact.arrivals(&"alice".into()).map(|(e, _)| e.id.as_u128()).collect();
    assert_eq!(arrived, (0..N as u128).collect::<Vec<_>>());
    let in_time: Vec<u128> = compact.events(&"alice".into()).map(|e| e.id.as_u128()).collect();
    assert_eq!(in_time, (0..N as u128).rev().collect::<Vec<_>>());
    let ask = Ask::new("ads", "user.device");
    for secs in [1, 2, 3, 10_000, 10_001, N - 1, N] {
        let at = (base + chrono::TimeDelta::seconds(secs)).to_rfc3339();
        assert_eq!(ask.at(&memory, &at), secs % 2 == 0, "in memory at {secs}");
        assert_eq!(ask.at(&compact, &at), secs % 2 == 0, "compact at {secs}");
    }
}

#[test]
fn a_late_grant_counts_from_its_own_time() {
    // A withdrawal at T1 arrives first; the grant at T0 and a grant at T2,
    // recorded later by an offline client, arrive after it.
    let s = || scope("ads", "user.device");
    let (memory, compact) = both(&[
        event(1, T1, ConsentChange::Withdraw { scope: s() }),
        event(2, T0, grant(ConsentQualities::explicit(), s())),
        event(3, "2024-01-15T10:00:00+08:00", grant(ConsentQualities::explicit(), s())),
        event(4, T2, grant(ConsentQualities::explicit(), s())),
    ]);
    let ask = Ask::new("ads", "user.device");
    for (at, want) in [
        ("2023-12-31T10:00:00+08:00", false),
        (T0, true),
        ("2024-01-20T10:00:00+08:00", true),
        (T1, false),
        ("2024-02-15T10:00:00+08:00", false),
        (T2, true),
    ] {
        assert_eq!(ask.at(&memory, at), want, "in memory at {at}");
        assert_eq!(ask.at(&compact, at), want, "compact at {at}");
    }
    assert_eq!(status(&memory, "ads", "user.device", None, "2024-01-20T10:00:00+08:00"), ConsentStatus::RenewedGiven);
    assert_eq!(status(&memory, "ads", "user.device", None, "2024-02-15T10:00:00+08:00"), ConsentStatus::Withdrawn);
    let at = t("2024-01-20T10:00:00+08:00");
    let c = compact.status(&"alice".into(), &"ads".into(), &key("user.device"), None, at);
    assert_eq!(c, ConsentStatus::RenewedGiven);
}

#[test]
fn a_late_withdrawal_ends_grants_from_its_time() {
    let s = || scope("ads", "user.device");
    let (memory, compact) = both(&[
        event(1, T0, grant(ConsentQualities::explicit(), s())),
        event(2, T2, grant(ConsentQualities::explicit(), s())),
        event(3, "2024-01-01T10:00:00+08:00", ConsentChange::PermissionOn { permission: Permission::Camera }),
        // Arrives last, dated between the two grants.
        event(4, T1, ConsentChange::Withdraw { scope: s() }),
        event(5, T1, ConsentChange::PermissionOff { permission: Permission::Camera }),
    ]);
    let ask = Ask::new("ads", "user.device");
    for (at, want) in [(T0, true), ("2024-01-31T10:00:00+08:00", true), (T1, false), (T2, true)] {
        assert_eq!(ask.at(&memory, at), want, "in memory at {at}");
        assert_eq!(ask.at(&compact, at), want, "compact at {at}");
    }
    for store in [&memory as &dyn ConsentStore, &compact] {
        assert!(store.permission_on(&"alice".into(), Permission::Camera, t(T0)));
        assert!(!store.permission_on(&"alice".into(), Permission::Camera, t(T2)));
    }
}

#[test]
fn an_event_outside_the_horizon_or_the_skew_is_refused_with_its_id() {
    assert_eq!(CONSENT_HORIZON, chrono::TimeDelta::days(400));
    assert_eq!(CONSENT_SKEW, chrono::TimeDelta::minutes(5));
    let recorded = t("2025-06-01T00:00:00Z");
    let dated = |id: u128, at: DateTime<Utc>| {
        event(id, &at.to_rfc3339(), grant(ConsentQualities::explicit(), scope("ads", "user.device")))
    };
    let too_old = dated(1, recorded - CONSENT_HORIZON - chrono::TimeDelta::seconds(1));
    let oldest = dated(2, recorded - CONSENT_HORIZON);
    let latest = dated(3, recorded + CONSENT_SKEW);
    let too_new = dated(4, recorded + CONSENT_SKEW + chrono::TimeDelta::nanoseconds(1));
    let (mut memory, mut compact) = (InMemoryLedger::new(), CompactLedger::new());
    for (e, ok) in [(too_old, false), (oldest, true), (latest, true), (too_new, false)] {
        let results = [memory.append_at(e.clone(), recorded), compact.append_at(e.clone(), recorded)];
        for r in results {
            match r {
                Ok(()) => assert!(ok, "event {} accepted", e.id),
                Err(err) => {
                    assert!(!ok, "event {} refused: {err}", e.id);
                    assert_eq!(err.kind(), ErrorKind::Ledger);
                    assert!(err.to_string().contains(&format!("`{}`", e.id)), "{err}");
                }
            }
        }
    }
    assert_eq!((memory.len(), compact.len()), (2, 2));
    // The recording time is kept beside each event; `append` records none.
    memory.append(dated(5, recorded - chrono::TimeDelta::days(4000))).unwrap();
    let recorded_at: Vec<_> = memory.arrivals(&"alice".into()).map(|(_, r)| r).collect();
    assert_eq!(recorded_at, vec![Some(recorded), Some(recorded), None]);
    compact.append(dated(5, recorded - chrono::TimeDelta::days(4000))).unwrap();
    let recorded_at: Vec<_> = compact.arrivals(&"alice".into()).map(|(_, r)| r).collect();
    assert_eq!(recorded_at, vec![Some(recorded), Some(recorded), None]);
}

#[test]
fn a_line_with_a_long_reversed_history_is_decided_in_one_pass() {
    // As many events as a line may hold, newest first (30,000 events with
    // 30,000 categories took 93 s before; a line now holds at most
    // `MAX_CONSENT_EVENTS_PER_LINE`): the consents are appended as they come
    // and the request is answered by the events' own times.
    // Even, so that the newest event is a grant.
    const N: i64 = privacy_engine::MAX_CONSENT_EVENTS_PER_LINE as i64 - 2;
    let policy = privacy_engine::Policy::from_json(include_str!("../../examples/policies/seed-004.json")).unwrap();
    let engine = privacy_engine::Engine::new(policy).unwrap();
    let base = t("2024-01-01T00:00:00Z");
    let events: Vec<ConsentEvent> = (0..N)
        .map(|i| {
            let secs = N - i;
            let at = (base + chrono::TimeDelta::seconds(secs)).to_rfc3339();
            let s = scope("face_verification", "user.biometric.face");
            let change = if secs % 2 == 0 {
                grant(ConsentQualities::separate(), s)
            } else {
                ConsentChange::Withdraw { scope: s }
            };
            event_for("u", i as u128, &at, change)
        })
        .chain([event_for("u", N as u128, T0, ConsentChange::PermissionOn { permission: Permission::Camera })])
        .collect();
    let line = |secs: i64| {
        let at = (base + chrono::TimeDelta::seconds(secs)).to_rfc3339();
        let request = format!(
            r#"{{"action":"collect","subject":{{"id":"u","age":30}},"categories":["user.biometric.face"],"purpose":"face_verification","at":"{at}"}}"#
        );
        format!(r#"{{"request":{request},"consents":{}}}"#, serde_json::to_string(&events).unwrap())
    };
    assert!(privacy_engine::decide_line(&engine, &line(N)).unwrap().is_permit());
    assert!(!privacy_engine::decide_line(&engine, &line(N - 1)).unwrap().is_permit());
}

// ---------------------------------------------------------------------------
// Grants that describe a purpose or recipient the policy does not name.

#[test]
fn only_a_grant_that_describes_it_answers_for_an_undeclared_purpose_or_recipient() {
    use privacy_engine::{Described, RecipientKind};
    let described = to(scope("survey", "user.contact"), "acme")
        .described(Described::purpose("a survey").and_recipient("Acme Ltd", RecipientKind::Partner));
    let plain = scope("survey", "user.contact");
    let events = [
        event(1, "2024-01-01T00:00:00Z", grant(ConsentQualities::separate(), described.clone())),
        event_for("bob", 2, "2024-01-01T00:00:00Z", grant(ConsentQualities::separate(), plain)),
    ];
    let mut memory = InMemoryLedger::new();
    let mut compact = CompactLedger::new();
    for e in &events {
        memory.append(e.clone()).unwrap();
        compact.append(e.clone()).unwrap();
    }
    // The compact ledger keeps the description.
    assert_eq!(compact.events(&"alice".into()).collect::<Vec<_>>(), vec![events[0].clone()]);
    let (purpose, category, recipient) = (PurposeId::from("survey"), key("user.contact"), RecipientId::from("acme"));
    let stores: [&dyn ConsentStore; 2] = [&memory, &compact];
    for store in stores {
        for (subject, described) in [("alice", true), ("bob", false)] {
            let subject = SubjectId::from(subject);
            let q = ConsentQuery::new(&subject, &purpose, &category, t("2024-02-01T00:00:00Z")).recipient(&recipient);
            assert!(store.has_consent(&q), "a plain query ignores descriptions");
            assert_eq!(store.has_consent(&q.purpose_undeclared()), described);
        }
        let alice = SubjectId::from("alice");
        let q = ConsentQuery::new(&alice, &purpose, &category, t("2024-02-01T00:00:00Z")).recipient(&recipient);
        assert!(store.has_consent(&q.recipient_kind(RecipientKind::Partner)));
        assert!(!store.has_consent(&q.recipient_kind(RecipientKind::Advertiser)));
    }
}

#[test]
fn descriptions_are_checked_when_appended() {
    use privacy_engine::{Described, RecipientKind};
    let bad = [
        // A recipient described, but none named.
        grant(
            ConsentQualities::separate(),
            scope("s", "user").described(Described::recipient("x", RecipientKind::Partner)),
        ),
        // An empty description.
        grant(ConsentQualities::separate(), scope("s", "user").described(Described::purpose(" "))),
        // Only a grant describes.
        ConsentChange::Withdraw { scope: scope("s", "user").described(Described::purpose("a survey")) },
    ];
    for (i, change) in bad.into_iter().enumerate() {
        let e = event(i as u128 + 1, "2024-01-01T00:00:00Z", change);
        let err = InMemoryLedger::new().append(e.clone()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Ledger);
        assert!(err.to_string().starts_with(&format!("consent event `{}`", e.id)), "{err}");
        assert!(CompactLedger::new().append(e).is_err());
    }
}

/// `ConsentQuery::under`: only grants given under the policy, in one of the
/// versions, count, in both ledgers, also past the compact ledger's first 64
/// policy versions; an ending event counts whatever version it names.
#[test]
fn a_query_under_a_policy_counts_only_its_versions_grants() {
    let mut memory = InMemoryLedger::new();
    let mut compact = CompactLedger::new();
    let mut push = |e: ConsentEvent| {
        memory.append(e.clone()).unwrap();
        compact.append(e).unwrap();
    };
    // 70 grants, each under its own version `v0`..`v69` of seed-004.
    for i in 0..70u128 {
        let mut e = event(i + 1, "2024-01-01T00:00:00Z", grant(ConsentQualities::explicit(), scope("ads", "user")));
        e.policy_version = format!("v{i}");
        push(e);
    }
    let mut other = event(100, "2024-01-01T00:00:00Z", grant(ConsentQualities::separate(), scope("ads", "user")));
    other.policy_id = "other-policy".into();
    push(other);
    let (subject, purpose, category) = (SubjectId::from("alice"), PurposeId::from("ads"), key("user"));
    let policy = privacy_engine::PolicyId::from("seed-004");
    let at = t("2024-02-01T00:00:00Z");
    for (versions, explicit, separate) in [
        (vec!["v3".to_owned()], true, false),
        (vec!["v68".to_owned(), "v69".to_owned()], true, false),
        (vec!["v70".to_owned()], false, false),
        (vec![], false, false),
    ] {
        let q = ConsentQuery::new(&subject, &purpose, &category, at).under(&policy, &versions);
        for (name, store) in [("memory", &memory as &dyn ConsentStore), ("compact", &compact as &dyn ConsentStore)] {
            let explicit_q = q.required(ConsentQualities::explicit());
            let separate_q = q.required(ConsentQualities::separate());
            assert_eq!(store.has_consent(&explicit_q), explicit, "{name} {versions:?}");
            assert_eq!(store.has_consent(&separate_q), separate, "{name} {versions:?}: another policy's grant");
        }
    }
    // With no policy named, every grant counts, the other policy's too.
    let q = ConsentQuery::new(&subject, &purpose, &category, at).required(ConsentQualities::separate());
    assert!(memory.has_consent(&q) && compact.has_consent(&q));
    // A withdrawal under a version nobody asks about still ends them.
    let mut w = event(200, "2024-01-15T00:00:00Z", ConsentChange::Withdraw { scope: scope("ads", "user") });
    w.policy_version = "unknown".into();
    memory.append(w.clone()).unwrap();
    compact.append(w).unwrap();
    let versions = ["v3".to_owned()];
    let q = ConsentQuery::new(&subject, &purpose, &category, at).under(&policy, &versions);
    assert!(!memory.has_consent(&q) && !compact.has_consent(&q));
}
