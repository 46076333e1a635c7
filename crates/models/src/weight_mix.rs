//! "Aim for N bytes" for a model's weights: a format per layer, chosen so that the weights come
//! nearest a target size with the least error — what llama.cpp's mixed presets (Q4_K_M keeps
//! some tensors in Q6_K) do by hand, found here by search.
//!
//! A single format gives five sizes (f32 … Q3_0); a format per layer gives every sum of
//! per-layer sizes, so a target between two formats can be met. Each layer's candidates are its
//! matrix in f32, f16, Q8_0, Q4_0 and Q3_0 (block formats with the evaluation's scale rule). The
//! error of a choice is the sum over layers of each layer's relative squared weight error
//! `Σ(w − ŵ)² / Σw²`: a layer's output noise relative to its signal is about that ratio, and
//! small independent noises of successive layers add up in that relative sense, so this sum
//! tracks the noise in the logits. (A plain sum of squared errors would let the big dense layer
//! dominate and starve the small first convolution, whose every weight matters more.)
//!
//! The search is exact, not a bisection: the Pareto front of (bytes, error) over the layers
//! (each step adds one layer's candidates to every point kept so far and drops the points that
//! another beats on both), then the least error among the points within the target's
//! tolerance. Bisection over one number (a threshold on error per byte, as a greedy allocator
//! would use) only reaches the front's convex hull and can miss the best mix under a budget.

use mpq_core::ParamValue;
use mpq_core::target::{TOLERANCE, Target, TargetReport};
use mpq_gpu::{Format, QuantMatrix, Scale};

use crate::ModelError;
use crate::quantized::{NamedParam, QuantizedNet, Step, quantize};
use crate::classifier::Task;

/// The formats a layer may take, smallest first.
pub const CANDIDATES: [Format; 5] = [Format::Q3_0, Format::Q4_0, Format::Q8_0, Format::F16, Format::F32];

/// Most points the Pareto front keeps (it stays far below this for the bundled models); beyond
/// it the front is thinned evenly, which makes the search approximate.
const MAX_FRONT: usize = 20_000;

/// About this many row groups per network: a layer holding a share `s` of the weights is cut
/// into `⌈GROUPS · s⌉` groups of consecutive rows (at most one per row). With a format per
/// layer only, the bundled Fashion-MNIST net's sizes jump from 68.5 kB to 113 kB (its first
/// dense layer is 94 % of the weights, Q4_0 or Q8_0); groups of that layer fill the gap in
/// steps of about 1.4 kB.
pub const GROUPS: usize = 32;

/// A network with a format per group of rows, and how near it came.
#[derive(Debug, Clone)]
pub struct Mix {
    pub net: QuantizedNet,
    /// Each weight layer's name and its formats with their rows (in row order; neighbouring
    /// groups of one format joined).
    pub layers: Vec<(String, Vec<(Format, usize)>)>,
    /// The summed relative squared error the search minimised.
    pub error: f64,
    /// `param` = `formats`, `value` = `conv1=q8_0,fc1=q8_0:40+q4_0:88,…` (rows per format
    /// where a layer mixes); `encodes` counts the matrices quantized.
    pub report: TargetReport,
}

struct Candidate {
    format: Format,
    bytes: usize,
    error: f64,
    matrix: QuantMatrix,
}

#[derive(Clone)]
struct Point {
    bytes: usize,
    error: f64,
    choice: Vec<u8>,
}

/// One group of consecutive rows of a layer, with its candidates.
struct Unit {
    layer: usize,
    rows: usize,
    candidates: Vec<Candidate>,
}

