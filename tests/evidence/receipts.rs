//! Consent receipts: the DPV / ISO 27560 fields, Ed25519 signatures, and
//! every altered byte refused.

use privacy_engine::{
    ConsentChange, ConsentReceipt, ConsentStatus, Controller, Described, ErrorKind, Permission, RECEIPT_SCHEMA,
    ReceiptDetails, ReceiptKey, ReceiptPublicKey, RecipientKind, Scope, SignedReceipt,
};
use proptest::prelude::*;
use uuid::Uuid;

use crate::{event, face_events, key, policy, pseudonyms};

fn details() -> ReceiptDetails {
    ReceiptDetails::new(
        Uuid::from_u128(77),
        Controller::new("Example Co.", "privacy@example.com"),
        "Settings > Privacy > Face verification > Withdraw",
    )
}

fn signing_key() -> &'static ReceiptKey {
    static KEY: std::sync::OnceLock<ReceiptKey> = std::sync::OnceLock::new();
    KEY.get_or_init(|| ReceiptKey::from_pkcs8("r1", &ReceiptKey::generate_pkcs8().unwrap()).unwrap())
}

fn signed_grant() -> &'static Vec<u8> {
    static JSON: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    JSON.get_or_init(|| {
        let receipt = ConsentReceipt::issue(&face_events("user-42")[1], &policy(), &details(), &pseudonyms()).unwrap();
        signing_key().sign(receipt).unwrap().to_json().unwrap()
    })
}

#[test]
fn a_grant_receipt_carries_the_record_fields() {
    let events = face_events("user-42");
    let r = ConsentReceipt::issue(&events[1], &policy(), &details(), &pseudonyms()).unwrap();
    assert_eq!(r.schema, RECEIPT_SCHEMA);
    assert_eq!(r.record_id, events[1].id);
    assert_eq!(r.receipt_id, Uuid::from_u128(77));
    assert_eq!(r.subject, pseudonyms().pseudonymise(&privacy_engine::PseudonymDomain::Records, "user-42"));
    assert_eq!(r.status, ConsentStatus::Given);
    assert_eq!(r.consent_type.as_deref(), Some("dpv:ExplicitlyExpressedConsent"));
    assert_eq!(r.qualities.names().collect::<Vec<_>>(), ["affirmative", "explicit", "separate"]);
    assert_eq!(r.notice.policy_id.as_str(), "seed-004");
    assert_eq!(r.purposes[0].id.as_str(), "face_verification");
    assert!(r.purposes[0].basis.is_some());
    assert_eq!(r.personal_data[0].key, key("user.biometric.face"));
    assert_eq!(r.personal_data[0].sensitivity, Some(privacy_engine::Sensitivity::Sensitive));
    assert!(r.recipients.is_empty());
    assert_eq!(r.time, events[1].at);

    let json = String::from_utf8(serde_json::to_vec(&r).unwrap()).unwrap();
    assert!(json.contains("\"status\":\"dpv:ConsentGiven\""), "{json}");
    assert!(!json.contains("user-42"), "{json}");
    for field in [
        "record_id",
        "receipt_id",
        "subject",
        "controller",
        "notice",
        "purposes",
        "personal_data",
        "qualities",
        "status",
        "time",
        "recipients",
        "retention",
        "withdrawal_method",
    ] {
        assert!(json.contains(&format!("\"{field}\":")), "{field}");
    }
}

#[test]
fn status_follows_the_ledger_event() {
    let scope = crate::face_scope();
    let cases = [
        (ConsentChange::Withdraw { scope: scope.clone() }, ConsentStatus::Withdrawn),
        (ConsentChange::Refuse { scope: scope.clone() }, ConsentStatus::Refused),
        (ConsentChange::Revoke { scope: scope.clone() }, ConsentStatus::Revoked),
        (ConsentChange::Expire { scope }, ConsentStatus::Expired),
    ];
    for (change, status) in cases {
        let e = event(9, "2024-06-01T09:00:00+08:00", "user-42", change.clone());
        let r = ConsentReceipt::issue(&e, &policy(), &details(), &pseudonyms()).unwrap();
        assert_eq!(r.status, status);
        assert_eq!(Some(r.status), change.status());
        assert_eq!(r.consent_type, None);
        assert!(r.qualities.is_empty());
    }
}

#[test]
fn a_consent_to_a_recipient_names_it() {
    let scope =
        Scope::new(vec!["payment_delivery".into()], vec![key("user.contact.address")]).recipient("partner.logistics");
    let e = event(
        5,
        "2024-05-01T09:00:00+08:00",
        "user-42",
        ConsentChange::Grant { qualities: privacy_engine::ConsentQualities::explicit(), scope, expires: None },
    );
    let r = ConsentReceipt::issue(&e, &policy(), &details(), &pseudonyms()).unwrap();
    assert_eq!(r.recipients.len(), 1);
    assert_eq!(r.recipients[0].id.as_str(), "partner.logistics");
}

