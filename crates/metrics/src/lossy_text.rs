//! Lossy text's results: one point per strategy and kept fraction (what a machine still
//! perceives), their CSV and JSON, the plot of agreement against the kept fraction, and where
//! each strategy's language-ID agreement falls below a bar. The points are made by
//! `mpq_models::lossy_text` (in the page's workers and in `mpqlab sweep --model lossy-text`).

use serde::{Deserialize, Serialize};

/// How words are chosen for dropping.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    /// The language model's most predictable words first (lowest self-information).
    Predictable,
    /// Words at random (seeded per text).
    Random,
    /// Evenly spaced words (every second, every fourth, …).
    Regular,
}

impl Strategy {
    pub const ALL: [Strategy; 3] = [Strategy::Predictable, Strategy::Random, Strategy::Regular];

    pub fn name(self) -> &'static str {
        match self {
            Strategy::Predictable => "predictable words (lm)",
            Strategy::Random => "random words",
            Strategy::Regular => "every n-th word",
        }
    }

    pub fn id(self) -> &'static str {
        match self {
            Strategy::Predictable => "predictable",
            Strategy::Random => "random",
            Strategy::Regular => "regular",
        }
    }

    pub fn parse(id: &str) -> Option<Strategy> {
        Strategy::ALL.into_iter().find(|s| s.id() == id)
    }

    fn colour(self) -> &'static str {
        match self {
            Strategy::Predictable => "#1f6feb",
            Strategy::Random => "#d1242f",
            Strategy::Regular => "#8250df",
        }
    }
}

/// One strategy at one kept fraction, over a language-ID test split and prose items.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LossyTextPoint {
    pub strategy: Strategy,
    /// The fraction of bytes asked to be kept.
    pub fraction: f64,
    /// The fraction actually kept, over all texts (words are dropped whole).
    pub kept_bytes: f64,
    /// The `lm` coder's bits on the kept prose over the original prose's bytes.
    pub bits_per_byte: Option<f64>,
    /// The share of language-ID test records whose label is the same after compression.
    pub lang_agreement: Option<f64>,
    /// The share of continuation positions where the model's most likely next byte is the same
    /// after reading the lossy prefix as after the original.
    pub lm_top1_agreement: Option<f64>,
    /// The mean KL divergence (bits) from the model's next-byte distribution after the original
    /// prefix to the one after the lossy prefix.
    pub lm_kl_bits: Option<f64>,
    pub lang_items: usize,
    pub prose_items: usize,
}

/// The kept fractions a sweep visits by default (`mpqlab sweep --model lossy-text`, the page).
pub const DEFAULT_FRACTIONS: [f64; 9] = [1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2];

/// The lossy panel's view of one text: at most [`VIEW_PREFIX`] bytes of it compressed (cut at a
/// word's end), and the model's verdict on the [`VIEW_CONTINUATION`] bytes after them; callers
/// send the first [`VIEW_TEXT_BYTES`] of a text.
pub const VIEW_PREFIX: usize = 4096;
pub const VIEW_CONTINUATION: usize = 256;
pub const VIEW_TEXT_BYTES: usize = VIEW_PREFIX + VIEW_CONTINUATION;

/// What the lossy panel shows for one text (`mpq_models::lossy_text::view`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LossyView {
    /// The original prefix's length (the rest of the text is not compressed).
    pub prefix_len: usize,
    /// Each word's span in the prefix (the word and the spaces after it), and whether it is kept.
    pub words: Vec<[usize; 2]>,
    pub kept: Vec<bool>,
    pub kept_bytes: usize,
    /// The `lm` coder's bits for the original prefix and for the kept text.
    pub bits_original: f64,
    pub bits_kept: f64,
    /// The language identifier's label for the original prefix and for the kept text.
    pub label_original: String,
    pub label_kept: String,
    /// The model's next-byte verdict on the continuation (none when the text has no more).
    pub continuation_len: usize,
    pub lm_top1_agreement: Option<f64>,
    pub lm_kl_bits: Option<f64>,
}

/// A lossy-text sweep: every point, with what it ran on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LossyTextSweep {
    /// The language identifier whose agreement is measured (a method label: `ngram:3`, `gzip`).
    pub classifier: String,
    /// The language model that chose the words and judged the continuations.
    pub model: String,
    pub points: Vec<LossyTextPoint>,
}

fn opt(v: Option<f64>) -> String {
    v.map(|x| format!("{x}")).unwrap_or_default()
}

impl LossyTextSweep {
    pub fn to_csv(&self) -> String {
        let mut s = String::from("strategy,fraction,kept_bytes,bits_per_byte,lang_agreement,lm_top1_agreement,lm_kl_bits,lang_items,prose_items\n");
        for p in &self.points {
            s += &format!(
                "{},{},{},{},{},{},{},{},{}\n",
                p.strategy.id(),
                p.fraction,
                p.kept_bytes,
                opt(p.bits_per_byte),
                opt(p.lang_agreement),
                opt(p.lm_top1_agreement),
                opt(p.lm_kl_bits),
                p.lang_items,
                p.prose_items
            );
        }
        s
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("plain data")
    }

