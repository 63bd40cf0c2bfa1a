//! Policy versions: the version in force decides (004 §7: a revision takes
//! effect at its date; nothing was in force before the first), a grant
//! counts only for the policy it was given under and the versions the
//! change rules say it still covers (catalog §12), and a decision says
//! which version it was made under.

use privacy_engine::{
    Action, CompactLedger, ConsentChange, ConsentEvent, ConsentQualities, ConsentStore, DiagnosticCode, Effect, Engine,
    ErrorKind, InMemoryLedger, Permission, Policy, PolicyHistory, Request, Verdict,
};

use crate::{SEED_004, adult, assert_no_reason, assert_reason, assert_verdict, engine, keys, scope, seed_value, t};

/// A consent event under `policy` in `version`.
fn event(n: u128, at: &str, policy: &str, version: &str, change: ConsentChange) -> ConsentEvent {
    ConsentEvent::new(uuid::Uuid::from_u128(n), t(at), "alice", policy, version, change)
}

/// A separate grant for face verification, and the camera switched on,
/// both under `policy` in `version`.
fn face_grant(policy: &str, version: &str, at: &str) -> Vec<ConsentEvent> {
    let qualities = ConsentQualities::separate();
    let grant = ConsentChange::Grant {
        qualities,
        scope: scope("face_verification", &["user.biometric.face"], None),
        expires: None,
    };
    vec![
        event(
            1,
            "2000-01-01T00:00:00+08:00",
            "seed-004",
            "2021-08-20",
            ConsentChange::PermissionOn { permission: Permission::Camera },
        ),
        event(2, at, policy, version, grant),
    ]
}

fn face_request(at: &str) -> Request {
    Request::new(Action::Collect, adult("alice"), keys(&["user.biometric.face"]), t(at)).purpose("face_verification")
}

/// The decision with each ledger (in memory; compact, unbound and bound):
/// all the same.
fn decide(engine: &Engine, events: &[ConsentEvent], request: &Request) -> privacy_engine::Decision {
    let mut memory = InMemoryLedger::new();
    memory.extend(events.iter().cloned()).unwrap();
    let mut compact = CompactLedger::new();
    compact.extend(events.iter().cloned()).unwrap();
    let mut bound = CompactLedger::new();
    engine.bind_ledger(&mut bound);
    bound.extend(events.iter().cloned()).unwrap();
    let decision = engine.evaluate(request, &memory);
    for (name, store) in [("compact", &compact as &dyn Store), ("bound", &bound as &dyn Store)] {
        let prepared = engine.prepare(request);
        assert_eq!(store.decide(engine, &prepared), decision, "{name} ledger");
    }
    decision
}

