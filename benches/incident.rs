//! Which subjects an incident affects: `affected` over 1,000,000 subjects
//! on one core.
//!
//! `cargo bench --bench incident` builds, once, an in-memory
//! `HoldingsIndex` in which each of 1,000,000 subjects (`INCIDENT_SUBJECTS`
//! sets the number) holds three of eight categories, and a `CompactLedger`
//! in which each has three grants, then times listing the subjects a leak
//! of phone numbers and imprecise location affects (held, or named by a
//! grant). Before criterion's samples it lists them `INCIDENT_REPEATS`
//! times (5 by default) and prints the median wall and thread CPU times;
//! `INCIDENT_QUICK=1` prints only those. The README's benchmark section quotes this output.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, missing_docs)]

use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, SamplingMode, criterion_group, criterion_main};
use privacy_engine::{
    CategoryKey, CompactLedger, ConsentChange, ConsentEvent, ConsentQualities, DateTime, HoldingsIndex, Incident,
    Scope, SubjectId, Uuid, affected,
};

const CATEGORIES: [&str; 8] = [
    "user.contact.phone_number",
    "user.contact.email",
    "user.contact.address",
    "user.device.device_id",
    "user.location.imprecise",
    "user.behavior",
    "user.credentials.password",
    "user.financial.transaction",
];
const PER_SUBJECT: u64 = 3;

fn subjects() -> u64 {
    std::env::var("INCIDENT_SUBJECTS").ok().and_then(|s| s.parse().ok()).unwrap_or(1_000_000)
}

/// A 64-bit mix (splitmix64), for reproducible choices.
fn mix(mut x: u64) -> u64 {
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

fn category(r: u64) -> CategoryKey {
    CategoryKey::new(CATEGORIES[(r % CATEGORIES.len() as u64) as usize]).unwrap()
}

/// Who holds what: a category's subjects.
struct Index(BTreeMap<CategoryKey, Vec<SubjectId>>);

impl HoldingsIndex for Index {
    fn categories(&self) -> impl Iterator<Item = &CategoryKey> + '_ {
        self.0.keys()
    }

    fn holders(&self, category: &CategoryKey) -> impl Iterator<Item = &SubjectId> + '_ {
        self.0.get(category).into_iter().flatten()
    }
}

fn build(n: u64) -> (Index, CompactLedger) {
    let start = Instant::now();
    let mut index: BTreeMap<CategoryKey, Vec<SubjectId>> = BTreeMap::new();
    let mut ledger = CompactLedger::new();
    let at = DateTime::from_timestamp(1_700_000_000, 0).unwrap().fixed_offset();
    for s in 0..n {
        let id = SubjectId::from(format!("s{s:07}"));
        for i in 0..PER_SUBJECT {
            let r = mix(s * 16 + i);
            index.entry(category(r)).or_default().push(id.clone());
            let scope = Scope::new(vec!["ads".into()], vec![category(r >> 8)]);
            let change = ConsentChange::Grant { qualities: ConsentQualities::explicit(), scope, expires: None };
            let event = ConsentEvent::new(Uuid::from_u128(u128::from(r)), at, id.as_str(), "app", "1", change);
            ledger.append(event).unwrap();
        }
    }
    for holders in index.values_mut() {
        holders.dedup();
    }
    println!(
        "incident: {n} subjects x {PER_SUBJECT} holdings and grants built in {:.1} s",
        start.elapsed().as_secs_f64()
    );
    (Index(index), ledger)
}

/// The CPU time this thread has used (user and system), in seconds; zero
/// where `/proc` is not there.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap_or_default();
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let ticks: u64 = rest.split_whitespace().skip(11).take(2).filter_map(|f| f.parse::<u64>().ok()).sum();
    ticks as f64 / 100.0
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

fn incident(c: &mut Criterion) {
    let n = subjects();
    let (index, ledger) = build(n);
    let discovered = DateTime::from_timestamp(1_710_000_000, 0).unwrap().fixed_offset();
    let leak = Incident::new(
        vec![
            CategoryKey::new("user.contact.phone_number").unwrap(),
            CategoryKey::new("user.location.imprecise").unwrap(),
        ],
        n,
        discovered,
    );
    let count = || affected(&leak, &index, &ledger).count();
    println!("incident: {} of {n} subjects affected", count());
    let repeats = std::env::var("INCIDENT_REPEATS").ok().and_then(|s| s.parse().ok()).unwrap_or(5usize).max(1);
    let (mut wall, mut cpu) = (Vec::new(), Vec::new());
    for _ in 0..repeats {
        let (start, cpu_start) = (Instant::now(), cpu_seconds());
        black_box(count());
        wall.push(start.elapsed().as_secs_f64());
        cpu.push(cpu_seconds() - cpu_start);
    }
    println!(
        "incident: affected/{n}: median of {repeats}: {:.3} s wall, {:.2} s CPU (wall {:.3}-{:.3} s)",
        median(wall.clone()),
        median(cpu),
        wall.iter().copied().fold(f64::MAX, f64::min),
        wall.iter().copied().fold(0.0, f64::max)
    );
    if std::env::var_os("INCIDENT_QUICK").is_some() {
        return;
    }
    let mut group = c.benchmark_group("incident");
    group.sampling_mode(SamplingMode::Flat).sample_size(10).measurement_time(Duration::from_secs(10));
    group.bench_function(format!("affected/{n}"), |b| b.iter(|| black_box(count())));
    group.finish();
}

criterion_group!(benches, incident);
criterion_main!(benches);
