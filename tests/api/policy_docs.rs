//! Policy documents: every validation diagnostic with its path, format and
//! syntax errors with theirs, round trips, and no panic on any input.

use privacy_engine::{Diagnostic, DiagnosticCode, Error, ErrorKind, Policy, Severity};
use proptest::prelude::*;
use serde_json::{Value, json};

/// A small policy that loads with no diagnostic at all.
fn base() -> Value {
    json!({
        "schema": 1,
        "id": "test-policy",
        "version": "2024-01-01",
        "effective": "2024-01-01T00:00:00+08:00",
        "language": "zh-CN",
        "controller": {"name": "Example Co.", "owner": "Example Group"},
        "responsible": {"name": "personal information protection office", "contact": "privacy@example.com"},
        "contacts": [{"kind": "email", "detail": "privacy@example.com", "time_limit": {"working_days": 15}}],
        "complaints": [{"kind": "regulator", "detail": "the cyberspace administration"}],
        "rights": [{"right": "delete", "channels": [{"kind": "in_app", "detail": "settings"}], "verify_identity": true,
                    "grounds": ["consent_withdrawn", "account_cancelled"]}],
        "impact_assessment": {"date": "2023-12-01", "outcome": "no high risk found", "high_risk": false},
        "incident_notice": {"channels": ["email", "push"], "contents": ["remedies"], "password_reminder": true},
        "purposes": [
            {"id": "registration", "basis": "core", "categories": ["user.contact.phone_number"]},
            {"id": "face_verification", "basis": "optional", "categories": ["user.biometric.face"], "permission": "camera",
             "processing": ["automated_decision"]}
        ],
        "consent_requirements": [
            {
                "id": "face-separate",
                "actions": ["collect"],
                "purposes": ["face_verification"],
                "categories": ["user.biometric"],
                "qualities": ["affirmative", "explicit", "separate"]
            }
        ],
        "recipients": [
            {
                "id": "sms_vendor",
                "kind": "processor",
                "region": "CN",
                "agreements": ["processing_contract"],
                "categories": ["user.contact.phone_number"],
                "purposes": ["registration"],
                "data_state": "identifiable"
            }
        ],
        "actions": [
            {"id": "collect", "action": "collect"},
            {"id": "entrust", "action": "entrust", "recipient_requires": ["processing_contract"]},
            {"id": "delete", "action": "delete"}
        ],
        "minors": {
            "id": "minors",
            "guardian_consent_below": 14,
            "guardian_qualities": ["affirmative", "explicit", "separate", "guardian"],
            "rules": [{"id": "under-8", "below_age": 8, "effect": "deny", "purposes": ["face_verification"]}]
        },
        "retention": [
            {"id": "keep-account", "trigger": "account_cancelled", "minimum": "P0D", "maximum": "P3Y", "end_action": "delete_or_anonymise"}
        ],
        "lifecycle": {"reactivation": true, "termination_notice": "P30D", "cites": "§7"}
    })
}

/// `base()` changed by `f`.
fn with(f: impl FnOnce(&mut Value)) -> String {
    let mut v = base();
    f(&mut v);
    v.to_string()
}

fn load(json: &str) -> Result<Policy, Error> {
    Policy::from_json(json)
}

/// Loads a document that must fail validation, and returns its diagnostics.
fn invalid(json: &str) -> Vec<Diagnostic> {
    let err = load(json).expect_err("the policy should be invalid");
    assert_eq!(err.kind(), ErrorKind::Invalid, "{err}");
    assert_clear(&err);
    assert!(!err.diagnostics().is_empty());
    assert!(err.diagnostics().iter().all(|d| d.severity == Severity::Error));
    assert_eq!(err.path(), err.diagnostics().first().map(|d| d.path.as_str()));
    err.diagnostics().to_vec()
}

/// Asserts that a document fails with exactly one error, `code` at `path`.
fn assert_only_error(json: &str, code: DiagnosticCode, path: &str) {
    let diags = invalid(json);
    let found: Vec<(DiagnosticCode, &str)> = diags.iter().map(|d| (d.code, d.path.as_str())).collect();
    assert_eq!(found, vec![(code, path)], "{diags:#?}");
}

/// Loads a document that must load, and returns its warnings.
fn warnings(json: &str) -> Vec<Diagnostic> {
    let policy = load(json).unwrap();
    let all = policy.diagnostics();
    assert!(all.iter().all(|d| d.severity == Severity::Warning), "{all:#?}");
    all
}

/// Asserts that a document loads with exactly one warning, `code` at
/// `path`, unacknowledged.
fn assert_only_warning(json: &str, code: DiagnosticCode, path: &str) {
    let all = warnings(json);
    let found: Vec<(DiagnosticCode, &str, bool)> =
        all.iter().map(|d| (d.code, d.path.as_str(), d.acknowledged)).collect();
    assert_eq!(found, vec![(code, path, false)], "{all:#?}");
    let policy = load(json).unwrap();
    assert_eq!(policy.unacknowledged_warnings(), all);
}

/// Error messages start in lowercase, end without a period and fit on one
/// line.
fn assert_clear(err: &Error) {
    let msg = err.to_string();
    assert!(msg.chars().next().is_some_and(|c| !c.is_uppercase()), "{msg}");
    assert!(!msg.ends_with('.'), "{msg}");
    assert!(!msg.contains('\n') && !msg.contains('\r'), "{msg}");
    for d in err.diagnostics() {
        assert!(d.message.chars().next().is_some_and(|c| !c.is_uppercase()), "{d}");
        assert!(!d.message.ends_with('.') && !d.message.contains('\n'), "{d}");
    }
}

