use chrono::{DateTime, FixedOffset, TimeDelta, Utc};
use uuid::Uuid;

use super::*;
use crate::consent::{ConsentChange, ConsentEvent, ConsentHistory, ConsentQuery, ConsentStore, Scope};
use crate::error::ErrorKind;
use crate::policy::RecipientKind;

fn at(secs: i64, offset: i32) -> DateTime<FixedOffset> {
    DateTime::from_timestamp(1_700_000_000 + secs, 7).unwrap().with_timezone(&FixedOffset::east_opt(offset).unwrap())
}

fn scope(purpose: &str, category: &str) -> Scope {
    Scope::new(vec![purpose.into()], vec![category.parse().unwrap()])
}

/// A ledger with every kind of event and of name: recorded and unrecorded
/// events, a long subject id, a subject out of time order, one with more
/// events than are scanned for ids, expiries, a recipient and a
/// description.
fn ledger() -> CompactLedger {
    let mut l = CompactLedger::new();
    let recorded: DateTime<Utc> = at(3600, 0).with_timezone(&Utc);
    let mut n = 0u128;
    let mut ev = |subject: &str, secs: i64, change: ConsentChange| {
        n += 1;
        ConsentEvent::new(Uuid::from_u128(n), at(secs, 8 * 3600), subject, "seed-004", "2021-08-20", change)
    };
    let mut shared = scope("ads", "user.device.device_id");
    shared.recipient = Some("partner.ads".into());
    shared.described = Some(Described::recipient("an ad network", RecipientKind::Advertiser));
    let grant =
        |scope: Scope, expires| ConsentChange::Grant { qualities: ConsentQualities::separate(), scope, expires };
    l.append(ev("a", 10, grant(scope("stats", "user.contact.phone_number"), Some(at(500, -3600))))).unwrap();
    l.append_at(ev("a", 5, grant(shared.clone(), None)), recorded).unwrap();
    l.append(ev("a", 20, ConsentChange::Withdraw { scope: scope("stats", "user.contact") })).unwrap();
    l.append_at(ev("a", 30, ConsentChange::PermissionOn { permission: Permission::Camera }), recorded).unwrap();
    let long = "subject-0123456789-abcdef-long-id";
    shared.described = None;
    l.append(ev(long, 1, ConsentChange::Refuse { scope: shared })).unwrap();
    l.append(ev(long, 2, ConsentChange::PermissionOff { permission: Permission::Location })).unwrap();
    for i in 0..70 {
        l.append_at(ev("many", i, grant(scope("ads", "user.device"), Some(at(i + 100, 0)))), recorded).unwrap();
    }
    l.append(ev("gone", 1, ConsentChange::Revoke { scope: scope("ads", "user") })).unwrap();
    assert_eq!(l.forget(&"gone".into()), 1);
    l
}

fn subjects(l: &CompactLedger) -> Vec<SubjectId> {
    let mut s: Vec<SubjectId> = l.subjects().collect();
    s.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    s
}

/// Rewrites the header's length and checksum, as someone altering the
/// bytes on purpose would.
fn reseal(bytes: &mut [u8]) {
    let (head, body) = bytes.split_at_mut(HEADER);
    let sum = digest::digest(&digest::SHA256, body);
    head[12..20].copy_from_slice(&(body.len() as u64).to_le_bytes());
    head[20..].copy_from_slice(sum.as_ref());
}

/// Every look-up a decision or a walk makes, to show that none panics.
fn exercise(l: &CompactLedger) {
    for s in l.subjects().collect::<Vec<_>>() {
        let _ = l.arrivals(&s).count() + l.events(&s).count() + l.history(&s).count();
        for (p, c) in [("ads", "user.device.device_id"), ("stats", "user.contact.phone_number"), ("x", "user")] {
            let (p, c): (PurposeId, CategoryKey) = (p.into(), c.parse().unwrap());
            let t = at(40, 0).with_timezone(&Utc);
            let q = ConsentQuery::new(&s, &p, &c, t);
            let _ = (l.has_consent(&q), l.grants(&q), l.status(&s, &p, &c, None, t));
            let _ = l.permission_on(&s, Permission::Camera, t);
        }
    }
}

#[test]
fn a_ledger_comes_back_identical() {
    let l = ledger();
    let back = CompactLedger::from_snapshot(&l.to_snapshot()).unwrap();
    assert_eq!(back.len(), l.len());
    assert_eq!(subjects(&back), subjects(&l));
    for s in subjects(&l) {
        let (want, got): (Vec<_>, Vec<_>) = (l.arrivals(&s).collect(), back.arrivals(&s).collect());
        assert_eq!(want, got);
        let offsets = |v: &[(ConsentEvent, _)]| v.iter().map(|(e, _)| e.at.to_rfc3339()).collect::<Vec<_>>();
        assert_eq!(offsets(&want), offsets(&got));
        let e = back.events_of(&s).unwrap();
        let o = l.events_of(&s).unwrap();
        assert_eq!((e.unordered, e.ids.is_some()), (o.unordered, o.ids.is_some()));
        assert!(e.hot.iter().zip(&o.hot).all(|(a, b)| a.purpose_bits == b.purpose_bits && a.lapses == b.lapses));
    }
    assert_eq!(back.parents, l.parents);
    assert_eq!(back.scope_names, l.scope_names);
    // The same bytes again: nothing is lost or added on the way.
    let again = back.to_snapshot();
    assert_eq!(again.len(), l.to_snapshot().len());
    assert!(back.arrivals(&"gone".into()).next().is_none());
}

