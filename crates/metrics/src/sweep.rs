//! Results of a rate–perception sweep: for each codec setting, what the test set cost in bits
//! and what compression did to pixels (PSNR) and to a model's perception (accuracy, agreement,
//! KL, feature distance). The CLI (`mpqlab sweep`) and the page both build a [`SweepResult`]
//! with [`PointAccumulator`] and write it with [`SweepResult::to_csv`], [`SweepResult::to_json`]
//! and [`SweepResult::plot_svg`], so their files are identical for identical inputs.
//!
//! The plot is written by hand rather than with `plotters`: without its `ttf` feature plotters
//! measures text through the DOM on wasm32 (`window().unwrap()`, which panics in the Web Worker
//! the page computes in) and with a different estimate natively, so the page and the CLI would
//! not write the same SVG. Two line charts need little more than `<polyline>` and `<text>`.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::perception::{ItemVerdict, SetAccumulator};

/// One codec setting over the whole test set.
/// Where a sweep's time went, summed over the points run so far (ms of the runner's clock).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct StageTimes {
    /// Encoding and decoding (the codec's round trips).
    pub codec_ms: f64,
    /// The model on the decoded items.
    pub model_ms: f64,
    /// Pixel conversion, PSNR and the perception metrics.
    pub metrics_ms: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepPoint {
    /// Codec id, e.g. `jpeg`.
    pub codec: String,
    /// Label shown in legends.
    pub codec_name: String,
    /// Swept parameter, e.g. `quality`.
    pub param: String,
    pub value: f64,
    pub items: usize,
    /// Total encoded bytes over the items.
    pub bytes: u64,
    /// `8·bytes / total pixels`.
    pub bits_per_pixel: f64,
    /// PSNR of the squared error pooled over all items' samples; `None` when every item
    /// decoded exactly (infinite PSNR).
    pub psnr_db: Option<f64>,
    pub accuracy: Option<f64>,
    pub reference_accuracy: Option<f64>,
    pub top1_agreement: f64,
    pub top5_agreement: f64,
    pub mean_kl: f64,
    pub mean_feature_distance: f64,
    pub mean_true_confidence: Option<f64>,
    /// Total milliseconds over the items.
    pub encode_ms: f64,
    pub decode_ms: f64,
    /// An audio sweep's signal metrics (then `bits_per_pixel` is 0 and `psnr_db` empty).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audio: Option<AudioPointMetrics>,
}

/// What an audio sweep measures per codec setting, beside the model's perception: rate, and
/// the signal metrics of `crate::audio` averaged over the items that have them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AudioPointMetrics {
    /// `8·bytes / seconds / 1000` over all items (containers included).
    pub kbps: f64,
    pub bits_per_sample: f64,
    /// Mean over items of their SNR in dB (exactly decoded items left out; `None` if all were).
    pub snr_db: Option<f64>,
    pub seg_snr_db: Option<f64>,
    /// Mean STOI over the items that have one (≥ 0.4 s of speech).
    pub stoi: Option<f64>,
    /// Mean log-mel distance (nats) on the model's features.
    pub log_mel_distance: Option<f64>,
}

/// Sums one codec setting's audio items into a [`SweepPoint`] with [`AudioPointMetrics`]: the
/// bytes, times and the model's verdicts go through a [`PointAccumulator`] (without pixels, so
/// its bits per pixel is 0 and its PSNR empty), the audio metrics are summed here.
#[derive(Debug, Clone)]
pub struct AudioPointAccumulator {
    base: PointAccumulator,
    seconds: f64,
    samples: u64,
    means: [(f64, usize); 4],
}

impl AudioPointAccumulator {
    pub fn new(codec: impl Into<String>, codec_name: impl Into<String>, param: impl Into<String>, value: f64) -> Self {
        AudioPointAccumulator { base: PointAccumulator::new(codec, codec_name, param, value), seconds: 0.0, samples: 0, means: [(0.0, 0); 4] }
    }

    /// Adds one item: its measurement (`crate::audio::AudioReport`) and the model's verdict.
    pub fn add_item(&mut self, report: &crate::audio::AudioReport, verdict: &ItemVerdict) {
        self.base.add_item(report.bytes, 0, 0.0, 0, verdict, report.encode_ms, report.decode_ms);
        self.seconds += report.frames as f64 / report.sample_rate.max(1) as f64;
        self.samples = self.samples.saturating_add(report.frames as u64 * report.channels as u64);
        for (slot, v) in self.means.iter_mut().zip([report.snr_db, report.seg_snr_db, report.stoi, report.log_mel_distance]) {
            if let Some(v) = v.filter(|v| v.is_finite()) {
                slot.0 += v;
                slot.1 += 1;
            }
        }
    }

    /// The point so far.
    pub fn finish(&self) -> SweepPoint {
        let point = self.base.finish();
        let mean = |i: usize| (self.means[i].1 > 0).then(|| self.means[i].0 / self.means[i].1 as f64);
        let bytes = point.bytes as f64;
        let audio = AudioPointMetrics {
            kbps: if self.seconds > 0.0 { 8.0 * bytes / self.seconds / 1000.0 } else { 0.0 },
            bits_per_sample: if self.samples > 0 { 8.0 * bytes / self.samples as f64 } else { 0.0 },
            snr_db: mean(0),
            seg_snr_db: mean(1),
            stoi: mean(2),
            log_mel_distance: mean(3),
        };
        SweepPoint { audio: Some(audio), ..point }
    }
}

