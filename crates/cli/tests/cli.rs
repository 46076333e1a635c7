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
    assert_eq!(
        ids,
        ["jpeg", "avif", "webp-lossless", "webp-ll-down", "png", "qoi", "mulaw", "alaw", "ima-adpcm", "flac", "opus", "bandlimit", "mdct", "gzip", "zlib", "zstd", "brotli", "xz", "bzip2", "lz4", "ppmd", "lm", "logs"]
    );
    let modality: Vec<&str> = v.as_array().unwrap().iter().map(|c| c["modality"].as_str().unwrap()).collect();
    assert_eq!(modality[6..13], ["audio"; 7]);
    assert_eq!(modality[13..], ["text"; 10]);
    let out = mpqlab().args(["bench", "audio", "--seconds", "2", "--runs", "1", "--codecs", "mulaw,mdct"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = v["codecs"].as_array().unwrap();
    assert_eq!(rows.iter().map(|r| r["codec"].as_str().unwrap()).collect::<Vec<_>>(), ["mulaw", "mdct"]);
    assert!(rows.iter().all(|r| r["decode_x_realtime"].as_f64().unwrap() > 1.0 && r["seconds"] == 2.0), "{v}");
    assert!(v["model"]["ms_per_window"].as_f64().unwrap() > 0.0);
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

/// `mpqlab bench gpu` times every weight format on the adapter wgpu finds (lavapipe in CI),
/// after the streaming-read ceiling, v1 beside v2 with --baseline.
#[test]
fn bench_gpu_reports_every_format() {
    let out = mpqlab().args(["bench", "gpu", "--sizes", "40,64", "--repeats", "2", "--baseline"]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() && err.contains("no GPU adapter") && std::env::var("MPQ_REQUIRE_GPU").as_deref() != Ok("1") {
        eprintln!("skipping: {err}");
        return;
    }
    assert!(out.status.success(), "{err}");
    let run: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(!run["adapter"].as_str().unwrap().is_empty());
    let ceiling = run["ceiling"]["gbps"].as_f64().unwrap();
    assert!(ceiling > 0.0, "{run}");
    let rows = run["rows"].as_array().unwrap();
    let got: Vec<String> = rows
        .iter()
        .map(|r| format!("{}/{}/{}", r["format"].as_str().unwrap(), r["kernels"].as_str().unwrap(), r["inputs"].as_str().unwrap()))
        .collect();
    // v1 and v2 of every format, and the int8-input v2 kernels of the block formats (every
    // native adapter has dot4I8Packed: naga emits the instruction or its polyfill).
    let want: Vec<String> = (0..2)
        .flat_map(|_| {
            ["f32", "f16", "q8_0", "q4_0", "q3_0"].into_iter().flat_map(|f| {
                let mut k = vec![format!("{f}/v1/f32"), format!("{f}/v2/f32")];
                if f.starts_with('q') {
                    k.push(format!("{f}/v2/int8"));
                }
                k
            })
        })
        .collect();
    assert_eq!(got, want);
    assert!(["native", "polyfilled"].contains(&run["packed_dot"].as_str().unwrap()), "{run}");
    for r in rows {
        assert!(r["ms"].as_f64().unwrap() > 0.0 && r["gflops"].as_f64().unwrap() > 0.0, "{r}");
        let share = r["share_of_ceiling"].as_f64().unwrap();
        assert!((share - r["weight_gbps"].as_f64().unwrap() / ceiling).abs() <= 1e-9 * share, "{r}");
        assert!(r["vs_f32"].as_f64().unwrap() > 0.0, "{r}");
        assert_eq!(r["vs_v1"].is_null(), r["kernels"] == "v1", "{r}");
        assert_eq!(r["vs_f32_inputs"].is_null(), r["inputs"] == "f32", "{r}");
    }
    assert_eq!(rows[7]["bits_per_weight"], 4.5);
    assert_eq!(rows[10]["bits_per_weight"], 3.5);
    let no_int8 = mpqlab().args(["bench", "gpu", "--sizes", "40", "--repeats", "1", "--no-int8", "--formats", "q4_0"]).output().unwrap();
    let no_int8: serde_json::Value = serde_json::from_slice(&no_int8.stdout).unwrap();
    assert_eq!(no_int8["rows"].as_array().unwrap().len(), 1, "{no_int8}");
    assert!(no_int8["packed_dot"].is_null(), "{no_int8}");
    let bad = mpqlab().args(["bench", "gpu", "--formats", "q5_k"]).output().unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("'q5_k' is not a format"));
}

/// `mpqlab quant`: one row per format (and per searched block format), the lossless f16 row,
/// the SVG plot, and clear errors for a bad format or model.
#[test]
fn quant_reports_rows_and_plot() {
    let svg = tmp("quant.svg");
    let out = mpqlab()
        .args(["quant", "--model", "fashion-cnn", "--formats", "f32,q8_0,q4_0", "--search", "--items", "200", "--svg"])
        .arg(&svg)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["model"], "fashion-cnn");
    assert_eq!(v["items"], 200);
    let rows = v["rows"].as_array().unwrap();
    let names: Vec<&str> = rows.iter().map(|r| r["variant"].as_str().unwrap()).collect();
    assert_eq!(names, ["f32", "q8_0", "q8_0+search", "q4_0", "q4_0+search", "f16+lossless"]);
    for r in rows {
        for k in ["bits_per_weight", "weight_bytes", "accuracy", "top1_agreement", "mean_kl", "reference_accuracy"] {
            assert!(r[k].is_number(), "{k} missing in {r}");
        }
    }
    assert_eq!(rows[0]["bits_per_weight"], 32.0);
    assert_eq!(rows[0]["top1_agreement"], 1.0);
    assert!(rows[3]["bits_per_weight"].as_f64().unwrap() < 5.0);
    let plot = std::fs::read_to_string(&svg).unwrap();
    assert!(plot.starts_with("<svg") && plot.contains("q4_0+search") && plot.trim_end().ends_with("</svg>"));

    for bad in [["--formats", "q5_k"], ["--model", "nope"], ["--items", "0"]] {
        let out = mpqlab().arg("quant").args(bad).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{bad:?}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("mpqlab: error:"), "{bad:?}");
    }
}