#[test]
fn an_empty_ledger_comes_back_empty() {
    let bytes = CompactLedger::new().to_snapshot();
    let back = CompactLedger::from_snapshot(&bytes).unwrap();
    assert!(back.is_empty());
    assert_eq!(back.subjects().count(), 0);
}

#[test]
fn a_cut_snapshot_is_refused() {
    let bytes = ledger().to_snapshot();
    for len in 0..bytes.len() {
        let err = CompactLedger::from_snapshot(&bytes[..len]).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Store);
        assert!(err.to_string().starts_with("consent ledger snapshot refused at byte "), "{err}");
    }
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(CompactLedger::from_snapshot(&longer).is_err());
}

#[test]
fn a_flipped_byte_is_refused_by_the_checksum() {
    let bytes = ledger().to_snapshot();
    for i in 0..bytes.len() {
        let mut bad = bytes.clone();
        bad[i] ^= 0x10;
        assert!(CompactLedger::from_snapshot(&bad).is_err(), "byte {i}");
    }
}

/// With the checksum made to match, every altered byte is either refused
/// or gives a ledger whose every look-up answers without panicking.
#[test]
fn an_altered_and_resealed_snapshot_never_panics() {
    let bytes = ledger().to_snapshot();
    let mut refused = 0;
    for i in HEADER..bytes.len() {
        for mask in [0x01, 0xff] {
            let mut bad = bytes.clone();
            bad[i] ^= mask;
            reseal(&mut bad);
            match CompactLedger::from_snapshot(&bad) {
                Ok(l) => exercise(&l),
                Err(e) => {
                    assert_eq!(e.kind(), ErrorKind::Store);
                    refused += 1;
                }
            }
        }
    }
    // Many bytes are free (event ids, times): a third of the alterations,
    // those of counts, ids and kinds, are caught.
    let altered = 2 * (bytes.len() - HEADER);
    assert!(3 * refused > altered, "{refused} of {altered}");
}

#[test]
fn ids_out_of_range_are_refused() {
    let mut l = CompactLedger::new();
    let change =
        ConsentChange::Grant { qualities: ConsentQualities::empty(), scope: scope("ads", "user"), expires: None };
    l.append(ConsentEvent::new(Uuid::nil(), at(0, 0), "s", "p", "1", change)).unwrap();
    let bytes = l.to_snapshot();
    // The event is the last 28 bytes: kind, detail, id, its seconds (5
    // bytes), nanoseconds, offset, then its scope, policy and expiry ids.
    let record = bytes.len() - 28;
    for (field, value) in [(25, 2u8), (26, 2), (27, 1), (25, 0)] {
        let mut bad = bytes.clone();
        bad[record + field] = value;
        reseal(&mut bad);
        let err = CompactLedger::from_snapshot(&bad).unwrap_err();
        let want = format!("consent ledger snapshot refused at byte {record}: an event that does not fit");
        assert_eq!(err.to_string(), want, "{field}");
    }
    let mut other = bytes.clone();
    other[8] = 2;
    assert!(CompactLedger::from_snapshot(&other).unwrap_err().to_string().contains("version 2 is not supported"));
    let mut later = l.clone();
    later
        .append(ConsentEvent::new(
            Uuid::from_u128(1),
            at(0, 0) - TimeDelta::hours(1),
            "s",
            "p",
            "1",
            ConsentChange::PermissionOn { permission: Permission::Camera },
        ))
        .unwrap();
    let back = CompactLedger::from_snapshot(&later.to_snapshot()).unwrap();
    assert!(back.events_of(&"s".into()).unwrap().unordered);
}

#[test]
fn a_stamp_fits_exactly_when_it_decodes() {
    let secs = [0, 1_700_000_000, -1, 7_999_999_999_999, 8_000_000_000_000, 8_300_000_000_000, i64::MAX, i64::MIN];
    let nanos = [0, 999_999_999, 1_000_000_000, 1_999_999_999, u32::MAX];
    let offsets = [0, 86_399, -86_399, 86_400, -86_400, i32::MIN];
    for s in secs.iter().flat_map(|s| [*s, s.wrapping_neg()]) {
        for n in nanos {
            for o in offsets {
                let want = Stamp { secs: s, nanos: n, offset: o }.decode().is_some();
                assert_eq!(Stamp::fits(s, n, o), want, "{s} {n} {o}");
            }
        }
    }
}
