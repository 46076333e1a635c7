//! The lossless weight format on the bundled model: every f16 weight comes back bit for bit,
//! and the file is smaller than plain f16.

use burn::module::{Module, ModuleVisitor, Param};
use burn::tensor::Tensor;
use mpq_models::float_codec::{Half, decode, encode};
use mpq_models::{FashionCnn, cpu_device};

struct Collect(Vec<f32>);

impl ModuleVisitor for Collect {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        self.0.extend(param.val().into_data().try_to_vec::<f32>().expect("f32 parameters"));
    }
}

#[test]
fn bundled_weights_roundtrip_and_shrink() {
    let model = FashionCnn::load_bundled(&cpu_device()).unwrap();
    let mut params = Collect(Vec::new());
    model.visit(&mut params);
    assert_eq!(params.0.len(), 105_866);
    // The bundled weights are f16, so the conversion back is exact.
    let bits: Vec<u16> = params.0.iter().map(|&x| half::f16::from_f32(x).to_bits()).collect();
    assert!(params.0.iter().zip(&bits).all(|(&x, &b)| half::f16::from_bits(b).to_f32() == x));
    let packed = encode(&bits, Half::F16);
    let (kind, back) = decode(&packed).unwrap();
    assert_eq!(kind, Half::F16);
    assert_eq!(back, bits, "lossless: every bit restored");
    let f16_bytes = 2 * bits.len();
    let ratio = packed.len() as f64 / f16_bytes as f64;
    eprintln!(
        "fashion_cnn: {} weights, f16 {} bytes, entropy-coded exponents {} bytes ({:.3} of f16, {:.2} bits/weight)",
        bits.len(),
        f16_bytes,
        packed.len(),
        ratio,
        8.0 * packed.len() as f64 / bits.len() as f64
    );
    assert!(ratio < 0.9, "expected a real saving, got {ratio:.3}");
}
