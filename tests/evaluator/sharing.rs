//! Providing data to others: sharing for core purposes, sensitive sharing,
//! de-identified-only recipients, cross-border transfer, authority requests,
//! mergers, entrustment and public disclosure.

use privacy_engine::{
    Action, ConsentFrom, ConsentQualities, DataState, Effect, Engine, Evidence, Ground, InMemoryLedger, NoticeField,
    Obligation, RecipientRequirement, Request, Unmet, Verdict,
};
use serde_json::json;

use crate::{
    Ledger, assert_no_reason, assert_reason, assert_verdict, category_rules, claiming, engine_from, eval, eval0, keys,
    outcomes, req, rules, seed_value, unmet_consents,
};

const PHONE: &str = "user.contact.phone_number";
const ADDRESS: &str = "user.contact.address";
const TRANSACTION: &str = "user.financial.transaction";
const USERNAME: &str = "user.account.username";

fn share_notice() -> Obligation {
    Obligation::NotifySubject {
        fields: vec![
            NoticeField::RecipientName,
            NoticeField::RecipientContact,
            NoticeField::Purpose,
            NoticeField::Method,
            NoticeField::Categories,
            NoticeField::RightsExercise,
        ],
    }
}

#[test]
fn sharing_needed_for_a_core_purpose_is_permitted_with_its_duties() {
    let r = req(Action::Share, &[PHONE, ADDRESS], "payment_delivery").recipient("partner.logistics");
    let d = eval0(&r);
    assert_verdict(&d, Verdict::Permit);
    assert_reason(&d, "004.share", Effect::Permit);
    for o in [
        share_notice(),
        Obligation::BindRecipientToPurpose {
            recipient: "partner.logistics".into(),
            purpose: "payment_delivery".into(),
        },
        Obligation::ConfidentialityAgreement { recipient: "partner.logistics".into() },
        Obligation::Minimise { categories: keys(&[ADDRESS, PHONE]) },
    ] {
        assert!(d.obligations.contains(&o), "missing {o:?} in\n{d}");
    }
}

#[test]
fn sharing_for_a_core_purpose_rests_on_the_contract_even_for_sensitive_data() {
    // 004 §3.1 item 1 and §1.2.4 3): transaction data goes to the parties
    // that deliver the service without further consent (PIPL art. 13(2)).
    let r = req(Action::Share, &[PHONE, TRANSACTION], "payment_delivery").recipient("partner.logistics");
    let d = eval0(&r);
    assert_verdict(&d, Verdict::Permit);
    assert_eq!(category_rules(&d, TRANSACTION), vec!["004.share".to_owned()]);
}

#[test]
fn sharing_sensitive_data_on_consent_needs_separate_consent() {
    // 004.consent.sensitive_share on an optional purpose (PIPL art. 29): an
    // explicit grant is enough for the account name, not for transactions.
    let r =
        req(Action::Share, &[USERNAME, TRANSACTION], "fraud_information_exchange").recipient("partner.fraud_exchange");
    let mut l = Ledger::new();
    l.grant(
        "alice",
        "2024-05-01T00:00:00+08:00",
        ConsentQualities::explicit(),
        "fraud_information_exchange",
        &[USERNAME, TRANSACTION],
        Some("partner.fraud_exchange"),
    );
    let d = eval(&r, &l);
    assert_verdict(&d, Verdict::Deny);
    assert_eq!(outcomes(&d), vec![(USERNAME.to_owned(), Verdict::Permit), (TRANSACTION.to_owned(), Verdict::Deny)]);
    assert_eq!(category_rules(&d, USERNAME), vec!["004.share".to_owned()]);
    assert!(category_rules(&d, TRANSACTION).contains(&"004.consent.sensitive_share".to_owned()), "{d}");
    assert_eq!(
        d.unmet,
        vec![Unmet::Consent {
            purpose: "fraud_information_exchange".into(),
            categories: keys(&[TRANSACTION]),
            qualities: ConsentQualities::separate(),
            from: ConsentFrom::Subject,
            recipient: Some("partner.fraud_exchange".into()),
            rules: rules(&["004.consent.sensitive_share", "004.share"]),
        }]
    );

    l.grant(
        "alice",
        "2024-05-02T00:00:00+08:00",
        ConsentQualities::separate(),
        "fraud_information_exchange",
        &[TRANSACTION],
        Some("partner.fraud_exchange"),
    );
    let d = eval(&r, &l);
    assert_verdict(&d, Verdict::Permit);
    assert_reason(&d, "004.consent.sensitive_share", Effect::Permit);
}

