//! Writes `tools.rs` into OUT_DIR: the versions, from the workspace's Cargo.lock, of the crates
//! that make mpqlab's numbers (encoders, decoders, the model runtime), so that every export
//! names them (`mpq_core::export::TOOLS`).
use std::path::Path;

/// The crates an export names: those of them the lock file has.
const NAMED: &[&str] = &[
    "jpeg-encoder", "zune-jpeg", "png", "image-webp", "qoi", "ravif", "rav1e", "rav1d", "avif-parse", "hound", "flacenc",
    "symphonia", "opus-rs", "ogg", "rubato", "flate2", "structured-zstd", "brotli", "lzma-rust2", "bzip2", "lz4_flex",
    "ppmd-rust", "burn", "wgpu",
];

fn main() {
    let lock = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../Cargo.lock");
    println!("cargo:rerun-if-changed={}", lock.display());
    let text = std::fs::read_to_string(&lock).unwrap_or_default();
    let mut found: Vec<(String, String)> = Vec::new();
    for block in text.split("[[package]]") {
        let field = |key: &str| {
            block.lines().find_map(|l| l.strip_prefix(&format!("{key} = \""))).and_then(|v| v.strip_suffix('"')).map(str::to_string)
        };
        if let (Some(name), Some(version)) = (field("name"), field("version")) {
            if NAMED.contains(&name.as_str()) && !found.iter().any(|(n, _)| *n == name) {
                found.push((name, version));
            }
        }
    }
    found.sort();
    let body: String = found.iter().map(|(n, v)| format!("    ({n:?}, {v:?}),\n")).collect();
    let out = Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("tools.rs");
    std::fs::write(out, format!("pub const TOOLS: &[(&str, &str)] = &[\n{body}];\n")).expect("OUT_DIR is writable");
}
