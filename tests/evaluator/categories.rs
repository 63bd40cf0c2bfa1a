//! Non-personal data, multi-category requests and merged unmet consents.

use privacy_engine::{Action, ConsentFrom, ConsentQualities, Effect, Permission, Unmet, Verdict};

use crate::{
    Ledger, assert_no_reason, assert_reason, assert_verdict, category_rules, eval, eval0, keys, outcomes, req, rules,
};

const MODEL: &str = "user.device.model";

#[test]
fn unlinked_non_personal_data_is_permitted() {
    // de_identified_analytics is optional; its consent does not matter for
    // data that identifies no one.
    let d = eval0(&req(Action::Use, &[MODEL], "de_identified_analytics"));
    assert_verdict(&d, Verdict::Permit);
    assert_reason(&d, "builtin.non_personal", Effect::Permit);
    assert!(d.unmet.is_empty());
}

#[test]
fn non_personal_data_linked_to_an_identity_is_personal() {
    let mut r = req(Action::Use, &[MODEL], "de_identified_analytics");
    r.linked_to_identity = true;
    let d = eval0(&r);
    assert_verdict(&d, Verdict::Deny);
    assert_no_reason(&d, "builtin.non_personal");
    assert_reason(&d, "builtin.linked_to_identity", Effect::Note);
    assert_eq!(
        d.unmet,
        vec![Unmet::Consent {
            purpose: "de_identified_analytics".into(),
            categories: keys(&[MODEL]),
            qualities: ConsentQualities::AFFIRMATIVE,
            from: ConsentFrom::Subject,
            recipient: None,
            rules: rules(&["004.consent.de_identified_analytics"]),
        }]
    );

    // For a core purpose it is permitted by the purpose, with its duties
    // (the device-information permission on: 004 §1.2 item 10).
    let mut r = req(Action::Use, &[MODEL], "device_information");
    r.linked_to_identity = true;
    let mut on = Ledger::new();
    on.permissions_on("alice");
    let d = eval(&r, &on);
    assert_verdict(&d, Verdict::Permit);
    assert_reason(&d, "device_information", Effect::Permit);

    // Linked data is collected only through the purpose's permission.
    let mut r = req(Action::Collect, &[MODEL], "device_information");
    r.linked_to_identity = true;
    let d = eval0(&r);
    assert_verdict(&d, Verdict::Deny);
    assert_eq!(d.unmet, vec![Unmet::Permission { permission: Permission::DeviceInfo }]);
}

#[test]
fn one_category_permitted_one_denied_denies_the_request() {
    // Use for face_verification: both categories need separate consent
    // (004.consent.face); only the government id has it.
    let mut l = Ledger::new();
    l.permissions_on("alice");
    l.grant(
        "alice",
        "2024-05-01T00:00:00+08:00",
        ConsentQualities::separate(),
        "face_verification",
        &["user.government_id"],
        None,
    );
    let d = eval(&req(Action::Use, &["user.biometric.face", "user.government_id"], "face_verification"), &l);
    assert_verdict(&d, Verdict::Deny);
    assert_eq!(
        outcomes(&d),
        vec![("user.biometric.face".to_owned(), Verdict::Deny), ("user.government_id".to_owned(), Verdict::Permit),]
    );
    assert_eq!(category_rules(&d, "user.government_id"), vec!["004.consent.face".to_owned()]);
    // Only the denied category is asked for.
    assert_eq!(
        d.unmet,
        vec![Unmet::Consent {
            purpose: "face_verification".into(),
            categories: keys(&["user.biometric.face"]),
            qualities: ConsentQualities::separate(),
            from: ConsentFrom::Subject,
            recipient: None,
            rules: rules(&["004.consent.face"]),
        }]
    );
    // A denial carries no permit obligations of the permitted subset.
    assert!(d.obligations.is_empty(), "{d}");
}

#[test]
fn unmet_consents_for_several_categories_of_one_purpose_merge() {
    let d = eval0(&req(Action::Use, &["user.government_id", "user.biometric.face"], "face_verification"));
    assert_verdict(&d, Verdict::Deny);
    assert_eq!(
        d.unmet,
        vec![
            Unmet::Consent {
                purpose: "face_verification".into(),
                categories: keys(&["user.biometric.face", "user.government_id"]),
                qualities: ConsentQualities::separate(),
                from: ConsentFrom::Subject,
                recipient: None,
                rules: rules(&["004.consent.face"]),
            },
            // Asked once, whatever the number of categories.
            Unmet::Permission { permission: Permission::Camera },
        ]
    );
}

#[test]
fn unmet_consents_with_different_qualities_stay_apart() {
    // Contacts need separate consent (004.consent.contacts); the SDK
    // microphone needs affirmative consent (004.consent.permissions) — two
    // purposes, two requirements. One purpose per request: use two requests
    // and check each names its own rule. The permissions are on.
    let mut on = Ledger::new();
    on.permissions_on("alice");
    let d = eval(&req(Action::Use, &["user.contacts.address_book"], "payment_sdk_contacts"), &on);
    assert_eq!(
        d.unmet,
        vec![Unmet::Consent {
            purpose: "payment_sdk_contacts".into(),
            categories: keys(&["user.contacts.address_book"]),
            qualities: ConsentQualities::separate(),
            from: ConsentFrom::Subject,
            recipient: None,
            rules: rules(&["004.consent.contacts"]),
        }]
    );
    let d = eval(&req(Action::Use, &["user.content.audio"], "payment_sdk_microphone"), &on);
    assert_eq!(
        d.unmet,
        vec![Unmet::Consent {
            purpose: "payment_sdk_microphone".into(),
            categories: keys(&["user.content.audio"]),
            qualities: ConsentQualities::AFFIRMATIVE,
            from: ConsentFrom::Subject,
            recipient: None,
            rules: rules(&["004.consent.permissions"]),
        }]
    );
}

#[test]
fn all_categories_permitted_permits_with_every_reason() {
    let d = eval0(&req(Action::Collect, &["user.contact.phone_number", "user.account.username"], "registration_login"));
    assert_verdict(&d, Verdict::Permit);
    assert_eq!(
        outcomes(&d),
        vec![
            ("user.account.username".to_owned(), Verdict::Permit),
            ("user.contact.phone_number".to_owned(), Verdict::Permit),
        ]
    );
    assert_eq!(category_rules(&d, "user.account.username"), vec!["registration_login".to_owned()]);
}