/// PSNR (peak 255) of `squared_error_sum` over `samples` samples; `None` when there is no
/// error (infinite PSNR) or nothing, or the sum is not a usable number.
///
/// Pooling the squared error before taking the logarithm weighs every sample equally, so one
/// nearly exact item cannot dominate the set's PSNR as it would in a mean of per-item PSNRs.
pub fn pooled_psnr(squared_error_sum: f64, samples: usize) -> Option<f64> {
    if samples == 0 || !squared_error_sum.is_finite() || squared_error_sum <= 0.0 {
        return None;
    }
    let mse = squared_error_sum / samples as f64;
    Some(10.0 * (255.0 * 255.0 / mse).log10())
}

/// Sums one codec setting's items into a [`SweepPoint`].
#[derive(Debug, Clone)]
pub struct PointAccumulator {
    codec: String,
    codec_name: String,
    param: String,
    value: f64,
    bytes: u64,
    pixels: u64,
    squared_error_sum: f64,
    samples: usize,
    perception: SetAccumulator,
    encode_ms: f64,
    decode_ms: f64,
}

impl PointAccumulator {
    pub fn new(
        codec: impl Into<String>,
        codec_name: impl Into<String>,
        param: impl Into<String>,
        value: f64,
    ) -> Self {
        PointAccumulator {
            codec: codec.into(),
            codec_name: codec_name.into(),
            param: param.into(),
            value,
            bytes: 0,
            pixels: 0,
            squared_error_sum: 0.0,
            samples: 0,
            perception: SetAccumulator::default(),
            encode_ms: 0.0,
            decode_ms: 0.0,
        }
    }

    /// Adds one item: its encoded size, pixel count, summed squared error over its `samples`
    /// samples (RGB or gray), the model's verdict and the item's encode/decode milliseconds.
    #[allow(clippy::too_many_arguments)] // the fields of one measurement, all plain numbers
    pub fn add_item(
        &mut self,
        bytes: usize,
        pixels: usize,
        squared_error_sum: f64,
        samples: usize,
        verdict: &ItemVerdict,
        encode_ms: f64,
        decode_ms: f64,
    ) {
        self.bytes = self.bytes.saturating_add(bytes as u64);
        self.pixels = self.pixels.saturating_add(pixels as u64);
        self.squared_error_sum += squared_error_sum;
        self.samples = self.samples.saturating_add(samples);
        self.perception.add(verdict);
        self.encode_ms += encode_ms;
        self.decode_ms += decode_ms;
    }

    /// The point so far (it can be called while items are still being added, for progress).
    /// Bits per pixel is 0 before any pixel was added.
    pub fn finish(&self) -> SweepPoint {
        let s = self.perception.summary();
        SweepPoint {
            codec: self.codec.clone(),
            codec_name: self.codec_name.clone(),
            param: self.param.clone(),
            value: self.value,
            items: s.items,
            bytes: self.bytes,
            bits_per_pixel: if self.pixels == 0 {
                0.0
            } else {
                8.0 * self.bytes as f64 / self.pixels as f64
            },
            psnr_db: pooled_psnr(self.squared_error_sum, self.samples),
            accuracy: s.accuracy,
            reference_accuracy: s.reference_accuracy,
            top1_agreement: s.top1_agreement,
            top5_agreement: s.top5_agreement,
            mean_kl: s.mean_kl,
            mean_feature_distance: s.mean_feature_distance,
            mean_true_confidence: s.mean_true_confidence,
            encode_ms: self.encode_ms,
            decode_ms: self.decode_ms,
            audio: None,
        }
    }
}

/// A whole sweep: one model, one test set, points for one or more codecs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepResult {
    pub model: String,
    pub dataset: String,
    pub items: usize,
    pub points: Vec<SweepPoint>,
}

/// CSV columns, in order. `model` and `dataset` repeat on every row so that the CSVs of several
/// sweeps can be concatenated and still be told apart.
const CSV_COLUMNS: [&str; 19] = [
    "model",
    "dataset",
    "codec",
    "codec_name",
    "param",
    "value",
    "items",
    "bytes",
    "bits_per_pixel",
    "psnr_db",
    "accuracy",
    "reference_accuracy",
    "top1_agreement",
    "top5_agreement",
    "mean_kl",
    "mean_feature_distance",
    "mean_true_confidence",
    "encode_ms",
    "decode_ms",
];

/// The columns of an audio sweep's CSV (rate and signal metrics in place of bits per pixel
/// and PSNR).
const AUDIO_CSV_COLUMNS: [&str; 23] = [
    "model",
    "dataset",
    "codec",
    "codec_name",
    "param",
    "value",
    "items",
    "bytes",
    "kbps",
    "bits_per_sample",
    "snr_db",
    "seg_snr_db",
    "stoi",
    "log_mel_distance",
    "accuracy",
    "reference_accuracy",
    "top1_agreement",
    "top5_agreement",
    "mean_kl",
    "mean_feature_distance",
    "mean_true_confidence",
    "encode_ms",
    "decode_ms",
];

impl SweepResult {
    /// An audio sweep: its points carry [`AudioPointMetrics`] (CSV columns and plot axes
    /// follow).
    pub fn is_audio(&self) -> bool {
        self.points.iter().any(|p| p.audio.is_some())
    }

