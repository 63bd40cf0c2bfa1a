//! Same inputs, byte-identical decisions; every list in a decision sorted
//! and free of duplicates.

use privacy_engine::{Action, ConsentQualities, Decision, Engine, Obligation, Permission, Policy, Request, Unmet};

use crate::{Ledger, SEED_004, engine, req};

#[track_caller]
fn assert_sorted<T: Ord + std::fmt::Debug>(what: &str, list: &[T], d: &Decision) {
    assert!(list.windows(2).all(|w| w[0] < w[1]), "{what} not sorted and unique: {list:?} in\n{d}");
}

/// Checks every list of a decision, nested ones included.
#[track_caller]
pub(crate) fn assert_all_sorted(d: &Decision) {
    assert_sorted("categories", &d.categories, d);
    assert_sorted("reasons", &d.reasons, d);
    assert_sorted("obligations", &d.obligations, d);
    assert_sorted("unmet", &d.unmet, d);
    for c in &d.categories {
        assert_sorted("category rules", &c.rules, d);
    }
    for o in &d.obligations {
        match o {
            Obligation::Minimise { categories } => assert_sorted("minimise", categories, d),
            Obligation::NotifySubject { fields } => assert_sorted("notice fields", fields, d),
            Obligation::NotifyRecipients { recipients } => {
                assert_sorted("recipients", recipients, d);
            }
            _ => {}
        }
    }
    for u in &d.unmet {
        if let Unmet::Consent { categories, rules, .. } = u {
            assert_sorted("unmet categories", categories, d);
            assert_sorted("unmet rules", rules, d);
        }
    }
}

fn ledger(reverse: bool) -> Ledger {
    let mut l = Ledger::new();
    let mut steps: Vec<fn(&mut Ledger)> = vec![
        |l| {
            l.permission_on("alice", "2024-05-01T09:00:00+08:00", Permission::Camera);
        },
        |l| {
            l.grant(
                "alice",
                "2024-05-02T09:00:00+08:00",
                ConsentQualities::explicit(),
                "face_verification",
                &["user.biometric.face"],
                None,
            );
        },
        |l| {
            l.grant(
                "alice",
                "2024-05-03T09:00:00+08:00",
                ConsentQualities::separate(),
                "face_verification",
                &["user.government_id"],
                None,
            );
        },
    ];
    if reverse {
        steps.reverse();
    }
    for s in steps {
        s(&mut l);
    }
    l
}

fn requests() -> Vec<Request> {
    vec![
        req(Action::Collect, &["user.government_id", "user.biometric.face", "user.contact.fax"], "face_verification"),
        req(Action::Collect, &["user.government_id", "user.biometric.face"], "face_verification"),
        req(
            Action::Share,
            &["user.financial.transaction", "user.contact.phone_number", "user.contact.address"],
            "payment_delivery",
        )
        .recipient("partner.logistics"),
        req(Action::CrossBorder, &["user.contact.phone_number", "user.contact.address"], "ordering")
            .recipient("partner.overseas_entity"),
    ]
}

#[test]
fn the_same_inputs_give_byte_identical_json() {
    let other = Engine::new(Policy::from_json(SEED_004).unwrap()).unwrap();
    let (a, b) = (ledger(false), ledger(true));
    for r in requests() {
        let first = engine().evaluate(&r, &a.ledger).to_json();
        assert_eq!(first, engine().evaluate(&r, &a.ledger).to_json());
        // Another engine from the same document; the same events appended in
        // another order.
        assert_eq!(first, other.evaluate(&r, &b.ledger).to_json());
    }
}

#[test]
fn a_prepared_request_is_decided_as_evaluate_decides_it() {
    // A variant whose purposes and recipients sit at other positions, so the
    // ids prepared by one engine mean something else in the other.
    let mut v = crate::seed_value();
    v["purposes"].as_array_mut().unwrap().reverse();
    v["recipients"].as_array_mut().unwrap().reverse();
    let other = crate::engine_from(&v);
    let l = ledger(false);
    for r in requests() {
        let prepared = engine().prepare(&r);
        assert_eq!(engine().decide(&prepared, &l.ledger).to_decision(), engine().evaluate(&r, &l.ledger));
        assert_eq!(prepared.request(), &r);
        // Decided by an engine that did not prepare it: prepared again there.
        assert_eq!(other.decide(&prepared, &l.ledger).to_decision(), other.evaluate(&r, &l.ledger));
    }
}

#[test]
fn every_list_in_a_decision_is_sorted() {
    let l = ledger(false);
    for r in requests() {
        assert_all_sorted(&engine().evaluate(&r, &l.ledger));
    }
}

#[test]
fn a_permitted_multi_category_request_has_sorted_lists() {
    // Categories given in reverse order: the minimise obligation lists
    // them sorted, like every list of a decision.
    let r = req(Action::Share, &["user.contact.phone_number", "user.contact.address"], "payment_delivery")
        .recipient("partner.logistics");
    let d = crate::eval0(&r);
    assert!(d.is_permit(), "{d}");
    assert_all_sorted(&d);
}

#[test]
fn category_order_in_the_request_does_not_change_the_decision() {
    let l = ledger(false);
    for r in requests() {
        let mut reversed = r.clone();
        reversed.categories.reverse();
        assert_eq!(engine().evaluate(&r, &l.ledger).to_json(), engine().evaluate(&reversed, &l.ledger).to_json());
    }
}

#[test]
fn a_repeated_category_is_decided_once() {
    let r = req(Action::Collect, &["user.contact.phone_number", "user.contact.phone_number"], "registration_login");
    let d = crate::eval0(&r);
    assert!(d.is_permit(), "{d}");
    assert_eq!(d.categories.len(), 1, "{d}");
    assert_all_sorted(&d);
}

#[test]
fn decisions_round_trip_through_json() {
    let l = ledger(false);
    for r in requests() {
        let d = engine().evaluate(&r, &l.ledger);
        let back: Decision = serde_json::from_str(&d.to_json()).unwrap();
        assert_eq!(back, d);
    }
}
