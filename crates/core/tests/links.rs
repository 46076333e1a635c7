//! Every link version ever released keeps opening, to the same experiment: `tests/links/` holds
//! one file per version (`v1.json`, …), each a list of links with the experiment it must give.
//! A change of keys, meaning or defaults that forgot a new version (and its migration) fails
//! here. The browser test opens the same links in the page (tests/e2e/links.test.mjs).
//!
//! To add links for the current version: append `{"link": "#/…"}` entries and run
//! `MPQ_BLESS_LINKS=1 cargo test -p mpq-core --test links` to fill in their experiments. Never
//! bless a file of an older version: what it says is what old links mean.

use std::path::PathBuf;

use mpq_core::Experiment;
use mpq_core::experiment::VERSION;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/links")
}

#[test]
fn every_committed_link_opens_to_its_experiment() {
    let mut versions = 0;
    for entry in std::fs::read_dir(dir()).unwrap() {
        let path = entry.unwrap().path();
        let Some(v) = path.file_stem().and_then(|s| s.to_str()).and_then(|s| s.strip_prefix('v')).and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        versions += 1;
        let text = std::fs::read_to_string(&path).unwrap();
        let mut links: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
        let bless = std::env::var("MPQ_BLESS_LINKS").is_ok() && v == VERSION;
        for l in &mut links {
            let link = l["link"].as_str().unwrap().to_string();
            let exp = Experiment::parse(&link).unwrap_or_else(|e| panic!("{}: {link}: {e}", path.display()));
            if bless {
                l["experiment"] = serde_json::to_value(&exp).unwrap();
                l["fragment"] = exp.to_fragment().into();
                continue;
            }
            let want: Experiment = serde_json::from_value(l["experiment"].clone())
                .unwrap_or_else(|e| panic!("{}: {link}: the committed experiment does not read: {e}", path.display()));
            assert_eq!(exp, want, "{}: {link} opens to another experiment than it did", path.display());
            // A link of the current version is written back exactly as committed.
            if v == VERSION {
                assert_eq!(exp.to_fragment(), l["fragment"].as_str().unwrap(), "{link}");
            }
        }
        if bless {
            std::fs::write(&path, serde_json::to_string_pretty(&links).unwrap() + "\n").unwrap();
        }
        assert!(!links.is_empty(), "{}", path.display());
    }
    assert_eq!(versions, VERSION as usize, "one file of links per released version");
}
