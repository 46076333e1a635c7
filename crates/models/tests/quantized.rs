//! The model lab on every bundled model: our own forward pass (im2col + our matmul kernels'
//! CPU references) equals burn's with f32 weights, Q8_0 keeps the accuracy, Q4_0 nearly, and
//! the WGSL kernels on a GPU adapter (lavapipe in CI; `MPQ_REQUIRE_GPU=1` makes a missing
//! adapter a failure) give the CPU path's probabilities.

use mpq_gpu::{Format, Gpu, Scale};
use mpq_core::target::Target;
use mpq_models::quantized::{Backend, QuantizedNet, architecture, classifier_params, evaluate, variants};
use mpq_models::weight_mix::mix_for_target;
use mpq_models::{Classifier, ModelId, cpu_device, data};

fn subset(id: ModelId) -> data::LabeledImages {
    data::decode_subset(id.task().bundled_test_subset()).unwrap()
}

fn max_diff(a: &[Vec<f32>], b: &[Vec<f32>]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).flat_map(|(x, y)| x.iter().zip(y).map(|(p, q)| (p - q).abs())).fold(0.0, f32::max)
}

#[test]
fn f32_forward_pass_equals_burn() {
    for id in ModelId::ALL {
        let classifier = Classifier::load_bundled(id, &cpu_device()).unwrap();
        // 70 items: one full pass of 64 and a partial one.
        let set = subset(id).take(70);
        let burn: Vec<Vec<f32>> = classifier.predict(&set.pixels, set.len()).unwrap().into_iter().map(|p| p.probs).collect();
        let net = QuantizedNet::from_classifier(&classifier, Format::F32, Scale::Reference).unwrap();
        assert_eq!(net.bits_per_weight(), 32.0);
        let ours = net.predict_cpu(&set.pixels, set.len()).unwrap();
        let d = max_diff(&burn, &ours);
        eprintln!("{}: max |Δp| vs burn = {d:.2e}", id.id());
        assert!(d <= 1e-4, "{}: {d}", id.id());
    }
}

/// Accuracy per format on each model's committed subset (1000 Fashion-MNIST, 400 CIFAR items).
fn accuracy_holds(id: ModelId) {
    let classifier = Classifier::load_bundled(id, &cpu_device()).unwrap();
    let set = subset(id);
    let rows = evaluate(&classifier, &variants(&[Format::F32, Format::Q8_0, Format::Q4_0], false), None, &set, Backend::Cpu).unwrap();
    for r in &rows {
        eprintln!(
            "{} {:>13}: {:6.3} bits/weight {:7} bytes  accuracy {:.4} (f32 {:.4})  agreement {:.4}  KL {:.2e}  {:.0} ms/1000",
            id.id(),
            r.variant,
            r.bits_per_weight,
            r.weight_bytes,
            r.accuracy,
            r.reference_accuracy,
            r.top1_agreement,
            r.mean_kl,
            r.ms_per_1000.unwrap_or(f64::NAN)
        );
    }
    let names: Vec<&str> = rows.iter().map(|r| r.variant.as_str()).collect();
    assert_eq!(names, ["f32", "q8_0", "q4_0", "f16+lossless"]);
    let (f32_row, q8, q4, lossless) = (&rows[0], &rows[1], &rows[2], &rows[3]);
    assert_eq!(f32_row.accuracy, f32_row.reference_accuracy, "F32 is exact");
    assert_eq!(f32_row.top1_agreement, 1.0);
    assert!(f32_row.mean_kl < 1e-6);
    assert!((q8.accuracy - q8.reference_accuracy).abs() <= 0.005, "Q8_0 {} vs {}", q8.accuracy, q8.reference_accuracy);
    assert!((q4.accuracy - q4.reference_accuracy).abs() <= 0.03, "Q4_0 {} vs {}", q4.accuracy, q4.reference_accuracy);
    assert!(q8.bits_per_weight < 9.0 && q4.bits_per_weight < 5.0);
    // The bundled weights are f16: the lossless row keeps f32's accuracy at < 16 bits/weight.
    assert_eq!(lossless.accuracy, f32_row.accuracy);
    assert!(lossless.bits_per_weight < 16.0 && lossless.bytes_vs_f16 < 1.0);
}

#[test]
fn accuracy_holds_fashion_cnn() {
    accuracy_holds(ModelId::FashionCnn);
}

#[test]
fn accuracy_holds_fashion_cnn_jpeg() {
    accuracy_holds(ModelId::FashionCnnJpeg);
}

#[test]
fn accuracy_holds_cats_dogs_cnn() {
    accuracy_holds(ModelId::CatsDogsCnn);
}