/// A ledger as a trait object, for the loop above.
trait Store {
    fn decide(&self, engine: &Engine, prepared: &privacy_engine::Prepared<'_>) -> privacy_engine::Decision;
}

impl<S: ConsentStore> Store for S {
    fn decide(&self, engine: &Engine, prepared: &privacy_engine::Prepared<'_>) -> privacy_engine::Decision {
        engine.decide(prepared, self).to_decision()
    }
}

#[test]
fn a_grant_under_another_policy_does_not_permit_a_sensitive_collection() {
    // The defect of issue 14: this grant permitted the collection.
    let events = face_grant("some-other-policy", "1999", "2024-05-01T09:00:00+08:00");
    let d = decide(engine(), &events, &face_request("2024-05-20T10:00:00+08:00"));
    assert_verdict(&d, Verdict::Deny);
    assert_reason(&d, "004.consent.face", Effect::Deny);
    // The same grant under the policy's own version permits.
    let events = face_grant("seed-004", "2021-08-20", "2024-05-01T09:00:00+08:00");
    assert_verdict(&decide(engine(), &events, &face_request("2024-05-20T10:00:00+08:00")), Verdict::Permit);
}

#[test]
fn a_grant_under_a_version_the_engine_does_not_know_does_not_count() {
    let events = face_grant("seed-004", "1999", "2024-05-01T09:00:00+08:00");
    assert_verdict(&decide(engine(), &events, &face_request("2024-05-20T10:00:00+08:00")), Verdict::Deny);
}

#[test]
fn a_withdrawal_under_another_version_still_ends_the_grant() {
    let mut events = face_grant("seed-004", "2021-08-20", "2024-05-01T09:00:00+08:00");
    let scope = scope("face_verification", &["user.biometric.face"], None);
    events.push(event(3, "2024-05-02T09:00:00+08:00", "some-other-policy", "1999", ConsentChange::Withdraw { scope }));
    assert_verdict(&decide(engine(), &events, &face_request("2024-05-20T10:00:00+08:00")), Verdict::Deny);
}

#[test]
fn a_request_before_the_policy_takes_effect_is_denied() {
    // seed-004 takes effect on 2021-08-20 (+08:00).
    let request = crate::req(Action::Collect, &["user.contact.phone_number"], "registration_login");
    let mut before = request.clone();
    before.at = t("2021-08-19T23:59:59+08:00");
    let d = decide(engine(), &[], &before);
    assert_verdict(&d, Verdict::Deny);
    assert_reason(&d, "builtin.no_policy_in_force", Effect::Deny);
    assert_eq!(d.policy_version, None);
    let mut on_the_day = request;
    on_the_day.at = t("2021-08-20T00:00:00+08:00");
    let d = decide(engine(), &[], &on_the_day);
    assert_verdict(&d, Verdict::Permit);
    assert_no_reason(&d, "builtin.no_policy_in_force");
}

#[test]
fn a_decision_names_the_policy_and_version_it_was_made_under() {
    let d = decide(engine(), &[], &crate::req(Action::Collect, &["user.contact.phone_number"], "registration_login"));
    assert_eq!(d.policy_id.as_ref().map(|p| p.as_str()), Some("seed-004"));
    assert_eq!(d.policy_version.as_deref(), Some("2021-08-20"));
    let json: serde_json::Value = serde_json::from_str(&d.to_json()).unwrap();
    assert_eq!(json["policy_id"], "seed-004");
    assert_eq!(json["policy_version"], "2021-08-20");
}

/// seed-004, then a revision in force from 2024-01-01 that adds the phone
/// number to face verification (a change of the purpose's categories, a
/// major change under 004 §7) and leaves the rest as it was.
fn revised() -> Policy {
    let mut v = seed_value();
    v["version"] = "2024-01-01".into();
    v["effective"] = "2024-01-01T00:00:00+08:00".into();
    let purposes = v["purposes"].as_array_mut().unwrap();
    let face = purposes.iter_mut().find(|p| p["id"] == "face_verification").unwrap();
    face["categories"].as_array_mut().unwrap().push("user.contact.phone_number".into());
    Policy::from_json(&v.to_string()).unwrap()
}

fn history() -> Engine {
    Engine::from_history(PolicyHistory::new(vec![Policy::from_json(SEED_004).unwrap(), revised()]).unwrap()).unwrap()
}

#[test]
fn the_version_in_force_at_the_request_decides() {
    let engine = history();
    let request = crate::req(Action::Collect, &["user.contact.phone_number"], "registration_login");
    let mut early = request.clone();
    early.at = t("2023-12-31T23:59:59+08:00");
    assert_eq!(decide(&engine, &[], &early).policy_version.as_deref(), Some("2021-08-20"));
    assert_eq!(decide(&engine, &[], &request).policy_version.as_deref(), Some("2024-01-01"));
    let mut too_early = request;
    too_early.at = t("2021-01-01T00:00:00+08:00");
    let d = decide(&engine, &[], &too_early);
    assert_reason(&d, "builtin.no_policy_in_force", Effect::Deny);
    assert_eq!(d.policy_version, None);
    assert_eq!(engine.policy().version, "2024-01-01");
    assert_eq!(engine.versions().map(|p| p.version.as_str()).collect::<Vec<_>>(), ["2021-08-20", "2024-01-01"]);
}

#[test]
fn a_grant_stops_covering_a_version_that_changed_its_purpose() {
    let engine = history();
    let v1_grant = face_grant("seed-004", "2021-08-20", "2023-06-01T09:00:00+08:00");
    // Under v1 the grant counts; under v2, which changed the purpose, not.
    assert_verdict(&decide(&engine, &v1_grant, &face_request("2023-07-01T10:00:00+08:00")), Verdict::Permit);
    let d = decide(&engine, &v1_grant, &face_request("2024-05-20T10:00:00+08:00"));
    assert_verdict(&d, Verdict::Deny);
    assert_eq!(d.policy_version.as_deref(), Some("2024-01-01"));
    // Fresh consent under v2 permits under v2, but not back under v1.
    let v2_grant = face_grant("seed-004", "2024-01-01", "2023-12-20T09:00:00+08:00");
    assert_verdict(&decide(&engine, &v2_grant, &face_request("2024-05-20T10:00:00+08:00")), Verdict::Permit);
    assert_verdict(&decide(&engine, &v2_grant, &face_request("2023-12-25T10:00:00+08:00")), Verdict::Deny);
}

#[test]
fn a_grant_for_an_unchanged_purpose_covers_the_next_version() {
    let engine = history();
    let qualities = ConsentQualities::separate();
    let scope = scope("payment_location_service", &["user.location.precise"], None);
    let events = vec![
        event(
            1,
            "2000-01-01T00:00:00+08:00",
            "seed-004",
            "2021-08-20",
            ConsentChange::PermissionOn { permission: Permission::Location },
        ),
        event(
            2,
            "2023-06-01T09:00:00+08:00",
            "seed-004",
            "2021-08-20",
            ConsentChange::Grant { qualities, scope, expires: None },
        ),
    ];
    let request = |at: &str| {
        Request::new(Action::Collect, adult("alice"), keys(&["user.location.precise"]), t(at))
            .purpose("payment_location_service")
    };
    assert_verdict(&decide(&engine, &events, &request("2023-07-01T10:00:00+08:00")), Verdict::Permit);
    assert_verdict(&decide(&engine, &events, &request("2024-05-20T10:00:00+08:00")), Verdict::Permit);
}

#[test]
fn a_history_reads_from_json_and_keeps_archived_versions() {
    let doc = serde_json::json!({"versions": [serde_json::from_str::<serde_json::Value>(SEED_004).unwrap(), serde_json::to_value(revised()).unwrap()]});
    let history = PolicyHistory::from_json(&doc.to_string()).unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history.id().as_str(), "seed-004");
    assert_eq!(history.latest().version, "2024-01-01");
    assert_eq!(history.version("2021-08-20").map(|p| p.effective), Some(t("2021-08-20T00:00:00+08:00")));
    assert_eq!(history.in_force(t("2023-01-01T00:00:00Z").to_utc()).map(|p| p.version.as_str()), Some("2021-08-20"));
    assert!(history.in_force(t("2020-01-01T00:00:00Z").to_utc()).is_none());
    assert_eq!(Engine::from_history(history).unwrap().versions().count(), 2);
}