#[test]
fn a_denied_categorys_rules_are_those_that_denied_it() {
    // CategoryOutcome::rules are "the rules that decided it": a core purpose
    // permits collection, but a 16-year-old needs a guardian's consent; the
    // category's rules name only the requirement that denied it.
    let r =
        Request::new(Action::Collect, crate::aged("dave", 16), keys(&[PHONE]), crate::t("2024-05-20T10:00:00+08:00"))
            .purpose("registration_login");
    let d = eval0(&r);
    assert_eq!(category_rules(&d, PHONE), vec!["004.minors.guardian_consent".to_owned()]);
}

#[test]
fn consent_to_one_recipient_does_not_cover_another() {
    let mut l = Ledger::new();
    l.grant(
        "alice",
        "2024-05-01T00:00:00+08:00",
        ConsentQualities::separate(),
        "fraud_information_exchange",
        &[TRANSACTION],
        Some("merchant.platform_merchants"),
    );
    let r = req(Action::Share, &[TRANSACTION], "fraud_information_exchange").recipient("partner.fraud_exchange");
    assert_verdict(&eval(&r, &l), Verdict::Deny);
}

#[test]
fn a_de_identified_only_sdk_refuses_identifiable_data() {
    let r = req(Action::Share, &["user.device.phone_state"], "payment_risk_control").recipient("sdk.alipay");
    let d = eval0(&r);
    assert_verdict(&d, Verdict::Deny);
    assert_reason(&d, "sdk.alipay", Effect::Deny);
    assert_eq!(d.unmet, vec![Unmet::DataState { at_least: DataState::DeIdentified }]);
}

#[test]
fn a_de_identified_only_sdk_receives_de_identified_data() {
    let mut r = req(Action::Share, &["user.device.phone_state"], "payment_risk_control").recipient("sdk.alipay");
    r.data_state = DataState::DeIdentified;
    let d = eval0(&r);
    assert_verdict(&d, Verdict::Permit);
    assert_reason(&d, "004.share", Effect::Permit);
    assert_reason(&d, "builtin.de_identified_is_personal", Effect::Note);
    assert!(d.obligations.contains(&Obligation::NoReidentification), "{d}");
    assert!(d.obligations.contains(&Obligation::ConfidentialityAgreement { recipient: "sdk.alipay".into() }), "{d}");
}

/// Seed 004 with an advertiser that may receive de-identified behaviour data
/// for de-identified analytics, shared with explicit consent.
fn with_advertiser() -> Engine {
    let mut v = seed_value();
    v["recipients"].as_array_mut().unwrap().push(json!({
        "id": "advertiser.network",
        "kind": "advertiser",
        "name": "an advertising network (test variant)",
        "region": "CN",
        "agreements": ["confidentiality"],
        "categories": ["user.behavior.click_history"],
        "purposes": ["de_identified_analytics"],
        "data_state": "de_identified"
    }));
    let share = v["actions"].as_array_mut().unwrap().iter_mut().find(|a| a["id"] == "004.share").unwrap();
    share["recipient_kinds"].as_array_mut().unwrap().push(json!("advertiser"));
    engine_from(&v)
}

#[test]
fn an_advertiser_receives_de_identified_data_only() {
    let e = with_advertiser();
    let mut l = Ledger::new();
    l.grant(
        "alice",
        "2024-05-01T00:00:00+08:00",
        ConsentQualities::explicit(),
        "de_identified_analytics",
        &["user.behavior.click_history"],
        Some("advertiser.network"),
    );
    let mut r =
        req(Action::Share, &["user.behavior.click_history"], "de_identified_analytics").recipient("advertiser.network");
    let d = e.evaluate(&r, &l.ledger);
    assert_verdict(&d, Verdict::Deny);
    assert_reason(&d, "advertiser.network", Effect::Deny);
    assert_eq!(d.unmet, vec![Unmet::DataState { at_least: DataState::DeIdentified }]);

    r.data_state = DataState::DeIdentified;
    let d = e.evaluate(&r, &l.ledger);
    assert_verdict(&d, Verdict::Permit);
    assert_reason(&d, "004.share", Effect::Permit);
    assert!(d.obligations.contains(&Obligation::NoReidentification), "{d}");

    // Without the consent the de-identified share is still denied (optional
    // purpose, share rule asks affirmative + explicit).
    let d = e.evaluate(&r, &InMemoryLedger::new());
    assert_verdict(&d, Verdict::Deny);
    assert_eq!(
        d.unmet,
        vec![Unmet::Consent {
            purpose: "de_identified_analytics".into(),
            categories: keys(&["user.behavior.click_history"]),
            qualities: ConsentQualities::explicit(),
            from: ConsentFrom::Subject,
            recipient: Some("advertiser.network".into()),
            rules: rules(&["004.share"]),
        }]
    );
}

