//! The text codecs: bit-exact round trips (property tests and the edge cases), interop with
//! the reference tools both ways (required when MPQ_REQUIRE_TOOLS=1, as in CI), and bad input.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use mpq_codecs::{codec, registry_for};
use mpq_core::{Codec, Error, Media, Modality, Params, Text, codec::parse_param_pairs, limits};
use proptest::prelude::*;

fn tool(name: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|p| std::env::split_paths(&p).map(|d| d.join(name)).find(|p| p.is_file()));
    if found.is_none() && std::env::var("MPQ_REQUIRE_TOOLS").as_deref() == Ok("1") {
        panic!("{name} is required (MPQ_REQUIRE_TOOLS=1) but not on PATH: run scripts/setup.sh");
    }
    found
}

/// Asserts two byte strings are equal, saying where they first differ instead of printing both.
#[track_caller]
fn same(got: &[u8], want: &[u8], what: &str) {
    if got != want {
        let at = got.iter().zip(want).position(|(a, b)| a != b).unwrap_or(got.len().min(want.len()));
        panic!("{what}: {} bytes where {} were expected, first difference at byte {at}", got.len(), want.len());
    }
}

fn text(bytes: &[u8]) -> Media {
    Media::Text(Text { bytes: bytes.to_vec() })
}

fn encode(c: &dyn Codec, bytes: &[u8], params: &str) -> Vec<u8> {
    let p = parse_param_pairs(params.split(',')).unwrap();
    c.encode(&text(bytes), &p).unwrap_or_else(|e| panic!("{} {params}: {e}", c.id()))
}

fn decoded(c: &dyn Codec, stream: &[u8]) -> Vec<u8> {
    c.decode(stream).unwrap_or_else(|e| panic!("{}: {e}", c.id())).into_text().unwrap().bytes
}

/// English-like text: words from a small vocabulary in a fixed pseudo-random order, with
/// punctuation and line breaks — compressible the way prose is, unlike random bytes.
fn prose(len: usize) -> Vec<u8> {
    const WORDS: [&str; 24] = [
        "the", "machine", "sees", "a", "picture", "of", "sound", "and", "text", "compressed", "by", "many", "codecs",
        "while", "people", "read", "numbers", "under", "each", "side", "model", "still", "hears", "it",
    ];
    let mut s = 0x9E3779B97F4A7C15u64;
    let mut out = Vec::with_capacity(len + 16);
    while out.len() < len {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        out.extend_from_slice(WORDS[(s % 24) as usize].as_bytes());
        out.push(match s >> 58 {
            0 => b'\n',
            1 | 2 => b',',
            3 => b'.',
            _ => b' ',
        });
    }
    out.truncate(len);
    out
}

fn random_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut s = seed | 1;
    (0..len)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 32) as u8
        })
        .collect()
}

/// The classic codecs (every text codec but the language model, which codes at kB/s and has
/// tests of its own below).
fn text_codecs() -> Vec<Box<dyn Codec>> {
    let all = registry_for(Modality::Text);
    let ids: Vec<_> = all.iter().map(|c| c.id()).collect();
    for id in ["gzip", "zlib", "zstd", "brotli", "xz", "bzip2", "lz4", "ppmd", "lm"] {
        assert!(ids.contains(&id), "{id} is missing from the registry: {ids:?}");
    }
    all.into_iter().filter(|c| c.id() != "lm").collect()
}

/// The lowest and highest setting of each codec's numeric parameters, one at a time.
fn extreme_settings(c: &dyn Codec) -> Vec<String> {
    let mut out = vec![String::new()];
    for p in c.params() {
        match p.kind {
            mpq_core::ParamKind::Int { min, max, .. } => {
                // PPMd's memory at its top is 256 MiB: once is enough (the 1 MB test).
                let max = if p.name == "memory" { 64 } else { max };
                out.push(format!("{}={min}", p.name));
                out.push(format!("{}={max}", p.name));
            }
            mpq_core::ParamKind::Choice { options } => out.extend(options.iter().map(|o| format!("{}={o}", p.name))),
            _ => {}
        }
    }
    out
}