#[test]
fn a_history_that_is_not_one_policy_in_time_is_refused_with_paths() {
    let v1 = Policy::from_json(SEED_004).unwrap();
    let errors = |versions: Vec<Policy>| {
        let err = PolicyHistory::new(versions).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Invalid);
        err.diagnostics().iter().map(|d| (d.code, d.path.clone())).collect::<Vec<_>>()
    };
    let mut other = revised();
    other.id = "seed-003".into();
    assert_eq!(errors(vec![v1.clone(), other]), [(DiagnosticCode::HistoryPolicyId, "/versions/1/id".to_owned())]);
    let mut same = revised();
    same.version = v1.version.clone();
    assert_eq!(errors(vec![v1.clone(), same]), [(DiagnosticCode::DuplicateVersion, "/versions/1/version".to_owned())]);
    let mut earlier = revised();
    earlier.effective = v1.effective;
    assert_eq!(
        errors(vec![v1.clone(), earlier]),
        [(DiagnosticCode::EffectiveOrder, "/versions/1/effective".to_owned())]
    );
    assert_eq!(errors(vec![]), [(DiagnosticCode::EmptyList, "/versions".to_owned())]);
    // A version's own errors, under its place in the history.
    let mut v = seed_value();
    v["purposes"][0]["categories"][0] = "user.nowhere".into();
    let doc = format!(r#"{{"versions": [{SEED_004}, {v}]}}"#);
    let err = PolicyHistory::from_json(&doc).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Invalid);
    assert_eq!(err.path(), Some("/versions/1/purposes/0/categories/0"));
    let err = PolicyHistory::from_json(r#"{"versions": [], "extra": 1}"#).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Format);
}
