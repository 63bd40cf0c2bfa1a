//! Purposes and recipients named only in a consent (`named_in_consent`):
//! seed 004 §1.2 item 9 (另行征得您的同意), seed 003 §1 and §6.1, seed 002
//! §3(1)1(1). A grant that names and describes the purpose (or recipient)
//! permits what it covers; without the rule, an undeclared name is denied
//! and the decision says only a revised policy can permit it; a denial no
//! consent lifts says so.

use privacy_engine::{
    Action, CompactLedger, ConsentChange, ConsentEvent, ConsentQualities, Described, Effect, Engine, InMemoryLedger,
    Policy, RecipientKind, Request, Unmet, Verdict,
};

use crate::{Ledger, adult, aged, assert_reason, assert_verdict, eval, eval0, keys, scope, t};

const AT: &str = "2024-05-20T10:00:00+08:00";
const BEFORE: &str = "2024-05-01T10:00:00+08:00";

/// A fresh consent by `subject` naming the purpose `survey` (described) on
/// `cats`.
fn fresh(subject: &str, qualities: ConsentQualities, cats: &[&str], described: Option<Described>) -> Ledger {
    let mut l = Ledger::new();
    let mut s = scope("survey", cats, None);
    s.described = described;
    l.push(subject, BEFORE, ConsentChange::Grant { qualities, scope: s, expires: None });
    l
}

fn survey(action: Action, cats: &[&str]) -> Request {
    Request::new(action, adult("alice"), keys(cats), t(AT)).purpose("survey")
}

#[test]
fn a_separate_consent_that_describes_the_new_purpose_permits_it() {
    let l = fresh("alice", ConsentQualities::separate(), &["user.contact"], Some(Described::purpose("a survey")));
    let d = eval(&survey(Action::Use, &["user.contact.phone_number"]), &l);
    assert_verdict(&d, Verdict::Permit);
    assert_reason(&d, "004.named_in_consent.purpose", Effect::Permit);
    assert_reason(&d, "004.named_in_consent.purpose", Effect::Note);
    assert!(d.unmet.is_empty() && !d.not_liftable, "{d}");
}

#[test]
fn a_grant_that_does_not_describe_the_purpose_does_not_count() {
    let l = fresh("alice", ConsentQualities::separate(), &["user.contact"], None);
    let d = eval(&survey(Action::Use, &["user.contact.phone_number"]), &l);
    assert_verdict(&d, Verdict::Deny);
    assert!(d.unmet.contains(&Unmet::Described {
        purpose: Some("survey".into()),
        recipient: None,
        recipient_kind: None
    }));
}

#[test]
fn an_explicit_but_not_separate_consent_is_not_enough_in_004() {
    let l = fresh("alice", ConsentQualities::explicit(), &["user.contact"], Some(Described::purpose("a survey")));
    let d = eval(&survey(Action::Collect, &["user.contact.phone_number"]), &l);
    assert_verdict(&d, Verdict::Deny);
    let wanted = d.unmet.iter().find_map(|u| match u {
        Unmet::Consent { purpose, qualities, rules, .. } => Some((purpose.as_str(), *qualities, rules.clone())),
        _ => None,
    });
    let (purpose, qualities, rules) = wanted.expect("a consent requirement");
    assert_eq!(purpose, "survey");
    assert_eq!(qualities, ConsentQualities::separate());
    assert_eq!(rules, vec!["004.named_in_consent.purpose".into()]);
}

#[test]
fn the_minors_rules_still_apply_to_a_new_purpose() {
    // 004 §6.1: under 18, the guardian consents too.
    let mut l = fresh("bob", ConsentQualities::separate(), &["user.contact"], Some(Described::purpose("a survey")));
    let mut r = survey(Action::Use, &["user.contact.phone_number"]);
    r.subject = aged("bob", 16);
    let d = eval(&r, &l);
    assert_verdict(&d, Verdict::Deny);
    assert_reason(&d, "004.minors.guardian_consent", Effect::Deny);
    // A guardian's separate grant that names and describes it permits.
    let mut s = scope("survey", &["user.contact"], None);
    s.described = Some(Described::purpose("a survey"));
    let q = ConsentQualities::separate() | ConsentQualities::GUARDIAN;
    l.push("bob", BEFORE, ConsentChange::Grant { qualities: q, scope: s, expires: None });
    assert_verdict(&eval(&r, &l), Verdict::Permit);
}