/// The mix of formats for `target` ([`Target::Bytes`] of the weight matrices as stored, or
/// [`Target::BitsPerWeight`]), block scales by `scale`.
pub fn mix_for_target(task: Task, steps: &[Step], params: &[NamedParam], scale: Scale, target: Target) -> Result<Mix, ModelError> {
    // The layers' matrices as the net reads them (row-major, linear layers transposed).
    let mut matrices: Vec<(String, Vec<f32>, usize, usize)> = Vec::new();
    let reference = QuantizedNet::from_params_with(task, steps, params, Scale::Reference, &mut |_, name, w, rows, cols| {
        matrices.push((name.to_string(), w.to_vec(), rows, cols));
        Ok(vec![quantize(w, rows, cols, Format::F32, Scale::Reference)?])
    })?;
    let total = reference.weight_count().max(1);
    let target_bytes = target.bytes_for_weights(total).map_err(|e| ModelError::Input(e.to_string()))?;

    let mut units: Vec<Unit> = Vec::new();
    for (layer, (_, w, rows, cols)) in matrices.iter().enumerate() {
        // A layer's error is relative to its own weights' energy, shared out over its groups.
        let norm: f64 = w.iter().map(|&v| (v as f64).powi(2)).sum::<f64>().max(f64::MIN_POSITIVE);
        let groups = (GROUPS * rows * cols).div_ceil(total).clamp(1, *rows);
        for g in 0..groups {
            let (r0, r1) = (g * rows / groups, (g + 1) * rows / groups);
            let part = &w[r0 * cols..r1 * cols];
            let mut candidates = Vec::with_capacity(CANDIDATES.len());
            for format in CANDIDATES {
                let s = if matches!(format, Format::F32 | Format::F16) { Scale::Reference } else { scale };
                let matrix = quantize(part, r1 - r0, *cols, format, s)?;
                let err: f64 = part.iter().zip(matrix.dequantize()).map(|(&a, b)| ((a - b) as f64).powi(2)).sum();
                candidates.push(Candidate { format, bytes: matrix.storage_bytes(), error: err / norm, matrix });
            }
            units.push(Unit { layer, rows: r1 - r0, candidates });
        }
    }

    let front = pareto_front(&units);
    let limit = target_bytes * (1.0 + TOLERANCE);
    // The front is sorted by bytes with falling error: the last point within the limit is the
    // least error there; none within it means even the smallest mix is too big.
    let chosen = front.iter().rposition(|p| p.bytes as f64 <= limit).unwrap_or(0);
    let point = &front[chosen];
    let below = front.iter().rev().find(|p| p.bytes as f64 <= target_bytes);
    let above = front.iter().find(|p| p.bytes as f64 > target_bytes);

    let mut layers: Vec<(String, Vec<(Format, usize)>)> = matrices.iter().map(|m| (m.0.clone(), Vec::new())).collect();
    for (u, &k) in units.iter().zip(&point.choice) {
        let f = u.candidates[k as usize].format;
        let groups = &mut layers[u.layer].1;
        match groups.last_mut() {
            Some((last, rows)) if *last == f => *rows += u.rows,
            _ => groups.push((f, u.rows)),
        }
    }
    let net = QuantizedNet::from_params_with(task, steps, params, scale, &mut |i, _, _, _, _| {
        Ok(units.iter().zip(&point.choice).filter(|(u, _)| u.layer == i).map(|(u, &k)| u.candidates[k as usize].matrix.clone()).collect())
    })?;
    let n = point.bytes;
    let relative_error = (n as f64 - target_bytes) / target_bytes;
    let reached = relative_error.abs() <= TOLERANCE;
    let between = match (below, above) {
        (Some(b), Some(a)) => Some((b.bytes, a.bytes)),
        _ => None,
    };
    let note = if reached {
        None
    } else if n as f64 > target_bytes {
        Some(format!("every weight in {}, the smallest format, still gives {n} bytes", CANDIDATES[0].name()))
    } else if chosen == front.len() - 1 {
        let exact = if point.error == 0.0 { " (the weights exactly)" } else { "" };
        Some(format!("the mix with the least error{exact} gives only {n} bytes"))
    } else {
        between.map(|(b, a)| format!("the mixes move in steps here: the nearest give {b} and {a} bytes"))
    };
    let describe = |(name, groups): &(String, Vec<(Format, usize)>)| match groups.as_slice() {
        [(f, _)] => format!("{name}={}", f.name()),
        // Rows per format, largest format first (the groups' order is in `Mix::layers`).
        _ => {
            let per: Vec<String> = CANDIDATES
                .iter()
                .rev()
                .filter_map(|f| {
                    let rows: usize = groups.iter().filter(|g| g.0 == *f).map(|g| g.1).sum();
                    (rows > 0).then(|| format!("{}:{rows}", f.name()))
                })
                .collect();
            format!("{name}={}", per.join("+"))
        }
    };
    let report = TargetReport {
        target,
        target_bytes,
        param: Some("formats".into()),
        value: Some(ParamValue::Choice(layers.iter().map(describe).collect::<Vec<_>>().join(","))),
        bytes: n,
        relative_error,
        reached,
        encodes: units.len() * CANDIDATES.len(),
        between,
        note,
    };
    Ok(Mix { net, layers, error: point.error, report })
}

