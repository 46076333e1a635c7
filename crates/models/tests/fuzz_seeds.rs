//! The fuzz targets of this crate's formats (fuzz/fuzz_targets/{weights_load,float_codec,
//! subset_decode}.rs), replayed without a fuzzer: every committed seed, and from each seed a
//! fixed, seeded set of damaged copies (cut short at many lengths, bytes overwritten, the
//! model byte changed). CI's short fuzz run leaves these targets out — their sanitizer build
//! of burn and wgpu was most of its time — so this keeps their seeds checked on every run.
//! The bodies are the targets' own: an error is fine; a panic, or an invariant the target
//! asserts, fails.

use std::path::PathBuf;

use mpq_models::{Classifier, ModelId, cpu_device};

fn seeds(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds").join(target);
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| {
            let path = entry.unwrap().path();
            (path.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read(&path).unwrap())
        })
        .collect();
    out.sort();
    assert!(!out.is_empty(), "no seeds in {}", dir.display());
    out
}

/// The seed itself, then copies cut at 24 lengths spread over it, then copies with a few bytes
/// overwritten (a SplitMix64 stream: the same cases on every run).
fn damaged(seed: &[u8]) -> Vec<Vec<u8>> {
    let mut cases = vec![seed.to_vec()];
    let n = seed.len();
    for k in 0..24 {
        cases.push(seed[..n * k / 24].to_vec());
    }
    let mut state = 0x5eed_u64 ^ n as u64;
    let mut next = move || {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    if n > 0 {
        for _ in 0..24 {
            let mut copy = seed.to_vec();
            for _ in 0..1 + next() % 4 {
                // Headers are where lengths live: half of the writes land in the first 64 bytes.
                let at = if next() % 2 == 0 { next() as usize % n.min(64) } else { next() as usize % n };
                copy[at] = next() as u8;
            }
            cases.push(copy);
        }
    }
    cases
}

#[test]
fn weights_load_seeds_and_damaged_copies_give_errors_not_panics() {
    let device = cpu_device();
    for (name, seed) in seeds("weights_load") {
        for (k, data) in damaged(&seed).iter().enumerate() {
            // The target's body: the first byte picks the model.
            let Some((&pick, rest)) = data.split_first() else { continue };
            let id = ModelId::ALL[pick as usize % ModelId::ALL.len()];
            let _ = Classifier::load_weights(id, rest, &device);
            // And the seed's bytes offered to every model, not only the one its byte picks.
            if k == 0 {
                for id in ModelId::ALL {
                    let _ = Classifier::load_weights(id, rest, &device);
                }
            }
        }
        eprintln!("weights_load/{name}: ok");
    }
}

#[test]
fn float_codec_seeds_round_trip_or_fail_cleanly() {
    use mpq_models::float_codec::{decode, encode};
    for (name, seed) in seeds("float_codec") {
        let mut decoded = 0;
        for data in damaged(&seed) {
            if let Ok((kind, values)) = decode(&data) {
                assert_eq!(decode(&encode(&values, kind)).unwrap().1, values, "{name}");
                decoded += 1;
            }
        }
        assert!(decoded >= 1, "{name}: the seed itself must decode");
    }
}

#[test]
fn subset_decode_seeds_keep_their_invariants() {
    for (name, seed) in seeds("subset_decode") {
        let mut decoded = 0;
        for data in damaged(&seed) {
            if let Ok(set) = mpq_models::data::decode_subset(&data) {
                assert_eq!(set.pixels.len(), set.len() * set.item_bytes(), "{name}");
                decoded += 1;
            }
        }
        assert!(decoded >= 1, "{name}: the seed itself must decode");
    }
}
