//! What a text codec cost, and whether it gave the text back: the numbers of the text lab's
//! codec table (the page) and of `mpqlab eval FILE -c CODEC` (the command line).

use mpq_core::Params;
use serde::{Deserialize, Serialize};

/// One codec's result on one text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TextReport {
    pub codec: String,
    pub params: Params,
    /// The text's length in bytes.
    pub original_bytes: usize,
    /// The encoded stream's length, headers included.
    pub bytes: usize,
    /// 8 × bytes / original bytes (`null` for an empty text).
    pub bits_per_byte: Option<f64>,
    /// Original bytes over encoded bytes.
    pub compression_ratio: f64,
    /// The decoded bytes equal the original's, every one.
    pub round_trip: bool,
    pub encode_ms: f64,
    pub decode_ms: f64,
}

impl TextReport {
    /// Measures one codec's result. Timings are passed in because clocks are platform-specific.
    pub fn measure(codec: &str, params: &Params, original: &[u8], decoded: &[u8], encoded_bytes: usize, encode_ms: f64, decode_ms: f64) -> TextReport {
        TextReport {
            codec: codec.to_string(),
            params: params.clone(),
            original_bytes: original.len(),
            bytes: encoded_bytes,
            bits_per_byte: (!original.is_empty()).then(|| 8.0 * encoded_bytes as f64 / original.len() as f64),
            compression_ratio: original.len() as f64 / encoded_bytes.max(1) as f64,
            round_trip: original == decoded,
            encode_ms,
            decode_ms,
        }
    }
}

/// Pearson's correlation of two equally long series (`None` with fewer than 2 points or no spread).
pub fn pearson(x: &[f64], y: &[f64]) -> Option<f64> {
    let n = x.len().min(y.len());
    if n < 2 {
        return None;
    }
    let (mx, my) = (x[..n].iter().sum::<f64>() / n as f64, y[..n].iter().sum::<f64>() / n as f64);
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for i in 0..n {
        sxy += (x[i] - mx) * (y[i] - my);
        sxx += (x[i] - mx).powi(2);
        syy += (y[i] - my).powi(2);
    }
    (sxx > 0.0 && syy > 0.0).then(|| sxy / (sxx * syy).sqrt())
}

