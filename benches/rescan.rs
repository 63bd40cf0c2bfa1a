//! Who must re-consent: `Rescan::scan` over a whole ledger on one core.
//!
//! `cargo bench --bench rescan` builds, once per group, a `CompactLedger`
//! of 1,000,000 subjects × 20 events (`RESCAN_SUBJECTS` sets the number of
//! subjects) and an `InMemoryLedger` of a tenth of them (its events take
//! several times the memory), prints the build time and the resident memory
//! (`VmRSS`, `VmHWM` of `/proc/self/status`, Linux only), then times a full
//! scan. The README's benchmark section quotes this output.
//!
//! Before criterion's samples, each revision is also scanned
//! `RESCAN_REPEATS` times (5 by default), printing the median wall time and
//! the median CPU time of the thread (`/proc/thread-self/stat`, 10 ms
//! ticks): on a shared machine the CPU time is the steadier figure.
//! `RESCAN_QUICK=1` prints only these and skips criterion;
//! `RESCAN_ONLY=broad` (or `narrow`) scans one revision, and
//! `RESCAN_COMPACT_ONLY=1` skips the `InMemoryLedger`.
//! `RESCAN_INTERLEAVED=1` appends every subject's first event, then every
//! subject's second, and so on, as a service records them over time,
//! instead of one subject's events after another's.
//!
//! Each subject's 20 events, in time order, mix four purposes, eight
//! categories, a recipient now and then, grants under the version the
//! change concerns, an earlier one, the new one and another policy, and
//! withdrawals and revocations. Two revisions are scanned: a broad one
//! (four subjects in five must be asked) and a narrow one (one in twenty).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, missing_docs)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, SamplingMode, criterion_group, criterion_main};
use privacy_engine::{
    CategoryKey, CompactLedger, ConsentChange, ConsentEvent, ConsentHistory, ConsentQualities, DateTime, FreshConsent,
    InMemoryLedger, Rescan, Scope, Taxonomy, Utc, Uuid,
};

const EVENTS_PER_SUBJECT: u64 = 20;
const PURPOSES: [&str; 4] = ["ads", "analytics", "delivery", "support"];
const CATEGORIES: [&str; 8] = [
    "user",
    "user.contact",
    "user.contact.phone_number",
    "user.contact.email",
    "user.device",
    "user.device.device_id",
    "user.location.imprecise",
    "user.behavior",
];
const VERSIONS: [(&str, &str); 4] = [("app", "1"), ("app", "1"), ("app", "0"), ("app", "2")];

fn subjects() -> u64 {
    std::env::var("RESCAN_SUBJECTS").ok().and_then(|s| s.parse().ok()).unwrap_or(1_000_000)
}