/// Loads a document that must fail to fit the format, and checks the path.
fn assert_format(json: &str, path: &str) -> Error {
    let err = load(json).expect_err("the document should not fit the format");
    assert_eq!(err.kind(), ErrorKind::Format, "{err}");
    assert_eq!(err.path(), Some(path), "{err}");
    assert!(err.line().is_some() && err.column().is_some(), "{err:?}");
    assert!(err.to_string().contains(&format!("at `{path}`")), "{err}");
    assert_clear(&err);
    err
}

// ---------------------------------------------------------------------------
// The base document.

#[test]
fn base_policy_loads_without_diagnostics() {
    let policy = load(&base().to_string()).unwrap();
    assert_eq!(policy.diagnostics(), vec![]);
    assert!(policy.unacknowledged_warnings().is_empty());
    assert!(policy.validate().is_ok());
    assert_eq!(policy.schema, privacy_engine::SCHEMA_VERSION);
    assert_eq!(policy.id.as_str(), "test-policy");
    assert_eq!(policy.purposes.len(), 2);
}

// ---------------------------------------------------------------------------
// Errors, each with its path.

#[test]
fn unknown_category_in_a_purpose() {
    let json = with(|v| v["purposes"][0]["categories"] = json!(["user.contact.phone_number", "user.contact.fax"]));
    assert_only_error(&json, DiagnosticCode::UnknownCategory, "/purposes/0/categories/1");
    let diags = invalid(&json);
    assert!(diags[0].message.contains("user.contact.fax"), "{}", diags[0]);
    assert!(diags[0].message.contains("registration"), "{}", diags[0]);
}

#[test]
fn unknown_category_elsewhere() {
    let json = with(|v| v["recipients"][0]["categories"][0] = json!("user.nowhere"));
    assert_only_error(&json, DiagnosticCode::UnknownCategory, "/recipients/0/categories/0");
    let json = with(|v| v["consent_requirements"][0]["categories"][0] = json!("user.nowhere"));
    assert_only_error(&json, DiagnosticCode::UnknownCategory, "/consent_requirements/0/categories/0");
    let json = with(|v| v["retention"][0]["categories"] = json!(["user", "user.nowhere"]));
    assert_only_error(&json, DiagnosticCode::UnknownCategory, "/retention/0/categories/1");
}

#[test]
fn unknown_purpose_in_a_recipient() {
    let json = with(|v| v["recipients"][0]["purposes"] = json!(["registration", "marketing"]));
    assert_only_error(&json, DiagnosticCode::UnknownPurpose, "/recipients/0/purposes/1");
    assert!(invalid(&json)[0].message.contains("marketing"));
}

#[test]
fn unknown_purpose_elsewhere() {
    let json = with(|v| v["consent_requirements"][0]["purposes"][0] = json!("marketing"));
    assert_only_error(&json, DiagnosticCode::UnknownPurpose, "/consent_requirements/0/purposes/0");
    let json = with(|v| v["minors"]["rules"][0]["purposes"][0] = json!("marketing"));
    assert_only_error(&json, DiagnosticCode::UnknownPurpose, "/minors/rules/0/purposes/0");
    let json = with(|v| v["retention"][0]["purposes"] = json!(["marketing"]));
    assert_only_error(&json, DiagnosticCode::UnknownPurpose, "/retention/0/purposes/0");
}

#[test]
fn duplicate_ids() {
    // A retention rule that reuses an action rule's id.
    let json = with(|v| v["retention"][0]["id"] = json!("collect"));
    assert_only_error(&json, DiagnosticCode::DuplicateId, "/retention/0/id");
    assert!(invalid(&json)[0].message.contains("/actions/0/id"), "names the first use");
    // Two exceptions with one id.
    let json = with(|v| {
        v["actions"][1]["exceptions"] = json!([
            {"id": "law", "ground": "law"},
            {"id": "law", "ground": "authority_request"}
        ]);
    });
    assert_only_error(&json, DiagnosticCode::DuplicateId, "/actions/1/exceptions/1/id");
    // The `builtin.` prefix is reserved.
    let json = with(|v| v["actions"][0]["id"] = json!("builtin.collect"));
    assert_only_error(&json, DiagnosticCode::DuplicateId, "/actions/0/id");
}

#[test]
fn lowered_sensitivity() {
    let json = with(|v| v["categories"] = json!([{"key": "user.location.precise", "sensitivity": "personal"}]));
    assert_only_error(&json, DiagnosticCode::LoweredSensitivity, "/categories/0/sensitivity");
    // Raising is allowed and takes effect.
    let json = with(|v| v["categories"] = json!([{"key": "user.device.model", "sensitivity": "personal"}]));
    let policy = load(&json).unwrap();
    let model = privacy_engine::CategoryKey::new("user.device.model").unwrap();
    assert_eq!(policy.taxonomy().get(&model).unwrap().sensitivity, privacy_engine::Sensitivity::Personal);
}

#[test]
fn unknown_parent_of_a_declared_category() {
    let json = with(|v| {
        v["categories"] = json!([
            {"key": "user.device.fridge_id", "description": "smart fridge id"},
            {"key": "user.nowhere.thing"}
        ]);
    });
    assert_only_error(&json, DiagnosticCode::UnknownParent, "/categories/1/key");
}

#[test]
fn declared_categories_may_come_in_any_order_and_inherit_sensitivity() {
    let json = with(|v| {
        v["categories"] = json!([
            {"key": "user.location.precise.indoor.floor"},
            {"key": "user.location.precise.indoor"}
        ]);
        v["purposes"][1]["categories"] = json!(["user.biometric.face", "user.location.precise.indoor.floor"]);
        v["consent_requirements"][0]["categories"] = json!(["user.biometric", "user.location"]);
    });
    let policy = load(&json).unwrap();
    let floor = privacy_engine::CategoryKey::new("user.location.precise.indoor.floor").unwrap();
    let info = policy.taxonomy().get(&floor).cloned().unwrap();
    assert_eq!(info.sensitivity, privacy_engine::Sensitivity::Sensitive);
    assert!(!info.builtin);
    assert_eq!(policy.diagnostics(), vec![]);
}

