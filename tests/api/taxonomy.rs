//! The built-in taxonomy: catalog coverage, sensitivities, hierarchy and key
//! syntax.

use privacy_engine::{CategoryKey, Sensitivity, Taxonomy};

/// Every id of `shared/reference/seeds-catalog.md` §1.1 (the rows
/// `| DC-nn |`), copied here so that the test needs no file beside the repo.
const CATALOG_IDS: [&str; 73] = [
    "DC-01", "DC-02", "DC-03", "DC-04", "DC-05", "DC-06", "DC-07", "DC-08", "DC-09", "DC-10", "DC-11", "DC-12",
    "DC-13", "DC-14", "DC-15", "DC-16", "DC-17", "DC-18", "DC-19", "DC-20", "DC-21", "DC-22", "DC-23", "DC-24",
    "DC-25", "DC-26", "DC-27", "DC-28", "DC-29", "DC-30", "DC-31", "DC-32", "DC-33", "DC-34", "DC-40", "DC-41",
    "DC-42", "DC-43", "DC-44", "DC-45", "DC-46", "DC-50", "DC-51", "DC-52", "DC-53", "DC-54", "DC-55", "DC-56",
    "DC-57", "DC-60", "DC-61", "DC-62", "DC-63", "DC-64", "DC-65", "DC-70", "DC-71", "DC-72", "DC-80", "DC-81",
    "DC-82", "DC-83", "DC-84", "DC-85", "DC-86", "DC-90", "DC-91", "DC-92", "DC-95", "DC-96", "DC-97", "DC-98",
    "DC-99",
];

fn key(s: &str) -> CategoryKey {
    CategoryKey::new(s).unwrap()
}

fn sensitivity(t: &Taxonomy, k: &str) -> Sensitivity {
    t.get(&key(k)).unwrap_or_else(|| panic!("`{k}` is not in the built-in taxonomy")).sensitivity
}

#[test]
fn every_catalog_category_is_a_key_or_modelled_elsewhere() {
    let t = Taxonomy::builtin();
    let missing: Vec<&str> = CATALOG_IDS
        .iter()
        .copied()
        .filter(|id| t.by_catalog_id(id).is_none() && Taxonomy::modelled_elsewhere(id).is_none())
        .collect();
    assert!(missing.is_empty(), "catalog ids with no category: {missing:?}");
}

#[test]
fn catalog_ids_map_to_known_builtin_keys() {
    let t = Taxonomy::builtin();
    for id in CATALOG_IDS {
        if let Some(k) = t.by_catalog_id(id) {
            let info = t.get(k).unwrap();
            assert!(info.builtin, "{id} -> {k} is not builtin");
            assert!(info.catalog.contains(&id), "{id} -> {k} does not list {id}");
            assert!(!info.description.is_empty(), "{k} has no description");
        }
    }
    // A sample of exact mappings.
    for (id, want) in [
        ("DC-01", "user.contact.phone_number"),
        ("DC-09", "user.government_id.national_identification_number"),
        ("DC-13", "user.biometric.face"),
        ("DC-22", "user.device.device_id.imei"),
        ("DC-50", "user.behavior.browsing_history"),
        ("DC-62", "user.location.precise"),
        ("DC-70", "user.contacts.address_book"),
        ("DC-83", "user.financial.bank_account"),
    ] {
        assert_eq!(t.by_catalog_id(id), Some(&key(want)), "{id}");
    }
}

#[test]
fn modelled_elsewhere_is_only_for_non_categories() {
    let t = Taxonomy::builtin();
    for id in ["DC-97", "DC-98", "DC-99"] {
        assert!(Taxonomy::modelled_elsewhere(id).is_some_and(|w| !w.is_empty()), "{id}");
        assert!(t.by_catalog_id(id).is_none(), "{id} is both a key and modelled elsewhere");
    }
    assert_eq!(Taxonomy::modelled_elsewhere("DC-01"), None);
    assert_eq!(t.by_catalog_id("DC-00"), None);
    assert_eq!(t.by_catalog_id("DC-100"), None);
}