/// `mpqlab quant --gpu`: the same table through the WGSL kernels (skipped without an adapter
/// unless MPQ_REQUIRE_GPU=1).
#[test]
fn quant_gpu_matches_cpu() {
    let args = ["quant", "--model", "cats-dogs-cnn", "--formats", "q4_0", "--items", "8"];
    let out = mpqlab().args(args).arg("--gpu").output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() && err.contains("no GPU adapter") && std::env::var("MPQ_REQUIRE_GPU").as_deref() != Ok("1") {
        eprintln!("skipping: {err}");
        return;
    }
    assert!(out.status.success(), "{err}");
    let gpu: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let cpu = mpqlab().args(args).output().unwrap();
    let cpu: serde_json::Value = serde_json::from_slice(&cpu.stdout).unwrap();
    assert_ne!(gpu["backend"], "cpu");
    for k in ["accuracy", "top1_agreement"] {
        assert_eq!(gpu["rows"][0][k], cpu["rows"][0][k], "{k}");
    }
    let (a, b) = (gpu["rows"][0]["mean_kl"].as_f64().unwrap(), cpu["rows"][0]["mean_kl"].as_f64().unwrap());
    assert!((a - b).abs() <= 1e-4 * b.max(1e-3), "mean KL {a} vs {b}");
}

#[test]
fn sweep_prints_points_and_writes_csv_and_svg() {
    let (csv, svg) = (tmp("sweep.csv"), tmp("sweep.svg"));
    let out = mpqlab()
        .args(["sweep", "--model", "fashion-cnn", "--items", "60", "--codec", "jpeg:quality=1,90"])
        .args(["--codec", "webp-ll-down:scale=20..100:2", "--csv"])
        .arg(&csv)
        .arg("--svg")
        .arg(&svg)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["items"], 60);
    let points = v["points"].as_array().unwrap();
    let keys: Vec<String> = points.iter().map(|p| format!("{}:{}={}", p["codec"], p["param"], p["value"])).collect();
    assert_eq!(keys, ["\"jpeg\":\"quality\"=1.0", "\"jpeg\":\"quality\"=90.0", "\"webp-ll-down\":\"scale\"=20.0", "\"webp-ll-down\":\"scale\"=100.0"]);
    let f = |i: usize, k: &str| points[i][k].as_f64().unwrap();
    // More quality costs more bits and keeps more of the model's answers.
    assert!(f(1, "bits_per_pixel") > f(0, "bits_per_pixel"));
    assert!(f(1, "top1_agreement") > f(0, "top1_agreement"));
    // Lossless at full scale: the model sees the original, so it agrees on every item.
    assert_eq!(f(3, "top1_agreement"), 1.0);
    assert!(points[3]["psnr_db"].is_null());
    assert_eq!(f(3, "accuracy"), f(3, "reference_accuracy"));
    let csv = std::fs::read_to_string(&csv).unwrap();
    assert_eq!(csv.trim().lines().count(), 5);
    assert!(std::fs::read_to_string(&svg).unwrap().contains("<svg"));
}

