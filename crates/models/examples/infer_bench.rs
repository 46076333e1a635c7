//! Times the bundled Fashion CNN on the committed 1000-image subset (flex CPU backend):
//! `cargo run --release -p mpq-models --example infer_bench`.
use mpq_models::data::decode_subset;
use mpq_models::{Classifier, ModelId, cpu_device};
use std::time::Instant;

fn main() {
    let subset = decode_subset(include_bytes!("../tests/data/fashion_test_1000.bin")).unwrap();
    let model = Classifier::load_bundled(ModelId::FashionCnn, &cpu_device()).unwrap();
    for round in 0..3 {
        let t = Instant::now();
        let p = model.predict(&subset.pixels, subset.len()).unwrap();
        let ms = t.elapsed().as_secs_f64() * 1e3;
        println!("round {round}: {} images in {ms:.1} ms ({:.3} ms/image)", p.len(), ms / p.len() as f64);
    }
}