#[test]
fn gpu_path_equals_cpu_path() {
    let Some(gpu) = Gpu::for_tests() else { return };
    for id in [ModelId::FashionCnn, ModelId::CatsDogsCnn] {
        let classifier = Classifier::load_bundled(id, &cpu_device()).unwrap();
        // Few items: lavapipe runs ≈ 0.2 G multiply–adds/s here. With 1 item the linear
        // layers take the matrix–vector kernel.
        let set = subset(id).take(if id == ModelId::FashionCnn { 10 } else { 6 });
        for v in variants(&Format::ALL, true) {
            let net = QuantizedNet::from_classifier(&classifier, v.format, v.scale).unwrap();
            let cpu = net.predict_cpu(&set.pixels, set.len()).unwrap();
            let gpu_probs = net.predict_gpu(&gpu, &set.pixels, set.len()).unwrap();
            let d = max_diff(&cpu, &gpu_probs);
            assert!(d <= 1e-4, "{} {}: GPU vs CPU {d}", id.id(), v.name());
            let one = net.predict_gpu(&gpu, set.image(0), 1).unwrap();
            assert!(max_diff(&cpu[..1], &one) <= 1e-4, "{} {} batch 1", id.id(), v.name());
        }
        // A target size's mix: formats per group of rows, each group its own kernel call.
        let params = mpq_models::classifier::block_on(classifier_params(&classifier)).unwrap();
        let mix = mix_for_target(id.task(), architecture(id), &params, Scale::Search, Target::BitsPerWeight(6.0)).unwrap();
        assert!(mix.net.layers().iter().any(|l| l.weights.len() > 1), "{:?}", mix.layers);
        let cpu = mix.net.predict_cpu(&set.pixels, set.len()).unwrap();
        let d = max_diff(&cpu, &mix.net.predict_gpu(&gpu, &set.pixels, set.len()).unwrap());
        assert!(d <= 1e-4, "{} mix: GPU vs CPU {d}", id.id());
    }
}

/// "Aim for a size": the evaluation's mixed row lands between the formats around it, near the
/// target, and keeps the accuracy Q8_0 keeps.
#[test]
fn a_target_size_adds_a_mixed_row() {
    let classifier = Classifier::load_bundled(ModelId::FashionCnn, &cpu_device()).unwrap();
    let set = subset(ModelId::FashionCnn);
    let rows = evaluate(&classifier, &variants(&[Format::Q8_0, Format::Q4_0], true), Some(Target::BitsPerWeight(6.0)), &set, Backend::Cpu).unwrap();
    let names: Vec<&str> = rows.iter().map(|r| r.variant.as_str()).collect();
    assert_eq!(names, ["q8_0", "q8_0+search", "q4_0", "q4_0+search", "mix+search", "f16+lossless"]);
    let mix = &rows[4];
    let report = mix.target.as_ref().unwrap();
    eprintln!("mix: {:.3} bits/weight, {} bytes, accuracy {:.4} (q4_0+search {:.4}, q8_0+search {:.4}): {report:?}", mix.bits_per_weight, mix.weight_bytes, mix.accuracy, rows[3].accuracy, rows[1].accuracy);
    assert!(report.reached && (mix.bits_per_weight - 6.0).abs() <= 6.0 * 0.02, "{report:?}");
    assert_eq!(report.bytes, mix.weight_bytes);
    assert!(rows[3].weight_bytes < mix.weight_bytes && mix.weight_bytes < rows[1].weight_bytes);
    assert!(rows[1].weight_rel_rmse < mix.weight_rel_rmse && mix.weight_rel_rmse < rows[3].weight_rel_rmse);
    assert!((mix.accuracy - mix.reference_accuracy).abs() <= 0.01, "{} vs {}", mix.accuracy, mix.reference_accuracy);
    assert!(rows.iter().filter(|r| r.variant != "mix+search").all(|r| r.target.is_none()));
}

#[test]
fn bad_input_is_an_error() {
    let classifier = Classifier::load_bundled(ModelId::FashionCnn, &cpu_device()).unwrap();
    let net = QuantizedNet::from_classifier(&classifier, Format::Q4_0, Scale::Search).unwrap();
    assert!(net.predict_cpu(&[0u8; 100], 1).is_err());
    assert!(net.predict_cpu(&[], usize::MAX).is_err());
    assert_eq!(net.predict_cpu(&[], 0).unwrap().len(), 0);
    // A cats-vs-dogs subset for the Fashion model.
    let wrong = subset(ModelId::CatsDogsCnn).take(4);
    assert!(evaluate(&classifier, &variants(&[Format::F32], false), None, &wrong, Backend::Cpu).is_err());
    // Missing or misshapen parameters.
    let steps = mpq_models::quantized::architecture(ModelId::CatsDogsCnn);
    let err = QuantizedNet::from_params(mpq_models::Task::Fashion, steps, &[], Format::F32, Scale::Reference);
    assert!(err.is_err());
}
