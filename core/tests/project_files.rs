//! Project files: every released version's fixture still loads, and the reader survives
//! arbitrary damage to a file (a seeded mutation fuzzer; `QUARRY_FUZZ_ITERS` sets its length,
//! CI runs the default).

use quarry_core::acquire::{StrategyKind, Subpool};
use quarry_core::project::{
    read_project, read_stored, write_progress, write_project, Settings, VERSION,
};
use quarry_core::rng::Rng;
use quarry_core::Session;

fn fixture(name: &str) -> String {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(root.join("tests/fixtures").join(name)).unwrap()
}

/// The project the v1 fixture was written from (kept so the fixture can be regenerated:
/// `QUARRY_WRITE_FIXTURE=1 cargo test -p quarry-core --test project_files`).
fn fixture_session() -> Session {
    let items: Vec<String> = (0..8).map(|i| format!("photos/{i}.jpg")).collect();
    let mut s = Session::new(items, vec!["cat".into(), "dog".into(), "fox".into()]).unwrap();
    s.import_label(7, 2).unwrap();
    s.set_queue(vec![3, 0, 5, 1, 2, 6]);
    s.answer(0).unwrap();
    s.answer(1).unwrap();
    s.skip();
    s.reject();
    s.merge_classes(2, 0).unwrap();
    s.add_class("owl").unwrap();
    s.rename_class(1, "dog, \"good\"").unwrap();
    s.answer(2).unwrap();
    s
}

#[test]
fn every_released_version_loads() {
    let settings = Settings {
        title: "fixture".into(),
        strategy: StrategyKind::Badge,
        subpool: Subpool::Anchoral,
        model: None,
        source: None,
        audit: quarry_core::audit::AuditSettings::RECOMMENDED,
        full_list: false,
        keys: Default::default(),
    };
    let written = write_project(&fixture_session(), &settings, None);
    if std::env::var_os("QUARRY_WRITE_FIXTURE").is_some() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        std::fs::write(
            root.join("tests/fixtures/project_v1.json"),
            format!("{written}\n"),
        )
        .unwrap();
    }
    assert_eq!(VERSION, 1, "a new version needs its own fixture here");
    let v1 = read_project(&fixture("project_v1.json")).unwrap();
    assert_eq!(v1.session, fixture_session());
    assert_eq!(v1.settings, settings);
    assert_eq!(v1.session.classes(), &["cat", "dog, \"good\"", "owl"]);
}

/// Damage: flip, insert or delete bytes, cut the file, or splice JSON-ish tokens in.
fn mutate(text: &str, rng: &mut Rng) -> Vec<u8> {
    const TOKENS: [&str; 10] = [
        "-1",
        "1e400",
        "null",
        "\"\"",
        "[]",
        "{}",
        "99999999999",
        "true",
        "\"x\"",
        "0",
    ];
    let mut bytes = text.as_bytes().to_vec();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(bytes.len().max(1));
        match rng.below(5) {
            0 => bytes[at] ^= 1 << rng.below(8),
            1 => {
                bytes.insert(at, rng.below(256) as u8);
            }
            2 => {
                bytes.remove(at);
            }
            3 => bytes.truncate(at),
            _ => {
                // Replace a number or a value with a token.
                let end = (at + 1 + rng.below(12)).min(bytes.len());
                let token = TOKENS[rng.below(TOKENS.len())].as_bytes();
                bytes.splice(at..end, token.iter().copied());
            }
        }
        if bytes.is_empty() {
            break;
        }
    }
    bytes
}

#[test]
fn the_reader_survives_damaged_files() {
    let iters: usize = std::env::var("QUARRY_FUZZ_ITERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200_000);
    let good = fixture("project_v1.json");
    let mut rng = Rng::new(2026);
    let (mut accepted, mut refused) = (0, 0);
    for _ in 0..iters {
        let bytes = mutate(&good, &mut rng);
        let Ok(text) = std::str::from_utf8(&bytes) else {
            refused += 1;
            continue;
        };
        match read_project(text) {
            // Whatever is accepted is a consistent project: it writes and reads back the same.
            Ok(p) => {
                accepted += 1;
                let again = write_project(&p.session, &p.settings, p.head.as_ref());
                assert_eq!(read_project(&again).unwrap().session, p.session, "{text}");
            }
            Err(e) => {
                refused += 1;
                assert!(!e.to_string().is_empty());
            }
        }
    }
    println!("fuzzed {iters} damaged files: {accepted} accepted as consistent, {refused} refused");
    assert_eq!(accepted + refused, iters);
}

#[test]
fn the_stored_progress_reader_survives_damage() {
    let iters: usize = std::env::var("QUARRY_FUZZ_ITERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .map_or(50_000, |n: usize| n / 4);
    let session = fixture_session();
    let items = session.snapshot().items;
    let progress = write_progress(&session, &Settings::default());
    assert_eq!(
        read_stored(&progress, items.clone()).unwrap().session,
        session
    );
    let mut rng = Rng::new(2027);
    let mut accepted = 0;
    for _ in 0..iters {
        let bytes = mutate(&progress, &mut rng);
        let Ok(text) = std::str::from_utf8(&bytes) else {
            continue;
        };
        if let Ok(p) = read_stored(text, items.clone()) {
            accepted += 1;
            let again = write_progress(&p.session, &p.settings);
            assert_eq!(
                read_stored(&again, items.clone()).unwrap().session,
                p.session
            );
        }
    }
    println!("fuzzed {iters} damaged progress records: {accepted} accepted as consistent");
}