#[test]
fn sweep_rejects_bad_specs_clearly() {
    for (args, needle) in [
        (vec!["sweep", "--codec", "jpeg:quality=1..95"], "point"),
        (vec!["sweep", "--codec", "nosuch:q=1,2"], "nosuch"),
        (vec!["sweep", "--model", "resnet"], "unknown model"),
        (vec!["sweep", "--codec", "jpeg:subsampling=4:2:0"], ""),
    ] {
        let out = mpqlab().args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("error") && err.contains(needle), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}

#[test]
fn a_sharded_sweep_merged_is_the_unsharded_run_byte_for_byte() {
    let args = ["sweep", "--model", "fashion-cnn", "--items", "30", "--codec", "jpeg:quality=10..90:3", "--codec", "webp-ll-down:scale=25,75", "--no-timings"];
    let (csv, svg) = (tmp("one.csv"), tmp("one.svg"));
    let one = mpqlab().args(args).arg("--csv").arg(&csv).arg("--svg").arg(&svg).output().unwrap();
    assert!(one.status.success(), "{}", String::from_utf8_lossy(&one.stderr));
    // Shards 2 and 0 of 3 hold 1 and 2 of the 5 points; merged in any order.
    let shards: Vec<PathBuf> = [2, 0, 1]
        .iter()
        .map(|i| {
            let out = mpqlab().args(args).args(["--shard", &format!("{i}/3")]).output().unwrap();
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            assert_eq!(v["result"]["points"].as_array().unwrap().len(), if *i == 2 { 1 } else { 2 });
            let path = tmp(&format!("shard-{i}.json"));
            std::fs::write(&path, &out.stdout).unwrap();
            path
        })
        .collect();
    let (mcsv, msvg) = (tmp("merged.csv"), tmp("merged.svg"));
    let merged = mpqlab().arg("merge").args(&shards).arg("--csv").arg(&mcsv).arg("--svg").arg(&msvg).output().unwrap();
    assert!(merged.status.success(), "{}", String::from_utf8_lossy(&merged.stderr));
    assert!(merged.stdout == one.stdout, "the merged JSON differs from the unsharded run's");
    assert_eq!(std::fs::read(&mcsv).unwrap(), std::fs::read(&csv).unwrap());
    assert_eq!(std::fs::read(&msvg).unwrap(), std::fs::read(&svg).unwrap());

    // Missing, repeated, foreign and damaged shards are refused with the reason.
    let other = mpqlab().args(["sweep", "--model", "fashion-cnn", "--items", "20", "--codec", "jpeg:quality=10..90:3", "--codec", "webp-ll-down:scale=25,75", "--no-timings", "--shard", "1/3"]).output().unwrap();
    let other_path = tmp("other-1.json");
    std::fs::write(&other_path, &other.stdout).unwrap();
    let junk = tmp("junk-shard.json");
    std::fs::write(&junk, br#"{"format": "mpqlab-sweep-shard", "version": 1, "kind": "rate-perception""#).unwrap();
    let not_shard = tmp("not-shard.json");
    std::fs::write(&not_shard, &one.stdout).unwrap();
    let cases: Vec<(Vec<&PathBuf>, &str)> = vec![
        (vec![&shards[0], &shards[1]], "shard 1/3 missing"),
        (vec![&shards[0], &shards[1], &shards[1]], "both shard 0/3"),
        (vec![&shards[0], &shards[1], &other_path], "different sweeps"),
        (vec![&shards[0], &junk], "not JSON"),
        (vec![&not_shard], "not a sweep shard"),
    ];
    for (files, want) in cases {
        let out = mpqlab().arg("merge").args(files).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(err.contains(want), "wanted '{want}' in: {err}");
    }
    for (args, want) in [(vec!["--shard", "3/3"], "counted from 0"), (vec!["--shard", "0/3", "--csv", "x.csv"], "mpqlab merge")] {
        let out = mpqlab().args(["sweep", "--model", "fashion-cnn", "--items", "5"]).args(args).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && err.contains(want), "wanted '{want}' in: {err}");
    }
}

#[test]
fn a_target_size_sets_the_codecs_parameter() {
    // Image: bits per pixel; the eval at the chosen quality is what `target` reports.
    let out = mpqlab().args(["eval", PHOTO, "-c", "jpeg:subsampling=4:4:4", "--target-bpp", "1.0"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let t = &v["target"];
    assert_eq!(t["param"], "quality");
    assert_eq!(v["params"]["quality"], t["value"]);
    assert_eq!(v["params"]["subsampling"], "4:4:4", "the other parameters stay as given");
    assert_eq!(v["bytes"], t["bytes"]);
    assert!((v["bits_per_pixel"].as_f64().unwrap() - 1.0).abs() <= 0.02, "{v}");
    assert_eq!(t["reached"], true);
    // compress writes the same stream.
    let path = tmp("aimed.jpg");
    let st = mpqlab().args(["compress", PHOTO, "-c", "jpeg:subsampling=4:4:4", "--target-bpp", "1.0", "-o"]).arg(&path).status().unwrap();
    assert!(st.success());
    assert_eq!(std::fs::metadata(&path).unwrap().len(), t["bytes"].as_u64().unwrap());
    // Audio: kbit/s, and a codec with one rate says so.
    let clip = "www/gallery/audio/codec2-speech-16k.wav";
    let out = mpqlab().args(["eval", clip, "-c", "opus", "--target-kbps", "16"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!((v["kbps"].as_f64().unwrap() - 16.0).abs() <= 0.32, "{}", v["kbps"]);
    assert_eq!(v["params"]["bitrate"], v["target"]["value"]);
    let out = mpqlab().args(["eval", clip, "-c", "mulaw", "--target-kbps", "16"]).output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["target"]["reached"], false);
    assert!(v["target"]["note"].as_str().unwrap().contains("one rate"));
    // Refused with the reason: a lossless codec, two targets at once, a unit for another lab.
    for (args, want) in [
        (vec!["eval", PHOTO, "-c", "png", "--target-bytes", "1000"], "lossless"),
        (vec!["eval", "www/gallery/text/udhr-de.txt", "-c", "xz", "--target-bytes", "1000"], "lossless"),
        (vec!["eval", PHOTO, "-c", "jpeg", "--target-bytes", "1000", "--target-bpp", "1"], "cannot be used with"),
        (vec!["eval", PHOTO, "-c", "jpeg", "--target-kbps", "16"], "for audio"),
        (vec!["eval", PHOTO, "-c", "jpeg", "--target-bytes", "0"], "positive"),
    ] {
        let out = mpqlab().args(&args).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && err.contains(want), "{args:?}: wanted '{want}' in {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}

/// A link's target sizes (`lt`, `rt`) give `run` what `eval --target-*` gives; a sweep over
/// `bpp=` puts every codec's points at the asked sizes.
#[test]
fn target_sizes_in_links_and_sweeps() {
    let (code, v, err) = run_link(&["#/image?v=1&in=gallery:coffee&l=jpeg&r=webp-ll-down&lt=0.5bpp&rt=0.5bpp"]);
    assert_eq!(code, Some(0), "{err}");
    for (i, codec) in [(0, "jpeg"), (1, "webp-ll-down")] {
        let side = &v["sides"][i];
        let eval: serde_json::Value =
            serde_json::from_slice(&mpqlab().args(["eval", "www/gallery/coffee.png", "-c", codec, "--target-bpp", "0.5"]).output().unwrap().stdout).unwrap();
        assert_eq!(side["params"], eval["params"], "{codec}");
        assert_eq!(side["target"]["bytes"], eval["target"]["bytes"], "{codec}");
        assert_eq!(side["report"]["bytes"], eval["bytes"], "{codec}");
        assert!((side["report"]["bits_per_pixel"].as_f64().unwrap() - 0.5).abs() <= 0.01, "{codec}: {side}");
    }
    // Audio: kbit/s on the left.
    let (code, v, err) = run_link(&["#/audio?v=1&in=gallery:codec2-speech-16k&lt=16kbps"]);
    assert_eq!(code, Some(0), "{err}");
    assert!((v["sides"][0]["report"]["kbps"].as_f64().unwrap() - 16.0).abs() <= 0.32, "{}", v["sides"][0]);
    assert_eq!(v["sides"][0]["params"]["bitrate"], v["sides"][0]["target"]["value"]);
    assert_eq!(v["sides"][1]["target"], serde_json::Value::Null);

    // A sweep at equal sizes: JPEG and AVIF at 4 and 6 bpp on 20 Fashion-MNIST items (a 28×28
    // item has 98 bytes per bit per pixel: below ~3 bpp JPEG's and AVIF's headers alone are more).
    let out = mpqlab()
        .args(["sweep", "--model", "fashion-cnn", "--items", "20", "--no-timings", "--codec", "jpeg:bpp=4,6", "--codec", "avif:bpp=4,6,speed=10"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let points = v["points"].as_array().unwrap();
    assert_eq!(points.len(), 4);
    for p in points {
        let (want, got) = (p["value"].as_f64().unwrap(), p["bits_per_pixel"].as_f64().unwrap());
        assert_eq!(p["param"], "bpp");
        // Each item within 2 % where the codec's steps allow (a step on a 28×28 item is a few
        // bytes, a few %): the mean within 5 %.
        assert!((got - want).abs() <= 0.05 * want, "{} at {want} bpp: {got}", p["codec"]);
    }
    // And the audio sweep at equal kbit/s (one-second windows: Ogg's pages and MDCT's frames
    // are coarse steps there, so the mean lands a few % under).
    let out = mpqlab().args(["sweep", "--model", "kws-cnn", "--items", "12", "--no-timings", "--codec", "opus:kbps=8,16"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for p in v["points"].as_array().unwrap() {
        let (want, got) = (p["value"].as_f64().unwrap(), p["audio"]["kbps"].as_f64().unwrap());
        assert!((got - want).abs() <= 0.06 * want, "opus at {want} kbit/s: {got}");
    }
}

fn run_link(args: &[&str]) -> (Option<i32>, serde_json::Value, String) {
    let out = mpqlab().arg("run").args(args).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    let v = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
    (out.status.code(), v, err)
}

/// `mpqlab run LINK` gives, per side, what `mpqlab eval` gives for the same codec and settings
/// (the page's numbers: the browser test compares those), and the model's verdict.
#[test]
fn run_reproduces_a_link_like_eval() {
    let link = "http://127.0.0.1:8080/#/image?v=1&in=gallery:coffee&l=jpeg:quality=10&r=webp-ll-down:scale=40&split=30";
    let (code, v, err) = run_link(&[link]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(v["link"], "#/image?v=1&in=gallery:coffee&l=jpeg:quality=10&r=webp-ll-down:scale=40&split=30");
    assert_eq!(v["input"]["name"], "coffee.png");
    for (side, codec) in [(0, "jpeg:quality=10"), (1, "webp-ll-down:scale=40")] {
        let out = mpqlab().args(["eval", "www/gallery/coffee.png", "-c", codec]).output().unwrap();
        let eval: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let report = &v["sides"][side]["report"];
        for k in ["bytes", "bits_per_pixel", "psnr_rgb", "ssim", "ms_ssim", "params"] {
            assert_eq!(report[k], eval[k], "side {side} {k}");
        }
        let verdict = &v["sides"][side]["verdict"];
        assert_eq!(verdict["kind"], "features", "a photo gets the feature distance only");
        assert!(verdict["feature_distance"].as_f64().unwrap() > 0.0);
    }
    assert!(v["sweep"].is_null());

    // A test item: the model's classes; a sweep link: its points (browser codecs skipped).
    let (code, v, err) = run_link(&["#/image?v=1&in=item:fashion-mnist:4&l=jpeg:quality=1&sweep=jpeg:quality=10,90;browser-jpeg:quality=1..95:8&items=50&run=sweep"]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(v["input"]["true_class"], "Shirt");
    assert_eq!(v["sides"][0]["verdict"]["kind"], "classes");
    assert_eq!(v["sides"][0]["verdict"]["verdict"]["top1_agree"], false, "JPEG q=1 flips item 4 (see the browser test)");
    assert_eq!(v["sweep"]["points"].as_array().unwrap().len(), 2);
    assert_eq!(v["sweep"]["items"], 50);
    assert_eq!(v["sweep"]["skipped"][0], "browser-jpeg:quality=1..95:8");
}

#[test]
fn run_checks_files_and_refuses_bad_links() {
    let file = "tests/fixtures/metrics/astronaut_noise_a.png";
    let link = "#/image?v=1&in=file:33f1d86fccd53517ca40944dc1c2230cb1bc56c259181ab3764413888741349e:85567:astronaut_noise_a.png&r=png";
    let (code, v, err) = run_link(&[link, "--file", file]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(v["sides"][1]["report"]["exact"], true);
    for (args, expect) in [
        (vec![link], "give it with --file"),
        (vec![link, "--file", "tests/fixtures/metrics/astronaut_noise_b.png"], "is not the file this link was made with"),
        (vec!["#/image?v=7"], "newer mpqlab"),
        (vec!["#/image?v=1&l=jpeg:quality=0"], "outside 1..=100"),
        (vec!["#/image?v=1&in=gallery:nope"], "no gallery photo 'nope'"),
        (vec!["#/image?v=1&in=item:fashion-mnist:5000"], "no item 5000"),
        (vec!["#/video?v=1"], "no lab called 'video'"),
    ] {
        let (code, _, err) = run_link(&args);
        assert_eq!(code, Some(1), "{args:?}: {err}");
        assert!(err.contains(expect), "{args:?}: expected '{expect}' in: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}

/// `mpqlab eval CLIP.wav -c <audio codec>`: the audio report's fields, and the same numbers as
/// the library computes; `compress` writes the codec's WAV.
#[test]
fn audio_eval_and_compress() {
    let clip = "tests/fixtures/audio/noise_16k_ref.wav";
    for (codec, kbps) in [("mulaw", 128.0), ("alaw", 128.0), ("ima-adpcm", 64.0)] {
        let out = mpqlab().args(["eval", clip, "-c", codec]).output().unwrap();
        assert!(out.status.success(), "{codec}: {}", String::from_utf8_lossy(&out.stderr));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        for key in ["bytes", "bits_per_sample", "kbps", "delay_ms", "snr_db", "seg_snr_db", "lsd_db", "stoi", "encode_ms", "decode_ms"] {
            assert!(v[key].is_number(), "{codec}: {key} in {v}");
        }
        assert_eq!((v["sample_rate"].as_u64(), v["frames"].as_u64(), v["delay_ms"].as_f64()), (Some(16000), Some(24000), Some(0.0)), "{v}");
        let got = v["kbps"].as_f64().unwrap();
        assert!((got - kbps).abs() / kbps < 0.04, "{codec}: {got} kbps");
        assert!(v["snr_db"].as_f64().unwrap() > 15.0 && v["stoi"].as_f64().unwrap() > 0.9, "{codec}: {v}");
    }
    let out = tmp("clip.ulaw.wav");
    let r = mpqlab().args(["compress", clip, "-c", "mulaw", "-o", out.to_str().unwrap()]).output().unwrap();
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    assert_eq!(&std::fs::read(&out).unwrap()[20..22], &[7, 0], "a μ-law WAV (format tag 7)");
}

/// `eval` on a spoken keyword: the signal metrics and the keyword model's verdict for the
/// original and the decoded clip; `sweep --model kws-cnn` gives audio points (kbps, STOI) and
/// writes the audio CSV and plot.
#[test]
fn keyword_eval_and_audio_sweep() {
    // A held-out window of the committed subset, as a WAV (the first "yes": index 24).
    let set = mpq_models::kws_cnn::bundled_test_subset().unwrap();
    let i = set.labels.iter().position(|&l| l == mpq_models::kws_cnn::label_of("yes").unwrap()).unwrap();
    let clip = tmp("yes.wav");
    let audio = mpq_core::Audio::new(16000, 1, set.clips[i].clone()).unwrap();
    std::fs::write(&clip, mpq_codecs::audio::encode_wav16(&audio).unwrap()).unwrap();
    let out = mpqlab().args(["eval", clip.to_str().unwrap(), "-c", "opus:bitrate=24000"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let k = &v["keywords"];
    assert_eq!(k["original"], "yes", "{v}");
    assert!(v["log_mel_distance"].as_f64().unwrap() > 0.0, "{v}");
    assert!(k["original_top"][0]["p"].as_f64().unwrap() > 0.5 && k["decoded_top"].as_array().unwrap().len() == 3, "{k}");
    assert!(k["kl"].as_f64().unwrap() >= 0.0 && k["changed"].is_boolean(), "{k}");

    let (csv, svg) = (tmp("kws.csv"), tmp("kws.svg"));
    let out = mpqlab()
        .args(["sweep", "--model", "kws-cnn", "--items", "24", "--codec", "mulaw", "--codec", "mdct:bitrate=8000,32000"])
        .args(["--csv", csv.to_str().unwrap(), "--svg", svg.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let points = v["points"].as_array().unwrap();
    assert_eq!((points.len(), v["items"].as_u64()), (3, Some(24)), "{v}");
    let kbps: Vec<f64> = points.iter().map(|p| p["audio"]["kbps"].as_f64().unwrap()).collect();
    assert!((kbps[0] - 128.0).abs() < 3.0 && kbps[1] < 9.0 && kbps[2] > kbps[1], "{kbps:?}");
    assert!(points.iter().all(|p| p["accuracy"].is_number() && p["audio"]["stoi"].is_number()), "{v}");
    assert!(std::fs::read_to_string(&csv).unwrap().starts_with("model,dataset,codec,codec_name,param,value,items,bytes,kbps,"));
    let svg = std::fs::read_to_string(&svg).unwrap();
    assert!(svg.contains("STOI vs kbit/s") && svg.contains("Accuracy vs kbit/s"), "{svg}");
    // Not an audio codec, and a missing data set for training: refused with the reason.
    let out = mpqlab().args(["sweep", "--model", "kws-cnn", "--codec", "jpeg:quality=10,20"]).output().unwrap();
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("not an audio codec"));
    let out = mpqlab().args(["train", "kws", "--data", tmp("no-such-dir").to_str().unwrap()]).output().unwrap();
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("make-kws-data.py"));
}

/// Bad audio gets a clear message and exit 1, never a panic.
#[test]
fn bad_audio_is_refused_with_the_reason() {
    let good = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/audio/noise_16k_ref.wav")).unwrap();
    let mut ten_hours = good.clone();
    ten_hours[40..44].copy_from_slice(&(16000u32 * 2 * 36000).to_le_bytes());
    // A float WAV holding a NaN.
    let mut nan = b"RIFF\0\0\0\0WAVEfmt \x10\0\0\0\x03\0\x01\0\x80\x3e\0\0\0\xfa\0\0\x04\0\x20\0data\x10\0\0\0".to_vec();
    for v in [0.5f32, f32::NAN, 0.25, 0.0] {
        nan.extend_from_slice(&v.to_le_bytes());
    }
    let n = nan.len() as u32 - 8;
    nan[4..8].copy_from_slice(&n.to_le_bytes());
    let mut noise = vec![0u8; 4000];
    let mut s = 12345u32;
    for b in &mut noise {
        s = s.wrapping_mul(1664525).wrapping_add(1013904223);
        *b = (s >> 24) as u8;
    }
    let cases: [(&str, Vec<u8>, &str); 5] = [
        ("cut.wav", good[..good.len() / 3].to_vec(), "cut short: its data chunk claims 48000 bytes"),
        ("empty.wav", Vec::new(), "file is empty"),
        ("ten-hours.wav", ten_hours, "10 h 0 min of audio"),
        ("nan.wav", nan, "is NaN"),
        ("noise.mp3", noise, "unrecognised file format"),
    ];
    for (name, bytes, message) in cases {
        let path = tmp(name);
        std::fs::write(&path, bytes).unwrap();
        let out = mpqlab().args(["eval", path.to_str().unwrap(), "-c", "ima-adpcm"]).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{name}: {err}");
        assert!(err.contains(message) && err.contains("mpqlab: error:"), "{name}: {err}");
        assert!(!err.contains("panicked"), "{name}: {err}");
    }
}

/// Text through the command line: `eval --all` gives every text codec's row (each round trip
/// checked), `compress` writes a stream the reference tool reads and `decompress` gives the
/// bytes back, `run` opens a text link, and a closed pipe ends a command quietly.
#[test]
fn text_eval_compress_decompress_run_and_a_closed_pipe() {
    let book = "www/gallery/text/udhr-ru.txt";
    let out = mpqlab().args(["eval", book, "--all"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 10);
    let bpb = |id: &str| rows.iter().find(|r| r["codec"] == id).unwrap()["bits_per_byte"].as_f64().unwrap();
    assert!(rows.iter().all(|r| r["round_trip"] == true && r["original_bytes"] == 21660));
    assert!(bpb("lm") < bpb("gzip"), "lm {} gzip {}", bpb("lm"), bpb("gzip"));
    let one = mpqlab().args(["eval", book, "-c", "lm"]).output().unwrap();
    let one: serde_json::Value = serde_json::from_slice(&one.stdout).unwrap();
    assert_eq!((&one["bytes"], &one["bits_per_byte"]), (&rows[8]["bytes"], &rows[8]["bits_per_byte"]), "eval -c lm equals the table's row");

    let dir = std::env::temp_dir().join(format!("mpq-cli-text-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let xz = dir.join("t.xz");
    assert!(mpqlab().args(["compress", book, "-c", "xz:level=9", "-o"]).arg(&xz).status().unwrap().success());
    let back = dir.join("t.txt");
    assert!(mpqlab().arg("decompress").arg(&xz).arg("-o").arg(&back).status().unwrap().success());
    assert_eq!(std::fs::read(&back).unwrap(), std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../../www/gallery/text/udhr-ru.txt")).unwrap());
    std::fs::remove_dir_all(&dir).ok();

    let run = mpqlab().args(["run", "#/text?v=1&in=gallery:udhr-ru&l=gzip:level=9"]).output().unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let v: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(v["sides"][1]["report"]["bytes"], rows[8]["bytes"], "the right side is lm at its defaults");
    assert_eq!(v["table"].as_array().unwrap().len(), 10);

    // `mpqlab codecs | head -c 0`: the reader is gone before the first write; no panic, no
    // backtrace (without SIGPIPE's default action println! panics on the broken pipe).
    let mut child = mpqlab().arg("codecs").stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped()).spawn().unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked") && !err.contains("Broken pipe"), "{err}");
}

/// `classify`: one text's language with its neighbours, the DNA task, and `--eval`'s accuracy
/// table with a confusion matrix whose counts add up; bad methods and tasks are clear errors.
#[test]
fn classify_names_the_language_and_evaluates_the_split() {
    let de = tmp("de.txt");
    std::fs::write(&de, "Wenn der Hahn kräht auf dem Mist, ändert sich das Wetter oder es bleibt, wie es ist. Das ist eine alte Bauernregel.").unwrap();
    let out = mpqlab().args(["classify"]).arg(&de).args(["-c", "ppmd", "-c", "ngram", "--neighbours", "4"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let results = v["results"].as_array().unwrap();
    assert_eq!(results.iter().map(|r| r["label"].as_str().unwrap()).collect::<Vec<_>>(), ["de", "de"], "{v}");
    let neighbours = results[0]["neighbours"].as_array().unwrap();
    assert_eq!(neighbours.len(), 4);
    let d: Vec<f64> = neighbours.iter().map(|n| n["distance"].as_f64().unwrap()).collect();
    assert!(d.windows(2).all(|w| w[0] <= w[1]), "nearest first: {d:?}");
    assert!(neighbours[0]["text"].as_str().unwrap().len() > 10);

    let out = mpqlab().args(["classify", "--eval", "--task", "dna", "-c", "zstd", "-c", "ngram", "--test-per-label", "5"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["test_records"], 20);
    for r in v["results"].as_array().unwrap() {
        let counts: u64 = r["confusion"]["counts"].as_array().unwrap().iter().flat_map(|row| row.as_array().unwrap()).map(|c| c.as_u64().unwrap()).sum();
        assert_eq!(counts, 20);
        let acc = r["accuracy"].as_f64().unwrap();
        assert!((0.5..=1.0).contains(&acc), "{} on 4 phyla: {acc}", r["method"]);
        assert!(r["classifications_per_second"].as_f64().unwrap() > 0.0);
    }
    assert_eq!(v["results"][1]["method"], "ngram:8", "the DNA task's baseline counts 8-mers");

    for (args, says) in [
        (vec!["classify", "--eval", "--task", "klingon"], "no classification task"),
        (vec!["classify", "--eval", "-c", "jpeg"], "not a text codec"),
        (vec!["classify", "--eval", "-c", "ngram:99"], "order"),
        (vec!["classify"], "give a text file"),
    ] {
        let out = mpqlab().args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says) && !err.contains("panicked"), "{args:?}: {err}");
    }
}

/// `sweep --model lossy-text`: a point per strategy and fraction, the full text agreeing with
/// itself, dropped text costing fewer bits, and the CSV and SVG written.
#[test]
fn the_lossy_text_sweep_reports_each_strategy() {
    let (csv, svg) = (tmp("lossy.csv"), tmp("lossy.svg"));
    let out = mpqlab()
        .args(["sweep", "--model", "lossy-text", "--fractions", "1,0.5", "--prose-items", "2", "--csv"])
        .arg(&csv)
        .arg("--svg")
        .arg(&svg)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let points = v["points"].as_array().unwrap();
    assert_eq!(points.len(), 6);
    assert_eq!(v["classifier"], "ngram:3");
    for p in points {
        let (f, kept) = (p["fraction"].as_f64().unwrap(), p["kept_bytes"].as_f64().unwrap());
        if f == 1.0 {
            assert_eq!((p["lang_agreement"].as_f64(), p["lm_top1_agreement"].as_f64(), kept), (Some(1.0), Some(1.0), 1.0), "{p}");
        } else {
            assert!(kept <= 0.5 && kept > 0.3, "{p}");
            let full = points.iter().find(|q| q["strategy"] == p["strategy"] && q["fraction"] == 1.0).unwrap();
            assert!(p["bits_per_byte"].as_f64() < full["bits_per_byte"].as_f64(), "{p}");
            assert!(p["lm_kl_bits"].as_f64().unwrap() > 0.0);
        }
    }
    assert_eq!(std::fs::read_to_string(&csv).unwrap().lines().count(), 7);
    assert!(std::fs::read_to_string(&svg).unwrap().contains("<polyline"));
    let bad = mpqlab().args(["sweep", "--model", "lossy-text", "--fractions", "1.5"]).output().unwrap();
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("not between 0 and 1"));
}

/// `eval LOG -c logs`: the round trip, the back-end and layout kept, and the templates found.
#[test]
fn eval_of_a_log_says_what_the_log_codec_found() {
    let out = mpqlab().args(["eval", "www/gallery/text/logs/http-access.log", "-c", "logs"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["round_trip"], true);
    let s = &v["structure"];
    assert_ne!(s["layout"], "plain text", "{s}");
    assert!(s["templates"].as_u64().unwrap() >= 5 && s["lines"].as_u64().unwrap() > 2000, "{s}");
    assert!(s["top_templates"][0]["template"].as_str().unwrap().contains("<*>"), "{s}");
    assert!(s["columns"].as_array().unwrap().iter().any(|c| c["kind"] == "integers"), "{s}");
}

/// `mpqlab run` of a text link with the perception panels' settings prints what the panels show:
/// the classifier's neighbours, the lossy view at the link's fraction, the log codec's findings.
#[test]
fn a_text_link_runs_its_panels() {
    // "Der Hund schläft im Garten, …" deflated and base64url, as the page writes `q=`.
    let q = "c0ktUvAozUtRKE7OyDm8JK1EITNXwT2xqCQ1T0cBJJ6SmargnVhSlapQnFlSVaKQWJqmkJKaq-CSmJyhBwA";
    let link = format!("#/text?v=1&in=gallery:udhr-de&clf=ppmd&q={q}&drop=regular&keep=0.5");
    let out = mpqlab().args(["run", &link]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let c = &v["classify"]["result"];
    assert_eq!((c["method"].as_str(), c["label"].as_str()), (Some("ppmd"), Some("de")), "{c}");
    assert_eq!(c["neighbours"].as_array().unwrap().len(), 5);
    let l = &v["lossy"];
    assert_eq!((l["strategy"].as_str(), l["fraction"].as_f64()), (Some("regular"), Some(0.5)));
    assert!(l["view"]["kept_bytes"].as_u64().unwrap() * 2 <= l["view"]["prefix_len"].as_u64().unwrap(), "{l}");
    assert_eq!(l["view"]["label_original"], "de");
    assert!(v["logs"]["bytes"].as_u64().unwrap() > 0 && v["logs"]["lines"].as_u64().unwrap() > 10);
    let bad = mpqlab().args(["run", "#/text?v=1&clf=nonesuch&q=c3MDAA"]).output().unwrap();
    assert_eq!(bad.status.code(), Some(1));
}

/// The lossy panel and the model lab aimed at a size, from their links.
#[test]
fn lossy_text_and_weights_aim_for_a_size() {
    let (code, v, err) = run_link(&["#/text?v=1&in=gallery:udhr-de&kt=400B"]);
    assert_eq!(code, Some(0), "{err}");
    let l = &v["lossy"];
    let t = &l["target"];
    assert_eq!(t["param"], "keep %", "{t}");
    assert!(t["relative_error"].as_f64().unwrap().abs() <= 0.05, "{t}");
    assert_eq!((t["value"].as_f64().unwrap() / 100.0), l["fraction"].as_f64().unwrap());
    // The reported bytes are what `mpqlab compress -c lm` writes for the kept text.
    let text = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../../www/gallery/text/udhr-de.txt")).unwrap();
    let view = &l["view"];
    let mut kept = Vec::new();
    for (w, k) in view["words"].as_array().unwrap().iter().zip(view["kept"].as_array().unwrap()) {
        if k.as_bool().unwrap() {
            kept.extend_from_slice(&text[w[0].as_u64().unwrap() as usize..w[1].as_u64().unwrap() as usize]);
        }
    }
    let (input, coded) = (tmp("kept.txt"), tmp("kept.lm"));
    std::fs::write(&input, &kept).unwrap();
    let out = mpqlab().args(["compress", "-c", "lm"]).arg(&input).arg("-o").arg(&coded).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(std::fs::metadata(&coded).unwrap().len(), t["bytes"].as_u64().unwrap());
    assert_eq!(run_link(&["#/text?v=1&kt=2bpp"]).0, Some(1));

    // Weights: `quant --target-bpw` and a link's `mt` give the same mixed row.
    let out = mpqlab().args(["quant", "--formats", "q8_0,q4_0", "--search", "--items", "100", "--target-bpw", "6"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let q: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = q["rows"].as_array().unwrap();
    let mix = rows.iter().find(|r| r["variant"] == "mix+search").expect("a mixed row");
    assert!((mix["bits_per_weight"].as_f64().unwrap() - 6.0).abs() <= 0.12, "{mix}");
    assert!(mix["target"]["reached"].as_bool().unwrap() && mix["target"]["value"].as_str().unwrap().contains("fc1="), "{mix}");
    let (code, v, err) = run_link(&["#/model?v=1&on=cpu&items=100&mt=6bpw&run=eval"]);
    assert_eq!(code, Some(0), "{err}");
    let linked = v["result"]["rows"].as_array().unwrap().iter().find(|r| r["variant"] == "mix+search").cloned().unwrap();
    assert_eq!((&linked["target"], &linked["accuracy"]), (&mix["target"], &mix["accuracy"]));
    let out = mpqlab().args(["quant", "--target-bpw", "0"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
}

/// `mpqlab bench rd`: our JPEG against `cjpeg -optimize` at equal bits per pixel (skipped
/// without cjpeg unless MPQ_REQUIRE_TOOLS=1). Averaging the subsampled chroma is what closes the
/// gap to libjpeg-turbo on colour photos.
#[test]
fn bench_rd_compares_our_jpeg_with_cjpeg() {
    let has_cjpeg = std::env::var_os("PATH").is_some_and(|p| std::env::split_paths(&p).any(|d| d.join("cjpeg").is_file()));
    if !has_cjpeg {
        assert_ne!(std::env::var("MPQ_REQUIRE_TOOLS").as_deref(), Ok("1"), "cjpeg is required");
        return;
    }
    let out = mpqlab()
        .args(["bench", "rd", "www/gallery/coffee.png", "www/gallery/camera.png", "--qualities", "30,50,70,90", "--codec", "jpeg", "--codec", "jpeg:chroma=average"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let results = v["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    for r in results {
        let photos = r["photos"].as_array().unwrap();
        assert_eq!(photos.len(), 2);
        for p in photos {
            assert_eq!(p["ours"].as_array().unwrap().len(), 4);
            assert!(p["delta_db"].as_f64().unwrap().abs() < 1.0, "{p}");
        }
    }
    let coffee = |k: usize| results[k]["photos"][0]["delta_db"].as_f64().unwrap();
    assert!(coffee(1) > coffee(0) + 0.05, "average {} vs nearest {}", coffee(1), coffee(0));
    assert!(coffee(1) > -0.05, "{}", coffee(1));
    // The gray photo has no chroma: the setting changes nothing.
    assert_eq!(results[0]["photos"][1]["delta_db"], results[1]["photos"][1]["delta_db"]);
    let bad = mpqlab().args(["bench", "rd", "--codec", "avif"]).output().unwrap();
    assert_eq!(bad.status.code(), Some(1));
}
