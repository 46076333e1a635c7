//! The hostile-input suite (`tests/hostile/`) through the command line: every file is refused
//! with its reason (exit 1, never a panic or a huge allocation), opens, or opens with a
//! warning of what was lost, as `cases.json` says. The page gets the same files in
//! tests/e2e/hostile.test.mjs.

use std::process::Command;

fn mpqlab() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_mpqlab"));
    c.current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
    c
}

#[test]
fn every_hostile_file_gets_its_answer() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/hostile");
    let all: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(format!("{dir}/cases.json")).unwrap()).unwrap();
    let cases = all["images"].as_array().unwrap();
    assert!(cases.len() >= 15);
    for c in cases {
        let file = format!("tests/hostile/files/{}", c["file"].as_str().unwrap());
        let out = mpqlab().args(["info", &file]).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains("panicked"), "{file}: {err}");
        let message = c["message"].as_str().map(|m| regex_lite(m));
        match c["expect"].as_str().unwrap() {
            "refused" => {
                assert_eq!(out.status.code(), Some(1), "{file} should be refused: {err}");
                let m = message.unwrap();
                assert!(err.starts_with("mpqlab: error: ") && err.contains(&m), "{file}: expected '{m}' in: {err}");
            }
            expect => {
                assert!(out.status.success(), "{file} should open: {err}");
                let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
                let size = &c["size"];
                assert_eq!((&v["width"], &v["height"]), (&size[0], &size[1]), "{file}");
                match expect {
                    "warning" => {
                        let m = message.unwrap();
                        assert!(v["warning"].as_str().is_some_and(|w| w.contains(&m)), "{file}: warning {} lacks '{m}'", v["warning"]);
                        // The commands that read it say so too.
                        let eval = mpqlab().args(["eval", &file, "-c", "qoi"]).output().unwrap();
                        assert!(eval.status.success());
                        assert!(String::from_utf8_lossy(&eval.stderr).contains("mpqlab: warning: "), "{file}");
                    }
                    "opens" => assert!(v["warning"].is_null(), "{file}: {}", v["warning"]),
                    other => panic!("unknown expectation {other}"),
                }
            }
        }
    }
}

/// Weight files of another network, damaged or not weights at all are refused by
/// `mpqlab quant --weights` (and `sweep --weights`, the same loader) with the reason.
#[test]
fn bad_weight_files_are_refused() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/hostile");
    let all: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(format!("{dir}/cases.json")).unwrap()).unwrap();
    let cases = all["weights"].as_array().unwrap();
    for c in cases {
        let file = format!("tests/hostile/files/{}", c["file"].as_str().unwrap());
        let model = c["model"].as_str().unwrap();
        let out = mpqlab().args(["quant", "--model", model, "--formats", "f32", "--items", "5", "--weights", &file]).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{file}: {err}");
        let m = c["message"].as_str().unwrap();
        assert!(err.contains(m) && err.contains(&file), "{file}: expected '{m}' in: {err}");
        assert!(!err.contains("panicked"), "{file}: {err}");
    }
    // The bundled file itself loads through the same path.
    let ok = mpqlab().args(["quant", "--model", "cats-dogs-cnn", "--formats", "f32", "--items", "20", "--weights", "crates/models/weights/cats_dogs_cnn.bpk"]).output().unwrap();
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
}

/// The messages in cases.json are regular expressions for the page's test; the few escapes
/// they use are undone here for a plain substring match.
fn regex_lite(m: &str) -> String {
    m.replace("\\(", "(").replace("\\)", ")").split(".{4}").last().unwrap_or(m).to_string()
}

/// Bad audio (no bytes, no samples, cut, a header claiming ten hours, NaN samples, random
/// bytes named .mp3) is refused by `mpqlab eval` with the reason, never a panic or a huge
/// allocation; the page gets the same files in tests/e2e/audio_lab.test.mjs.
#[test]
fn bad_audio_is_refused() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/hostile");
    let all: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(format!("{dir}/cases.json")).unwrap()).unwrap();
    let cases = all["audio"].as_array().unwrap();
    assert!(cases.len() >= 6);
    for c in cases {
        let file = format!("tests/hostile/files/{}", c["file"].as_str().unwrap());
        assert_eq!(c["expect"], "refused", "{file}");
        let out = mpqlab().args(["eval", &file, "-c", "opus:bitrate=12000"]).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains("panicked"), "{file}: {err}");
        assert_eq!(out.status.code(), Some(1), "{file} should be refused: {err}");
        let m = regex_lite(c["message"].as_str().unwrap()).replace("\\.", ".");
        assert!(err.starts_with("mpqlab: error: ") && err.contains(&m), "{file}: expected '{m}' in: {err}");
    }
}

/// Bad text streams (decompression bombs past the 16 MiB text limit, streams cut short, an
/// empty file) are refused by `mpqlab decompress` with the reason, never a panic or a huge
/// allocation; the same files through each codec's decoder are in crates/codecs/tests.
#[test]
fn bad_text_streams_are_refused() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/hostile");
    let all: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(format!("{dir}/cases.json")).unwrap()).unwrap();
    let cases = all["text"].as_array().unwrap();
    assert!(cases.len() >= 16);
    let out_file = std::env::temp_dir().join(format!("mpq-hostile-text-{}", std::process::id()));
    for c in cases {
        let file = format!("tests/hostile/files/{}", c["file"].as_str().unwrap());
        assert_eq!(c["expect"], "refused", "{file}");
        let out = mpqlab().args(["decompress", &file, "-c", c["codec"].as_str().unwrap(), "-o"]).arg(&out_file).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains("panicked"), "{file}: {err}");
        assert_eq!(out.status.code(), Some(1), "{file} should be refused: {err}");
        let m = c["message"].as_str().unwrap();
        assert!(err.starts_with("mpqlab: error: ") && err.contains(m), "{file}: expected '{m}' in: {err}");
        assert!(!out_file.exists(), "{file}: a refused stream wrote output");
    }
}
