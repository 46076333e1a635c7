//! Codes a file with a language-model weight file and reports bits per byte and speed:
//! `cargo run --release -p mpq-codecs --example lm_file -- WEIGHTS.lmw TEXT [CHUNK_KIB]`.
//! (The bundled checkpoints are `mpqlab eval TEXT -c lm:model=…`; this takes any weight file.)

use std::time::Instant;

use mpq_codecs::text::lm::{self, net};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let wbytes = std::fs::read(&args[1]).expect("weights");
    let w = net::Weights::from_bytes(&wbytes).expect("weights");
    let text = std::fs::read(&args[2]).expect("text");
    let chunk = args.get(3).map(|s| s.parse::<usize>().unwrap() << 10).unwrap_or(64 << 10);
    let f = net::fnv1a(&wbytes);
    let t = Instant::now();
    let s = lm::encode(&w, f, &text, chunk).unwrap();
    let enc = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let back = lm::decode(&w, f, &lm::parse(&s).unwrap()).unwrap();
    let dec = t.elapsed().as_secs_f64();
    assert_eq!(back, text, "round trip");
    let nn = {
        let mut st = w.start();
        let mut bits = 0f64;
        for &b in &text {
            bits -= (st.probs[b as usize] as f64).log2();
            w.step(&mut st, b);
        }
        bits / text.len() as f64
    };
    println!(
        "{} bytes → {} ({:.4} bits/byte; network alone {:.4}); encode {:.1} kB/s, decode {:.1} kB/s",
        text.len(),
        s.len(),
        8.0 * s.len() as f64 / text.len() as f64,
        nn,
        text.len() as f64 / enc / 1e3,
        text.len() as f64 / dec / 1e3
    );
}
