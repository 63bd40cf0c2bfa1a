//! Loads the seed-004 policy and a small consent ledger, evaluates a dozen
//! realistic requests across all actions, and prints each decision with its
//! reasons, obligations and unmet requirements.
//!
//! Run with `cargo run --example quickstart`.

use privacy_engine::{
    Action, CategoryKey, ClaimedException, ConsentChange, ConsentEvent, ConsentQualities, DataState, Engine, Evidence,
    Ground, InMemoryLedger, LegalHold, Permission, Request, Scope, Subject, Uuid,
};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn main() -> Result<()> {
    // One validation: parse, validate and compile in one step.
    let engine = Engine::from_json(include_str!("policies/seed-004.json"))?;
    let policy = engine.policy();
    println!(
        "policy `{}` version {} ({}): {} purposes, {} recipients, {} consent requirements, {} action rules, {} retention rules",
        policy.id,
        policy.version,
        policy.language,
        policy.purposes.len(),
        policy.recipients.len(),
        policy.consent_requirements.len(),
        policy.actions.len(),
        policy.retention.len()
    );
    let warnings = policy.diagnostics();
    println!("{} warnings, all acknowledged in the file:", warnings.len());
    for w in &warnings {
        println!("  {w}");
    }

    let mut ledger = InMemoryLedger::new();
    let mut n = 0u128;
    let mut event = |subject: &str, at: &str, change: ConsentChange| -> Result<ConsentEvent> {
        n += 1;
        Ok(ConsentEvent::new(Uuid::from_u128(n), at.parse()?, subject, "seed-004", "2021-08-20", change))
    };
    let scope = |purpose: &str, category: &str| -> Result<Scope> {
        Ok(Scope::new(vec![purpose.into()], vec![CategoryKey::new(category)?]))
    };
    // Alice gives separate consent to face verification, switches the camera
    // on, then withdraws the consent on 1 June.
    ledger.append(event(
        "alice",
        "2024-05-01T09:00:00+08:00",
        ConsentChange::PermissionOn { permission: Permission::Camera },
    )?)?;
    ledger.append(event(
        "alice",
        "2024-05-01T09:00:00+08:00",
        ConsentChange::Grant {
            qualities: ConsentQualities::separate(),
            scope: scope("face_verification", "user.biometric.face")?,
            expires: None,
        },
    )?)?;
    ledger.append(event(
        "alice",
        "2024-06-01T00:00:00+08:00",
        ConsentChange::Withdraw { scope: scope("face_verification", "user.biometric.face")? },
    )?)?;
    // Bob, 12, has his guardian's consent for registration, but it is not
    // a separate one.
    ledger.append(event(
        "bob",
        "2024-05-01T09:00:00+08:00",
        ConsentChange::Grant {
            qualities: ConsentQualities::explicit() | ConsentQualities::GUARDIAN,
            scope: scope("registration_login", "user.contact.phone_number")?,
            expires: None,
        },
    )?)?;

    let adult = |id: &str| Subject::new(id).age(30);
    let cats = |keys: &[&str]| -> Result<Vec<CategoryKey>> {
        keys.iter().map(|k| CategoryKey::new(*k).map_err(Into::into)).collect()
    };
    let may = "2024-05-20T10:00:00+08:00".parse()?;
    let july = "2024-07-01T10:00:00+08:00".parse()?;

    let mut requests: Vec<(&str, Request)> = vec![
        (
            "registration: a core purpose rests on the contract",
            Request::new(Action::Collect, adult("alice"), cats(&["user.contact.phone_number"])?, may)
                .purpose("registration_login"),
        ),
        (
            "face verification in May, with separate consent and the camera on",
            Request::new(Action::Collect, adult("alice"), cats(&["user.biometric.face"])?, may)
                .purpose("face_verification"),
        ),
        (
            "face verification in July, after the withdrawal",
            Request::new(Action::Collect, adult("alice"), cats(&["user.biometric.face"])?, july)
                .purpose("face_verification"),
        ),
        (
            "a 12-year-old whose guardian consented, but not separately",
            Request::new(Action::Collect, Subject::new("bob").age(12), cats(&["user.contact.phone_number"])?, may)
                .purpose("registration_login"),
        ),
        (
            "ordering by a real-name-verified 16-year-old",
            Request::new(
                Action::Collect,
                Subject::new("carol").age(16).real_name_verified(true),
                cats(&["user.financial.transaction"])?,
                may,
            )
            .purpose("ordering"),
        ),
        (
            "order and address to the logistics partner",
            Request::new(
                Action::Share,
                adult("alice"),
                cats(&["user.contact.address", "user.contact.phone_number"])?,
                may,
            )
            .purpose("payment_delivery")
            .recipient("partner.logistics"),
        ),
        (
            "identifiable statistics to an SDK that may receive only de-identified data",
            Request::new(Action::Share, adult("alice"), cats(&["user.device.device_id.imei"])?, may)
                .purpose("payment_risk_control")
                .recipient("sdk.alipay"),
        ),
        (
            "order data sent abroad",
            Request::new(Action::CrossBorder, adult("alice"), cats(&["user.contact.address"])?, may)
                .purpose("ordering")
                .recipient("partner.overseas_entity"),
        ),
        ("an authority request without documents", {
            let mut r = Request::new(Action::Share, adult("alice"), cats(&["user.contact.phone_number"])?, may)
                .purpose("legal_compliance")
                .recipient("authority.law_enforcement");
            r.exception = Some(ClaimedException::new(Ground::AuthorityRequest, vec![]));
            r
        }),
        ("the same request with the legal documents", {
            let mut r = Request::new(Action::Share, adult("alice"), cats(&["user.contact.phone_number"])?, may)
                .purpose("legal_compliance")
                .recipient("authority.law_enforcement");
            r.exception = Some(ClaimedException::new(Ground::AuthorityRequest, vec![Evidence::LegalDocuments]));
            r
        }),
        ("deleting transaction records two years after the transaction", {
            let mut r = Request::new(Action::Delete, adult("alice"), cats(&["user.financial.transaction"])?, may);
            r.events.transaction_completed = Some("2022-05-31T18:00:00+08:00".parse()?);
            r
        }),
        ("keeping account data after cancellation, under a legal hold", {
            let mut r = Request::new(Action::Retain, adult("alice"), cats(&["user.contact.phone_number"])?, may);
            r.events.account_cancelled = Some("2024-03-01T12:00:00+08:00".parse()?);
            r.events.legal_hold = Some(LegalHold::new("2024-04-01T00:00:00+08:00".parse()?, None));
            r
        }),
        ("de-identified statistics entrusted to a processor for an optional purpose, without consent", {
            let mut r = Request::new(Action::Entrust, adult("alice"), cats(&["user.log.service"])?, may)
                .purpose("cookies_usage_analysis")
                .recipient("processor.data_services");
            r.data_state = DataState::DeIdentified;
            r
        }),
        ("account data transferred in a merger, the new holder bound by the policy", {
            let mut r = Request::new(Action::Transfer, adult("alice"), cats(&["user.account.username"])?, may)
                .purpose("registration_login")
                .recipient("acquirer.successor");
            r.exception = Some(ClaimedException::new(Ground::Merger, vec![Evidence::NewHolderBound]));
            r
        }),
        (
            "public disclosure without separate consent",
            Request::new(Action::Disclose, adult("alice"), cats(&["user.account.nickname"])?, may)
                .purpose("subject_requested_disclosure")
                .recipient("public.general"),
        ),
        ("anonymising face data the day after collection", {
            let mut r = Request::new(Action::Anonymise, adult("alice"), cats(&["user.biometric.face"])?, july);
            r.events.collected = Some("2024-06-30T10:00:00+08:00".parse()?);
            r
        }),
        ("de-identified analytics data (still personal data)", {
            let mut r = Request::new(Action::Use, adult("alice"), cats(&["user.behavior.click_history"])?, may)
                .purpose("de_identified_analytics");
            r.data_state = DataState::DeIdentified;
            r
        }),
    ];
    for (i, (title, request)) in requests.iter_mut().enumerate() {
        let decision = engine.evaluate(request, &ledger);
        println!("\n{}. {title}\n{decision}", i + 1);
    }
    Ok(())
}