#[test]
fn a_new_purpose_is_not_a_way_around_the_ban_on_transactions_under_18() {
    // 004 §1.2.2: no transaction services under 18, whatever the consent.
    let l = fresh("alice", ConsentQualities::separate(), &["user.contact"], Some(Described::purpose("a survey")));
    let r = Request::new(Action::Collect, aged("carol", 16), keys(&["user.financial.transaction"]), t(AT))
        .purpose("ordering");
    let d = eval(&r, &l);
    assert_verdict(&d, Verdict::Deny);
    assert!(d.not_liftable && d.unmet.is_empty(), "{d}");
    assert!(d.to_json().contains("\"not_liftable\":true"));
}

#[test]
fn sharing_with_a_recipient_004_does_not_name_needs_a_policy_change() {
    let r = Request::new(Action::Share, adult("alice"), keys(&["user.contact.phone_number"]), t(AT))
        .purpose("ordering")
        .recipient("partner.survey_firm");
    let d = eval0(&r);
    assert_verdict(&d, Verdict::Deny);
    assert_reason(&d, "builtin.undeclared_recipient", Effect::Deny);
    assert_eq!(d.unmet, vec![Unmet::PolicyChange { purpose: None, recipient: Some("partner.survey_firm".into()) }]);
    assert!(!d.not_liftable);
}

/// Seed 002 and a share to a recipient named only in the consent.
fn seed_002() -> Engine {
    Engine::from_json(include_str!("../../examples/policies/seed-002.json")).unwrap()
}

fn share_002(recipient: &str) -> Request {
    Request::new(Action::Share, adult("alice"), keys(&["user.contact.phone_number"]), t(AT))
        .purpose("mall_delivery")
        .recipient(recipient)
}

/// Alice's grant naming `acme.research`, given under seed 002 (one given
/// under another policy does not count, docs "Policy histories").
fn grant_002(kind: RecipientKind, qualities: ConsentQualities) -> InMemoryLedger {
    let mut s = scope("mall_delivery", &["user.contact"], Some("acme.research"));
    s.described = Some(Described::recipient("Acme Research Ltd, a market-research firm", kind));
    let change = ConsentChange::Grant { qualities, scope: s, expires: None };
    let mut l = InMemoryLedger::new();
    let id = uuid::Uuid::from_u128(1);
    l.append(ConsentEvent::new(id, t(BEFORE), "alice", "seed-002", "undated", change)).unwrap();
    l
}

#[test]
fn a_recipient_named_in_an_explicit_consent_may_receive_in_002() {
    let e = seed_002();
    let purpose_exists = e.policy().purposes.iter().any(|p| p.id.as_str() == "mall_delivery");
    assert!(purpose_exists, "seed 002 declares `mall_delivery`");
    let l = grant_002(RecipientKind::Partner, ConsentQualities::separate());
    let d = e.evaluate(&share_002("acme.research"), &l);
    assert_verdict(&d, Verdict::Permit);
    assert_reason(&d, "002.named_in_consent.recipient", Effect::Permit);
    // The share binds the recipient the consent named, by its own name.
    assert!(d.to_json().contains("acme.research"), "{d}");
    // The compact ledger, bound or not, answers the same.
    let mut compact = CompactLedger::new();
    compact.extend(l.events(&"alice".into()).cloned()).unwrap();
    assert_eq!(e.evaluate(&share_002("acme.research"), &compact), d);
    e.bind_ledger(&mut compact);
    assert_eq!(e.evaluate(&share_002("acme.research"), &compact), d);
}

#[test]
fn a_recipient_described_as_of_another_kind_does_not_count() {
    let e = seed_002();
    let l = grant_002(RecipientKind::Advertiser, ConsentQualities::separate());
    let d = e.evaluate(&share_002("acme.research"), &l);
    assert_verdict(&d, Verdict::Deny);
    assert!(d.unmet.contains(&Unmet::Described {
        purpose: None,
        recipient: Some("acme.research".into()),
        recipient_kind: Some(RecipientKind::Partner)
    }));
}

#[test]
fn a_policy_with_two_rules_for_one_action_is_refused_with_the_path() {
    let mut v: serde_json::Value = serde_json::from_str(include_str!("../../examples/policies/seed-004.json")).unwrap();
    let mut second = v["named_in_consent"][0].clone();
    second["id"] = "004.named_in_consent.again".into();
    v["named_in_consent"].as_array_mut().unwrap().push(second);
    let err = Policy::from_json(&v.to_string()).unwrap_err();
    assert_eq!(err.path(), Some("/named_in_consent/1/actions/0"), "{err}");
    assert!(err.to_string().contains("already has a rule naming a purpose"), "{err}");
}