#[test]
fn duplicate_action_rule() {
    let json = with(|v| v["actions"].as_array_mut().unwrap().push(json!({"id": "collect-again", "action": "collect"})));
    assert_only_error(&json, DiagnosticCode::DuplicateActionRule, "/actions/3/action");
    let msg = &invalid(&json)[0].message;
    assert!(msg.contains("collect") && msg.contains("`collect`"), "names the first rule: {msg}");
}

#[test]
fn empty_purpose_categories() {
    let json = with(|v| v["purposes"][0]["categories"] = json!([]));
    assert_only_error(&json, DiagnosticCode::EmptyList, "/purposes/0/categories");
    let json = with(|v| v["consent_requirements"][0]["actions"] = json!([]));
    assert_only_error(&json, DiagnosticCode::EmptyList, "/consent_requirements/0/actions");
}

#[test]
fn incoherent_qualities() {
    // Separate without explicit.
    let json = with(|v| v["consent_requirements"][0]["qualities"] = json!(["affirmative", "separate"]));
    assert_only_error(&json, DiagnosticCode::InvalidQualities, "/consent_requirements/0/qualities");
    // Implied consent cannot be required.
    let json = with(|v| v["consent_requirements"][0]["qualities"] = json!([]));
    let diags = invalid(&json);
    assert!(
        diags
            .iter()
            .any(|d| d.code == DiagnosticCode::InvalidQualities && d.path == "/consent_requirements/0/qualities"),
        "{diags:#?}"
    );
    // Explicit without affirmative, on an action rule.
    let json = with(|v| v["actions"][1]["consent"] = json!(["explicit"]));
    assert_only_error(&json, DiagnosticCode::InvalidQualities, "/actions/1/consent");
    // The guardian's qualities.
    let json = with(|v| v["minors"]["guardian_qualities"] = json!(["guardian", "separate"]));
    assert_only_error(&json, DiagnosticCode::InvalidQualities, "/minors/guardian_qualities");
}

#[test]
fn absurd_ages_in_minors() {
    let json = with(|v| v["minors"]["guardian_consent_below"] = json!(0));
    assert_only_error(&json, DiagnosticCode::InvalidAge, "/minors/guardian_consent_below");
    let json = with(|v| v["minors"]["guardian_consent_below"] = json!(200));
    assert_only_error(&json, DiagnosticCode::InvalidAge, "/minors/guardian_consent_below");
    let json = with(|v| v["minors"]["rules"][0]["below_age"] = json!(200));
    assert_only_error(&json, DiagnosticCode::InvalidAge, "/minors/rules/0/below_age");
    let json = with(|v| v["minors"]["rules"][0]["below_age"] = json!(0));
    assert_only_error(&json, DiagnosticCode::InvalidAge, "/minors/rules/0/below_age");
    // Beyond a byte, or negative: a format error, not a panic.
    let json = with(|v| v["minors"]["guardian_consent_below"] = json!(300));
    assert_format(&json, "/minors/guardian_consent_below");
    let json = with(|v| v["minors"]["rules"][0]["below_age"] = json!(-1));
    assert_format(&json, "/minors/rules/0/below_age");
    // The bounds themselves are fine.
    for ok in [1, 25] {
        let json = with(|v| v["minors"]["rules"][0]["below_age"] = json!(ok));
        assert!(load(&json).is_ok(), "{ok}");
    }
}

#[test]
fn retention_minimum_beyond_maximum() {
    let json = with(|v| {
        v["retention"][0]["minimum"] = json!("P5Y");
        v["retention"][0]["maximum"] = json!("P1Y");
    });
    assert_only_error(&json, DiagnosticCode::RetentionBounds, "/retention/0/minimum");
    let json = with(|v| {
        v["retention"][0]["minimum"] = json!("P30D");
        v["retention"][0]["maximum"] = json!("P2W");
    });
    assert_only_error(&json, DiagnosticCode::RetentionBounds, "/retention/0/minimum");
    // A year is longer than 360 days from whatever day it starts, though it
    // has fewer days.
    let json = with(|v| {
        v["retention"][0]["minimum"] = json!("P1Y");
        v["retention"][0]["maximum"] = json!("P360D");
    });
    assert_only_error(&json, DiagnosticCode::RetentionBounds, "/retention/0/minimum");
    // A month is sometimes longer, sometimes shorter than 30 days: not an
    // error.
    let json = with(|v| {
        v["retention"][0]["minimum"] = json!("P1M");
        v["retention"][0]["maximum"] = json!("P30D");
    });
    assert!(load(&json).is_ok());
    // Equal bounds are fine.
    let json = with(|v| {
        v["retention"][0]["minimum"] = json!("P3Y");
        v["retention"][0]["maximum"] = json!("P36M");
    });
    assert!(load(&json).is_ok());
}

#[test]
fn schema_version_2() {
    let json = with(|v| v["schema"] = json!(2));
    assert_only_error(&json, DiagnosticCode::SchemaVersion, "/schema");
    assert!(invalid(&json)[0].message.contains('2'));
}