#[test]
fn sensitivities_follow_pipl_and_gbt_35273() {
    let t = Taxonomy::builtin();
    for k in [
        "user.location.precise",
        "user.biometric.face",
        "user.government_id.national_identification_number",
        "user.financial.bank_account",
        "user.contacts.address_book",
        "user.behavior.browsing_history",
        "user.contacts.call_log",
        "user.authorization.credentials",
        "user.financial.transaction",
        "user.location.travel",
    ] {
        assert_eq!(sensitivity(&t, k), Sensitivity::Sensitive, "{k}");
    }
    for k in ["user.device.model", "user.behavior.search_keywords", "aggregate.statistics"] {
        assert_eq!(sensitivity(&t, k), Sensitivity::NonPersonal, "{k}");
    }
    for k in ["user.contact.phone_number", "user.device.device_id.imei", "user.device.ip_address", "user"] {
        assert_eq!(sensitivity(&t, k), Sensitivity::Personal, "{k}");
    }
}

#[test]
fn sensitivity_is_ordered() {
    assert!(Sensitivity::NonPersonal < Sensitivity::Personal);
    assert!(Sensitivity::Personal < Sensitivity::Sensitive);
}

#[test]
fn every_builtin_key_has_its_parent_in_the_taxonomy() {
    let t = Taxonomy::builtin();
    let mut n = 0;
    for (k, _) in t.iter() {
        n += 1;
        if let Some(p) = k.parent() {
            assert!(t.contains(&p), "`{k}` has no parent `{p}` in the taxonomy");
        }
    }
    assert!(n >= 73, "only {n} built-in categories");
}

#[test]
fn hierarchy() {
    let imei = key("user.device.device_id.imei");
    let device = key("user.device");
    assert!(imei.is_within(&device));
    assert!(imei.is_within(&key("user")));
    assert!(imei.is_within(&imei));
    assert!(!device.is_within(&imei));
    // A prefix of the text that is not a whole segment is not an ancestor.
    assert!(!key("user.devices").is_within(&device));
    assert!(!key("user.device_id").is_within(&device));
    assert!(!key("organization.contact").is_within(&key("user")));

    assert_eq!(imei.parent(), Some(key("user.device.device_id")));
    assert_eq!(device.parent(), Some(key("user")));
    assert_eq!(key("user").parent(), None);
    assert_eq!(imei.depth(), 4);
    assert_eq!(key("user").depth(), 1);
    assert_eq!(imei.as_str(), "user.device.device_id.imei");
    assert_eq!(imei.to_string(), "user.device.device_id.imei");
}

#[test]
fn invalid_keys_are_rejected() {
    for bad in [
        "",
        "User.device",
        "user.Device",
        "user..device",
        ".user",
        "user.",
        "user device",
        " user",
        "user-device",
        "user/device",
        "用户",
    ] {
        let err = CategoryKey::new(bad).expect_err(bad);
        let msg = err.to_string();
        assert!(msg.starts_with("invalid data category key"), "{bad:?}: {msg}");
        assert!(!msg.ends_with('.') && !msg.contains('\n'), "{bad:?}: {msg}");
    }
    let long = format!("user.{}", "a".repeat(300));
    assert!(CategoryKey::new(long).is_err());
    assert!(CategoryKey::new("user.device.device_id.imei_2").is_ok());
}

#[test]
fn keys_deserialise_through_validation() {
    let k: CategoryKey = serde_json::from_str(r#""user.device""#).unwrap();
    assert_eq!(k, key("user.device"));
    assert_eq!(serde_json::to_string(&k).unwrap(), r#""user.device""#);
    assert!(serde_json::from_str::<CategoryKey>(r#""User.X""#).is_err());
    assert!(serde_json::from_str::<CategoryKey>(r#""""#).is_err());
}

#[test]
fn keys_parse_from_str() {
    let k: CategoryKey = "user.biometric.face".parse().unwrap();
    assert_eq!(k, key("user.biometric.face"));
    let (parsed, built) = ("User.X".parse::<CategoryKey>().unwrap_err(), CategoryKey::new("User.X").unwrap_err());
    assert_eq!(parsed.to_string(), built.to_string());
    assert_eq!(parsed.kind(), privacy_engine::ErrorKind::Category);
    assert!("User.X".parse::<CategoryKey>().is_err());
}