    /// The smallest kept fraction at which `strategy`'s language-ID agreement is still at least
    /// `bar`, with every larger fraction of the sweep also at or above it.
    pub fn lowest_fraction_with_agreement(&self, strategy: Strategy, bar: f64) -> Option<f64> {
        let mut pts: Vec<&LossyTextPoint> = self.points.iter().filter(|p| p.strategy == strategy && p.lang_agreement.is_some()).collect();
        pts.sort_by(|a, b| b.fraction.total_cmp(&a.fraction));
        let mut best = None;
        for p in pts {
            if p.lang_agreement.unwrap_or(0.0) >= bar {
                best = Some(p.fraction);
            } else {
                break;
            }
        }
        best
    }

    /// Two panels side by side: language-ID agreement and the model's top-1 agreement against
    /// the kept fraction, one line per strategy.
    pub fn plot_svg(&self) -> String {
        let (pw, h, m) = (420.0, 360.0, 56.0);
        let w = 2.0 * pw;
        let esc = |t: &str| t.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
        let mut s = format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\" font-family=\"sans-serif\" font-size=\"13\">\
             <rect width=\"100%\" height=\"100%\" fill=\"white\"/>"
        );
        let panels: [(&str, fn(&LossyTextPoint) -> Option<f64>); 2] = [
            ("language ID agrees with the original", |p| p.lang_agreement),
            ("model's next-byte top-1 agrees", |p| p.lm_top1_agreement),
        ];
        for (k, (title, get)) in panels.iter().enumerate() {
            let x0 = k as f64 * pw;
            let px = |f: f64| x0 + m + f.clamp(0.0, 1.0) * (pw - 1.5 * m);
            let py = |y: f64| h - m - y.clamp(0.0, 1.0) * (h - 2.0 * m);
            s += &format!(
                "<line x1=\"{a}\" y1=\"{b}\" x2=\"{c}\" y2=\"{b}\" stroke=\"black\"/><line x1=\"{a}\" y1=\"{m}\" x2=\"{a}\" y2=\"{b}\" stroke=\"black\"/>\
                 <text x=\"{t}\" y=\"24\" text-anchor=\"middle\" font-size=\"15\">{ti}</text>\
                 <text x=\"{t}\" y=\"{xl}\" text-anchor=\"middle\">kept fraction of the bytes</text>",
                a = px(0.0),
                b = py(0.0),
                c = px(1.0),
                t = x0 + pw / 2.0,
                ti = esc(title),
                xl = h - 14.0
            );
            for v in [0.0, 0.5, 1.0] {
                s += &format!("<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{v}</text>", px(0.0) - 6.0, py(v) + 4.0);
                s += &format!("<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{v}</text>", px(v), py(0.0) + 18.0);
            }
            for (n, strategy) in Strategy::ALL.into_iter().enumerate() {
                let mut pts: Vec<(f64, f64)> = self.points.iter().filter(|p| p.strategy == strategy).filter_map(|p| get(p).map(|y| (p.kept_bytes, y))).collect();
                pts.sort_by(|a, b| a.0.total_cmp(&b.0));
                if pts.is_empty() {
                    continue;
                }
                let d: Vec<String> = pts.iter().map(|(x, y)| format!("{:.1},{:.1}", px(*x), py(*y))).collect();
                s += &format!("<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"2\" points=\"{}\"/>", strategy.colour(), d.join(" "));
                for (x, y) in &pts {
                    s += &format!("<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3.5\" fill=\"{}\"/>", px(*x), py(*y), strategy.colour());
                }
                if k == 0 {
                    s += &format!("<text x=\"{:.1}\" y=\"{:.1}\" fill=\"{}\">{}</text>", px(0.05), py(0.3) - 18.0 * n as f64, strategy.colour(), esc(strategy.name()));
                }
            }
        }
        s + "</svg>\n"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(strategy: Strategy, fraction: f64, lang: f64) -> LossyTextPoint {
        LossyTextPoint { strategy, fraction, kept_bytes: fraction, bits_per_byte: Some(2.0 * fraction), lang_agreement: Some(lang), lm_top1_agreement: Some(lang), lm_kl_bits: Some(1.0 - lang), lang_items: 10, prose_items: 2 }
    }

    #[test]
    fn the_lowest_fraction_stops_at_the_first_fall() {
        let s = LossyTextSweep {
            classifier: "ngram:3".into(),
            model: "gru256-e3".into(),
            points: vec![point(Strategy::Predictable, 1.0, 1.0), point(Strategy::Predictable, 0.8, 0.95), point(Strategy::Predictable, 0.6, 0.85), point(Strategy::Predictable, 0.4, 0.92), point(Strategy::Random, 1.0, 1.0)],
        };
        assert_eq!(s.lowest_fraction_with_agreement(Strategy::Predictable, 0.9), Some(0.8));
        assert_eq!(s.lowest_fraction_with_agreement(Strategy::Random, 0.9), Some(1.0));
        assert_eq!(s.lowest_fraction_with_agreement(Strategy::Regular, 0.9), None);
        let csv = s.to_csv();
        assert_eq!(csv.lines().count(), 6);
        assert!(csv.starts_with("strategy,fraction,kept_bytes"));
        let back: LossyTextSweep = serde_json::from_str(&s.to_json()).unwrap();
        assert_eq!(back, s);
        let svg = s.plot_svg();
        assert_eq!(svg.matches("<polyline").count(), 4, "two strategies in two panels");
    }
}