#[test]
fn utc_offset_out_of_range() {
    for bad in [99_999, -99_999, 18 * 3600 + 1] {
        let json = with(|v| v["settings"] = json!({"utc_offset_seconds": bad}));
        assert_only_error(&json, DiagnosticCode::InvalidOffset, "/settings/utc_offset_seconds");
    }
    for ok in [18 * 3600, -18 * 3600, 0] {
        let json = with(|v| v["settings"] = json!({"utc_offset_seconds": ok}));
        assert!(load(&json).is_ok(), "{ok}");
    }
    // Beyond i32: a format error.
    let json = with(|v| v["settings"] = json!({"utc_offset_seconds": 99_999_999_999_i64}));
    assert_format(&json, "/settings/utc_offset_seconds");
}

#[test]
fn all_errors_are_reported_at_once() {
    let json = with(|v| {
        v["schema"] = json!(2);
        v["purposes"][0]["categories"][0] = json!("user.contact.fax");
        v["minors"]["guardian_consent_below"] = json!(0);
    });
    let diags = invalid(&json);
    let mut found: Vec<(DiagnosticCode, &str)> = diags.iter().map(|d| (d.code, d.path.as_str())).collect();
    found.sort();
    let mut want = vec![
        (DiagnosticCode::SchemaVersion, "/schema"),
        (DiagnosticCode::UnknownCategory, "/purposes/0/categories/0"),
        (DiagnosticCode::InvalidAge, "/minors/guardian_consent_below"),
    ];
    want.sort();
    assert_eq!(found, want);
    let err = load(&json).unwrap_err();
    assert!(err.to_string().starts_with("3 errors, the first: "), "{err}");
}

#[test]
fn errors_and_warnings_come_together_in_diagnostics() {
    // A policy built in memory can hold errors; `diagnostics` lists them with
    // the warnings, and `validate` refuses it.
    let mut policy = load(&base().to_string()).unwrap();
    policy.schema = 2;
    policy.actions[1].exceptions.push(privacy_engine::Exception::new("protect", privacy_engine::Ground::ProtectRights));
    let all = policy.diagnostics();
    assert!(all.iter().any(|d| d.severity == Severity::Error && d.code == DiagnosticCode::SchemaVersion));
    assert!(all.iter().any(|d| d.severity == Severity::Warning && d.code == DiagnosticCode::GroundWithoutPiplBasis));
    let err = policy.validate().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Invalid);
    assert_eq!(err.diagnostics().len(), 1);
}

// ---------------------------------------------------------------------------
// Warnings.

#[test]
fn sensitive_without_separate_consent() {
    let json = with(|v| v["consent_requirements"][0]["qualities"] = json!(["affirmative", "explicit"]));
    assert_only_warning(&json, DiagnosticCode::SensitiveWithoutSeparateConsent, "/purposes/1/categories/0");
    // A core purpose needs no consent requirement.
    let json = with(|v| {
        v["consent_requirements"] = json!([]);
        v["purposes"][1]["basis"] = json!("core");
    });
    assert_eq!(warnings(&json), vec![]);
}

#[test]
fn identifiable_to_advertiser() {
    let json = with(|v| v["recipients"][0]["kind"] = json!("advertiser"));
    assert_only_warning(&json, DiagnosticCode::IdentifiableToAdvertiser, "/recipients/0/data_state");
    let json = with(|v| {
        v["recipients"][0]["kind"] = json!("advertiser");
        v["recipients"][0]["data_state"] = json!("de_identified");
    });
    assert_eq!(warnings(&json), vec![]);
}

#[test]
fn collected_without_retention() {
    let json = with(|v| v["retention"][0]["categories"] = json!(["user.contact"]));
    assert_only_warning(&json, DiagnosticCode::CollectedWithoutRetention, "/purposes/1/categories/0");
}

#[test]
fn ground_without_pipl_basis() {
    let json = with(|v| {
        v["actions"][1]["exceptions"] = json!([
            {"id": "law", "ground": "law"},
            {"id": "protect", "ground": "protect_rights"}
        ]);
    });
    assert_only_warning(&json, DiagnosticCode::GroundWithoutPiplBasis, "/actions/1/exceptions/1");
}

#[test]
fn unreachable_retention_rule_without_a_retention_action() {
    // The base's only retention rule is reached through its `delete` rule.
    let json = with(|v| {
        v["actions"].as_array_mut().unwrap().pop();
    });
    assert_only_warning(&json, DiagnosticCode::UnreachableRule, "/retention/0");
}

#[test]
fn unreachable_recipient_and_exception() {
    // An entrust rule that takes processors only: a partner is never
    // reached, and the exception covers partners alone.
    let json = with(|v| {
        v["recipients"].as_array_mut().unwrap().push(json!({
            "id": "partner", "kind": "partner", "region": "CN", "categories": ["user.contact.phone_number"],
            "purposes": ["registration"], "data_state": "identifiable"
        }));
        v["actions"][1]["recipient_kinds"] = json!(["processor"]);
        v["actions"][1]["exceptions"] = json!([{"id": "law", "ground": "law", "recipient_kinds": ["affiliate"]}]);
    });
    let found: Vec<(DiagnosticCode, String)> = warnings(&json).into_iter().map(|d| (d.code, d.path)).collect();
    assert_eq!(
        found,
        vec![
            (DiagnosticCode::UnreachableRule, "/actions/1/exceptions/0".to_owned()),
            (DiagnosticCode::UnreachableRule, "/recipients/1".to_owned()),
        ]
    );
}

#[test]
fn every_reachable_rule_of_the_base_has_a_witness() {
    let policy = load(&base().to_string()).unwrap();
    let paths: Vec<String> = policy.witnesses().into_iter().map(|w| w.path).collect();
    let expected = [
        "/actions/0",
        "/actions/1",
        "/actions/2",
        "/recipients/0",
        "/consent_requirements/0",
        "/retention/0",
        "/minors/rules/0",
    ];
    assert_eq!(paths, expected);
}

