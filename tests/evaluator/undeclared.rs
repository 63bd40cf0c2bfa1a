//! What the policy does not declare is denied with the reason: unknown
//! categories, purposes, recipients and actions; missing purpose or
//! recipient; a recipient kind the action may not go to.

use privacy_engine::{Action, Effect, Request, Verdict};

use crate::{adult, assert_reason, assert_verdict, engine_from, eval0, keys, outcomes, req, seed_value, t};

#[test]
fn an_unknown_category_denies_the_whole_request() {
    let d = eval0(&req(Action::Collect, &["user.contact.fax"], "registration_login"));
    assert_verdict(&d, Verdict::Deny);
    assert_reason(&d, "builtin.undeclared_category", Effect::Deny);
}

#[test]
fn an_unknown_category_alongside_a_known_one_denies_both() {
    let d = eval0(&req(Action::Collect, &["user.contact.phone_number", "user.contact.fax"], "registration_login"));
    assert_verdict(&d, Verdict::Deny);
    assert_reason(&d, "builtin.undeclared_category", Effect::Deny);
    assert_eq!(
        outcomes(&d),
        vec![("user.contact.fax".to_owned(), Verdict::Deny), ("user.contact.phone_number".to_owned(), Verdict::Deny),]
    );
    for c in &d.categories {
        assert_eq!(c.rules, crate::rules(&["builtin.undeclared_category"]), "{d}");
    }
    // Nothing the registration permit would bring.
    assert!(d.obligations.is_empty(), "{d}");
    crate::assert_no_reason(&d, "registration_login");
}

#[test]
fn an_undeclared_purpose_is_denied() {
    // §1.2 item 9: a purpose the policy does not state needs consent
    // obtained anew (另行征得您的同意), which names and describes it.
    let d = eval0(&req(Action::Collect, &["user.contact.phone_number"], "marketing"));
    assert_verdict(&d, Verdict::Deny);
    assert_reason(&d, "004.named_in_consent.purpose", Effect::Deny);
    assert!(d.unmet.iter().any(|u| matches!(u, privacy_engine::Unmet::Described { .. })), "{d}");
}

#[test]
fn an_undeclared_recipient_is_denied() {
    let d = eval0(
        &req(Action::Share, &["user.contact.phone_number"], "payment_delivery").recipient("partner.unknown_courier"),
    );
    assert_verdict(&d, Verdict::Deny);
    assert_reason(&d, "builtin.undeclared_recipient", Effect::Deny);
}

#[test]
fn an_undeclared_action_is_denied() {
    let mut v = seed_value();
    v["actions"].as_array_mut().unwrap().retain(|a| a["action"] != "disclose");
    let e = engine_from(&v);
    let r = req(Action::Disclose, &["user.contact.phone_number"], "subject_requested_disclosure")
        .recipient("public.general");
    let d = e.evaluate(&r, &privacy_engine::InMemoryLedger::new());
    assert_verdict(&d, Verdict::Deny);
    assert_reason(&d, "builtin.undeclared_action", Effect::Deny);
}

#[test]
fn a_missing_purpose_or_recipient_is_denied() {
    let r = Request::new(Action::Use, adult("alice"), keys(&["user.contact.phone_number"]), t(crate::AT));
    assert_reason(&eval0(&r), "builtin.missing_purpose", Effect::Deny);
    let d = eval0(&req(Action::Share, &["user.contact.phone_number"], "payment_delivery"));
    assert_verdict(&d, Verdict::Deny);
    assert_reason(&d, "builtin.missing_recipient", Effect::Deny);
}

#[test]
fn only_disclose_may_name_no_recipient() {
    // The actions that must name a recipient are `Action::needs_recipient`;
    // a public disclosure names none (docs/policy-format.md, `action` values).
    for action in Action::ALL.into_iter().filter(|a| a.has_recipient()) {
        let d = eval0(&req(action, &["user.account.username"], "legal_compliance"));
        let missing = d.reasons.iter().any(|r| r.rule.as_str() == "builtin.missing_recipient");
        assert_eq!(missing, action != Action::Disclose, "{action:?}: {d}");
        assert_eq!(action.needs_recipient(), action != Action::Disclose);
    }
    // A public disclosure is decided on its own rule, not refused for the
    // missing recipient.
    let d = eval0(&req(Action::Disclose, &["user.account.username"], "legal_compliance"));
    assert!(d.reasons.iter().any(|r| r.rule.as_str() == "004.disclose"), "{d}");
}

#[test]
fn a_request_with_no_category_is_denied() {
    let d = eval0(&req(Action::Collect, &[], "registration_login"));
    assert_verdict(&d, Verdict::Deny);
    assert_reason(&d, "builtin.no_category", Effect::Deny);
    assert!(d.categories.is_empty());
}

#[test]
fn sharing_with_the_public_is_not_a_share() {
    // 004.share lists no `public` kind: publishing goes through disclose.
    let d = eval0(
        &req(Action::Share, &["user.contact.phone_number"], "subject_requested_disclosure").recipient("public.general"),
    );
    assert_verdict(&d, Verdict::Deny);
    assert_reason(&d, "004.share", Effect::Deny);
}

#[test]
fn a_category_outside_the_purpose_is_denied() {
    let d = eval0(&req(Action::Collect, &["user.location.precise"], "registration_login"));
    assert_verdict(&d, Verdict::Deny);
    assert_reason(&d, "builtin.category_not_in_purpose", Effect::Deny);
}

/// Issue 13 item 1: rendering a decision with many undeclared categories
/// costs linear memory. Each category used to copy every request-level
/// denial (one per undeclared category) and keep that capacity: about
/// 16·N² bytes.
#[test]
fn many_undeclared_categories_render_in_linear_space() {
    // Repeated: one category, one reason left after merging, and one for
    // the count over `MAX_CATEGORIES_PER_REQUEST` (a typed request over a
    // limit is denied, not refused).
    let r = req(Action::Collect, &vec!["user.x"; 20_000], "registration_login");
    let d = eval0(&r);
    assert_verdict(&d, Verdict::Deny);
    assert_eq!(d.categories.len(), 1);
    assert_eq!(d.reasons.len(), 2, "{d}");
    assert_reason(&d, "builtin.over_limit", Effect::Deny);
    assert!(d.to_json().len() < 1_000, "{}", d.to_json().len());
    // Distinct: one outcome per category, each naming the rules that denied
    // it (its own undeclared category and the request over the limit), with
    // no capacity kept for the others' denials.
    let names: Vec<String> = (0..2_000).map(|i| format!("user.x{i}")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let d = eval0(&req(Action::Collect, &names, "registration_login"));
    assert_eq!(d.categories.len(), 2_000);
    let rules = ["builtin.over_limit", "builtin.undeclared_category"];
    assert!(d.categories.iter().all(|c| c.rules.iter().map(|r| r.as_str()).eq(rules)));
    let kept: usize = d.categories.iter().map(|c| c.rules.capacity()).sum();
    assert!(kept <= 3 * d.categories.len(), "rule lists keep room for {kept} ids");
    // Each category also names `builtin.over_limit`: some 22 bytes more.
    assert!(d.to_json().len() < 250 * 2_000, "{}", d.to_json().len());
}
