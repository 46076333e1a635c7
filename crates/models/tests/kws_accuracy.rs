//! The bundled keyword spotter on the committed test subset (`tests/data/kws_test.flac` +
//! `.json`: 1 s windows of voices and accents the model never heard in training, written by
//! `mpqlab train kws --export-test-subset`). Decoded with our FLAC reader, as the page does.

use mpq_models::kws_cnn::KwsCnn;
use mpq_models::kws_train::{eval_features, kws_accuracy, KwsClips};

fn subset() -> (KwsClips, Vec<String>) {
    let set = mpq_models::kws_cnn::bundled_test_subset().unwrap();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.join("kws_test.json")).unwrap()).unwrap();
    let engines = json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| format!("{} {}", i["engine"].as_str().unwrap(), i["accent"].as_str().unwrap()))
        .collect();
    (set, engines)
}

/// What the bundled weights reach on the committed subset (0.9375, 135 of 144), less a window of
/// slack (a guard against a regression, not the goal, which is 0.95 on all 720 held-out clips:
/// this model has 0.9500 there, see `weights/README.md`).
const SUBSET_ACCURACY_FLOOR: f64 = 0.93;

#[test]
fn bundled_keyword_model_keeps_its_accuracy_on_held_out_voices() {
    let (set, engines) = subset();
    assert!(set.len() >= 120, "{} windows", set.len());
    // Every class is there, and the held-out voices: flite's slt and espeak-ng's test accents.
    for label in 0..12u8 {
        assert!(set.labels.iter().filter(|&&l| l == label).count() >= 10, "class {label}");
    }
    assert!(engines.iter().any(|e| e == "flite en-us"));
    assert!(engines.iter().any(|e| e.contains("en-gb-scotland") || e.contains("en-us-nyc")));
    let model = KwsCnn::load_bundled(&mpq_models::cpu_device()).unwrap();
    let acc = kws_accuracy(&model, &eval_features(&set), &set.labels).unwrap();
    eprintln!("kws_cnn on the committed subset: {acc:.4} of {}", set.len());
    assert!(acc >= SUBSET_ACCURACY_FLOOR, "accuracy {acc}");
}