/// The compression-vs-intelligence plot: one dot per checkpoint, (name, bits per byte, cloze
/// accuracy), with Pearson's r in the title. The page and `mpqlab sweep --model lm --svg` draw
/// it with this code. `x_label` says which text the bits per byte are on.
pub fn checkpoint_plot_svg(points: &[(String, f64, f64)], x_label: &str) -> String {
    let (w, h, m) = (560.0, 380.0, 60.0);
    let xs: Vec<f64> = points.iter().map(|p| p.1).collect();
    let ys: Vec<f64> = points.iter().map(|p| p.2).collect();
    let r = pearson(&xs, &ys);
    let span = |v: &[f64]| {
        let (lo, hi) = v.iter().fold((f64::MAX, f64::MIN), |(a, b), &x| (a.min(x), b.max(x)));
        if lo > hi {
            return (0.0, 1.0);
        }
        let pad = ((hi - lo) * 0.15).max(0.01);
        (lo - pad, hi + pad)
    };
    let ((x0, x1), (y0, y1)) = (span(&xs), span(&ys));
    let px = |x: f64| m + (x - x0) / (x1 - x0) * (w - 2.0 * m);
    let py = |y: f64| h - m - (y - y0) / (y1 - y0) * (h - 2.0 * m);
    let esc = |t: &str| t.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\" font-family=\"sans-serif\" font-size=\"14\">\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\
         <line x1=\"{m}\" y1=\"{b}\" x2=\"{r_}\" y2=\"{b}\" stroke=\"black\"/><line x1=\"{m}\" y1=\"{m}\" x2=\"{m}\" y2=\"{b}\" stroke=\"black\"/>\
         <text x=\"{cx}\" y=\"{ty}\" text-anchor=\"middle\">{xl}</text>\
         <text x=\"18\" y=\"{cy}\" transform=\"rotate(-90 18 {cy})\" text-anchor=\"middle\">cloze accuracy (4 choices)</text>\
         <text x=\"{cx}\" y=\"30\" text-anchor=\"middle\" font-size=\"16\">Compression vs intelligence: Pearson r = {rr}</text>",
        b = h - m,
        r_ = w - m,
        cx = w / 2.0,
        ty = h - 18.0,
        cy = h / 2.0,
        xl = esc(x_label),
        rr = r.map(|r| format!("{r:.3}")).unwrap_or_else(|| "—".into())
    );
    // Five ticks per axis with their values, so the plot reads without the table (on a slide).
    for k in 0..5 {
        let f = k as f64 / 4.0;
        let (tx, ty) = (x0 + f * (x1 - x0), y0 + f * (y1 - y0));
        s += &format!(
            "<line x1=\"{X:.1}\" y1=\"{b}\" x2=\"{X:.1}\" y2=\"{b6}\" stroke=\"black\"/><text x=\"{X:.1}\" y=\"{b20}\" text-anchor=\"middle\" font-size=\"12\">{tx:.3}</text>\
             <line x1=\"{m6}\" y1=\"{Y:.1}\" x2=\"{m}\" y2=\"{Y:.1}\" stroke=\"black\"/><text x=\"{m8}\" y=\"{Y4:.1}\" text-anchor=\"end\" font-size=\"12\">{ty:.2}</text>",
            X = px(tx),
            Y = py(ty),
            Y4 = py(ty) + 4.0,
            b = h - m,
            b6 = h - m + 6.0,
            b20 = h - m + 20.0,
            m6 = m - 6.0,
            m8 = m - 8.0,
        );
    }
    // Each point's label: beside it, towards the plot's middle (a point near the right edge is
    // labelled on its left, so the label is not cut off), and below the point instead of above
    // when a label already placed is in the way (checkpoints often sit close together).
    let mut placed: Vec<(f64, f64, f64)> = Vec::new(); // (left, right, baseline)
    for (name, x, y) in points {
        let label = format!("{} ({x:.3}, {y:.3})", esc(name));
        let width = 7.5 * format!("{name} ({x:.3}, {y:.3})").chars().count() as f64;
        let (cx, cy) = (px(*x), py(*y));
        let right = cx > w / 2.0;
        let (left, anchor, tx) = if right { (cx - 9.0 - width, "end", cx - 9.0) } else { (cx + 9.0, "start", cx + 9.0) };
        let clashes = |base: f64| placed.iter().any(|&(l, r, b)| left < r && l < left + width && (b - base).abs() < 16.0);
        let base = [cy - 8.0, cy + 20.0, cy - 24.0, cy + 36.0].into_iter().find(|&b| !clashes(b)).unwrap_or(cy - 8.0);
        placed.push((left, left + width, base));
        s += &format!("<circle cx=\"{cx:.1}\" cy=\"{cy:.1}\" r=\"6\" fill=\"#1f6feb\"/><text x=\"{tx:.1}\" y=\"{base:.1}\" text-anchor=\"{anchor}\">{label}</text>");
    }
    s + "</svg>\n"
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn rates_and_the_round_trip() {
        let r = TextReport::measure("gzip", &Params::new(), b"aaaa", b"aaaa", 2, 1.0, 0.5);
        assert_eq!((r.bits_per_byte, r.compression_ratio, r.round_trip), (Some(4.0), 2.0, true));
        let r = TextReport::measure("gzip", &Params::new(), b"", b"x", 20, 1.0, 0.5);
        assert_eq!((r.bits_per_byte, r.round_trip), (None, false));
    }

    #[test]
    fn pearson_of_lines_and_the_plot() {
        assert!((pearson(&[1.0, 2.0, 3.0], &[2.0, 4.0, 6.0]).unwrap() - 1.0).abs() < 1e-12);
        assert!((pearson(&[1.0, 2.0, 3.0], &[3.0, 2.0, 1.0]).unwrap() + 1.0).abs() < 1e-12);
        assert_eq!(pearson(&[1.0], &[1.0]), None);
        let svg = checkpoint_plot_svg(&[("a<1>".into(), 2.0, 0.5), ("b".into(), 1.9, 0.6)], "bits per byte");
        assert!(svg.contains("r = -1.000") && svg.contains("a&lt;1&gt; (2.000, 0.500)"), "{svg}");
        // The rightmost point's label ends at the point (not cut off by the edge); two points
        // at the same height get labels at different heights.
        assert!(svg.contains("text-anchor=\"end\">a&lt;1&gt;"), "{svg}");
        let close = checkpoint_plot_svg(&[("e3".into(), 1.99, 0.700), ("e2".into(), 2.02, 0.695), ("e1".into(), 2.16, 0.59)], "bpb");
        let y_of = |label: &str| -> f64 {
            let head = &close[..close.find(&format!(">{label} (")).unwrap_or_else(|| panic!("{close}"))];
            head[head.rfind(" y=\"").unwrap() + 4..].split('"').next().unwrap().parse().unwrap()
        };
        assert!((y_of("e3") - y_of("e2")).abs() >= 16.0, "{close}");
        assert!(close.contains("text-anchor=\"end\">e1 ("), "{close}");
    }
}

