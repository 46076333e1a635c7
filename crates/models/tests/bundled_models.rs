//! Every bundled model ([`ModelId::ALL`]) through [`Classifier`] against its task's committed
//! test subset (`tests/data/`, see `tests/data/README.md`), on the flex CPU backend: the
//! recorded accuracy is reached, and predictions and feature maps are well formed.

use mpq_models::data::decode_subset;
use mpq_models::{Classifier, ModelId, Task, cpu_device};

/// Accuracy of each bundled model on its task's committed subset when it was trained (see
/// `weights/README.md`). The test allows [`MARGIN`] below it: room for another CPU's float
/// rounding (5 images in 1000, 2 in 400), not for a broken model.
fn recorded_subset_accuracy(id: ModelId) -> f64 {
    match id {
        ModelId::FashionCnn => 0.935,
        ModelId::FashionCnnJpeg => RECORDED_FASHION_JPEG,
        ModelId::CatsDogsCnn => RECORDED_CATS_DOGS,
    }
}
const RECORDED_FASHION_JPEG: f64 = 0.933;
/// The committed cats-vs-dogs subset is the whole 400-image test split.
const RECORDED_CATS_DOGS: f64 = 0.8025;
const MARGIN: f64 = 0.005;

fn subset(task: Task) -> mpq_models::data::LabeledImages {
    let bytes: &[u8] = match task {
        Task::Fashion => include_bytes!("data/fashion_test_1000.bin"),
        Task::CatsDogs => include_bytes!("data/cats_dogs_test_400.bin"),
    };
    decode_subset(bytes).unwrap()
}

#[test]
fn every_bundled_model_reaches_its_recorded_subset_accuracy() {
    for id in ModelId::ALL {
        let set = subset(id.task());
        let model = Classifier::load_bundled(id, &cpu_device()).unwrap();
        let t = std::time::Instant::now();
        let pred = model.predict(&set.pixels, set.len()).unwrap();
        let ms = t.elapsed().as_secs_f64() * 1e3;
        let correct = pred
            .iter()
            .zip(&set.labels)
            .filter(|(p, y)| mpq_models::fashion_cnn::argmax(&p.probs) == **y as usize)
            .count();
        let acc = correct as f64 / set.len() as f64;
        let recorded = recorded_subset_accuracy(id);
        eprintln!(
            "{}: {correct}/{} = {acc:.4} on {} (recorded {recorded}); {ms:.0} ms with features",
            id.id(),
            set.len(),
            id.task().subset_file()
        );
        assert!(acc >= recorded - MARGIN, "{}: accuracy {acc} < recorded {recorded} − {MARGIN}", id.id());
        // The full-test-split accuracy recorded with the model is plausible for the subset.
        assert!((acc - id.recorded_test_accuracy()).abs() < 0.05, "{}: {acc} vs {}", id.id(), id.recorded_test_accuracy());
        assert!(id.weight_bytes() > 0);
        assert!(id.weight_bytes() <= 1 << 20, "{}: {} bytes of weights", id.id(), id.weight_bytes());
    }
}

#[test]
fn tasks_and_models_are_consistent() {
    for task in Task::ALL {
        let set = subset(task);
        assert_eq!((set.rows, set.cols, set.channels), (task.side(), task.side(), task.channels()));
        assert_eq!(set.item_bytes(), task.item_bytes());
        assert!(set.labels.iter().all(|&l| (l as usize) < task.classes().len()));
        assert_eq!(Task::parse(task.id()), Some(task));
        assert!(!task.credits().is_empty());
        assert!(ModelId::ALL.iter().any(|m| m.task() == task), "{} has no model", task.id());
    }
    assert!(Task::CatsDogs.credits().contains("no formal license"));
    assert_eq!(Task::CatsDogs.classes(), &["cat", "dog"]);
    for id in ModelId::ALL {
        assert_eq!(ModelId::parse(id.id()), Some(id));
        assert!(ModelId::ALL.iter().filter(|m| m.id() == id.id() || m.name() == id.name()).count() == 1);
    }
    assert_eq!(ModelId::FashionCnnJpeg.name(), "Fashion CNN (trained on JPEG)");
    assert_eq!(ModelId::CatsDogsCnn.id(), "cats-dogs-cnn");
}

