//! The audio metrics against values computed independently (pysepm-evo's SNRseg, numpy for
//! SNR and the pinned log-spectral distance) by tests/fixtures/audio/make_fixtures.py, and
//! librosa for the log-mel features (make_mel_fixture.py).

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

/// The keyword model's log-mel features against librosa's melspectrogram
/// (tests/fixtures/audio/make_mel_fixture.py; the parameters are pinned in `mel`'s doc).
#[test]
fn log_mel_features_equal_librosa() {
    use mpq_metrics::mel::{LogMel, log_mel_distance};
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixtures().join("mel_reference.json")).unwrap()).unwrap();
    let mut ex = LogMel::KWS.extractor();
    let mut worst = (0f64, 0f64);
    for (name, want) in json["mel_power"].as_object().unwrap() {
        let (rate, x) = read(&fixtures().join(name));
        assert_eq!(rate, 16000);
        let got = ex.mel_power(&x);
        let want: Vec<Vec<f64>> =
            want.as_array().unwrap().iter().map(|row| row.as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect()).collect();
        assert_eq!(got.len(), want.len() * 40, "{name}: frames");
        for (f, row) in want.iter().enumerate() {
            // f32 FFT against float64: relative 1e-4 on every band that holds at least 1e-5 of
            // its frame's loudest band; the log features (what the model takes) to 1e-3 nats.
            let loudest = row.iter().cloned().fold(0.0, f64::max);
            for (m, &w) in row.iter().enumerate() {
                let g = got[f * 40 + m] as f64;
                if w >= 1e-5 * loudest {
                    worst.0 = worst.0.max((g - w).abs() / w);
                    assert!((g - w).abs() <= 1e-4 * w, "{name} frame {f} band {m}: {g} vs {w}");
                }
                let (lg, lw) = ((g + 1e-6).ln(), (w + 1e-6).ln());
                worst.1 = worst.1.max((lg - lw).abs());
                assert!((lg - lw).abs() <= 1e-3, "{name} frame {f} band {m}: ln {lg} vs {lw}");
            }
        }
    }
    for pair in json["pairs"].as_array().unwrap() {
        let (_, r) = read(&fixtures().join(pair["reference"].as_str().unwrap()));
        let (_, d) = read(&fixtures().join(pair["decoded"].as_str().unwrap()));
        let (got, want) = (log_mel_distance(&r, &d).unwrap(), pair["log_mel_distance"].as_f64().unwrap());
        assert!((got - want).abs() <= 1e-4 * want, "log-mel distance {got} vs {want}");
    }
    eprintln!("worst relative mel power error {:.2e}, worst log error {:.2e} nats", worst.0, worst.1);
}