#[test]
fn cross_border_without_mechanism() {
    // The base has no recipient abroad, so the rule is also unreachable.
    let found = |json: &str| -> Vec<(DiagnosticCode, String)> {
        warnings(json).into_iter().map(|d| (d.code, d.path)).collect()
    };
    let unreachable = (DiagnosticCode::UnreachableRule, "/actions/3".to_owned());
    let json = with(|v| v["actions"].as_array_mut().unwrap().push(json!({"id": "abroad", "action": "cross_border"})));
    let no_mechanism = (DiagnosticCode::CrossBorderWithoutMechanism, "/actions/3/recipient_requires".to_owned());
    assert_eq!(found(&json), vec![no_mechanism, unreachable.clone()]);
    let json = with(|v| {
        v["actions"]
            .as_array_mut()
            .unwrap()
            .push(json!({"id": "abroad", "action": "cross_border", "recipient_requires": ["transfer_mechanism"]}));
    });
    assert_eq!(found(&json), vec![unreachable]);
}

/// Every field name the base policy uses, at any depth, is documented in
/// docs/policy-format.md as a table row.
#[test]
fn every_field_of_the_base_policy_is_documented() {
    fn keys(v: &Value, out: &mut std::collections::BTreeSet<String>) {
        match v {
            Value::Object(m) => m.iter().for_each(|(k, x)| {
                out.insert(k.clone());
                keys(x, out);
            }),
            Value::Array(a) => a.iter().for_each(|x| keys(x, out)),
            _ => {}
        }
    }
    let docs = include_str!("../../docs/policy-format.md");
    let mut found = std::collections::BTreeSet::new();
    keys(&serde_json::to_value(load(&base().to_string()).unwrap()).unwrap(), &mut found);
    let missing: Vec<_> = found.iter().filter(|k| !docs.contains(&format!("| `{k}` |"))).collect();
    assert!(missing.is_empty(), "fields without a row in docs/policy-format.md: {missing:?}");
}

#[test]
fn each_missing_self_description_warns_at_its_path() {
    for field in ["controller", "responsible", "contacts", "complaints", "rights", "impact_assessment"] {
        let json = with(|v| {
            v.as_object_mut().unwrap().remove(field).unwrap();
        });
        assert_only_warning(&json, DiagnosticCode::MissingDisclosure, &format!("/{field}"));
        let acknowledged = with(|v| {
            v.as_object_mut().unwrap().remove(field).unwrap();
            v["acknowledged_warnings"] =
                json!([{"code": "missing-disclosure", "path": format!("/{field}"), "reason": "the seed is silent"}]);
        });
        assert!(load(&acknowledged).unwrap().unacknowledged_warnings().is_empty(), "{field}");
    }
    // An empty list says nothing either.
    assert_only_warning(&with(|v| v["rights"] = json!([])), DiagnosticCode::MissingDisclosure, "/rights");
}

#[test]
fn deletion_grounds_on_another_right_have_no_effect() {
    let json = with(|v| v["rights"][0]["right"] = json!("access"));
    assert_only_error(&json, DiagnosticCode::FieldWithoutEffect, "/rights/0/grounds");
    let json = with(|v| v["rights"][0]["grounds"] = json!(["tired_of_it"]));
    assert_format(&json, "/rights/0/grounds/0");
    assert_format(&with(|v| v["purposes"][1]["processing"] = json!(["spam"])), "/purposes/1/processing/0");
}

#[test]
fn self_description_fields_are_read_strictly() {
    assert_format(&with(|v| v["controller"]["parent"] = json!("x")), "/controller/parent");
    assert_format(&with(|v| v["rights"][0]["right"] = json!("fly")), "/rights/0/right");
    assert_format(&with(|v| v["contacts"][0]["time_limit"] = json!({"weeks": 2})), "/contacts/0/time_limit");
    assert_format(&with(|v| v["impact_assessment"]["date"] = json!("2023-13-01")), "/impact_assessment/date");
    assert_format(
        &with(|v| {
            v["impact_assessment"].as_object_mut().unwrap().remove("high_risk").unwrap();
        }),
        "/impact_assessment",
    );
}

#[test]
fn an_acknowledged_warning_is_marked_and_not_unacknowledged() {
    let json = with(|v| {
        v["actions"][1]["exceptions"] = json!([{"id": "protect", "ground": "protect_rights"}]);
        v["acknowledged_warnings"] = json!([
            {"code": "ground-without-pipl-basis", "path": "/actions/1/exceptions/0", "reason": "the seed says so; kept for review"}
        ]);
    });
    let policy = load(&json).unwrap();
    let all = policy.diagnostics();
    assert_eq!(all.len(), 1, "{all:#?}");
    assert_eq!(all[0].code, DiagnosticCode::GroundWithoutPiplBasis);
    assert!(all[0].acknowledged);
    assert!(all[0].to_string().contains("acknowledged"), "{}", all[0]);
    assert!(policy.unacknowledged_warnings().is_empty());
}

#[test]
fn an_acknowledgement_must_match_code_and_path() {
    // Right code, wrong path: the warning stays, and the acknowledgement is stale.
    let json = with(|v| {
        v["actions"][1]["exceptions"] = json!([{"id": "protect", "ground": "protect_rights"}]);
        v["acknowledged_warnings"] = json!([
            {"code": "ground-without-pipl-basis", "path": "/actions/0/exceptions/0", "reason": "typo in the path"}
        ]);
    });
    let unack = load(&json).unwrap().unacknowledged_warnings();
    let found: Vec<(DiagnosticCode, &str)> = unack.iter().map(|d| (d.code, d.path.as_str())).collect();
    assert_eq!(
        found,
        vec![
            (DiagnosticCode::GroundWithoutPiplBasis, "/actions/1/exceptions/0"),
            (DiagnosticCode::StaleAcknowledgement, "/acknowledged_warnings/0"),
        ]
    );
}