#[test]
fn edge_cases_round_trip_bit_exactly_at_every_extreme_setting() {
    let mut invalid_utf8 = b"caf\xc3\xa9 \xff\xfe broken \xc3 then \xed\xa0\x80 surrogate\n".repeat(40);
    invalid_utf8.extend_from_slice(&[0x80, 0xbf, 0xc0]);
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty", Vec::new()),
        ("one byte", vec![b'x']),
        ("one zero byte", vec![0]),
        ("random 3000", random_bytes(3000, 7)),
        ("a run of 200 000", vec![b'a'; 200_000]),
        ("invalid UTF-8", invalid_utf8),
        ("prose 50 000", prose(50_000)),
    ];
    for c in text_codecs() {
        for setting in extreme_settings(c.as_ref()) {
            for (name, bytes) in &cases {
                let stream = encode(c.as_ref(), bytes, &setting);
                same(&decoded(c.as_ref(), &stream), bytes, &format!("{} {setting} on {name}", c.id()));
            }
        }
    }
}

#[test]
fn one_megabyte_round_trips_and_compresses_prose() {
    let mb = prose(1 << 20);
    let random = random_bytes(1 << 20, 3);
    for c in text_codecs() {
        let stream = encode(c.as_ref(), &mb, "");
        same(&decoded(c.as_ref(), &stream), &mb, c.id());
        // Prose from 24 words is ~4.6 bits of choice per word: every codec does far better than
        // 8 bits a byte (LZ4, with no entropy coder, least: 3.4).
        let bpb = 8.0 * stream.len() as f64 / mb.len() as f64;
        assert!(bpb < 4.0, "{}: {bpb:.2} bits per byte on prose", c.id());
        let stream = encode(c.as_ref(), &random, "");
        same(&decoded(c.as_ref(), &stream), &random, &format!("{} random", c.id()));
        // No codec expands incompressible bytes by much (PPMd most: its escapes cost 2.6 %).
        assert!(stream.len() < random.len() + random.len() / 20 + 1024, "{} expanded random bytes to {}", c.id(), stream.len());
    }
    // PPMd at its largest memory, once.
    let ppmd = codec("ppmd").unwrap();
    let stream = encode(ppmd.as_ref(), &mb, "memory=256,order=16");
    same(&decoded(ppmd.as_ref(), &stream), &mb, "ppmd at 256 MiB");
}

#[test]
fn the_same_text_gives_the_same_bytes() {
    let t = prose(20_000);
    for c in text_codecs() {
        same(&encode(c.as_ref(), &t, ""), &encode(c.as_ref(), &t, ""), &format!("{} is not deterministic", c.id()));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, .. ProptestConfig::default() })]
    #[test]
    fn any_bytes_round_trip(bytes in prop::collection::vec(any::<u8>(), 0..3000), repeat in 1usize..4) {
        let bytes = bytes.repeat(repeat);
        for c in text_codecs() {
            let stream = c.encode(&text(&bytes), &Params::new()).unwrap();
            prop_assert_eq!(&decoded(c.as_ref(), &stream), &bytes, "{}", c.id());
        }
    }
}

/// Runs a tool with `input` on stdin and returns its stdout.
fn pipe(tool: &PathBuf, args: &[&str], input: &[u8]) -> Vec<u8> {
    let mut child = Command::new(tool).args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(out.status.success(), "{} {args:?}: {}", tool.display(), String::from_utf8_lossy(&out.stderr));
    out.stdout
}

/// Each codec id with its reference tool, the tool's decode arguments and its encode
/// arguments at two levels (both read stdin and write stdout).
fn reference_tools() -> Vec<(&'static str, &'static str, Vec<&'static str>, Vec<Vec<&'static str>>)> {
    vec![
        ("gzip", "gzip", vec!["-dc"], vec![vec!["-1c"], vec!["-9c"]]),
        ("zstd", "zstd", vec!["-dcq"], vec![vec!["-1cq"], vec!["-19cq"]]),
        ("xz", "xz", vec!["-dc"], vec![vec!["-0c"], vec!["-9ec"]]),
        ("bzip2", "bzip2", vec!["-dc"], vec![vec!["-1c"], vec!["-9c"]]),
        ("brotli", "brotli", vec!["-dc"], vec![vec!["-q", "1", "-c"], vec!["-q", "11", "-c"]]),
        ("lz4", "lz4", vec!["-dcq"], vec![vec!["-1cq"], vec!["-9cq", "-BD"], vec!["-cq", "-B4", "--no-frame-crc"]]),
    ]
}

