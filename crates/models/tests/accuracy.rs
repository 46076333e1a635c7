//! The bundled Fashion-MNIST weights against a committed test subset (the first 1000 images
//! of Fashion-MNIST's test set, `tests/data/fashion_test_1000.bin`; see
//! `tests/data/README.md`), on the flex CPU backend.

use mpq_models::data::decode_subset;
use mpq_models::fashion_cnn::{CLASSES, PIXELS};
use mpq_models::{FASHION_CLASSES, FashionCnn, cpu_device};

/// Accuracy of the bundled weights on this subset when they were trained (see
/// `weights/README.md`), and the margin the test allows below it (5 images in 1000: room for
/// another CPU's float rounding, not for a broken model).
const RECORDED_SUBSET_ACCURACY: f64 = 0.935;
const MARGIN: f64 = 0.005;

const SUBSET: &[u8] = include_bytes!("data/fashion_test_1000.bin");

#[test]
fn bundled_weights_reach_the_recorded_accuracy() {
    let subset = decode_subset(SUBSET).unwrap();
    assert_eq!(subset.len(), 1000);
    let model = FashionCnn::load_bundled(&cpu_device()).unwrap();
    let pred = model.predict(&subset.pixels, subset.len()).unwrap();
    let correct = pred.iter().zip(&subset.labels).filter(|(p, y)| p == y).count();
    let acc = correct as f64 / subset.len() as f64;
    eprintln!("bundled fashion_cnn: {correct}/{} = {acc:.3} on the committed subset", subset.len());
    assert!(
        acc >= RECORDED_SUBSET_ACCURACY - MARGIN,
        "accuracy {acc} < recorded {RECORDED_SUBSET_ACCURACY} − {MARGIN}"
    );
}

#[test]
fn predictions_are_deterministic_and_well_formed() {
    let subset = decode_subset(SUBSET).unwrap().take(200);
    let model = FashionCnn::load_bundled(&cpu_device()).unwrap();
    let a = model.predict_with_features(&subset.pixels, subset.len()).unwrap();
    let b = model.predict_with_features(&subset.pixels, subset.len()).unwrap();
    assert_eq!(a.len(), 200);
    for ((pa, fa), (pb, fb)) in a.iter().zip(&b) {
        assert_eq!(pa.map(f32::to_bits), pb.map(f32::to_bits));
        assert_eq!(
            fa.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            fb.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
        );
        let sum: f32 = pa.iter().sum();
        assert!((sum - 1.0).abs() < 1e-4 && pa.iter().all(|p| (0.0..=1.0).contains(p)));
        assert_eq!(fa.len(), 64);
        assert!(fa.iter().all(|v| v.is_finite() && *v >= 0.0));
    }
    // A second, freshly loaded copy agrees bit for bit.
    let again = FashionCnn::load_bundled(&cpu_device()).unwrap();
    let c = again.predict_probs(&subset.pixels, subset.len()).unwrap();
    assert!(a.iter().zip(&c).all(|((pa, _), pc)| pa.map(f32::to_bits) == pc.map(f32::to_bits)));
    assert_eq!(FASHION_CLASSES.len(), CLASSES);
}

#[test]
fn bad_input_is_an_error() {
    let model = FashionCnn::load_bundled(&cpu_device()).unwrap();
    assert!(model.predict_probs(&[0; PIXELS - 1], 1).is_err());
    assert!(model.predict_probs(&[0; PIXELS], 2).is_err());
    assert!(model.predict_probs(&[], usize::MAX).is_err());
    assert_eq!(model.predict_probs(&[], 0).unwrap().len(), 0);
}
