//! The `mpqlab` binary as a user runs it: outputs, JSON fields, and clear errors (exit code 1
//! and a message, never a panic) for bad input.

use std::path::PathBuf;
use std::process::Command;

fn mpqlab() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_mpqlab"));
    c.current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
    c
}

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mpqlab-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

const PHOTO: &str = "tests/fixtures/metrics/coffee_jpeg_a.png";

#[test]
fn eval_prints_the_documented_fields() {
    let out = mpqlab().args(["eval", PHOTO, "-c", "jpeg:quality=30,subsampling=4:4:4"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for k in ["bytes", "bits_per_pixel", "compression_ratio", "psnr_rgb", "psnr_y", "ssim", "ms_ssim", "encode_ms", "decode_ms"] {
        assert!(v[k].is_number(), "{k} missing in {v}");
    }
    assert_eq!(v["params"]["quality"], 30);
    assert_eq!(v["params"]["subsampling"], "4:4:4");
    let bpp = v["bits_per_pixel"].as_f64().unwrap();
    let bytes = v["bytes"].as_f64().unwrap();
    let (w, h) = (v["width"].as_f64().unwrap(), v["height"].as_f64().unwrap());
    assert!((bpp - 8.0 * bytes / (w * h)).abs() < 1e-12);
    assert!(v["psnr_rgb"].as_f64().unwrap() > 25.0);
}

#[test]
fn compress_writes_what_eval_measures_and_lossless_is_exact() {
    let out_path = tmp("c.png");
    let st = mpqlab().args(["compress", PHOTO, "-c", "png", "-p", "level=9", "-o"]).arg(&out_path).status().unwrap();
    assert!(st.success());
    let written = std::fs::read(&out_path).unwrap();
    let original = mpq_codecs::image::load(&std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../../", "tests/fixtures/metrics/coffee_jpeg_a.png")).unwrap()).unwrap();
    assert_eq!(mpq_codecs::image::load(&written).unwrap().to_rgb8(), original.to_rgb8());
    let out = mpqlab().args(["eval", PHOTO, "-c", "png", "-p", "level=9"]).output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["bytes"].as_u64().unwrap() as usize, written.len());
    assert_eq!(v["exact"], true);
    assert!(v["psnr_rgb"].is_null());
}

#[test]
fn bad_input_is_a_clear_error() {
    let junk = tmp("junk.png");
    std::fs::write(&junk, b"not an image at all").unwrap();
    let cases: Vec<(Vec<String>, &str)> = vec![
        (vec!["eval".into(), PHOTO.into(), "-c".into(), "jpeg".into(), "-p".into(), "quality=0".into()], "outside 1..=100"),
        (vec!["eval".into(), PHOTO.into(), "-c".into(), "nope".into()], "unknown codec"),
        (vec!["eval".into(), PHOTO.into(), "-c".into(), "jpeg".into(), "-p".into(), "speed=3".into()], "has no parameter"),
        (vec!["eval".into(), "does/not/exist.png".into(), "-c".into(), "jpeg".into()], "cannot read"),
        (vec!["eval".into(), junk.to_string_lossy().into(), "-c".into(), "jpeg".into()], "unrecognised file format"),
    ];
    for (args, expect) in cases {
        let out = mpqlab().args(&args).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(err.contains(expect), "{args:?}: expected '{expect}' in: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}

#[test]
fn codecs_lists_schemas_and_bench_reports_rows() {
    let out = mpqlab().arg("codecs").output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let ids: Vec<&str> = v.as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["jpeg", "avif", "webp-lossless", "png", "qoi"]);
    let out = mpqlab().args(["bench", "--runs", "1", "--codecs", "jpeg,qoi", PHOTO]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().all(|r| r["encode_ms"].as_f64().unwrap() > 0.0 && r["bytes"].as_u64().unwrap() > 0));
}

/// AVIF files are read in a child process: corrupt AV1 data that makes rav1d abort becomes an
/// error (exit 1), never a crash of `mpqlab` itself.
#[test]
fn avif_input_is_read_and_corrupt_avif_is_an_error() {
    let avif = tmp("in.avif");
    assert!(mpqlab().args(["compress", PHOTO, "-c", "avif", "-p", "speed=10", "-o"]).arg(&avif).status().unwrap().success());
    let out = mpqlab().arg("eval").arg(&avif).args(["-c", "png"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((v["width"].as_u64(), v["height"].as_u64()), (Some(240), Some(200)));

    let good = std::fs::read(&avif).unwrap();
    let mut state = 0x2545F4914F6CDD1Du64;
    for round in 0..24 {
        let mut bad = good.clone();
        // Corrupt the tail (the AV1 payload sits after the container boxes).
        for _ in 0..(1 + round % 8) {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let at = good.len() / 2 + (state as usize % (good.len() / 2));
            bad[at] ^= (state >> 32) as u8 | 1;
        }
        let path = tmp(&format!("bad{round}.avif"));
        std::fs::write(&path, &bad).unwrap();
        let out = mpqlab().arg("eval").arg(&path).args(["-c", "qoi"]).output().unwrap();
        let code = out.status.code();
        assert!(matches!(code, Some(0) | Some(1)), "round {round}: mpqlab died: {:?} {}", out.status, String::from_utf8_lossy(&out.stderr));
        if code == Some(1) {
            assert!(String::from_utf8_lossy(&out.stderr).contains("mpqlab: error:"));
        }
    }
}

/// `mpqlab bench gpu` times every weight format on the adapter wgpu finds (lavapipe in CI).
#[test]
fn bench_gpu_reports_every_format() {
    let out = mpqlab().args(["bench", "gpu", "--sizes", "40,64", "--repeats", "2"]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() && err.contains("no GPU adapter") && std::env::var("MPQ_REQUIRE_GPU").as_deref() != Ok("1") {
        eprintln!("skipping: {err}");
        return;
    }
    assert!(out.status.success(), "{err}");
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = rows.as_array().unwrap();
    let formats: Vec<&str> = rows.iter().map(|r| r["format"].as_str().unwrap()).collect();
    assert_eq!(formats, ["f32", "f16", "q8_0", "q4_0", "q3_0", "f32", "f16", "q8_0", "q4_0", "q3_0"]);
    for r in rows {
        assert!(r["ms"].as_f64().unwrap() > 0.0 && r["gflops"].as_f64().unwrap() > 0.0, "{r}");
        assert!(!r["adapter"].as_str().unwrap().is_empty());
    }
    assert_eq!(rows[8]["bits_per_weight"], 4.5);
    assert_eq!(rows[9]["bits_per_weight"], 3.5);
}