#[test]
fn a_stale_acknowledgement_warns() {
    let json = with(|v| {
        v["acknowledged_warnings"] = json!([
            {"code": "identifiable-to-advertiser", "path": "/recipients/0/data_state", "reason": "no longer true"}
        ]);
    });
    assert_only_warning(&json, DiagnosticCode::StaleAcknowledgement, "/acknowledged_warnings/0");
    // An unknown code in an acknowledgement is a format error.
    let json = with(|v| {
        v["acknowledged_warnings"] = json!([{"code": "no-such-warning", "path": "/", "reason": "x"}]);
    });
    assert_format(&json, "/acknowledged_warnings/0/code");
}

// ---------------------------------------------------------------------------
// Syntax and format errors.

#[test]
fn malformed_json_is_a_syntax_error_with_line_and_column() {
    let good = serde_json::to_string_pretty(&base()).unwrap();
    let truncated = &good[..good.len() / 2];
    // Keys are printed in order, so find the line rather than assume it.
    let schema_line = good.lines().position(|l| l.contains("\"schema\": 1,")).unwrap() + 1;
    let doubled_comma = good.replacen("\"schema\": 1,", "\"schema\": 1,,", 1);
    let trailing_comma = "{\"schema\": 1,\n\"id\": \"p\",\n}";
    for (text, line) in [(truncated, None), (doubled_comma.as_str(), Some(schema_line)), (trailing_comma, Some(3))] {
        let err = load(text).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Syntax, "{err}");
        assert!(err.line().is_some() && err.column().is_some(), "{err:?}");
        if let Some(line) = line {
            assert_eq!(err.line(), Some(line), "{err:?}");
        }
        assert!(err.to_string().starts_with("policy is not valid JSON"), "{err}");
        assert!(err.to_string().contains(&format!("line {}", err.line().unwrap())), "{err}");
        assert!(std::error::Error::source(&err).is_some());
        assert_clear(&err);
    }
    for text in ["", "   ", "{", "[1, 2", "nul", "{\"a\" 1}", "\u{feff}{}"] {
        let err = load(text).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Syntax, "{text:?}: {err}");
        assert_clear(&err);
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert_eq!(load(&deep).unwrap_err().kind(), ErrorKind::Syntax);
    let deep_in_field =
        with(|v| v["notes"] = json!("x")).replacen("\"x\"", &format!("{}{}", "[".repeat(5_000), "]".repeat(5_000)), 1);
    assert!(load(&deep_in_field).is_err());
}

#[test]
fn unknown_fields_give_their_path() {
    assert_format(&with(|v| v["colour"] = json!("blue")), "/colour");
    let err = assert_format(&with(|v| v["purposes"][1]["colour"] = json!("blue")), "/purposes/1/colour");
    assert!(err.to_string().contains("unknown field `colour`"), "{err}");
    assert_format(&with(|v| v["settings"] = json!({"colour": 1})), "/settings/colour");
    assert_format(&with(|v| v["minors"]["rules"][0]["colour"] = json!(1)), "/minors/rules/0/colour");
    assert_format(
        &with(|v| v["actions"][1]["exceptions"] = json!([{"id": "x", "ground": "law", "colour": 1}])),
        "/actions/1/exceptions/0/colour",
    );
}

#[test]
fn unknown_field_names_are_escaped_as_json_pointer_tokens() {
    // RFC 6901: `~` is written `~0` and `/` is written `~1`; a dot is an
    // ordinary character.
    assert_format(&with(|v| v["a/b"] = json!(1)), "/a~1b");
    assert_format(&with(|v| v["a~b"] = json!(1)), "/a~0b");
    assert_format(&with(|v| v["purposes"][0]["x.y"] = json!(1)), "/purposes/0/x.y");
    assert_format(&with(|v| v["purposes"][0]["x[1]"] = json!(1)), "/purposes/0/x[1]");
}

#[test]
fn wrong_types_and_missing_fields_give_their_path() {
    assert_format(&with(|v| v["schema"] = json!("one")), "/schema");
    assert_format(&with(|v| v["purposes"] = json!({})), "/purposes");
    assert_format(&with(|v| v["purposes"][0]["basis"] = json!("essential")), "/purposes/0/basis");
    assert_format(&with(|v| v["purposes"][1]["permission"] = json!(true)), "/purposes/1/permission");
    assert_format(&with(|v| v["recipients"][0]["agreements"][0] = json!("handshake")), "/recipients/0/agreements/0");
    assert_format(
        &with(|v| v["consent_requirements"][0]["qualities"] = json!(["separately"])),
        "/consent_requirements/0/qualities",
    );
    let err = assert_format(
        &with(|v| {
            v["purposes"][1].as_object_mut().unwrap().remove("basis").unwrap();
        }),
        "/purposes/1",
    );
    assert!(err.to_string().contains("missing field `basis`"), "{err}");
    let err = load(&with(|v| {
        v.as_object_mut().unwrap().remove("id").unwrap();
    }))
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Format);
    assert!(err.to_string().contains("missing field `id`"), "{err}");
    assert_clear(&err);
    for text in ["1", "[]", "\"policy\"", "null"] {
        let err = load(text).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Format, "{text}: {err}");
        assert_clear(&err);
    }
}