#[test]
fn anonymised_data_is_out_of_scope() {
    let e = with_advertiser();
    let mut r =
        req(Action::Share, &["user.behavior.click_history"], "de_identified_analytics").recipient("advertiser.network");
    r.data_state = DataState::Anonymised;
    let d = e.evaluate(&r, &InMemoryLedger::new());
    assert_verdict(&d, Verdict::Permit);
    assert_reason(&d, "builtin.anonymised_out_of_scope", Effect::Permit);
    assert!(d.obligations.contains(&Obligation::NoReidentification));
}

// ---------------------------------------------------------------------------
// Cross-border.

fn abroad(cats: &[&str]) -> Request {
    req(Action::CrossBorder, cats, "ordering").recipient("partner.overseas_entity")
}

fn separate_to_overseas(cats: &[&str]) -> Ledger {
    let mut l = Ledger::new();
    l.grant(
        "alice",
        "2024-05-01T00:00:00+08:00",
        ConsentQualities::separate(),
        "ordering",
        cats,
        Some("partner.overseas_entity"),
    );
    l
}

/// Seed 004 with a CAC standard contract signed with the overseas entity.
fn with_mechanism() -> Engine {
    let mut v = seed_value();
    let r = v["recipients"].as_array_mut().unwrap().iter_mut().find(|r| r["id"] == "partner.overseas_entity").unwrap();
    r["agreements"].as_array_mut().unwrap().push(json!("cac_standard_contract"));
    engine_from(&v)
}

fn no_mechanism() -> Unmet {
    Unmet::Agreement {
        recipient: "partner.overseas_entity".into(),
        requirement: RecipientRequirement::TransferMechanism,
    }
}

fn cross_border_consent(cats: &[&str]) -> Unmet {
    Unmet::Consent {
        purpose: "ordering".into(),
        categories: keys(cats),
        qualities: ConsentQualities::separate(),
        from: ConsentFrom::Subject,
        recipient: Some("partner.overseas_entity".into()),
        rules: rules(&["004.cross_border"]),
    }
}

#[test]
fn cross_border_without_consent_or_mechanism_is_denied_with_both_unmet() {
    let d = eval0(&abroad(&[ADDRESS, PHONE]));
    assert_verdict(&d, Verdict::Deny);
    assert_reason(&d, "004.cross_border", Effect::Deny);
    // One consent for both categories, one mechanism.
    assert_eq!(d.unmet, vec![cross_border_consent(&[ADDRESS, PHONE]), no_mechanism()]);
}

#[test]
fn cross_border_with_separate_consent_but_no_mechanism_is_denied() {
    let d = eval(&abroad(&[ADDRESS]), &separate_to_overseas(&[ADDRESS]));
    assert_verdict(&d, Verdict::Deny);
    assert_eq!(d.unmet, vec![no_mechanism()]);
}

#[test]
fn cross_border_with_a_mechanism_but_only_explicit_consent_is_denied() {
    let e = with_mechanism();
    let mut l = Ledger::new();
    l.grant(
        "alice",
        "2024-05-01T00:00:00+08:00",
        ConsentQualities::explicit(),
        "ordering",
        &[ADDRESS],
        Some("partner.overseas_entity"),
    );
    let d = e.evaluate(&abroad(&[ADDRESS]), &l.ledger);
    assert_verdict(&d, Verdict::Deny);
    assert_eq!(d.unmet, vec![cross_border_consent(&[ADDRESS])]);
}

#[test]
fn cross_border_with_separate_consent_and_a_mechanism_is_permitted() {
    let e = with_mechanism();
    let l = separate_to_overseas(&[ADDRESS]);
    let d = e.evaluate(&abroad(&[ADDRESS]), &l.ledger);
    assert_verdict(&d, Verdict::Permit);
    assert_reason(&d, "004.cross_border", Effect::Permit);
    for o in [
        Obligation::TransferMechanism { recipient: "partner.overseas_entity".into() },
        Obligation::ImpactAssessment,
        share_notice(),
    ] {
        assert!(d.obligations.contains(&o), "missing {o:?} in\n{d}");
    }
}

