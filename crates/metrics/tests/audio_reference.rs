//! The audio metrics against values computed independently (pysepm-evo's SNRseg, numpy for
//! SNR and the pinned log-spectral distance) by tests/fixtures/audio/make_fixtures.py.

use std::path::{Path, PathBuf};

use mpq_metrics::audio;

/// The implementations differ in summation order and FFT only.
const TOL: f64 = 1e-6;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/audio")
}

fn read(path: &Path) -> (u32, Vec<f32>) {
    let r = hound::WavReader::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let rate = r.spec().sample_rate;
    (rate, r.into_samples::<i16>().map(|s| s.unwrap() as f32 / 32768.0).collect())
}

#[test]
fn audio_metrics_equal_the_references() {
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(fixtures().join("reference.json")).unwrap()).unwrap();
    let cases = json["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 4);
    for c in cases {
        let name = c["name"].as_str().unwrap();
        let (rate, r) = read(&fixtures().join(format!("{name}_ref.wav")));
        let (rate_d, d) = read(&fixtures().join(format!("{name}_deg.wav")));
        assert_eq!((rate, rate as u64), (rate_d, c["rate"].as_u64().unwrap()));
        let got = [
            ("snr_db", audio::snr_db(&r, &d).unwrap()),
            ("seg_snr_db", audio::seg_snr_db(&r, &d, rate).unwrap()),
            ("lsd_db", audio::lsd_db(&r, &d, rate).unwrap()),
            ("stoi", mpq_metrics::stoi::stoi(&r, &d, rate).unwrap()),
        ];
        for (key, v) in got {
            let want = c[key].as_f64().unwrap();
            assert!((v - want).abs() <= TOL * want.abs().max(1.0), "{name} {key}: {v} vs {want}");
        }
    }
}