#[test]
fn periods_over_a_thousand_years_are_errors() {
    // Issue 13: each unit within its limit, but together twice as long.
    for long in ["P1000Y366000D", "P1000Y1D", "P1001Y", "P366001D"] {
        let json = with(|v| v["retention"][0]["maximum"] = json!(long));
        assert_format(&json, "/retention/0/maximum");
    }
    for ok in ["P1000Y", "P366000D"] {
        load(&with(|v| v["retention"][0]["maximum"] = json!(ok))).unwrap();
    }
}

#[test]
fn absurd_dates_are_errors() {
    for bad in [
        "2021-13-45T00:00:00+08:00",
        "99999-01-01T00:00:00+08:00",
        "2021-02-29T00:00:00+08:00",
        "2021-01-01T25:00:00+08:00",
        "2021-01-01T00:00:00+99:00",
        "2021-01-01",
        "yesterday",
        "",
    ] {
        let json = with(|v| v["effective"] = json!(bad));
        assert_format(&json, "/effective");
    }
    let json = with(|v| v["effective"] = json!(20_210_101));
    assert_format(&json, "/effective");
    // chrono reads ISO 8601's expanded years (`+99999`, `-0001`). Such a
    // policy is not refused, but it must not panic and must round-trip.
    for expanded in ["+99999-01-01T00:00:00+08:00", "-0001-01-01T00:00:00Z"] {
        let json = with(|v| v["effective"] = json!(expanded));
        let policy = load(&json).unwrap();
        let out = serde_json::to_string(&policy).unwrap();
        assert_eq!(load(&out).unwrap(), policy, "{expanded}");
    }
}

#[test]
fn invalid_periods_give_their_path() {
    let json = with(|v| v["retention"][0]["minimum"] = json!("P-3Y"));
    let err = assert_format(&json, "/retention/0/minimum");
    assert!(err.to_string().contains("invalid period `P-3Y`"), "{err}");
    for bad in ["3Y", "P", "P3D2M", "P1H", "P99999999999Y", "PT1H", "P1.5Y"] {
        let json = with(|v| v["retention"][0]["maximum"] = json!(bad));
        assert_format(&json, "/retention/0/maximum");
    }
}

#[test]
fn invalid_category_keys_give_their_path() {
    let json = with(|v| v["purposes"][0]["categories"][0] = json!("User.X"));
    let err = assert_format(&json, "/purposes/0/categories/0");
    assert!(err.to_string().contains("invalid data category key `User.X`"), "{err}");
    assert_format(
        &with(|v| v["recipients"][0]["categories"][0] = json!("user..contact")),
        "/recipients/0/categories/0",
    );
    assert_format(&with(|v| v["categories"] = json!([{"key": "user.bad key"}])), "/categories/0/key");
}

// ---------------------------------------------------------------------------
// Round trips.

#[test]
fn a_valid_policy_round_trips() {
    let rich = with(|v| {
        v["source"] = json!("privacy policy, 2024-01-01");
        v["notes"] = json!(["note one", "note two"]);
        v["settings"] = json!({
            "home_region": "CN", "localisation": true, "utc_offset_seconds": 28800,
            "last_day_included": false, "month_end": "roll_over", "unknown_age": "adult"
        });
        v["categories"] = json!([{"key": "user.device.fridge_id", "sensitivity": "personal", "description": "fridge", "cites": "§1"}]);
        v["actions"][1]["exceptions"] = json!([
            {"id": "protect", "ground": "protect_rights", "requires": ["not_for_profit"], "duties": ["minimise"], "cites": "§3"}
        ]);
        v["acknowledged_warnings"] = json!([
            {"code": "ground-without-pipl-basis", "path": "/actions/1/exceptions/0", "reason": "seed"}
        ]);
        v["retention"][0]["backups_at_next_cycle"] = json!(true);
        v["retention"][0]["notify_recipients"] = json!(true);
    });
    for json in [base().to_string(), rich] {
        let policy = load(&json).unwrap();
        let out = serde_json::to_string(&policy).unwrap();
        let back = load(&out).unwrap();
        assert_eq!(back, policy);
        // Pretty output loads the same.
        let pretty = serde_json::to_string_pretty(&policy).unwrap();
        assert_eq!(load(&pretty).unwrap(), policy);
        // Serialising is stable.
        assert_eq!(serde_json::to_string(&back).unwrap(), out);
    }
}

// ---------------------------------------------------------------------------
// The example policy for seed 004.

#[test]
fn seed_004_example_loads_cleanly() {
    let text = include_str!("../../examples/policies/seed-004.json");
    let policy = match Policy::from_json(text) {
        Ok(p) => p,
        Err(e) => panic!("seed-004.json does not load: {e}; diagnostics: {:#?}", e.diagnostics()),
    };
    let unack = policy.unacknowledged_warnings();
    assert!(unack.is_empty(), "unacknowledged warnings: {unack:#?}");
    assert_eq!(policy.id.as_str(), "seed-004");
    let out = serde_json::to_string(&policy).unwrap();
    assert_eq!(Policy::from_json(&out).unwrap(), policy);
}

/// Found by `from_json_never_panics_on_mutated_documents`: a field name
/// with an escaped newline was echoed raw, breaking the message in two.
#[test]
fn an_unknown_field_with_a_newline_stays_on_one_line() {
    let text = serde_json::to_string_pretty(&base()).unwrap().replacen("\"actions\"", "\"actio\\ns\"", 1);
    let e = Policy::from_json(&text).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Format);
    let msg = e.to_string();
    assert!(!msg.contains('\n'), "{msg}");
    assert!(msg.contains("actio\\ns"), "{msg}");
}

