//! The bundled Fashion-MNIST weights against a committed test subset (the first 1000 images
//! of Fashion-MNIST's test set, `tests/data/fashion_test_1000.bin`; see
//! `tests/data/README.md`), on the flex CPU backend.

use mpq_models::data::decode_subset;
use mpq_models::fashion_cnn::{CLASSES, PIXELS};
use mpq_models::{Classifier, FASHION_CLASSES, FashionCnn, ModelId, cpu_device};

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
    let model = Classifier::load_bundled(ModelId::FashionCnn, &cpu_device()).unwrap();
    let a = model.predict(&subset.pixels, subset.len()).unwrap();
    let b = model.predict(&subset.pixels, subset.len()).unwrap();
    assert_eq!(a.len(), 200);
    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    for (pa, pb) in a.iter().zip(&b) {
        assert_eq!(bits(&pa.probs), bits(&pb.probs));
        let sum: f32 = pa.probs.iter().sum();
        assert!((sum - 1.0).abs() < 1e-4 && pa.probs.iter().all(|p| (0.0..=1.0).contains(p)));
        // conv1 block 16×14×14, conv2 block 32×7×7, dense 64.
        let shapes: Vec<(usize, usize)> = pa.features.iter().map(|f| (f.channels, f.values.len())).collect();
        assert_eq!(shapes, vec![(16, 16 * 14 * 14), (32, 32 * 7 * 7), (64, 64)]);
        for (fa, fb) in pa.features.iter().zip(&pb.features) {
            assert_eq!(bits(&fa.values), bits(&fb.values));
            assert!(fa.values.iter().all(|v| v.is_finite() && *v >= 0.0));
        }
    }
    // A second, freshly loaded copy agrees bit for bit, and with the plain FashionCnn path.
    let again = FashionCnn::load_bundled(&cpu_device()).unwrap();
    let c = again.predict_probs(&subset.pixels, subset.len()).unwrap();
    assert!(a.iter().zip(&c).all(|(pa, pc)| bits(&pa.probs) == bits(pc)));
    assert_eq!(FASHION_CLASSES.len(), CLASSES);
}

#[test]
fn conv_features_run_on_any_size_and_bad_sizes_are_errors() {
    let model = Classifier::load_bundled(ModelId::FashionCnn, &cpu_device()).unwrap();
    let (w, h) = (45, 30);
    let pixels: Vec<u8> = (0..w * h).map(|i| (i * 7 % 256) as u8).collect();
    let f = model.conv_features(&pixels, w, h).unwrap();
    assert_eq!(f.len(), 2);
    assert_eq!((f[0].channels, f[0].values.len()), (16, 16 * (h / 2) * (w / 2)));
    assert_eq!((f[1].channels, f[1].values.len()), (32, 32 * (h / 4) * (w / 4)));
    assert!(model.conv_features(&pixels, w, h + 1).is_err());
    assert!(model.conv_features(&[0; 4], 2, 2).is_err());
    assert!(model.conv_features(&vec![0; 600 * 600], 600, 600).is_err());
    assert!(model.predict(&[0; PIXELS + 1], 1).is_err());
    assert!(model.predict(&[0; PIXELS], usize::MAX).is_err());
}

#[test]
fn bad_input_is_an_error() {
    let model = FashionCnn::load_bundled(&cpu_device()).unwrap();
    assert!(model.predict_probs(&[0; PIXELS - 1], 1).is_err());
    assert!(model.predict_probs(&[0; PIXELS], 2).is_err());
    assert!(model.predict_probs(&[], usize::MAX).is_err());
    assert_eq!(model.predict_probs(&[], 0).unwrap().len(), 0);
}