#[test]
fn cross_border_by_contract_exception_still_needs_a_mechanism() {
    let r = claiming(abroad(&[ADDRESS]), Ground::Contract, &[]);
    let d = eval0(&r);
    assert_verdict(&d, Verdict::Deny);
    assert!(d.unmet.contains(&no_mechanism()), "{d}");

    let d = with_mechanism().evaluate(&r, &InMemoryLedger::new());
    assert_verdict(&d, Verdict::Permit);
    assert_reason(&d, "004.cross_border.exc.3", Effect::Permit);
    assert!(d.obligations.contains(&Obligation::ImpactAssessment), "{d}");
}

#[test]
fn sharing_abroad_must_go_through_the_cross_border_rule() {
    let r = req(Action::Share, &[ADDRESS], "ordering").recipient("partner.overseas_entity");
    let d = eval0(&r);
    assert_verdict(&d, Verdict::Deny);
    assert_reason(&d, "builtin.cross_border_required", Effect::Deny);

    // A destination abroad makes a domestic recipient's share cross-border.
    let mut r = req(Action::Share, &[ADDRESS], "payment_delivery").recipient("partner.logistics");
    r.destination_region = Some("US".to_owned());
    let d = eval0(&r);
    assert_verdict(&d, Verdict::Deny);
    assert_reason(&d, "builtin.cross_border_required", Effect::Deny);
}

#[test]
fn a_cross_border_request_to_a_home_recipient_is_not_cross_border() {
    let r = req(Action::CrossBorder, &[ADDRESS], "payment_delivery").recipient("partner.logistics");
    let d = eval(&r, &separate_to_overseas(&[ADDRESS]));
    assert_verdict(&d, Verdict::Deny);
    assert_reason(&d, "builtin.not_cross_border", Effect::Deny);
}

// ---------------------------------------------------------------------------
// Authorities.

fn to_authority() -> Request {
    req(Action::Share, &[PHONE], "legal_compliance").recipient("authority.law_enforcement")
}

#[test]
fn an_authority_request_with_legal_documents_is_permitted() {
    let r = claiming(to_authority(), Ground::AuthorityRequest, &[Evidence::LegalDocuments]);
    let d = eval0(&r);
    assert_verdict(&d, Verdict::Permit);
    assert_reason(&d, "004.share.exc.authority", Effect::Permit);
    assert!(d.unmet.is_empty());
    for o in
        [Obligation::LegalDocuments, Obligation::EncryptDisclosure, Obligation::Minimise { categories: keys(&[PHONE]) }]
    {
        assert!(d.obligations.contains(&o), "missing {o:?} in\n{d}");
    }
}

#[test]
fn an_authority_request_without_legal_documents_is_denied() {
    let r = claiming(to_authority(), Ground::AuthorityRequest, &[]);
    let d = eval0(&r);
    assert_verdict(&d, Verdict::Deny);
    assert_reason(&d, "004.share.exc.authority", Effect::Note);
    assert!(
        d.unmet.contains(&Unmet::Evidence { ground: Ground::AuthorityRequest, evidence: Evidence::LegalDocuments }),
        "{d}"
    );
    // The consent route is listed too: legal_compliance is optional and
    // 004.consent.legal_and_disclosure asks for separate consent.
    match unmet_consents(&d).as_slice() {
        [Unmet::Consent { qualities, recipient, rules: ids, .. }] => {
            assert_eq!(*qualities, ConsentQualities::separate());
            assert_eq!(recipient.as_ref().map(|r| r.as_str()), Some("authority.law_enforcement"));
            assert!(ids.contains(&"004.consent.legal_and_disclosure".into()), "{d}");
        }
        other => panic!("unexpected consent unmet {other:?}"),
    }
    assert!(d.obligations.is_empty(), "{d}");
}

#[test]
fn an_authority_request_is_not_an_exception_for_a_partner() {
    // 004.share.exc.authority covers authorities only.
    let r = claiming(
        req(Action::Share, &[PHONE], "payment_delivery").recipient("partner.logistics"),
        Ground::AuthorityRequest,
        &[Evidence::LegalDocuments],
    );
    let d = eval0(&r);
    assert_no_reason(&d, "004.share.exc.authority");
}

// ---------------------------------------------------------------------------
// Mergers.

fn merger(evidence: &[Evidence]) -> Request {
    claiming(
        req(Action::Transfer, &["user.account.username", PHONE], "registration_login").recipient("acquirer.successor"),
        Ground::Merger,
        evidence,
    )
}