#[test]
fn reference_tools_decode_ours_and_we_decode_theirs() {
    let samples = [prose(300_000), random_bytes(70_000, 11), b"caf\xc3\xa9 \xff\xfe\n".repeat(500), Vec::new()];
    for (id, name, dec_args, enc_args) in reference_tools() {
        let Some(t) = tool(name) else { continue };
        let c = codec(id).unwrap();
        for bytes in &samples {
            for setting in extreme_settings(c.as_ref()) {
                let ours = encode(c.as_ref(), bytes, &setting);
                same(&pipe(&t, &dec_args, &ours), bytes, &format!("{name} -d on our {id} {setting}"));
            }
            for args in &enc_args {
                let theirs = pipe(&t, args, bytes);
                same(&decoded(c.as_ref(), &theirs), bytes, &format!("our {id} on {name} {args:?}"));
            }
        }
        // Two streams one after the other are one file to the tools (gzip, zstd, xz, bzip2, lz4).
        if id != "brotli" {
            let (a, b) = (prose(1000), random_bytes(500, 5));
            let mut two = pipe(&t, &enc_args[0], &a);
            two.extend(pipe(&t, &enc_args[0], &b));
            same(&decoded(c.as_ref(), &two), &[a, b].concat(), &format!("{id}: concatenated streams"));
        }
    }
}

#[test]
fn zlib_streams_are_pythons() {
    let Some(py) = tool("python3") else { return };
    let c = codec("zlib").unwrap();
    let t = prose(100_000);
    let script = "import sys,zlib; d=sys.stdin.buffer.read(); sys.stdout.buffer.write(zlib.decompress(d) if sys.argv[1]=='d' else zlib.compress(d, int(sys.argv[1])))";
    for level in ["0", "6", "9"] {
        let ours = encode(c.as_ref(), &t, &format!("level={level}"));
        same(&pipe(&py, &["-c", script, "d"], &ours), &t, &format!("python's zlib on ours at {level}"));
        let theirs = pipe(&py, &["-c", script, level], &t);
        same(&decoded(c.as_ref(), &theirs), &t, &format!("ours on python's zlib at {level}"));
    }
}