// ---------------------------------------------------------------------------
// No input panics.

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn from_json_never_panics_on_any_string(s in ".*") {
        let _ = Policy::from_json(&s);
    }

    #[test]
    fn from_json_never_panics_on_json_like_text(s in r#"[\[\]{}":,0-9a-z_ .\-+/PYMDWT]{0,200}"#) {
        if let Err(e) = Policy::from_json(&s) {
            prop_assert!(!e.to_string().contains('\n'));
        }
    }

    #[test]
    fn from_json_never_panics_on_mutated_documents(
        edits in proptest::collection::vec((any::<proptest::sample::Index>(), any::<u8>(), 0u8..3), 1..6)
    ) {
        let mut bytes = serde_json::to_string_pretty(&base()).unwrap().into_bytes();
        for (at, byte, op) in edits {
            if bytes.is_empty() {
                break;
            }
            let i = at.index(bytes.len());
            match op {
                0 => { bytes.remove(i); }
                1 => bytes[i] = byte,
                _ => bytes.insert(i, byte),
            }
        }
        let text = String::from_utf8_lossy(&bytes);
        match Policy::from_json(&text) {
            Ok(policy) => {
                // Whatever loads also round-trips.
                let out = serde_json::to_string(&policy).unwrap();
                prop_assert_eq!(Policy::from_json(&out).unwrap(), policy);
            }
            Err(e) => {
                let msg = e.to_string();
                prop_assert!(!msg.contains('\n'), "{}", msg);
                match e.kind() {
                    ErrorKind::Syntax => prop_assert!(e.line().is_some() && e.column().is_some()),
                    ErrorKind::Format => prop_assert!(e.path().is_some_and(|p| p.starts_with('/'))),
                    ErrorKind::Invalid => prop_assert!(!e.diagnostics().is_empty()),
                    other => prop_assert!(false, "unexpected error kind {:?}", other),
                }
            }
        }
    }

    #[test]
    fn from_json_never_panics_on_mutated_values(
        field in prop::sample::select(vec!["schema", "effective", "settings", "purposes", "retention", "minors", "actions", "recipients"]),
        value in prop_oneof![
            Just(json!(null)),
            any::<i64>().prop_map(|n| json!(n)),
            any::<f64>().prop_map(|n| json!(n)),
            ".{0,20}".prop_map(|s| json!(s)),
            Just(json!([])),
            Just(json!({})),
            Just(json!([{}])),
        ],
    ) {
        let json = with(|v| v[field] = value);
        let _ = Policy::from_json(&json);
    }
}

/// `base()` with one `named_in_consent` rule, changed by `f`.
fn with_named(f: impl FnOnce(&mut Value)) -> String {
    with(|v| {
        v["named_in_consent"] = json!([{
            "id": "new-purposes",
            "names": "purpose",
            "actions": ["collect"],
            "categories": ["user.contact"],
            "qualities": ["affirmative", "explicit", "separate"]
        }]);
        f(v);
    })
}

#[test]
fn a_named_in_consent_rule_loads_and_round_trips() {
    let policy = load(&with_named(|_| {})).unwrap();
    assert!(policy.diagnostics().is_empty(), "{:#?}", policy.diagnostics());
    let again = load(&serde_json::to_string(&policy).unwrap()).unwrap();
    assert_eq!(again, policy);
}

#[test]
fn named_in_consent_rules_are_validated_with_their_paths() {
    let json = with_named(|v| v["named_in_consent"][0]["categories"] = json!([]));
    assert_only_error(&json, DiagnosticCode::EmptyList, "/named_in_consent/0/categories");
    let json = with_named(|v| v["named_in_consent"][0]["categories"] = json!(["user.contact.fax"]));
    assert_only_error(&json, DiagnosticCode::UnknownCategory, "/named_in_consent/0/categories/0");
    let json = with_named(|v| v["named_in_consent"][0]["qualities"] = json!(["separate"]));
    assert_only_error(&json, DiagnosticCode::InvalidQualities, "/named_in_consent/0/qualities");
    let json = with_named(|v| v["named_in_consent"][0]["id"] = json!("registration"));
    assert_only_error(&json, DiagnosticCode::DuplicateId, "/named_in_consent/0/id");
    let code = DiagnosticCode::InvalidNamedInConsent;
    assert_eq!(code.as_str(), "invalid-named-in-consent");
    let json = with_named(|v| v["named_in_consent"][0]["actions"] = json!(["collect", "retain"]));
    assert_only_error(&json, code, "/named_in_consent/0/actions/1");
    let json = with_named(|v| v["named_in_consent"][0]["recipient_kind"] = json!("partner"));
    assert_only_error(&json, code, "/named_in_consent/0/recipient_kind");
    let json = with_named(|v| v["named_in_consent"][0]["qualities"] = json!(["affirmative", "guardian"]));
    assert_only_error(&json, code, "/named_in_consent/0/qualities");
    // A recipient rule needs its kind, not the controller, and a providing
    // action.
    let json = with_named(|v| {
        v["named_in_consent"][0]["names"] = json!("recipient");
        v["named_in_consent"][0]["actions"] = json!(["share"]);
    });
    assert_only_error(&json, code, "/named_in_consent/0/names");
    let json = with_named(|v| {
        v["named_in_consent"][0]["names"] = json!("recipient");
        v["named_in_consent"][0]["recipient_kind"] = json!("partner");
    });
    assert_only_error(&json, code, "/named_in_consent/0/actions/0");
    // Two rules for one action: the later is refused.
    let json = with_named(|v| {
        let mut second = v["named_in_consent"][0].clone();
        second["id"] = json!("more-purposes");
        v["named_in_consent"].as_array_mut().unwrap().push(second);
    });
    assert_only_error(&json, code, "/named_in_consent/1/actions/0");
    let err = load(&json).unwrap_err();
    assert!(err.to_string().contains("action `collect` already has a rule naming a purpose in consent"), "{err}");
}