/// A 64-bit mix (splitmix64), for reproducible choices.
fn mix(mut x: u64) -> u64 {
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

fn pick<T: Copy>(items: &[T], r: u64) -> T {
    items[(r % items.len() as u64) as usize]
}

/// The `i`th event of subject `s`.
fn event(s: u64, i: u64) -> ConsentEvent {
    let r = mix(s * EVENTS_PER_SUBJECT + i);
    let purpose = pick(&PURPOSES, r);
    let category = CategoryKey::new(pick(&CATEGORIES, r >> 8)).unwrap();
    let mut scope = Scope::new(vec![purpose.into()], vec![category]);
    if (r >> 16).is_multiple_of(8) {
        scope = scope.recipient(if (r >> 20).is_multiple_of(2) { "adnet" } else { "other_net" });
    }
    let (policy, version) = if (r >> 24).is_multiple_of(16) { ("other", "1") } else { pick(&VERSIONS, r >> 28) };
    let change = match (r >> 32) % 10 {
        0 => ConsentChange::Withdraw { scope },
        1 => ConsentChange::Revoke { scope },
        _ => ConsentChange::Grant { qualities: ConsentQualities::explicit(), scope, expires: None },
    };
    let at = DateTime::from_timestamp(1_700_000_000 + (i * 86_400) as i64, 0).unwrap().fixed_offset();
    ConsentEvent::new(Uuid::from_u128(u128::from(r)), at, format!("s{s:07}"), policy, version, change)
}

/// The revision: `broad` asks fresh consent for `ads` on contact data and
/// for `analytics` as far as `adnet` is concerned (four subjects in five
/// must be asked); `narrow` only for `ads` on imprecise location to `adnet`
/// (about one in twenty).
fn rescan(broad: bool) -> Rescan {
    let key = |k: &str| vec![CategoryKey::new(k).unwrap()];
    let explicit = ConsentQualities::explicit();
    let fresh = if broad {
        vec![
            FreshConsent::new("ads".into(), explicit).for_categories(key("user.contact")),
            FreshConsent::new("analytics".into(), explicit).for_recipient("adnet".into()),
        ]
    } else {
        vec![
            FreshConsent::new("ads".into(), explicit)
                .for_categories(key("user.location.imprecise"))
                .for_recipient("adnet".into()),
        ]
    };
    let at: DateTime<Utc> = "2025-01-01T00:00:00Z".parse().unwrap();
    Rescan::new(Taxonomy::builtin(), "app", "1", "2", fresh).at(at)
}

/// `VmRSS` and `VmHWM` in MiB.
fn memory() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        let line = status.lines().find(|l| l.starts_with(name));
        line.and_then(|l| l.split_whitespace().nth(1)).and_then(|kb| kb.parse::<u64>().ok()).unwrap_or(0) / 1024
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn build<L>(name: &str, n: u64, mut ledger: L, mut append: impl FnMut(&mut L, ConsentEvent)) -> L {
    let (before, _) = memory();
    let start = Instant::now();
    if std::env::var_os("RESCAN_INTERLEAVED").is_some() {
        // Each subject's first event, then each one's second, and so on, as
        // a service records them over time.
        for i in 0..EVENTS_PER_SUBJECT {
            for s in 0..n {
                append(&mut ledger, event(s, i));
            }
        }
    } else {
        for s in 0..n {
            for i in 0..EVENTS_PER_SUBJECT {
                append(&mut ledger, event(s, i));
            }
        }
    }
    let (rss, hwm) = memory();
    println!(
        "rescan: {name}: {n} subjects x {EVENTS_PER_SUBJECT} events built in {:.1} s, {} MiB more resident (VmRSS {rss} MiB, VmHWM {hwm} MiB)",
        start.elapsed().as_secs_f64(),
        rss.saturating_sub(before)
    );
    ledger
}

/// The number of subjects and of lapsed items a scan finds.
fn scan<S: ConsentHistory>(rescan: &Rescan, store: &S) -> (usize, usize) {
    rescan.scan(store).fold((0, 0), |(s, l), r| (s + 1, l + r.lapsed.len()))
}

/// The CPU time this thread has used (user and system), in seconds; zero
/// where `/proc` is not there.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap_or_default();
    // Fields after the command name (which ends with the last `)`):
    // utime and stime are the 12th and 13th.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let ticks: u64 = rest.split_whitespace().skip(11).take(2).filter_map(|f| f.parse::<u64>().ok()).sum();
    ticks as f64 / 100.0
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

/// Scans `RESCAN_REPEATS` times; prints the median wall and CPU times.
fn repeat_scan<S: ConsentHistory>(rescan: &Rescan, store: &S, id: &str) {
    let repeats = std::env::var("RESCAN_REPEATS").ok().and_then(|s| s.parse().ok()).unwrap_or(5usize).max(1);
    let (mut wall, mut cpu) = (Vec::new(), Vec::new());
    for _ in 0..repeats {
        let (start, cpu_start) = (Instant::now(), cpu_seconds());
        black_box(scan(rescan, store));
        wall.push(start.elapsed().as_secs_f64());
        cpu.push(cpu_seconds() - cpu_start);
    }
    println!(
        "rescan: {id}: median of {repeats} scans: {:.3} s wall, {:.2} s CPU (wall {:.3}-{:.3} s)",
        median(wall.clone()),
        median(cpu),
        wall.iter().copied().fold(f64::MAX, f64::min),
        wall.iter().copied().fold(0.0, f64::max)
    );
}

fn bench_scan<S: ConsentHistory>(c: &mut Criterion, name: &str, n: u64, store: &S) {
    let mut group = c.benchmark_group("rescan");
    group.sampling_mode(SamplingMode::Flat).sample_size(10).measurement_time(Duration::from_secs(20));
    for (broad, revision) in [(true, "broad"), (false, "narrow")] {
        if std::env::var("RESCAN_ONLY").is_ok_and(|only| only != revision) {
            continue;
        }
        let rescan = rescan(broad);
        let (found, lapsed) = scan(&rescan, store);
        println!("rescan: {name}/{revision}: {found} of {n} subjects must re-consent, {lapsed} lapsed items");
        let id = format!("{name}/{revision}/{n}x{EVENTS_PER_SUBJECT}");
        repeat_scan(&rescan, store, &id);
        if std::env::var_os("RESCAN_QUICK").is_none() {
            group.bench_function(id, |b| b.iter(|| black_box(scan(&rescan, store))));
        }
    }
    group.finish();
}

fn compact(c: &mut Criterion) {
    let n = subjects();
    let ledger = build("compact", n, CompactLedger::new(), |l, e| l.append(e).unwrap());
    bench_scan(c, "compact", n, &ledger);
}

fn in_memory(c: &mut Criterion) {
    if std::env::var_os("RESCAN_COMPACT_ONLY").is_some() {
        return;
    }
    let n = subjects() / 10;
    let ledger = build("in_memory", n, InMemoryLedger::new(), |l, e| l.append(e).unwrap());
    bench_scan(c, "in_memory", n, &ledger);
}

criterion_group!(benches, compact, in_memory);
criterion_main!(benches);