#[test]
fn seven_zip_opens_our_ppmd_and_we_open_its() {
    let Some(t) = tool("7zz").or_else(|| tool("7z")) else { return };
    let c = codec("ppmd").unwrap();
    let dir = std::env::temp_dir().join(format!("mpq-text-7z-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let prose = prose(200_000);
    for setting in ["", "order=2,memory=1", "order=32,memory=64"] {
        let archive = dir.join("ours.7z");
        std::fs::write(&archive, encode(c.as_ref(), &prose, setting)).unwrap();
        let out = Command::new(&t).args(["x", "-so"]).arg(&archive).output().unwrap();
        assert!(out.status.success(), "7z x on ours {setting}: {}", String::from_utf8_lossy(&out.stderr));
        same(&out.stdout, &prose, &format!("7z x on ours {setting}"));
        // `7z l -slt` names the method and its settings: PPMD:o6:mem24 (2^24 bytes = 16 MiB) by default.
        let list = String::from_utf8_lossy(&Command::new(&t).args(["l", "-slt"]).arg(&archive).output().unwrap().stdout).to_string();
        assert!(list.contains("Method = PPMD"), "{list}");
    }
    let input = dir.join("text.txt");
    std::fs::write(&input, &prose).unwrap();
    for args in [vec!["-m0=PPMd"], vec!["-m0=PPMd:o=16:mem=64m"], vec!["-m0=PPMd", "-mhc=off"]] {
        let archive = dir.join("theirs.7z");
        let _ = std::fs::remove_file(&archive);
        let out = Command::new(&t).arg("a").args(&args).arg(&archive).arg(&input).output().unwrap();
        assert!(out.status.success(), "7z a {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        same(&decoded(c.as_ref(), &std::fs::read(&archive).unwrap()), &prose, &format!("ours on 7z a {args:?}"));
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn cut_and_damaged_streams_give_an_error_or_other_text_never_a_panic() {
    let t = prose(40_000);
    for c in text_codecs() {
        let stream = encode(c.as_ref(), &t, "");
        for cut in [0, 1, 2, 5, 17, stream.len() / 2, stream.len() - 1] {
            match c.decode(&stream[..cut]) {
                Err(e) => assert!(!e.to_string().is_empty()),
                Ok(m) => assert_ne!(m.into_text().unwrap().bytes, t, "{} cut at {cut} gave the whole text", c.id()),
            }
        }
        for i in (0..stream.len()).step_by(stream.len() / 97 + 1) {
            let mut bad = stream.clone();
            bad[i] ^= 1 << (i % 8);
            // A flipped bit either fails (checksums, the format's structure) or changes the text;
            // a few (a flag nobody reads, padding) change nothing: never a panic.
            let _ = c.decode(&bad);
        }
    }
}

#[test]
fn streams_that_expand_past_the_text_limit_are_refused_naming_it() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/hostile/files");
    for (id, file) in [
        ("gzip", "text-bomb.gz"),
        ("zlib", "text-bomb.zz"),
        ("zstd", "text-bomb.zst"),
        ("brotli", "text-bomb.br"),
        ("xz", "text-bomb.xz"),
        ("bzip2", "text-bomb.bz2"),
        ("lz4", "text-bomb.lz4"),
        ("ppmd", "text-bomb.7z"),
        ("logs", "text-bomb.mplog"),
        ("logs", "text-claims.mplog"),
    ] {
        let bytes = std::fs::read(format!("{dir}/{file}")).unwrap();
        let err = codec(id).unwrap().decode(&bytes).unwrap_err();
        assert!(matches!(err, Error::TooLarge(_)), "{file}: {err}");
        assert!(err.to_string().contains("16 MiB of text"), "{file}: {err}");
    }
    // And a text over the limit is refused before it is encoded.
    let big = text(&vec![b'a'; limits::MAX_TEXT_BYTES + 1]);
    assert!(matches!(codec("gzip").unwrap().encode(&big, &Params::new()), Err(Error::TooLarge(_))));
}

#[test]
fn each_decoder_refuses_the_others_streams_and_empty_input() {
    let t = prose(5000);
    let streams: Vec<_> = text_codecs().iter().map(|c| (c.id(), encode(c.as_ref(), &t, ""))).collect();
    for c in text_codecs() {
        assert!(c.decode(&[]).is_err(), "{} on empty input", c.id());
        for (other, s) in &streams {
            if *other != c.id() {
                match c.decode(s) {
                    Err(_) => {}
                    // Brotli has no magic bytes: another stream may parse as something else, never as the text.
                    Ok(m) => assert_ne!(m.into_text().unwrap().bytes, t, "{} read {other}'s stream", c.id()),
                }
            }
        }
    }
}

/// The language-model coder: every bundled checkpoint round-trips the edge cases, at the
/// smallest chunk and the default one.
#[test]
fn the_language_model_coder_round_trips() {
    let lm = codec("lm").unwrap();
    let models = mpq_codecs::text::lm::bundled::names();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty", Vec::new()),
        ("one byte", vec![b'x']),
        ("random 3000", random_bytes(3000, 7)),
        ("a run of 20 000", vec![b'a'; 20_000]),
        ("invalid UTF-8", b"caf\xc3\xa9 \xff\xfe broken \xc3 then \xed\xa0\x80\n".repeat(40)),
        ("prose 12 000", prose(12_000)),
    ];
    for model in &models {
        for chunk in ["1", "64"] {
            for (name, bytes) in &cases {
                let stream = encode(lm.as_ref(), bytes, &format!("model={model},chunk={chunk}"));
                same(&decoded(lm.as_ref(), &stream), bytes, &format!("lm {model} chunk {chunk} KiB on {name}"));
            }
        }
    }
}

/// The coder's headline: on held-out English prose (a committed sample of the test split:
/// the first ~10 kB of each training book's held-out last tenth, crates/models/src/data/books.rs)
/// the default checkpoint spends at most 2.00 bits a byte, fewer than PPMd and every other
/// classic codec at their strongest settings.
#[test]
fn the_language_model_beats_every_classic_codec_on_held_out_prose() {
    let text = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../../www/gallery/text/heldout-sample.txt")).unwrap();
    let lm = codec("lm").unwrap();
    let stream = encode(lm.as_ref(), &text, "chunk=128");
    same(&decoded(lm.as_ref(), &stream), &text, "lm");
    let bpb = |n: usize| 8.0 * n as f64 / text.len() as f64;
    let lm_bpb = bpb(stream.len());
    assert!(lm_bpb <= 2.00, "lm: {lm_bpb:.3} bits per byte on held-out prose");
    for (id, strongest) in [("gzip", "level=9"), ("zlib", "level=9"), ("zstd", "level=22"), ("brotli", "quality=11,window=24"), ("xz", "level=9"), ("bzip2", "level=9"), ("lz4", "linked=yes"), ("ppmd", "order=8,memory=256"), ("ppmd", "order=6,memory=16")] {
        let c = codec(id).unwrap();
        let other = bpb(encode(c.as_ref(), &text, strongest).len());
        assert!(lm_bpb < other, "lm {lm_bpb:.3} is not below {id} {strongest} {other:.3}");
    }
}