    /// Header row, then one row per point, columns in a fixed order (an audio sweep's rate and
    /// signal columns in place of bits per pixel and PSNR). Numbers are written with Rust's
    /// shortest round-trip form (`{}`), `None` as an empty cell; text is quoted when it holds a
    /// comma, quote or line break (RFC 4180).
    pub fn to_csv(&self) -> String {
        let audio = self.is_audio();
        let mut out = if audio { AUDIO_CSV_COLUMNS.join(",") } else { CSV_COLUMNS.join(",") };
        out.push('\n');
        let opt = |x: Option<f64>| x.map(|x| x.to_string()).unwrap_or_default();
        for p in &self.points {
            let mut row = vec![
                csv_text(&self.model),
                csv_text(&self.dataset),
                csv_text(&p.codec),
                csv_text(&p.codec_name),
                csv_text(&p.param),
                p.value.to_string(),
                p.items.to_string(),
                p.bytes.to_string(),
            ];
            if audio {
                let a = p.audio.as_ref();
                row.extend([
                    a.map_or(0.0, |a| a.kbps).to_string(),
                    a.map_or(0.0, |a| a.bits_per_sample).to_string(),
                    opt(a.and_then(|a| a.snr_db)),
                    opt(a.and_then(|a| a.seg_snr_db)),
                    opt(a.and_then(|a| a.stoi)),
                    opt(a.and_then(|a| a.log_mel_distance)),
                ]);
            } else {
                row.extend([p.bits_per_pixel.to_string(), opt(p.psnr_db)]);
            }
            row.extend([
                opt(p.accuracy),
                opt(p.reference_accuracy),
                p.top1_agreement.to_string(),
                p.top5_agreement.to_string(),
                p.mean_kl.to_string(),
                p.mean_feature_distance.to_string(),
                opt(p.mean_true_confidence),
                p.encode_ms.to_string(),
                p.decode_ms.to_string(),
            ]);
            out.push_str(&row.join(","));
            out.push('\n');
        }
        out
    }

    /// Pretty-printed JSON of the whole result (non-finite numbers become `null`).
    pub fn to_json(&self) -> String {
        // Serialising structs of strings and numbers cannot fail (serde_json fails only on
        // non-string map keys and on writer errors); `{}` keeps the signature infallible.
        serde_json::to_string_pretty(self).unwrap_or_else(|_| "{}".to_string())
    }

    /// Two line charts side by side in one SVG: accuracy against bits per pixel (with the
    /// uncompressed model's accuracy as a dashed line) and PSNR against bits per pixel; one
    /// colour per codec, shared by both panels and the legend. When no point has an accuracy
    /// (an unlabelled test set) the left panel shows top-1 agreement with the uncompressed
    /// model instead, whose reference is 100 %.
    pub fn plot_svg(&self) -> String {
        plot::svg(self)
    }
}