#[test]
fn a_merger_transfer_with_the_new_holder_bound_is_permitted() {
    let d = eval0(&merger(&[Evidence::NewHolderBound]));
    assert_verdict(&d, Verdict::Permit);
    assert_reason(&d, "004.transfer.exc.4", Effect::Permit);
    assert!(d.obligations.contains(&Obligation::NewHolderBound), "{d}");
    assert!(d.obligations.iter().any(|o| matches!(o, Obligation::NotifySubject { .. })), "{d}");
    assert!(d.unmet.is_empty());
}

#[test]
fn a_merger_transfer_without_the_new_holder_bound_is_denied() {
    let d = eval0(&merger(&[]));
    assert_verdict(&d, Verdict::Deny);
    assert_reason(&d, "004.transfer.exc.4", Effect::Note);
    assert!(d.unmet.contains(&Unmet::Evidence { ground: Ground::Merger, evidence: Evidence::NewHolderBound }), "{d}");
    assert!(!d.obligations.contains(&Obligation::NewHolderBound), "{d}");
}

#[test]
fn a_merger_is_no_ground_to_transfer_to_a_partner() {
    let r = claiming(
        req(Action::Transfer, &[PHONE], "payment_delivery").recipient("partner.logistics"),
        Ground::Merger,
        &[Evidence::NewHolderBound],
    );
    let d = eval0(&r);
    assert_verdict(&d, Verdict::Deny);
    assert_no_reason(&d, "004.transfer.exc.4");
}

#[test]
fn transfer_to_a_kind_the_rule_does_not_list_is_denied() {
    let r = req(Action::Transfer, &["user.device.phone_state"], "payment_risk_control").recipient("sdk.alipay");
    let d = eval0(&r);
    assert_verdict(&d, Verdict::Deny);
    assert_reason(&d, "004.transfer", Effect::Deny);
}

// ---------------------------------------------------------------------------
// Entrustment and public disclosure.

#[test]
fn entrusting_de_identified_analytics_to_the_data_services_processor() {
    let mut r = req(Action::Entrust, &["user.behavior.click_history"], "de_identified_analytics")
        .recipient("processor.data_services");
    r.data_state = DataState::DeIdentified;
    let d = eval0(&r);
    assert_verdict(&d, Verdict::Deny);
    assert_reason(&d, "004.entrust", Effect::Deny);

    let mut l = Ledger::new();
    l.grant(
        "alice",
        "2024-05-01T00:00:00+08:00",
        ConsentQualities::explicit(),
        "de_identified_analytics",
        &["user.behavior.click_history"],
        Some("processor.data_services"),
    );
    let d = eval(&r, &l);
    assert_verdict(&d, Verdict::Permit);
    for o in [
        Obligation::BindRecipientToPurpose {
            recipient: "processor.data_services".into(),
            purpose: "de_identified_analytics".into(),
        },
        Obligation::ImpactAssessment,
        Obligation::ConfidentialityAgreement { recipient: "processor.data_services".into() },
        Obligation::NoReidentification,
    ] {
        assert!(d.obligations.contains(&o), "missing {o:?} in\n{d}");
    }
}

#[test]
fn public_disclosure_needs_separate_consent() {
    let r = req(Action::Disclose, &[PHONE], "subject_requested_disclosure").recipient("public.general");
    let mut l = Ledger::new();
    l.grant(
        "alice",
        "2024-05-01T00:00:00+08:00",
        ConsentQualities::explicit(),
        "subject_requested_disclosure",
        &[PHONE],
        None,
    );
    let d = eval(&r, &l);
    assert_verdict(&d, Verdict::Deny);
    assert_reason(&d, "004.disclose", Effect::Deny);

    l.grant(
        "alice",
        "2024-05-02T00:00:00+08:00",
        ConsentQualities::separate(),
        "subject_requested_disclosure",
        &[PHONE],
        None,
    );
    let d = eval(&r, &l);
    assert_verdict(&d, Verdict::Permit);
    assert_reason(&d, "004.disclose", Effect::Permit);
    assert!(d.obligations.contains(&Obligation::Encrypt), "{d}");
}

#[test]
fn a_recipient_cannot_receive_categories_or_purposes_it_is_not_declared_for() {
    // partner.logistics receives neither government ids nor data for
    // real-name verification.
    let r = req(Action::Share, &["user.government_id"], "real_name_verification").recipient("partner.logistics");
    let d = eval0(&r);
    assert_verdict(&d, Verdict::Deny);
    assert_reason(&d, "partner.logistics", Effect::Deny);
}