/// Every mix that no other beats on both bytes and error, by bytes (error falling).
fn pareto_front(units: &[Unit]) -> Vec<Point> {
    let mut front = vec![Point { bytes: 0, error: 0.0, choice: Vec::new() }];
    for unit in units {
        let options = &unit.candidates;
        let mut next: Vec<Point> = Vec::with_capacity(front.len() * options.len());
        for p in &front {
            for (k, c) in options.iter().enumerate() {
                let mut choice = p.choice.clone();
                choice.push(k as u8);
                next.push(Point { bytes: p.bytes + c.bytes, error: p.error + c.error, choice });
            }
        }
        next.sort_by(|a, b| a.bytes.cmp(&b.bytes).then(a.error.total_cmp(&b.error)));
        let mut kept: Vec<Point> = Vec::new();
        for p in next {
            if kept.last().is_none_or(|last| p.error < last.error) {
                kept.push(p);
            }
        }
        if kept.len() > MAX_FRONT {
            let step = kept.len().div_ceil(MAX_FRONT);
            let last = kept.len() - 1;
            kept = kept.into_iter().enumerate().filter(|(i, _)| i % step == 0 || *i == last).map(|(_, p)| p).collect();
        }
        front = kept;
    }
    front
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classifier::{Classifier, ModelId};
    use crate::quantized::architecture;

    fn params() -> Vec<NamedParam> {
        let c = Classifier::load_bundled(ModelId::FashionCnn, &crate::cpu_device()).unwrap();
        crate::classifier::block_on(crate::quantized::classifier_params(&c)).unwrap()
    }

    #[test]
    fn a_target_between_two_formats_is_met_by_mixing_them() {
        let params = params();
        let steps = architecture(ModelId::FashionCnn);
        let q4 = QuantizedNet::from_params(Task::Fashion, steps, &params, Format::Q4_0, Scale::Search).unwrap();
        let q8 = QuantizedNet::from_params(Task::Fashion, steps, &params, Format::Q8_0, Scale::Search).unwrap();
        let (b4, b8) = (q4.weight_bytes(), q8.weight_bytes());
        let goal = ((b4 + b8) / 2) as f64;
        let mix = mix_for_target(Task::Fashion, steps, &params, Scale::Search, Target::Bytes(goal)).unwrap();
        assert!(mix.report.reached, "{:?}", mix.report);
        assert_eq!(mix.net.weight_bytes(), mix.report.bytes);
        assert!(mix.report.bytes as f64 <= goal * (1.0 + TOLERANCE));
        let formats: std::collections::HashSet<Format> = mix.layers.iter().flat_map(|l| l.1.iter().map(|g| g.0)).collect();
        assert!(formats.len() > 1, "one format cannot give {goal} B: {:?}", mix.layers);
        // The first dense layer (94 % of the weights) is cut into groups of rows.
        let fc1 = &mix.layers.iter().find(|l| l.0 == "fc1").unwrap().1;
        assert_eq!(fc1.iter().map(|g| g.1).sum::<usize>(), mix.net.layers()[2].rows());
        assert!(mix.net.layers()[2].weights.len() > 8, "{}", mix.net.layers()[2].weights.len());
        // Less error than Q4_0 everywhere (it has more bytes to spend), more than Q8_0.
        assert!(mix.net.weight_bytes() > b4 && mix.net.weight_bytes() < b8);
        let f32_net = QuantizedNet::from_params(Task::Fashion, steps, &params, Format::F32, Scale::Reference).unwrap();
        let e = mix.net.relative_rmse(&f32_net);
        assert!(q8.relative_rmse(&f32_net) < e && e < q4.relative_rmse(&f32_net), "{e}");
        // Bits per weight name the same size.
        let bpw = 8.0 * goal / q4.weight_count() as f64;
        let again = mix_for_target(Task::Fashion, steps, &params, Scale::Search, Target::BitsPerWeight(bpw)).unwrap();
        assert!((again.report.bytes as i64 - mix.report.bytes as i64).abs() <= 8, "{:?}", again.report);
    }

    #[test]
    fn out_of_reach_targets_say_so() {
        let params = params();
        let steps = architecture(ModelId::FashionCnn);
        let low = mix_for_target(Task::Fashion, steps, &params, Scale::Reference, Target::Bytes(100.0)).unwrap();
        assert!(!low.report.reached && low.report.note.as_deref().unwrap().contains("smallest"), "{:?}", low.report);
        assert!(low.layers.iter().all(|l| l.1 == [(Format::Q3_0, l.1[0].1)]), "{:?}", low.layers);
        let high = mix_for_target(Task::Fashion, steps, &params, Scale::Reference, Target::Bytes(1e8)).unwrap();
        // The bundled weights are f16 values, so f16 is exact and smaller than f32 (except
        // conv1's rows of 9, which f16 pads to 32).
        assert_eq!(high.error, 0.0, "{:?}", high.layers);
        assert!(high.layers.iter().all(|l| l.1.len() == 1 && matches!(l.1[0].0, Format::F16 | Format::F32)), "{:?}", high.layers);
        assert!(high.report.note.as_deref().unwrap().contains("exactly"), "{:?}", high.report);
        assert!(mix_for_target(Task::Fashion, steps, &params, Scale::Reference, Target::Kbps(3.0)).is_err());
    }

    #[test]
    fn the_front_is_exact_on_a_small_case() {
        // Two layers, sizes and errors chosen so that the best mix under 30 bytes is (1, 0):
        // brute force over all 25 pairs agrees with the front.
        let cand = |layer: usize, sizes: [(usize, f64); 5]| Unit {
            layer,
            rows: 1,
            candidates: sizes
                .iter()
                .map(|&(bytes, error)| Candidate { format: Format::F32, bytes, error, matrix: QuantMatrix::quantize(&[0.0], 1, 1, Format::F32) })
                .collect(),
        };
        let layers = vec![
            cand(0, [(4, 0.9), (8, 0.3), (16, 0.1), (32, 0.05), (64, 0.0)]),
            cand(1, [(10, 0.5), (12, 0.45), (20, 0.2), (40, 0.01), (80, 0.0)]),
        ];
        let front = pareto_front(&layers);
        for budget in [14, 18, 22, 30, 50, 100, 200] {
            let mut best: Option<(f64, usize)> = None;
            for i in 0..5 {
                for j in 0..5 {
                    let (a, c) = (&layers[0].candidates[i], &layers[1].candidates[j]);
                    let (b, e) = (a.bytes + c.bytes, a.error + c.error);
                    if b <= budget && best.is_none_or(|(be, _)| e < be) {
                        best = Some((e, b));
                    }
                }
            }
            let on_front = front.iter().rev().find(|p| p.bytes <= budget).map(|p| p.error);
            assert_eq!(on_front, best.map(|b| b.0), "budget {budget}");
        }
    }
}