/// What the log codec found in a text (`mpq_codecs::text::logs::structure` and the stream's
/// header): the page's log panel and `mpqlab eval LOG -c logs` show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogSummary {
    /// The back-end and layout the encoder kept (the smallest it tried).
    pub backend: String,
    pub layout: String,
    pub lines: usize,
    /// Lines kept whole (they hold the codec's placeholder byte).
    pub whole_lines: usize,
    pub templates: usize,
    /// The most used templates (fields shown as `<*>`), most used first.
    pub top_templates: Vec<LogTemplate>,
    /// The per-template layout's columns by kind.
    pub columns: Vec<LogColumns>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogTemplate {
    pub template: String,
    pub lines: usize,
    pub fields: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogColumns {
    /// `integers`, `dictionary` or `strings`.
    pub kind: String,
    pub columns: usize,
    /// The values' own bytes, and the bytes of their columns in the layout (before the back-end).
    pub value_bytes: usize,
    pub layout_bytes: usize,
}

/// The log codec's layouts by their number in the stream's header.
pub const LOG_LAYOUTS: [&str; 3] = ["plain text", "a column per template and field", "a column per field position"];

impl LogSummary {
    /// A summary of `templates` (most used first: template, lines, fields) and `columns` (kind,
    /// value bytes, layout bytes), keeping the first `top` templates.
    pub fn new(
        backend: &str,
        layout: u8,
        lines: usize,
        whole_lines: usize,
        templates: impl ExactSizeIterator<Item = (String, usize, usize)>,
        columns: impl Iterator<Item = (String, usize, usize)>,
        top: usize,
    ) -> LogSummary {
        let count = templates.len();
        let mut kinds: Vec<LogColumns> = Vec::new();
        for (kind, value_bytes, layout_bytes) in columns {
            match kinds.iter_mut().find(|k| k.kind == kind) {
                Some(k) => {
                    k.columns += 1;
                    k.value_bytes += value_bytes;
                    k.layout_bytes += layout_bytes;
                }
                None => kinds.push(LogColumns { kind, columns: 1, value_bytes, layout_bytes }),
            }
        }
        kinds.sort_by(|a, b| a.kind.cmp(&b.kind));
        LogSummary {
            backend: backend.into(),
            layout: LOG_LAYOUTS.get(layout as usize).unwrap_or(&"an unknown layout").to_string(),
            lines,
            whole_lines,
            templates: count,
            top_templates: templates.take(top).map(|(template, lines, fields)| LogTemplate { template, lines, fields }).collect(),
            columns: kinds,
        }
    }
}

#[cfg(test)]
mod log_summary_tests {
    use super::*;

    #[test]
    fn columns_are_summed_by_kind() {
        let t = vec![("a <*>".to_string(), 3, 1), ("b".to_string(), 1, 0)];
        let c = vec![("integers".to_string(), 6, 4), ("strings".to_string(), 5, 6), ("integers".to_string(), 2, 2)];
        let s = LogSummary::new("xz", 1, 5, 1, t.into_iter(), c.into_iter(), 1);
        assert_eq!((s.templates, s.top_templates.len(), s.layout.as_str()), (2, 1, "a column per template and field"));
        assert_eq!(s.columns[0], LogColumns { kind: "integers".into(), columns: 2, value_bytes: 8, layout_bytes: 6 });
    }
}
