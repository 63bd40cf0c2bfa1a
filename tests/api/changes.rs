//! Classifying the changes between two versions of a policy (003 §9,
//! 004 §7): the seed-004 revision, checked byte for byte against the
//! committed rendering and the README, and one test per change kind.

use privacy_engine::{ChangeDuty, ChangeKind, Changes, Policy, diff};

const V1: &str = include_str!("../../examples/policies/seed-004.json");
const V2: &str = include_str!("../../examples/policies/seed-004-v2.json");
const RENDERED: &str = "tests/data/seed-004-v2.diff.txt";

fn seed_changes() -> Changes {
    let (v1, v2) = (Policy::from_json(V1).unwrap(), Policy::from_json(V2).unwrap());
    diff(&v1, &v2)
}

/// `diff(seed-004, seed-004-v2)` renders exactly as committed in
/// `tests/data/seed-004-v2.diff.txt` and shown in the README section
/// "Policy changes". After a deliberate change (or a regenerated v2), rerun
/// with `BLESS=1` to rewrite both.
#[test]
fn the_seed_004_revision_renders_as_committed_and_in_the_readme() {
    let text = seed_changes().to_string();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let (path, readme_path) = (root.join(RENDERED), root.join("README.md"));
    let readme = std::fs::read_to_string(&readme_path).unwrap();
    // The first text block after the section's heading.
    let section = readme.find("\n## Policy changes\n").expect("the README has a section \"Policy changes\"");
    let start = section + readme[section..].find("```text\n").expect("the section shows a text block") + 8;
    let end = start + readme[start..].find("```\n").unwrap();
    if std::env::var_os("BLESS").is_some() {
        std::fs::write(&path, &text).unwrap();
        std::fs::write(&readme_path, format!("{}{text}{}", &readme[..start], &readme[end..])).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap();
    assert_eq!(text, committed, "rerun with BLESS=1 after a deliberate change");
    assert_eq!(&readme[start..end], text, "the README section \"Policy changes\" shows another rendering");
}

// ---------------------------------------------------------------------------
// One change kind at a time, on a small policy.

use privacy_engine::{CategoryKey, ConsentQualities, PurposeId, RecipientId};
use serde_json::{Value, json};

fn base() -> Value {
    json!({
        "schema": 1,
        "id": "shop",
        "version": "2024-01-01",
        "effective": "2024-01-01T00:00:00+08:00",
        "language": "zh-CN",
        "controller": {"name": "Shop Co.", "owner": "Shop Group"},
        "responsible": {"name": "privacy office", "contact": "privacy@shop.example"},
        "contacts": [{"kind": "online_service", "time_limit": {"working_days": 15}}],
        "complaints": [{"kind": "regulator", "detail": "the cyberspace administration"}],
        "rights": [
            {"right": "access", "channels": [{"kind": "in_app"}]},
            {"right": "delete", "channels": [{"kind": "in_app"}, {"kind": "online_service", "time_limit": {"days": 15}}]}
        ],
        "impact_assessment": {"date": "2023-12-01", "outcome": "no high risk", "high_risk": false},
        "purposes": [
            {"id": "orders", "basis": "core", "categories": ["user.contact.phone_number", "user.contact.address"]},
            {"id": "ads", "basis": "optional", "categories": ["user.behavior.click_history"], "description": "ads"}
        ],
        "consent_requirements": [
            {"id": "consent.ads", "actions": ["collect", "use"], "purposes": ["ads"], "qualities": ["affirmative", "explicit"]}
        ],
        "recipients": [
            {
                "id": "ad_partner", "kind": "partner", "region": "CN", "agreements": ["confidentiality"],
                "categories": ["user.behavior.click_history"], "purposes": ["ads"], "data_state": "de_identified"
            },
            {
                "id": "courier", "kind": "partner", "region": "CN", "agreements": ["confidentiality"],
                "categories": ["user.contact.phone_number", "user.contact.address"], "purposes": ["orders"],
                "data_state": "identifiable"
            }
        ],
        "actions": [
            {"id": "collect", "action": "collect"},
            {"id": "use", "action": "use"},
            {"id": "share", "action": "share", "consent": ["affirmative", "explicit"], "core_purposes": true,
             "recipient_requires": ["confidentiality"]},
            {"id": "abroad", "action": "cross_border", "consent": ["affirmative", "explicit", "separate"],
             "recipient_requires": ["transfer_mechanism"]},
            {"id": "retain", "action": "retain"}
        ],
        "retention": [
            {"id": "keep", "trigger": "collected", "maximum": "P30D", "end_action": "delete"}
        ]
    })
}

/// The changes from `base()` to `base()` changed by `f`, in a later version.
fn changed(f: impl FnOnce(&mut Value)) -> Changes {
    let old = Policy::from_json(&base().to_string()).unwrap();
    let mut v = base();
    v["version"] = json!("2024-06-01");
    v["effective"] = json!("2024-06-01T00:00:00+08:00");
    f(&mut v);
    let new = Policy::from_json(&v.to_string()).unwrap();
    diff(&old, &new)
}

/// The kinds of the changes, in order.
fn kinds(c: &Changes) -> Vec<ChangeKind> {
    c.changes.iter().map(|c| c.kind).collect()
}

fn key(k: &str) -> CategoryKey {
    k.parse().unwrap()
}

fn purpose(p: &str) -> PurposeId {
    PurposeId::from(p)
}

fn recipient(r: &str) -> RecipientId {
    RecipientId::from(r)
}

fn qualities(names: &[&str]) -> ConsentQualities {
    serde_json::from_value(json!(names)).unwrap()
}

#[test]
fn the_same_version_has_no_change_and_a_new_version_without_edits_none_either() {
    let p = Policy::from_json(&base().to_string()).unwrap();
    let same = diff(&p, &p);
    assert!(same.is_empty() && same.duties.is_empty() && same.fresh_consent().is_empty());
    let later = changed(|_| {});
    assert!(later.is_empty(), "{later}");
    // Citations are not content.
    let recited = changed(|v| v["purposes"][0]["cites"] = json!("§1.1"));
    assert!(recited.is_empty(), "{recited}");
}

/// 003 §9 item 2 / 004 §7 item 2: a change of owner is major.
#[test]
fn a_new_owner_is_a_major_ownership_change() {
    let c = changed(|v| v["controller"]["owner"] = json!("Acquirer Holdings"));
    assert_eq!(kinds(&c), vec![ChangeKind::Ownership]);
    let change = &c.changes[0];
    assert!(change.major);
    assert!(change.clause.contains("004 §7 item 2"), "{}", change.clause);
    assert_eq!(change.new_path.as_deref(), Some("/controller"));
    assert!(c.fresh_consent().is_empty(), "a change of owner alone lapses no grant");
}

/// 003 §9 item 1 / 004 §7 item 1: a new purpose is major; no earlier grant
/// names it, so none lapses.
#[test]
fn a_new_purpose_is_major() {
    let c = changed(|v| {
        v["purposes"]
            .as_array_mut()
            .unwrap()
            .push(json!({"id": "profiling", "basis": "optional", "categories": ["user.behavior"]}));
    });
    assert_eq!(kinds(&c), vec![ChangeKind::PurposeAdded]);
    assert!(c.changes[0].clause.contains("004 §7 item 1"));
    assert_eq!(c.changes[0].new_path.as_deref(), Some("/purposes/2"));
    assert!(c.fresh_consent().is_empty());
    assert_eq!(c.duties[0], ChangeDuty::Notify { prominent: true, before: c.effective });
}

/// 004 §7 item 1 (the type of personal information processed) and PIPL
/// art. 14 (a change of the categories processed needs consent again): an
/// optional purpose that gains a category needs fresh consent for the
/// purpose as a whole; no grant for it covers the new version.
#[test]
fn a_purpose_that_gains_a_category_needs_fresh_consent_for_it() {
    let c = changed(|v| {
        v["purposes"][1]["categories"].as_array_mut().unwrap().push(json!("user.location.imprecise"));
    });
    assert_eq!(kinds(&c), vec![ChangeKind::CategoriesAdded]);
    assert!(c.changes[0].major);
    let fresh = c.fresh_consent();
    assert_eq!(fresh.len(), 1);
    assert_eq!(fresh[0].purpose, purpose("ads"));
    assert!(fresh[0].categories.is_empty(), "{fresh:?}");
    assert_eq!(fresh[0].qualities, qualities(&["affirmative", "explicit"]));
    assert!(!c.still_covers(&purpose("ads"), &key("user.location.imprecise"), None));
    assert!(!c.still_covers(&purpose("ads"), &key("user.behavior.click_history"), None));
    assert!(c.still_covers(&purpose("orders"), &key("user.contact.phone_number"), None), "other purposes keep theirs");
    // A core purpose rests on the contract: no grant to lapse.
    let core = changed(|v| v["purposes"][0]["categories"].as_array_mut().unwrap().push(json!("user.account.username")));
    assert_eq!(kinds(&core), vec![ChangeKind::CategoriesAdded]);
    assert!(core.fresh_consent().is_empty());
}

/// A narrowed scope is minor: ordinary notice, no prominent one.
#[test]
fn a_purpose_that_loses_a_category_is_minor() {
    let c = changed(|v| v["purposes"][0]["categories"] = json!(["user.contact.phone_number"]));
    assert_eq!(kinds(&c), vec![ChangeKind::CategoriesRemoved]);
    assert!(!c.has_major());
    assert_eq!(c.duties[0], ChangeDuty::Notify { prominent: false, before: c.effective });
    assert!(c.fresh_consent().is_empty());
}

/// 003 §9 item 3 / 004 §7 item 3: a new recipient changes the main objects of
/// sharing; a purpose-wide grant no longer covers providing to it.
#[test]
fn a_new_recipient_is_major_and_lapses_grants_as_far_as_it_is_concerned() {
    let c = changed(|v| {
        v["recipients"].as_array_mut().unwrap().push(json!({
            "id": "ad_network", "kind": "advertiser", "region": "CN", "agreements": ["confidentiality"],
            "categories": ["user.behavior.click_history"], "purposes": ["ads"], "data_state": "aggregated"
        }));
    });
    assert_eq!(kinds(&c), vec![ChangeKind::RecipientAdded]);
    assert!(c.changes[0].clause.contains("004 §7 item 3"));
    let fresh = c.fresh_consent();
    assert_eq!(fresh.len(), 1);
    assert_eq!(fresh[0].recipient, Some(recipient("ad_network")));
    assert_eq!(fresh[0].qualities, qualities(&["affirmative", "explicit"]));
    let click = key("user.behavior.click_history");
    assert!(!c.still_covers(&purpose("ads"), &click, Some(&recipient("ad_network"))));
    assert!(c.still_covers(&purpose("ads"), &click, Some(&recipient("ad_partner"))));
    assert!(c.still_covers(&purpose("ads"), &click, None));
}

/// A recipient whose `categories` is empty receives nothing
/// (docs/policy-format.md, recipients): adding one is still a change of the
/// main recipients (004 §7 item 3), but no grant lapses for it. A fresh
/// consent without categories would ask for every category.
#[test]
fn a_new_recipient_that_receives_nothing_lapses_no_grant() {
    let c = changed(|v| {
        v["recipients"].as_array_mut().unwrap().push(json!({
            "id": "ad_network", "kind": "advertiser", "region": "CN", "agreements": ["confidentiality"],
            "categories": [], "purposes": ["ads"], "data_state": "aggregated"
        }));
    });
    assert_eq!(kinds(&c), vec![ChangeKind::RecipientAdded]);
    assert!(c.fresh_consent().is_empty(), "{:?}", c.fresh_consent());
    let click = key("user.behavior.click_history");
    assert!(c.still_covers(&purpose("ads"), &click, Some(&recipient("ad_network"))));
    // The same recipient, later given less protection, still receives nothing.
    let c = changed(|v| {
        v["recipients"][0]["categories"] = json!([]);
        v["recipients"][0]["data_state"] = json!("identifiable");
    });
    assert!(c.fresh_consent().is_empty(), "{:?}", c.fresh_consent());
}

/// PIPL art. 14 ¶2, 004 §7 item 1: a purpose that now also profiles
/// changes the manner of processing, and its grants lapse as for new
/// categories; one that no longer does is narrowed, a minor change.
#[test]
fn a_new_kind_of_processing_is_a_change_of_manner_and_lapses_grants() {
    let c = changed(|v| v["purposes"][1]["processing"] = json!(["profiling"]));
    assert_eq!(kinds(&c), vec![ChangeKind::MannerOfUse]);
    assert!(c.changes[0].major);
    assert!(c.changes[0].reason.contains("`profiling`"), "{}", c.changes[0].reason);
    assert_eq!(c.changes[0].new_path.as_deref(), Some("/purposes/1/processing"));
    let fresh = c.fresh_consent();
    assert_eq!(fresh.len(), 1);
    assert_eq!(fresh[0].purpose, purpose("ads"));
    assert!(fresh[0].categories.is_empty() && fresh[0].recipient.is_none());
    assert!(!c.still_covers(&purpose("ads"), &key("user.behavior.click_history"), None));

    let old = Policy::from_json(
        &{
            let mut v = base();
            v["purposes"][1]["processing"] = json!(["profiling", "marketing"]);
            v
        }
        .to_string(),
    )
    .unwrap();
    let mut v = base();
    v["version"] = json!("2024-06-01");
    v["purposes"][1]["processing"] = json!(["marketing"]);
    let c = diff(&old, &Policy::from_json(&v.to_string()).unwrap());
    assert_eq!(kinds(&c), vec![ChangeKind::ScopeNarrowed]);
    assert!(!c.has_major());
    assert!(c.fresh_consent().is_empty());
}

/// 004 §7 item 4 and the promise not to reduce rights without explicit
/// consent: deletion offered on fewer grounds is a reduction; on more, a
/// change of the right.
#[test]
fn deletion_on_fewer_grounds_is_a_reduction_of_rights() {
    let with = |grounds: Value| move |v: &mut Value| v["rights"][1]["grounds"] = grounds;
    let c = changed(with(json!(["unlawful"])));
    assert_eq!(kinds(&c), vec![ChangeKind::RightsChanged]);
    let old = {
        let mut v = base();
        with(json!(["unlawful", "account_cancelled"]))(&mut v);
        Policy::from_json(&v.to_string()).unwrap()
    };
    let mut v = base();
    v["version"] = json!("2024-06-01");
    with(json!(["unlawful"]))(&mut v);
    let c = diff(&old, &Policy::from_json(&v.to_string()).unwrap());
    assert_eq!(kinds(&c), vec![ChangeKind::RightsReduced]);
    assert!(c.changes[0].reason.contains("`account_cancelled`"), "{}", c.changes[0].reason);
    assert!(c.fresh_consent().is_empty(), "a reduction is a duty, not a lapsed grant");
}

/// 004 §7 item 1 ("manner of use"): an action rule is compared field by
/// field. Asking consent with more qualities or more of the recipient is
/// minor; with fewer qualities it reduces rights; letting the action go
/// abroad, or changing its duties, changes the manner of use.
#[test]
fn an_action_rule_is_compared_field_by_field() {
    let c = changed(|v| v["actions"][2]["consent"] = json!(["affirmative", "explicit", "separate"]));
    assert_eq!(kinds(&c), vec![ChangeKind::ConsentStrengthened]);
    assert!(!c.has_major());
    assert_eq!(c.changes[0].new_path.as_deref(), Some("/actions/2/consent"));

    let c = changed(|v| v["actions"][2]["consent"] = json!(["affirmative"]));
    assert_eq!(kinds(&c), vec![ChangeKind::RightsReduced]);

    let c = changed(|v| v["actions"][2]["recipient_requires"] = json!(["confidentiality", "processing_contract"]));
    assert_eq!(kinds(&c), vec![ChangeKind::ScopeNarrowed]);
    assert!(!c.has_major());

    let c = changed(|v| {
        v["actions"][2]["allow_abroad"] = json!(true);
        v["actions"][2]["core_purposes"] = json!(false);
    });
    assert_eq!(kinds(&c), vec![ChangeKind::ScopeNarrowed, ChangeKind::MannerOfUse]);
    assert!(c.has_major());
    assert!(c.changes[1].reason.contains("`allow_abroad`"), "{}", c.changes[1].reason);

    let c = changed(|v| v["actions"][2]["duties"] = json!(["notify_subject"]));
    assert_eq!(kinds(&c), vec![ChangeKind::MannerOfUse]);
    assert!(c.fresh_consent().is_empty());
}

/// 004 §6 and §7 item 1: the minors rules are compared part by part. What
/// protects children more is minor; what protects them less (a rule
/// removed, a weaker effect, a lower age) changes the manner of use.
#[test]
fn the_minors_rules_are_compared_part_by_part() {
    let with_minors = |v: &mut Value| {
        v["minors"] = json!({
            "id": "shop.minors", "guardian_consent_below": 14,
            "guardian_qualities": ["affirmative", "explicit", "separate", "written", "guardian"],
            "rules": [
                {"id": "shop.minors.no_ads", "below_age": 18, "effect": "deny", "purposes": ["ads"]},
                {"id": "shop.minors.guidance", "below_age": 14, "effect": "guidance"}
            ]
        });
    };
    let old = {
        let mut v = base();
        with_minors(&mut v);
        Policy::from_json(&v.to_string()).unwrap()
    };
    let revised = |f: &dyn Fn(&mut Value)| {
        let mut v = base();
        v["version"] = json!("2024-06-01");
        with_minors(&mut v);
        f(&mut v);
        diff(&old, &Policy::from_json(&v.to_string()).unwrap())
    };
    let c = revised(&|v| v["minors"]["guardian_consent_below"] = json!(16));
    assert_eq!(kinds(&c), vec![ChangeKind::ScopeNarrowed]);
    assert_eq!(c.changes[0].new_path.as_deref(), Some("/minors/guardian_consent_below"));
    let c = revised(&|v| v["minors"]["rules"][0]["effect"] = json!("guidance"));
    assert_eq!(kinds(&c), vec![ChangeKind::MannerOfUse]);
    assert!(c.changes[0].reason.contains("`shop.minors.no_ads`"), "{}", c.changes[0].reason);
    let c = revised(&|v| v["minors"]["rules"][1]["below_age"] = json!(16));
    assert_eq!(kinds(&c), vec![ChangeKind::ScopeNarrowed]);
    let c = revised(&|v| {
        v["minors"]["rules"].as_array_mut().unwrap().remove(1);
    });
    assert_eq!(kinds(&c), vec![ChangeKind::MannerOfUse]);
    assert_eq!(c.changes[0].old_path.as_deref(), Some("/minors/rules/1"));
    let c =
        revised(&|v| v["minors"]["guardian_qualities"] = json!(["affirmative", "explicit", "separate", "guardian"]));
    assert_eq!(kinds(&c), vec![ChangeKind::RightsReduced]);
    // A policy that gains minors rules.
    assert_eq!(kinds(&changed(with_minors)), vec![ChangeKind::MannerOfUse]);
}

/// 004 §7 item 3: a removed recipient is a change of the main objects too;
/// a recipient that receives less is a minor change.
#[test]
fn removed_and_narrowed_recipients() {
    let c = changed(|v| {
        v["recipients"].as_array_mut().unwrap().remove(0);
    });
    assert_eq!(kinds(&c), vec![ChangeKind::RecipientRemoved]);
    assert!(c.changes[0].major);
    assert_eq!(c.changes[0].old_path.as_deref(), Some("/recipients/0"));
    let c = changed(|v| v["recipients"][1]["categories"] = json!(["user.contact.address"]));
    assert_eq!(kinds(&c), vec![ChangeKind::RecipientNarrowed]);
    assert!(!c.has_major());
    // A recipient that receives identifiable data where it had de-identified data.
    let c = changed(|v| v["recipients"][0]["data_state"] = json!("identifiable"));
    assert_eq!(kinds(&c), vec![ChangeKind::RecipientChanged]);
    assert_eq!(c.fresh_consent()[0].recipient, Some(recipient("ad_partner")));
}

/// PIPL art. 39 and 004 §7 item 3: a destination abroad that no recipient was
/// in needs the separate consent of the cross-border rule.
#[test]
fn a_new_destination_abroad_is_a_cross_border_change() {
    let c = changed(|v| {
        v["recipients"].as_array_mut().unwrap().push(json!({
            "id": "ad_lab_us", "kind": "partner", "region": "US", "agreements": ["confidentiality", "cac_standard_contract"],
            "categories": ["user.behavior.click_history"], "purposes": ["ads"], "data_state": "de_identified"
        }));
    });
    assert_eq!(kinds(&c), vec![ChangeKind::RecipientAdded, ChangeKind::CrossBorderDestination]);
    assert!(c.changes[1].clause.starts_with("PIPL art. 39"));
    assert_eq!(c.changes[1].new_path.as_deref(), Some("/recipients/2/region"));
    let fresh = c.fresh_consent();
    assert_eq!(fresh[0].qualities, qualities(&["affirmative", "explicit", "separate"]));
    // Moving an existing recipient abroad is one too.
    let c = changed(|v| v["recipients"][0]["region"] = json!("SG"));
    assert_eq!(kinds(&c), vec![ChangeKind::RecipientChanged, ChangeKind::CrossBorderDestination]);
    assert_eq!(c.changes[1].old_path.as_deref(), Some("/recipients/0/region"));
}

/// 003 §9 / 004 §7: "without your explicit consent we will not reduce your
/// rights" — a channel or a right gone is a reduction, with its duty.
#[test]
fn a_reduction_of_rights_needs_explicit_consent() {
    let c = changed(|v| v["rights"][1]["channels"] = json!([{"kind": "in_app"}]));
    assert_eq!(kinds(&c), vec![ChangeKind::RightsReduced]);
    assert!(c.changes[0].reason.contains("no longer through online_service"), "{}", c.changes[0].reason);
    assert!(c.changes[0].clause.contains("不会削减"));
    assert!(c.duties.contains(&ChangeDuty::ExplicitConsentToReduction));
    let c = changed(|v| {
        v["rights"].as_array_mut().unwrap().remove(0);
    });
    assert_eq!(kinds(&c), vec![ChangeKind::RightsReduced]);
    assert_eq!(c.changes[0].old_path.as_deref(), Some("/rights/0"));
    // A slower answer and a new identity check are reductions too.
    let c = changed(|v| v["rights"][1]["channels"][1]["time_limit"] = json!({"working_days": 15}));
    assert_eq!(kinds(&c), vec![ChangeKind::RightsReduced]);
    let c = changed(|v| v["rights"][0]["verify_identity"] = json!(true));
    assert_eq!(kinds(&c), vec![ChangeKind::RightsReduced]);
}

/// 003 §9 item 4 / 004 §7 item 4: a new right, or a new way to exercise one,
/// is a major change of rights but not a reduction.
#[test]
fn a_new_right_is_a_major_change_of_rights() {
    let c = changed(|v| v["rights"].as_array_mut().unwrap().push(json!({"right": "copy"})));
    assert_eq!(kinds(&c), vec![ChangeKind::RightsChanged]);
    assert!(c.changes[0].major && c.changes[0].clause.contains("004 §7 item 4"));
    assert!(!c.duties.contains(&ChangeDuty::ExplicitConsentToReduction));
    let c = changed(|v| v["rights"][0]["channels"].as_array_mut().unwrap().push(json!({"kind": "email"})));
    assert_eq!(kinds(&c), vec![ChangeKind::RightsChanged]);
}

/// 003 §9 item 5 / 004 §7 item 5: the responsible department, a contact or a
/// complaint channel.
#[test]
fn department_contact_and_complaint_channel_changes_are_major() {
    let c = changed(|v| {
        v["responsible"]["name"] = json!("data protection officer");
        v["complaints"].as_array_mut().unwrap().push(json!({"kind": "court"}));
        v["contacts"][0]["time_limit"] = json!({"working_days": 10});
    });
    assert_eq!(kinds(&c), vec![ChangeKind::ContactsChanged; 3]);
    let paths: Vec<_> = c.changes.iter().map(|c| c.new_path.as_deref().unwrap()).collect();
    assert_eq!(paths, ["/responsible", "/contacts", "/complaints"]);
    assert!(c.changes.iter().all(|c| c.major && c.clause.contains("004 §7 item 5")));
}

/// 003 §9 item 6 / 004 §7 item 6: a report that finds a high risk is major;
/// a new report without one is not.
#[test]
fn a_high_risk_assessment_is_major_and_a_clean_one_is_not() {
    let c =
        changed(|v| v["impact_assessment"] = json!({"date": "2024-05-01", "outcome": "high risk", "high_risk": true}));
    assert_eq!(kinds(&c), vec![ChangeKind::HighRiskAssessment]);
    assert!(c.changes[0].major && c.changes[0].clause.contains("004 §7 item 6"));
    let c = changed(|v| v["impact_assessment"]["date"] = json!("2024-05-01"));
    assert_eq!(kinds(&c), vec![ChangeKind::AssessmentUpdated]);
    assert!(!c.has_major());
}

/// Keeping data longer changes the manner of use (004 §7 item 1; PIPL art.
/// 17(1)(3) names the retention period); keeping it less is minor.
#[test]
fn retention_lengthened_is_major_and_shortened_minor() {
    let c = changed(|v| v["retention"][0]["maximum"] = json!("P1Y"));
    assert_eq!(kinds(&c), vec![ChangeKind::RetentionLengthened]);
    assert!(c.has_major());
    let c = changed(|v| v["retention"][0]["maximum"] = json!("P7D"));
    assert_eq!(kinds(&c), vec![ChangeKind::RetentionShortened]);
    assert!(!c.has_major());
    // A month may end after 30 days: counted as longer.
    let c = changed(|v| v["retention"][0]["maximum"] = json!("P1M"));
    assert_eq!(kinds(&c), vec![ChangeKind::RetentionLengthened]);
    // No maximum any more: kept without limit.
    let c = changed(|v| {
        v["retention"][0].as_object_mut().unwrap().remove("maximum");
    });
    assert_eq!(kinds(&c), vec![ChangeKind::RetentionLengthened]);
}

/// PIPL art. 28-29 and 004 §7 item 1: a category raised to sensitive needs
/// fresh, separate consent from every optional purpose that processes it.
#[test]
fn a_raised_sensitivity_needs_fresh_separate_consent() {
    let c = changed(|v| {
        v["categories"] = json!([{"key": "user.behavior.click_history", "sensitivity": "sensitive"}]);
        v["consent_requirements"][0]["qualities"] = json!(["affirmative", "explicit", "separate"]);
    });
    assert_eq!(kinds(&c), vec![ChangeKind::SensitivityRaised, ChangeKind::ConsentStrengthened]);
    assert_eq!(c.changes[0].new_path.as_deref(), Some("/categories/0/sensitivity"));
    let fresh = c.fresh_consent();
    assert_eq!(fresh.len(), 1, "{c}");
    assert_eq!(
        (fresh[0].purpose.as_str(), fresh[0].qualities),
        ("ads", qualities(&["affirmative", "explicit", "separate"]))
    );
}

/// Consent asked of less is a reduction of the person's say (004 §7 item 4).
#[test]
fn consent_asked_of_less_is_a_reduction() {
    let c = changed(|v| v["consent_requirements"][0]["qualities"] = json!(["affirmative"]));
    assert_eq!(kinds(&c), vec![ChangeKind::RightsReduced]);
    let c = changed(|v| v["consent_requirements"] = json!([]));
    assert_eq!(kinds(&c), vec![ChangeKind::RightsReduced]);
    // A filter that names categories where it named none asks of less.
    let c = changed(|v| v["consent_requirements"][0]["categories"] = json!(["user.behavior.search_history"]));
    assert_eq!(kinds(&c), vec![ChangeKind::RightsReduced]);
    // One that names none where it named some asks of more.
    let c = changed(|v| {
        v["consent_requirements"][0].as_object_mut().unwrap().remove("purposes");
    });
    assert_eq!(kinds(&c), vec![ChangeKind::ConsentStrengthened]);
}

/// A new exception or action rule changes the manner of use (004 §7 item 1);
/// removing one narrows the scope.
#[test]
fn rules_and_exceptions() {
    let c = changed(|v| v["actions"][2]["exceptions"] = json!([{"id": "share.law", "ground": "law"}]));
    assert_eq!(kinds(&c), vec![ChangeKind::MannerOfUse]);
    assert_eq!(c.changes[0].new_path.as_deref(), Some("/actions/2/exceptions/0"));
    let c = changed(|v| {
        v["actions"].as_array_mut().unwrap().remove(3);
    });
    assert_eq!(kinds(&c), vec![ChangeKind::ScopeNarrowed]);
    let c = changed(|v| v["settings"] = json!({"localisation": true}));
    assert_eq!(kinds(&c), vec![ChangeKind::MannerOfUse]);
}

/// Wording alone is minor: ordinary notice, publication, archiving.
#[test]
fn wording_is_minor_and_still_published_and_archived() {
    let c = changed(|v| {
        v["purposes"][1]["description"] = json!("personalised advertising");
        v["source"] = json!("privacy policy, 2024-06-01");
    });
    assert_eq!(kinds(&c), vec![ChangeKind::Wording, ChangeKind::Wording]);
    assert_eq!(
        c.duties,
        vec![
            ChangeDuty::Notify { prominent: false, before: c.effective },
            ChangeDuty::Publish { version: "2024-06-01".to_owned(), effective: c.effective },
            ChangeDuty::Archive { version: "2024-01-01".to_owned() },
        ]
    );
}

#[test]
fn the_seed_004_revision_has_every_major_kind_and_a_stable_json_form() {
    let c = seed_changes();
    for kind in [
        ChangeKind::Ownership,
        ChangeKind::ContactsChanged,
        ChangeKind::RightsChanged,
        ChangeKind::RightsReduced,
        ChangeKind::HighRiskAssessment,
        ChangeKind::PurposeAdded,
        ChangeKind::CategoriesAdded,
        ChangeKind::RecipientAdded,
        ChangeKind::CrossBorderDestination,
        ChangeKind::RetentionLengthened,
        ChangeKind::SensitivityRaised,
        ChangeKind::CategoriesRemoved,
        ChangeKind::Wording,
    ] {
        assert!(kinds(&c).contains(&kind), "{kind:?} missing from\n{c}");
    }
    assert_eq!(c, seed_changes(), "the same inputs give the same changes");
    let json = serde_json::to_value(&c).unwrap();
    assert_eq!(json["changes"][0]["kind"], "ownership");
    assert_eq!(json["duties"][0]["duty"], "notify");
    assert_eq!(json["fresh"].as_array().unwrap().len(), c.fresh_consent().len());
    let back: Changes = serde_json::from_value(json).unwrap();
    assert_eq!(back, c, "the JSON form reads back");
}

/// The one reading of a `FreshConsent`: a grant lapses for its purpose, for
/// a category at, above or below the listed ones, and, when a recipient is
/// named, only as far as that recipient is concerned.
#[test]
fn when_a_grant_lapses() {
    use privacy_engine::FreshConsent;
    let all = FreshConsent::new(purpose("ads"), ConsentQualities::affirmative());
    assert!(all.lapses(&purpose("ads"), &key("user.behavior.click_history"), None));
    assert!(!all.lapses(&purpose("orders"), &key("user.behavior.click_history"), None));
    let some = all.clone().for_categories(vec![key("user.behavior")]);
    assert!(some.lapses(&purpose("ads"), &key("user.behavior.click_history"), None), "below");
    assert!(some.lapses(&purpose("ads"), &key("user"), None), "above: a grant for all of `user` covers it");
    assert!(!some.lapses(&purpose("ads"), &key("user.location"), None));
    let one = some.for_recipient(recipient("ad_network"));
    let click = key("user.behavior.click_history");
    assert!(one.lapses(&purpose("ads"), &click, Some(&recipient("ad_network"))));
    assert!(!one.lapses(&purpose("ads"), &click, Some(&recipient("ad_partner"))));
    assert!(!one.lapses(&purpose("ads"), &click, None), "the controller's own processing");
}