fn csv_text(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

mod plot {
    use super::*;

    /// Okabe & Ito's colour-blind-safe palette, black left out (it is the axes' colour).
    const PALETTE: [&str; 7] =
        ["#E69F00", "#56B4E9", "#009E73", "#0072B2", "#D55E00", "#CC79A7", "#F0E442"];
    const WIDTH: f64 = 960.0;
    const PANEL_WIDTH: f64 = WIDTH / 2.0;
    /// Plot area inside each panel: room on the left for tick labels and the axis title.
    const LEFT: f64 = 78.0;
    const RIGHT: f64 = 22.0;
    const TOP: f64 = 44.0;
    const PLOT_HEIGHT: f64 = 236.0;
    const LEGEND_TOP: f64 = TOP + PLOT_HEIGHT + 78.0;
    const LEGEND_ROW: f64 = 24.0;
    const FONT: f64 = 15.0;
    const TITLE_FONT: f64 = 18.0;

    /// One series of one panel: a codec's points as (bits per pixel, y), in sweep order.
    struct Series<'a> {
        name: &'a str,
        colour: &'static str,
        points: Vec<(f64, f64, &'a SweepPoint)>,
    }

    struct Panel<'a> {
        title: String,
        y_label: String,
        /// Unit appended to values in tooltips.
        unit: &'static str,
        /// The x axis: its title and the unit in tooltips (bits per pixel, or kbit/s for audio).
        x_label: &'static str,
        x_unit: &'static str,
        series: Vec<Series<'a>>,
        reference: Option<(f64, String)>,
    }

    pub(super) fn svg(r: &SweepResult) -> String {
        // Codecs in order of first appearance, each with its colour.
        let mut codecs: Vec<(&str, &str)> = Vec::new();
        for p in &r.points {
            if !codecs.iter().any(|(id, _)| *id == p.codec) {
                codecs.push((&p.codec, &p.codec_name));
            }
        }
        let colour = |i: usize| PALETTE[i % PALETTE.len()];
        let audio = r.is_audio();
        let (x_label, x_unit, x_name) =
            if audio { ("Bit rate (kbit/s)", "kbps", "kbit/s") } else { ("Bits per pixel", "bpp", "bits per pixel") };
        let x_of = |p: &SweepPoint| if audio { p.audio.as_ref().map_or(f64::NAN, |a| a.kbps) } else { p.bits_per_pixel };
        let series = |y: &dyn Fn(&SweepPoint) -> Option<f64>| -> Vec<Series> {
            codecs
                .iter()
                .enumerate()
                .map(|(i, (id, name))| Series {
                    name,
                    colour: colour(i),
                    points: r
                        .points
                        .iter()
                        .filter(|p| p.codec == *id)
                        .filter_map(|p| Some((x_of(p), y(p)?, p)))
                        .filter(|(x, y, _)| x.is_finite() && y.is_finite())
                        .collect(),
                })
                .collect()
        };

        let has_accuracy = r.points.iter().any(|p| p.accuracy.is_some_and(f64::is_finite));
        let left = if has_accuracy {
            let reference = r
                .points
                .iter()
                .find_map(|p| p.reference_accuracy.filter(|a| a.is_finite()))
                .map(|a| (100.0 * a, format!("uncompressed {}", fmt_value(100.0 * a, " %"))));
            Panel {
                title: format!("Accuracy vs {x_name}"),
                y_label: "Top-1 accuracy (%)".into(),
                unit: " %",
                x_label,
                x_unit,
                series: series(&|p| p.accuracy.map(|a| 100.0 * a)),
                reference,
            }
        } else {
            Panel {
                title: format!("Agreement vs {x_name}"),
                y_label: "Top-1 agreement (%)".into(),
                unit: " %",
                x_label,
                x_unit,
                series: series(&|p| (p.items > 0).then_some(100.0 * p.top1_agreement)),
                reference: Some((100.0, "uncompressed 100 %".into())),
            }
        };
        let right = if audio {
            // STOI, the human-intelligibility measure, beside the machine's accuracy.
            Panel {
                title: format!("STOI vs {x_name}"),
                y_label: "STOI".into(),
                unit: "",
                x_label,
                x_unit,
                series: series(&|p| p.audio.as_ref().and_then(|a| a.stoi)),
                reference: None,
            }
        } else {
            Panel {
                title: "PSNR vs bits per pixel".into(),
                y_label: "PSNR (dB)".into(),
                unit: " dB",
                x_label,
                x_unit,
                series: series(&|p| p.psnr_db),
                reference: None,
            }
        };

        // Both panels share the x range, so a bit rate lines up across them.
        let xs = [&left, &right]
            .into_iter()
            .flat_map(|p| p.series.iter().flat_map(|s| s.points.iter().map(|q| q.0)));
        let x_axis = Axis::fit(xs);

        let rows = legend_rows(&codecs);
        let height = LEGEND_TOP + LEGEND_ROW * rows.len().max(1) as f64 + 18.0; // 400 for one row
        let mut out = String::new();
        let _ = write!(
            out,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="{FONT}" role="img">"#
        );
        let _ = write!(
            out,
            "<title>Rate–perception sweep: {} on {}, {} items</title>",
            xml(&r.model),
            xml(&r.dataset),
            r.items
        );
        out.push_str(r##"<rect width="100%" height="100%" fill="#ffffff"/>"##);
        draw_panel(&mut out, 0.0, &left, &x_axis);
        draw_panel(&mut out, PANEL_WIDTH, &right, &x_axis);
        draw_legend(&mut out, &rows, &codecs, colour);
        out.push_str("</svg>\n");
        out
    }

    /// A linear axis over "nice" round ticks (1, 2, 2.5 or 5 × 10ⁿ) that cover the data.
    pub(super) struct Axis {
        pub(super) lo: f64,
        pub(super) hi: f64,
        step: f64,
    }

    impl Axis {
        pub(super) fn fit(values: impl Iterator<Item = f64>) -> Axis {
            let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
            for v in values.filter(|v| v.is_finite()) {
                lo = lo.min(v);
                hi = hi.max(v);
            }
            if lo > hi {
                (lo, hi) = (0.0, 1.0); // no data
            } else if hi - lo < 1e-9 * hi.abs().max(1.0) {
                // One value (or all equal): give it some room either side.
                let pad = (hi.abs() * 0.1).max(0.5);
                (lo, hi) = (lo - pad, hi + pad);
            }
            // At most 8 intervals: labels stay apart on a 380-pixel axis.
            let rough = (hi - lo) / 8.0;
            let magnitude = 10f64.powf(rough.log10().floor());
            let step = [1.0, 2.0, 2.5, 5.0, 10.0]
                .into_iter()
                .map(|m| m * magnitude)
                .find(|&s| s >= rough)
                .unwrap_or(10.0 * magnitude);
            Axis { lo: (lo / step).floor() * step, hi: (hi / step).ceil() * step, step }
        }

        pub(super) fn ticks(&self) -> Vec<f64> {
            let n = ((self.hi - self.lo) / self.step).round() as usize;
            // Bounded by construction (≈5–11 ticks); the cap only guards against overflow.
            (0..=n.min(50)).map(|i| self.lo + i as f64 * self.step).collect()
        }

        /// Maps `v` onto `[from, to]` pixels.
        fn map(&self, v: f64, from: f64, to: f64) -> f64 {
            from + (v - self.lo) / (self.hi - self.lo) * (to - from)
        }

        /// Tick label with as many decimals as the step needs.
        pub(super) fn label(&self, v: f64) -> String {
            // step = m·10^e with m in {1, 2, 2.5, 5}: -e decimals, one more for m = 2.5.
            let e = self.step.log10().floor();
            let extra = f64::from(u8::from((self.step / 10f64.powf(e) - 2.5).abs() < 1e-6));
            let decimals = (extra - e).clamp(0.0, 12.0) as usize;
            let v = if v.abs() < self.step * 1e-6 { 0.0 } else { v }; // no "-0"
            format!("{v:.decimals$}")
        }
    }

    fn draw_panel(out: &mut String, x0: f64, panel: &Panel, x_axis: &Axis) {
        let ys = panel
            .series
            .iter()
            .flat_map(|s| s.points.iter().map(|q| q.1))
            .chain(panel.reference.as_ref().map(|r| r.0));
        let y_axis = Axis::fit(ys);
        let (left, right) = (x0 + LEFT, x0 + PANEL_WIDTH - RIGHT);
        let (top, bottom) = (TOP, TOP + PLOT_HEIGHT);
        let px = |v: f64| x_axis.map(v, left, right);
        let py = |v: f64| y_axis.map(v, bottom, top);

        let _ = write!(
            out,
            r#"<g class="panel"><text x="{:.1}" y="26" text-anchor="middle" font-size="{TITLE_FONT}" font-weight="bold">{}</text>"#,
            (left + right) / 2.0,
            xml(&panel.title)
        );
        // Grid and ticks.
        for t in x_axis.ticks() {
            let x = px(t);
            let _ = write!(
                out,
                r##"<line x1="{x:.1}" y1="{top:.1}" x2="{x:.1}" y2="{bottom:.1}" stroke="#e4e4e4"/><line x1="{x:.1}" y1="{bottom:.1}" x2="{x:.1}" y2="{:.1}" stroke="#000"/><text x="{x:.1}" y="{:.1}" text-anchor="middle">{}</text>"##,
                bottom + 5.0,
                bottom + 22.0,
                x_axis.label(t)
            );
        }
        for t in y_axis.ticks() {
            let y = py(t);
            let _ = write!(
                out,
                r##"<line x1="{left:.1}" y1="{y:.1}" x2="{right:.1}" y2="{y:.1}" stroke="#e4e4e4"/><line x1="{:.1}" y1="{y:.1}" x2="{left:.1}" y2="{y:.1}" stroke="#000"/><text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"##,
                left - 5.0,
                left - 8.0,
                y + 5.0,
                y_axis.label(t)
            );
        }
        let _ = write!(
            out,
            r##"<rect x="{left:.1}" y="{top:.1}" width="{:.1}" height="{PLOT_HEIGHT:.1}" fill="none" stroke="#000"/>"##,
            right - left
        );
        let _ = write!(
            out,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            (left + right) / 2.0,
            bottom + 44.0,
            panel.x_label
        );
        let (yx, yy) = (x0 + 20.0, (top + bottom) / 2.0);
        let _ = write!(
            out,
            r#"<text x="{yx:.1}" y="{yy:.1}" text-anchor="middle" transform="rotate(-90 {yx:.1} {yy:.1})">{}</text>"#,
            xml(&panel.y_label)
        );

        if let Some((value, label)) = &panel.reference {
            let y = py(*value);
            // The label goes above the plot area, right-aligned under the title: inside it,
            // curves climb towards the reference and cross any place the label could take.
            let _ = write!(
                out,
                r##"<line class="reference" x1="{left:.1}" y1="{y:.1}" x2="{right:.1}" y2="{y:.1}" stroke="#000" stroke-width="1.5" stroke-dasharray="7 5"/><text x="{right:.1}" y="{:.1}" text-anchor="end" font-size="13">- - {}</text>"##,
                top - 4.0,
                xml(label)
            );
        }

        for s in &panel.series {
            // Lines join points in bit-rate order, whatever order the sweep ran in.
            let mut pts: Vec<_> = s.points.iter().collect();
            pts.sort_by(|a, b| a.0.total_cmp(&b.0));
            if pts.len() > 1 {
                let coords: Vec<String> =
                    pts.iter().map(|(x, y, _)| format!("{:.1},{:.1}", px(*x), py(*y))).collect();
                let _ = write!(
                    out,
                    r#"<polyline points="{}" fill="none" stroke="{}" stroke-width="2.5"/>"#,
                    coords.join(" "),
                    s.colour
                );
            }
            for (x, y, p) in pts {
                let _ = write!(
                    out,
                    r##"<circle class="marker" cx="{:.1}" cy="{:.1}" r="4.5" fill="{}" stroke="#000" stroke-width="0.8"><title>{} {}={}: {} {}, {}</title></circle>"##,
                    px(*x),
                    py(*y),
                    s.colour,
                    xml(s.name),
                    xml(&p.param),
                    p.value,
                    fmt_value(*x, ""),
                    panel.x_unit,
                    fmt_value(*y, panel.unit)
                );
            }
        }
        out.push_str("</g>");
    }

    /// Legend entries wrapped into rows across the full width; text width estimated at 0.6 em
    /// per character (there is no font to measure with, and the estimate only places entries).
    fn legend_rows(codecs: &[(&str, &str)]) -> Vec<Vec<(usize, f64)>> {
        let mut rows: Vec<Vec<(usize, f64)>> = vec![Vec::new()];
        let mut x = LEFT;
        for (i, (_, name)) in codecs.iter().enumerate() {
            let w = 36.0 + 0.6 * FONT * name.chars().count() as f64 + 28.0;
            if x + w > WIDTH - RIGHT && x > LEFT {
                rows.push(Vec::new());
                x = LEFT;
            }
            if let Some(row) = rows.last_mut() {
                row.push((i, x));
            }
            x += w;
        }
        rows
    }

    fn draw_legend(
        out: &mut String,
        rows: &[Vec<(usize, f64)>],
        codecs: &[(&str, &str)],
        colour: impl Fn(usize) -> &'static str,
    ) {
        out.push_str(r#"<g class="legend">"#);
        for (r, row) in rows.iter().enumerate() {
            let y = LEGEND_TOP + r as f64 * LEGEND_ROW;
            for &(i, x) in row {
                let _ = write!(
                    out,
                    r##"<line x1="{x:.1}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="{c}" stroke-width="2.5"/><circle cx="{:.1}" cy="{y:.1}" r="4.5" fill="{c}" stroke="#000" stroke-width="0.8"/><text x="{:.1}" y="{:.1}">{}</text>"##,
                    x + 28.0,
                    x + 14.0,
                    x + 36.0,
                    y + 5.0,
                    xml(codecs[i].1),
                    c = colour(i)
                );
            }
        }
        out.push_str("</g>");
    }

    fn fmt_value(v: f64, unit: &str) -> String {
        format!("{}{unit}", (v * 100.0).round() / 100.0)
    }

    fn xml(s: &str) -> String {
        let mut out = String::with_capacity(s.len());
        for c in s.chars() {
            match c {
                '&' => out.push_str("&amp;"),
                '<' => out.push_str("&lt;"),
                '>' => out.push_str("&gt;"),
                '"' => out.push_str("&quot;"),
                '\'' => out.push_str("&apos;"),
                // Control characters are not allowed in XML 1.0 at all.
                c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => out.push('\u{FFFD}'),
                c => out.push(c),
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::perception::{Activation, Prediction, compare};

    fn verdict(reference: &[f32], other: &[f32], true_class: Option<usize>) -> ItemVerdict {
        let p = |probs: &[f32]| Prediction {
            probs: probs.to_vec(),
            features: vec![Activation { channels: 2, values: probs[..2].to_vec() }],
        };
        compare(&p(reference), &p(other), true_class).unwrap()
    }

    #[test]
    fn audio_points_pool_rate_and_skip_missing_metrics() {
        let mut acc = AudioPointAccumulator::new("opus", "Opus", "bitrate", 12000.0);
        let report = |bytes: usize, snr: Option<f64>, stoi: Option<f64>| crate::audio::AudioReport {
            codec: "opus".into(),
            params: Default::default(),
            sample_rate: 16000,
            channels: 1,
            frames: 16000,
            bytes,
            bits_per_sample: 0.0,
            kbps: 0.0,
            delay_ms: 0.0,
            snr_db: snr,
            seg_snr_db: None,
            lsd_db: None,
            stoi,
            log_mel_distance: Some(1.0),
            exact: false,
            encode_ms: 2.0,
            decode_ms: 1.0,
        };
        acc.add_item(&report(1500, Some(10.0), Some(0.8)), &verdict(&[0.2, 0.8], &[0.3, 0.7], Some(1)));
        acc.add_item(&report(2500, None, Some(0.6)), &verdict(&[0.2, 0.8], &[0.6, 0.4], Some(1)));
        let p = acc.finish();
        let a = p.audio.clone().unwrap();
        // 4000 bytes over 2 s: 16 kbit/s, 1 bit per sample; SNR from the one item that has it.
        assert_eq!((a.kbps, a.bits_per_sample, a.snr_db, a.seg_snr_db), (16.0, 1.0, Some(10.0), None));
        assert!((a.stoi.unwrap() - 0.7).abs() < 1e-12 && a.log_mel_distance == Some(1.0));
        assert_eq!((p.items, p.accuracy, p.encode_ms, p.bits_per_pixel, p.psnr_db), (2, Some(0.5), 4.0, 0.0, None));
        let r = SweepResult { model: "kws-cnn".into(), dataset: "kws-synth".into(), items: 2, points: vec![p] };
        let csv = r.to_csv();
        assert!(csv.starts_with(&AUDIO_CSV_COLUMNS.join(",")) && csv.lines().nth(1).unwrap().contains(",16,1,10,,0.7,1,0.5,"), "{csv}");
        let svg = r.plot_svg();
        assert!(svg.contains("STOI vs kbit/s") && svg.contains("16 kbps"), "{svg}");
    }

    /// A point as a sweep would produce it: `n` items of 100 pixels (300 RGB samples).
    fn point(codec: &str, name: &str, q: f64, bytes: usize, sse: f64, right: usize, n: usize) -> SweepPoint {
        let mut acc = PointAccumulator::new(codec, name, "quality", q);
        for i in 0..n {
            let v = if i < right {
                verdict(&[0.2, 0.8], &[0.3, 0.7], Some(1))
            } else {
                verdict(&[0.2, 0.8], &[0.6, 0.4], Some(1))
            };
            acc.add_item(bytes, 100, sse, 300, &v, 1.5, 0.25);
        }
        acc.finish()
    }

    fn sample() -> SweepResult {
        let mut points = Vec::new();
        for (q, bytes, sse, right) in [(10.0, 40, 9000.0, 6), (50.0, 90, 2000.0, 8), (90.0, 200, 300.0, 9)] {
            points.push(point("jpeg", "JPEG", q, bytes, sse, right, 10));
        }
        for (s, bytes, sse, right) in [(25.0, 60, 5000.0, 7), (100.0, 400, 0.0, 9)] {
            let mut p = point("webp-ll-down", "WebP lossless, downsampled", s, bytes, sse, right, 10);
            p.param = "scale".into();
            points.push(p);
        }
        SweepResult { model: "fashion-cnn".into(), dataset: "fashion-mnist test[0..10]".into(), items: 10, points }
    }

    #[test]
    fn pooled_psnr_weighs_every_sample() {
        let p = pooled_psnr(100.0 * 50.0, 50).unwrap();
        assert!((p - 10.0 * (65025.0f64 / 100.0).log10()).abs() < 1e-12, "{p}");
        assert_eq!(pooled_psnr(0.0, 50), None);
        assert_eq!(pooled_psnr(10.0, 0), None);
        assert_eq!(pooled_psnr(f64::NAN, 5), None);
        assert_eq!(pooled_psnr(-1.0, 5), None);
        // Pooled, not a mean of per-item PSNRs: an exact item lowers the MSE, not to infinity.
        let pooled = pooled_psnr(0.0 + 100.0 * 10.0, 20).unwrap();
        assert!((pooled - pooled_psnr(50.0 * 20.0, 20).unwrap()).abs() < 1e-12);
    }

    #[test]
    fn point_accumulator_sums_items() {
        let p = point("jpeg", "JPEG", 30.0, 25, 300.0, 3, 4);
        assert_eq!((p.items, p.bytes), (4, 100));
        assert_eq!(p.bits_per_pixel, 8.0 * 100.0 / 400.0);
        assert_eq!(p.psnr_db, pooled_psnr(1200.0, 1200));
        assert_eq!(p.accuracy, Some(0.75));
        assert_eq!(p.reference_accuracy, Some(1.0));
        assert_eq!(p.top1_agreement, 0.75);
        assert_eq!((p.encode_ms, p.decode_ms), (6.0, 1.0));
        assert_eq!((p.codec.as_str(), p.param.as_str(), p.value), ("jpeg", "quality", 30.0));
        // Exact everywhere: no PSNR.
        assert_eq!(point("png", "PNG", 1.0, 10, 0.0, 1, 2).psnr_db, None);
        let empty = PointAccumulator::new("jpeg", "JPEG", "quality", 5.0).finish();
        assert_eq!((empty.items, empty.bits_per_pixel, empty.psnr_db, empty.accuracy), (0, 0.0, None, None));
    }

    #[test]
    fn csv_has_a_header_and_round_trips_numbers() {
        let r = sample();
        let csv = r.to_csv();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), 1 + r.points.len());
        assert_eq!(lines[0], CSV_COLUMNS.join(","));
        assert!(lines[0].starts_with("model,dataset,codec,codec_name,param,value,items,bytes,bits_per_pixel,psnr_db,accuracy"));
        // The comma in the codec name is quoted; a split that honours quotes gets 19 cells.
        let row = lines[4];
        assert!(row.contains(",\"WebP lossless, downsampled\","), "{row}");
        let cells = split_csv(row);
        assert_eq!(cells.len(), CSV_COLUMNS.len());
        let p = &r.points[3];
        let col = |name: &str| cells[CSV_COLUMNS.iter().position(|c| *c == name).unwrap()].as_str();
        assert_eq!(col("bits_per_pixel").parse::<f64>().unwrap(), p.bits_per_pixel);
        assert_eq!(col("psnr_db").parse::<f64>().unwrap(), p.psnr_db.unwrap());
        assert_eq!(col("mean_kl").parse::<f64>().unwrap(), p.mean_kl);
        assert_eq!(col("param"), "scale");
        // The exact point has an empty PSNR cell.
        let last = split_csv(lines[5]);
        assert_eq!(last[CSV_COLUMNS.iter().position(|c| *c == "psnr_db").unwrap()], "");
        assert_eq!(csv_text("say \"hi\""), "\"say \"\"hi\"\"\"");
    }

    fn split_csv(row: &str) -> Vec<String> {
        let (mut cells, mut cur, mut quoted) = (Vec::new(), String::new(), false);
        let mut chars = row.chars().peekable();
        while let Some(c) = chars.next() {
            match (c, quoted) {
                ('"', true) if chars.peek() == Some(&'"') => {
                    cur.push('"');
                    chars.next();
                }
                ('"', _) => quoted = !quoted,
                (',', false) => cells.push(std::mem::take(&mut cur)),
                (c, _) => cur.push(c),
            }
        }
        cells.push(cur);
        cells
    }

    #[test]
    fn json_round_trips() {
        let r = sample();
        let back: SweepResult = serde_json::from_str(&r.to_json()).unwrap();
        assert_eq!(back, r);
        assert!(r.to_json().contains("\n  \"points\": ["));
    }

    /// Well-formed enough for any XML parser: tags nest, attributes are quoted, `&` starts an
    /// entity. Returns the element names in document order.
    fn check_xml(s: &str) -> Vec<String> {
        let mut stack: Vec<String> = Vec::new();
        let mut names = Vec::new();
        let mut rest = s;
        while let Some(open) = rest.find('<') {
            let text = &rest[..open];
            check_entities(text);
            assert!(!text.contains('>'), "stray '>' in {text:?}");
            let close = rest[open..].find('>').expect("unclosed tag") + open;
            let tag = &rest[open + 1..close];
            assert_eq!(tag.matches('"').count() % 2, 0, "unbalanced quotes in <{tag}>");
            check_entities(tag);
            if let Some(name) = tag.strip_prefix('/') {
                assert_eq!(stack.pop().as_deref(), Some(name), "mismatched </{name}>");
            } else {
                let name: String = tag.chars().take_while(|c| !c.is_whitespace() && *c != '/').collect();
                assert!(!name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric()), "<{tag}>");
                names.push(name.clone());
                if !tag.ends_with('/') {
                    stack.push(name);
                }
            }
            rest = &rest[close + 1..];
            if stack.is_empty() {
                assert!(rest.trim().is_empty(), "content after the root element");
            }
        }
        assert!(stack.is_empty(), "unclosed: {stack:?}");
        names
    }

    fn check_entities(s: &str) {
        for (i, _) in s.match_indices('&') {
            let ok = ["&amp;", "&lt;", "&gt;", "&quot;", "&apos;"].iter().any(|e| s[i..].starts_with(e));
            assert!(ok, "bare '&' in {s:?}");
        }
    }

    #[test]
    fn svg_is_well_formed_with_one_marker_per_value() {
        let r = sample();
        let svg = r.plot_svg();
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"960\" height=\"400\""));
        let names = check_xml(&svg);
        assert_eq!(names[0], "svg");
        assert_eq!(names[1], "title");
        assert!(svg.contains("<title>Rate–perception sweep: fashion-cnn on fashion-mnist test[0..10], 10 items</title>"));
        let with_accuracy = r.points.iter().filter(|p| p.accuracy.is_some()).count();
        let with_psnr = r.points.iter().filter(|p| p.psnr_db.is_some()).count();
        assert_eq!((with_accuracy, with_psnr), (5, 4));
        assert_eq!(svg.matches("class=\"marker\"").count(), with_accuracy + with_psnr);
        // One line per codec per panel with two or more points (WebP has one PSNR: its other
        // point is exact), in the same colour in both panels and the legend.
        assert_eq!(svg.matches("<polyline").count(), 3);
        assert_eq!(svg.matches("stroke=\"#E69F00\" stroke-width=\"2.5\"").count(), 2 + 1);
        assert_eq!(svg.matches("stroke=\"#56B4E9\" stroke-width=\"2.5\"").count(), 1 + 1);
        assert_eq!(svg.matches("fill=\"#56B4E9\"").count(), 3 + 1);
        // The uncompressed accuracy as a dashed line, the titles and the legend labels.
        assert_eq!(svg.matches("class=\"reference\"").count(), 1);
        assert!(svg.contains("stroke-dasharray"));
        assert!(svg.contains("uncompressed 100 %"));
        for text in ["Accuracy vs bits per pixel", "PSNR vs bits per pixel", "Bits per pixel", "PSNR (dB)", ">JPEG<", ">WebP lossless, downsampled<"] {
            assert!(svg.contains(text), "{text}");
        }
        assert!(svg.contains("font-size=\"15\""));
        assert!(!svg.contains("NaN") && !svg.contains("inf"), "{svg}");
    }

    #[test]
    fn svg_handles_unlabelled_empty_and_hostile_input() {
        let mut r = sample();
        for p in &mut r.points {
            (p.accuracy, p.reference_accuracy) = (None, None);
        }
        r.points[0].codec_name = "<script>&\"'\u{1}".into();
        r.model = "a & b".into();
        let svg = r.plot_svg();
        check_xml(&svg);
        assert!(svg.contains("Agreement vs bits per pixel"));
        assert_eq!(svg.matches("class=\"marker\"").count(), 5 + 4);
        assert!(svg.contains("&lt;script&gt;&amp;&quot;&apos;\u{FFFD}"));

        // Many codecs: the legend wraps onto more rows and the picture grows to hold them.
        let mut many = sample();
        many.points = (0..9).map(|i| SweepPoint { codec: format!("c{i}"), codec_name: format!("Codec number {i}"), ..r.points[0].clone() }).collect();
        let svg = many.plot_svg();
        check_xml(&svg);
        assert!(svg.contains("height=\"448\""), "{}", &svg[..200]);

        let empty = SweepResult { model: "m".into(), dataset: "d".into(), items: 0, points: vec![] };
        let svg = empty.plot_svg();
        check_xml(&svg);
        assert_eq!(svg.matches("class=\"marker\"").count(), 0);

        // One point, non-finite numbers: still a valid picture, without NaN coordinates.
        let mut one = sample();
        one.points.truncate(1);
        one.points.push(SweepPoint { bits_per_pixel: f64::NAN, psnr_db: Some(f64::INFINITY), ..one.points[0].clone() });
        let svg = one.plot_svg();
        check_xml(&svg);
        assert!(!svg.contains("NaN"));
        assert_eq!(svg.matches("class=\"marker\"").count(), 2);
    }

    #[test]
    fn axis_ticks_are_round_and_cover_the_data() {
        let a = plot_axis(&[0.13, 2.9]);
        assert_eq!((a.0, a.1), (0.0, 3.0));
        assert_eq!(a.2, ["0.0", "0.5", "1.0", "1.5", "2.0", "2.5", "3.0"]);
        let a = plot_axis(&[62.0, 93.0]);
        assert_eq!((a.0, a.1), (60.0, 95.0));
        assert_eq!(a.2[..3], ["60", "65", "70"]);
        let a = plot_axis(&[0.0, 1.9]);
        assert_eq!(a.2, ["0.00", "0.25", "0.50", "0.75", "1.00", "1.25", "1.50", "1.75", "2.00"]);
        let a = plot_axis(&[0.0, 190.0]);
        assert_eq!(a.2[..3], ["0", "25", "50"]);
        let a = plot_axis(&[42.0]);
        assert!(a.0 < 42.0 && a.1 > 42.0);
    }

    fn plot_axis(values: &[f64]) -> (f64, f64, Vec<String>) {
        let axis = plot::Axis::fit(values.iter().copied());
        let labels = axis.ticks().iter().map(|&t| axis.label(t)).collect();
        (axis.lo, axis.hi, labels)
    }
}