#[test]
fn a_consent_naming_what_the_policy_does_not_carries_its_descriptions() {
    // 004 §1.2 item 9: a purpose or recipient named only in a specific
    // consent; the receipt must say what the consent told of them.
    let told = Described::purpose("a loyalty survey run with a partner")
        .and_recipient("the survey firm that runs it", RecipientKind::Partner);
    let scope = Scope::new(vec!["loyalty_survey".into()], vec![key("user.contact.email")])
        .recipient("survey_firm")
        .described(told);
    let grant = ConsentChange::Grant { qualities: privacy_engine::ConsentQualities::explicit(), scope, expires: None };
    let r = ConsentReceipt::issue(
        &event(6, "2024-05-01T09:00:00+08:00", "user-42", grant),
        &policy(),
        &details(),
        &pseudonyms(),
    )
    .unwrap();
    assert_eq!(r.purposes[0].description.as_deref(), Some("a loyalty survey run with a partner"));
    assert_eq!(r.purposes[0].basis, None);
    assert_eq!(r.recipients[0].description.as_deref(), Some("the survey firm that runs it"));
    assert_eq!(r.recipients[0].kind, Some(RecipientKind::Partner));
    assert_eq!(r.recipients[0].region, None);

    // A declared purpose and recipient keep the policy's words and kind.
    let told = Described::purpose("other words").and_recipient("other words", RecipientKind::Advertiser);
    let scope = Scope::new(vec!["payment_delivery".into()], vec![key("user.contact.address")])
        .recipient("partner.logistics")
        .described(told);
    let grant = ConsentChange::Grant { qualities: privacy_engine::ConsentQualities::explicit(), scope, expires: None };
    let r = ConsentReceipt::issue(
        &event(7, "2024-05-01T09:00:00+08:00", "user-42", grant),
        &policy(),
        &details(),
        &pseudonyms(),
    )
    .unwrap();
    assert_ne!(r.purposes[0].description.as_deref(), Some("other words"));
    assert_eq!(r.recipients[0].description, None);
    assert_eq!(r.recipients[0].kind, Some(RecipientKind::Partner));
}

#[test]
fn no_receipt_for_a_permission_switch_or_another_policy() {
    let e = event(1, "2024-05-01T09:00:00+08:00", "u", ConsentChange::PermissionOn { permission: Permission::Camera });
    let err = ConsentReceipt::issue(&e, &policy(), &details(), &pseudonyms()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Receipt);

    let mut e = face_events("u")[1].clone();
    e.policy_version = "1999-01-01".into();
    let err = ConsentReceipt::issue(&e, &policy(), &details(), &pseudonyms()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Receipt);
    assert!(err.to_string().contains("`1999-01-01`"), "{err}");
}

#[test]
fn a_signed_receipt_verifies_with_the_public_key_only() {
    let json = signed_grant();
    let public = signing_key().public_key();
    let receipt = public.verify(json).unwrap();
    assert_eq!(receipt.status, ConsentStatus::Given);

    // The public key travels as 32 bytes.
    let copied = ReceiptPublicKey::from_bytes("r1", public.as_bytes()).unwrap();
    assert_eq!(copied.verify(json).unwrap(), receipt);

    // Another key, or the same bytes under another id, refuses it.
    let other = ReceiptKey::from_pkcs8("r1", &ReceiptKey::generate_pkcs8().unwrap()).unwrap();
    assert_eq!(other.public_key().verify(json).unwrap_err().kind(), ErrorKind::Receipt);
    let renamed = ReceiptPublicKey::from_bytes("r2", public.as_bytes()).unwrap();
    assert_eq!(renamed.verify(json).unwrap_err().kind(), ErrorKind::Receipt);
}

#[test]
fn an_altered_receipt_re_signed_by_nobody_is_refused() {
    // Edit a field and re-serialise in canonical form: still refused.
    let mut value: serde_json::Value = serde_json::from_slice(signed_grant()).unwrap();
    value["receipt"]["status"] = "dpv:ConsentWithdrawn".into();
    let signed: SignedReceipt = serde_json::from_value(value).unwrap();
    let json = signed.to_json().unwrap();
    assert_eq!(signing_key().public_key().verify(&json).unwrap_err().kind(), ErrorKind::Receipt);
}

#[test]
fn every_byte_of_a_receipt_is_covered() {
    let json = signed_grant();
    let public = signing_key().public_key();
    for pos in 0..json.len() {
        let mut tampered = json.clone();
        tampered[pos] ^= 0x01;
        assert!(public.verify(&tampered).is_err(), "byte {pos} changed and still verified");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Any single-byte change to a signed receipt is refused.
    #[test]
    fn any_single_byte_change_is_refused(pos in any::<prop::sample::Index>(), xor in 1u8..=255) {
        let mut tampered = signed_grant().clone();
        let p = pos.index(tampered.len());
        tampered[p] ^= xor;
        prop_assert!(signing_key().public_key().verify(&tampered).is_err());
    }

    /// Truncated or extended receipts are refused.
    #[test]
    fn truncated_or_extended_receipts_are_refused(cut in 0usize..2000, extra in prop::collection::vec(any::<u8>(), 1..4)) {
        let json = signed_grant();
        let public = signing_key().public_key();
        let cut = cut % json.len();
        prop_assert!(public.verify(&json[..cut]).is_err());
        let mut longer = json.clone();
        longer.extend(extra);
        prop_assert!(public.verify(&longer).is_err());
    }
}