#[test]
fn predictions_are_deterministic_and_well_formed() {
    for id in ModelId::ALL {
        let set = subset(id.task()).take(64);
        let model = Classifier::load_bundled(id, &cpu_device()).unwrap();
        let a = model.predict(&set.pixels, set.len()).unwrap();
        let b = Classifier::load_bundled(id, &cpu_device()).unwrap().predict(&set.pixels, set.len()).unwrap();
        assert_eq!(a.len(), 64);
        // (channels, values) of each conv block and of the dense layer.
        let shapes: Vec<(usize, usize)> = match id.task() {
            Task::Fashion => vec![(16, 16 * 14 * 14), (32, 32 * 7 * 7), (64, 64)],
            Task::CatsDogs => vec![(16, 16 * 16 * 16), (32, 32 * 8 * 8), (64, 64 * 4 * 4), (64, 64)],
        };
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        for (pa, pb) in a.iter().zip(&b) {
            assert_eq!(pa.probs.len(), id.task().classes().len());
            assert_eq!(bits(&pa.probs), bits(&pb.probs));
            let sum: f32 = pa.probs.iter().sum();
            assert!((sum - 1.0).abs() < 1e-4 && pa.probs.iter().all(|p| (0.0..=1.0).contains(p)));
            let got: Vec<(usize, usize)> = pa.features.iter().map(|f| (f.channels, f.values.len())).collect();
            assert_eq!(got, shapes, "{}", id.id());
            for (fa, fb) in pa.features.iter().zip(&pb.features) {
                assert_eq!(bits(&fa.values), bits(&fb.values));
                assert!(fa.values.iter().all(|v| v.is_finite() && *v >= 0.0));
            }
        }
        // Wrong sizes are errors, not panics.
        let item = id.task().item_bytes();
        assert!(model.predict(&vec![0; item + 1], 1).is_err());
        assert!(model.predict(&vec![0; item], 2).is_err());
        assert!(model.predict(&[], usize::MAX).is_err());
    }
    // The two Fashion models differ (the JPEG one was fine-tuned).
    let set = subset(Task::Fashion).take(16);
    let p0 = Classifier::load_bundled(ModelId::FashionCnn, &cpu_device()).unwrap().predict(&set.pixels, 16).unwrap();
    let p1 = Classifier::load_bundled(ModelId::FashionCnnJpeg, &cpu_device()).unwrap().predict(&set.pixels, 16).unwrap();
    assert!(p0.iter().zip(&p1).any(|(a, b)| a.probs != b.probs));
}

#[test]
fn cats_dogs_conv_features_run_on_any_size() {
    let model = Classifier::load_bundled(ModelId::CatsDogsCnn, &cpu_device()).unwrap();
    let (w, h) = (45, 30);
    let pixels: Vec<u8> = (0..w * h * 3).map(|i| (i * 7 % 256) as u8).collect();
    let f = model.conv_features(&pixels, w, h).unwrap();
    let got: Vec<(usize, usize)> = f.iter().map(|a| (a.channels, a.values.len())).collect();
    assert_eq!(got, vec![(16, 16 * 15 * 22), (32, 32 * 7 * 11), (64, 64 * 3 * 5)]);
    assert!(model.conv_features(&pixels, w, h + 1).is_err());
    assert!(model.conv_features(&[0; 7 * 7 * 3], 7, 7).is_err());
    assert_eq!(model.conv_features(&[0; 8 * 8 * 3], 8, 8).unwrap()[2].values.len(), 64);
}
