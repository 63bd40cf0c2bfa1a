//! Records decisions and consent events in a hash-chained audit log,
//! verifies the chain, tampers with one entry and shows the verification
//! failure, rotates the chain key, replays a decision, and issues and
//! verifies a signed consent receipt.
//!
//! Run with `cargo run --example audit`.

use privacy_engine::{
    Action, AuditEvent, AuditLog, AuditStore, CategoryKey, ChainKey, ConsentChange, ConsentEvent, ConsentQualities,
    ConsentReceipt, Controller, Engine, InMemoryAuditStore, InMemoryLedger, Permission, Policy, PolicyRef,
    PseudonymKey, Pseudonymiser, ReceiptDetails, ReceiptKey, ReplaySubject, Request, Scope, Subject, Uuid,
    Verification, verify_records,
};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn main() -> Result<()> {
    let policy = Policy::from_json(include_str!("policies/seed-004.json"))?;
    let policy_ref = PolicyRef::of(&policy);
    println!("policy `{}` version {} digest {}", policy_ref.id, policy_ref.version, policy_ref.digest);
    let engine = Engine::new(policy.clone())?;

    // Keys come from a key management system in a real deployment.
    let pseudonyms = Pseudonymiser::new(PseudonymKey::from_bytes("k2024", &[7; 32])?);
    let mut log = AuditLog::open_keyed(InMemoryAuditStore::new(), pseudonyms, ChainKey::from_bytes(&[42; 32])?)?;
    let mut ids = (1u128..).map(Uuid::from_u128);
    let mut next_id = move || ids.next().unwrap_or_default();

    // Consent events: the camera switched on, separate consent to face
    // verification.
    let mut ledger = InMemoryLedger::new();
    let at = "2024-05-01T09:00:00+08:00".parse()?;
    let scope = Scope::new(vec!["face_verification".into()], vec![CategoryKey::new("user.biometric.face")?]);
    let events = [
        ConsentChange::PermissionOn { permission: Permission::Camera },
        ConsentChange::Grant { qualities: ConsentQualities::separate(), scope: scope.clone(), expires: None },
    ]
    .map(|change| ConsentEvent::new(next_id(), at, "user-42", policy.id.clone(), policy.version.clone(), change));
    for e in &events {
        ledger.append(e.clone())?;
        log.record_consent(next_id(), e.at, e)?;
    }

    // Decisions.
    let adult = Subject::new("user-42").age(30);
    let requests = [
        Request::new(
            Action::Collect,
            adult.clone(),
            vec![CategoryKey::new("user.biometric.face")?],
            "2024-05-01T10:00:00+08:00".parse()?,
        )
        .purpose("face_verification"),
        Request::new(
            Action::Share,
            adult.clone(),
            vec![CategoryKey::new("user.contact.address")?],
            "2024-05-01T11:00:00+08:00".parse()?,
        )
        .purpose("payment_delivery")
        .recipient("partner.logistics"),
        Request::new(
            Action::Collect,
            adult,
            vec![CategoryKey::new("user.contact.contacts")?],
            "2024-05-01T12:00:00+08:00".parse()?,
        )
        .purpose("marketing"),
    ];
    for r in &requests {
        let decision = engine.evaluate(r, &ledger);
        let entry = log.record_decision(next_id(), r.at, r, &decision, &policy_ref)?;
        let cats: Vec<&str> = r.categories.iter().map(CategoryKey::as_str).collect();
        println!("entry {}: {:?} {} -> {:?}", entry.seq, decision.action, cats.join(", "), decision.verdict);
    }

    // The whole log verifies; record its head elsewhere.
    let head = log.verify(None)?.into_result()?;
    println!("\nchain intact: {} entries, head {}", head.len, head.hash);
    let records = log.store().load()?;
    let first = String::from_utf8_lossy(records.records().first().map(Vec::as_slice).unwrap_or_default()).into_owned();
    println!("entry 0 as stored (the subject is a keyed pseudonym):\n  {first}");

    // Replay the first decision: same policy digest, same ledger, the real
    // subject id supplied by the caller.
    let entries = log.entries()?;
    if let Some(entry) = entries.iter().find(|e| matches!(e.event, AuditEvent::Decision(_))) {
        let replayed = log.replay(entry, &engine, &ReplaySubject::new("user-42"), &ledger)?;
        println!("\nreplay of entry {}: same decision = {}", entry.seq, replayed.matches);
    }

    // Tamper with entry 3: flip its verdict in the stored bytes.
    let mut tampered = records.records().to_vec();
    if let Some(record) = tampered.get_mut(3) {
        let text = String::from_utf8_lossy(record).into_owned();
        let edited = if text.contains("\"verdict\":\"deny\"") {
            text.replacen("\"verdict\":\"deny\"", "\"verdict\":\"permit\"", 1)
        } else {
            text.replacen("\"verdict\":\"permit\"", "\"verdict\":\"deny\"", 1)
        };
        *record = edited.into_bytes();
    }
    let key = ChainKey::from_bytes(&[42; 32])?;
    let tampered_store = InMemoryAuditStore::from_records(tampered);
    match verify_records(&tampered_store.load()?, Some(&key), Some(&head)) {
        Verification::Intact(_) => println!("\ntampering went unnoticed (this must not happen)"),
        Verification::Broken(b) => {
            println!("\nafter editing entry 3: {b}");
            println!("  entries 0..{} still verify", b.intact().len);
        }
    }

    // Truncation is caught against the recorded head.
    let mut cut = records.records().to_vec();
    cut.truncate(4);
    let cut_store = InMemoryAuditStore::from_records(cut);
    if let Verification::Broken(b) = verify_records(&cut_store.load()?, Some(&key), Some(&head)) {
        println!("after cutting the log to 4 entries: {b}");
    }

    // Rotate the chain key: the rotation is itself an entry, under the old
    // key; the log keeps both keys and still verifies.
    let rotation =
        log.rotate_chain_key(next_id(), "2024-07-01T00:00:00+08:00".parse()?, ChainKey::from_bytes(&[43; 32])?)?;
    if let (Some(old), AuditEvent::ChainKeyRotation(r)) = (&rotation.key, &rotation.event) {
        println!(
            "
entry {}: chain key `{old}` rotated to `{}`",
            rotation.seq, r.to
        );
    }
    println!("after the rotation the log is intact: {}", log.verify(Some(&head))?.is_intact());

    // A receipt for the consent, signed with Ed25519.
    let signing = ReceiptKey::from_pkcs8("receipts-2024", &ReceiptKey::generate_pkcs8()?)?;
    let details = ReceiptDetails::new(
        next_id(),
        Controller::new("Example Co.", "privacy@example.com"),
        "Settings > Privacy > Face verification > Withdraw",
    );
    let receipt = ConsentReceipt::issue(&events[1], &policy, &details, log.pseudonymiser())?;
    let signed = signing.sign(receipt)?;
    let json = signed.to_json()?;
    println!("\nreceipt for the user ({} bytes):\n  {}", json.len(), String::from_utf8_lossy(&json));
    let public = signing.public_key();
    let verified = public.verify(&json)?;
    println!("receipt verifies: status {} at {}", verified.status.dpv(), verified.time);

    let altered = String::from_utf8_lossy(&json).replacen("\"separate\"", "\"written\"", 1).into_bytes();
    match public.verify(&altered) {
        Ok(_) => println!("altered receipt verified (this must not happen)"),
        Err(e) => println!("altered receipt refused: {e}"),
    }
    Ok(())
}
