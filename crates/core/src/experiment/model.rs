//! The model lab's experiment: which model's weight formats are evaluated, where, on how many
//! test items, and the kernel bench's settings.
//!
//! Link keys of version 1 (each omitted when at its default):
//!
//! | key | value | default |
//! |---|---|---|
//! | `m` | model id | `fashion-cnn` |
//! | `on` | `webgpu` (our WGSL kernels) · `cpu` (their CPU reference) | `webgpu` |
//! | `items` | test items | `1000` |
//! | `search` | `1`: also the error-minimising scales · `0` | `1` |
//! | `sizes` | kernel bench sizes (n×n), as typed | `1024, 4096` |
//! | `batch` | kernel bench batch | `1` |
//! | `repeats` | kernel bench repeats | `5` |
//! | `base` | `1`: the bench also times the v1 kernels (before/after in one run) · `0` | `0` |
//! | `mt` | target size of the weights: `NB` (bytes) · `Xbpw` (bits per weight); the evaluation adds a row with a format per layer chosen to come nearest it | none |
//! | `run` | `eval` · `check` · `bench`: what was run (opening the link runs it again) | nothing |

use serde::{Deserialize, Serialize};

use super::{LinkError, Pairs, parse_id, parse_int, shorten};
use crate::target::Target;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelExperiment {
    pub model: String,
    pub backend: KernelBackend,
    pub items: u32,
    pub search: bool,
    /// As typed in the page (`1024, 4096`); the bench checks it when it runs.
    pub sizes: String,
    pub batch: u32,
    pub repeats: u32,
    /// The kernel bench also times the v1 kernels, side by side.
    #[serde(default)]
    pub baseline: bool,
    /// "Aim for a size" of the weights ([`Target::Bytes`] or [`Target::BitsPerWeight`]): the
    /// evaluation adds a mixed row, a format per layer (`mpq_models::quantized::mix_for_target`).
    #[serde(default)]
    pub target: Option<Target>,
    pub run: Option<ModelRun>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KernelBackend {
    /// Our WGSL kernels on the browser's WebGPU.
    WebGpu,
    /// The kernels' CPU reference.
    Cpu,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ModelRun {
    /// Every weight format evaluated on the test items.
    Eval,
    /// Every kernel checked against its CPU reference.
    Check,
    /// The kernels timed.
    Bench,
}

impl ModelRun {
    pub fn id(self) -> &'static str {
        match self {
            ModelRun::Eval => "eval",
            ModelRun::Check => "check",
            ModelRun::Bench => "bench",
        }
    }
}

impl KernelBackend {
    pub fn id(self) -> &'static str {
        match self {
            KernelBackend::WebGpu => "webgpu",
            KernelBackend::Cpu => "cpu",
        }
    }
    pub fn parse(s: &str) -> Option<KernelBackend> {
        match s {
            "webgpu" => Some(KernelBackend::WebGpu),
            "cpu" => Some(KernelBackend::Cpu),
            _ => None,
        }
    }
}

/// Most test items (the committed subsets have 1000).
pub const MAX_ITEMS: u32 = 1000;

impl Default for ModelExperiment {
    /// Version 1's defaults: changing one changes what old links mean.
    fn default() -> Self {
        ModelExperiment {
            model: "fashion-cnn".into(),
            backend: KernelBackend::WebGpu,
            items: 1000,
            search: true,
            sizes: "1024, 4096".into(),
            batch: 1,
            repeats: 5,
            baseline: false,
            target: None,
            run: None,
        }
    }
}

impl ModelExperiment {
    pub(super) fn normalize(&mut self) {
        self.sizes = self.sizes.trim().to_string();
    }

    pub(super) fn write(&self, out: &mut Pairs) {
        let d = ModelExperiment::default();
        if self.model != d.model {
            out.push("m", &self.model);
        }
        if self.backend != d.backend {
            out.push("on", self.backend.id());
        }
        if self.items != d.items {
            out.push("items", self.items.to_string());
        }
        if self.search != d.search {
            out.push("search", if self.search { "1" } else { "0" });
        }
        if self.sizes != d.sizes {
            out.push("sizes", &self.sizes);
        }
        if self.batch != d.batch {
            out.push("batch", self.batch.to_string());
        }
        if self.repeats != d.repeats {
            out.push("repeats", self.repeats.to_string());
        }
        if self.baseline != d.baseline {
            out.push("base", if self.baseline { "1" } else { "0" });
        }
        if let Some(t) = &self.target {
            out.push("mt", t.to_link_value());
        }
        if let Some(run) = self.run {
            out.push("run", run.id());
        }
    }

    pub(super) fn read_v1(p: &mut Pairs) -> Result<ModelExperiment, LinkError> {
        let mut e = ModelExperiment::default();
        if let Some(v) = p.take("m") {
            e.model = parse_id("m", &v, "model")?;
        }
        if let Some(v) = p.take("on") {
            e.backend =
                KernelBackend::parse(&v).ok_or_else(|| LinkError::bad("on", format!("'{}' is not webgpu or cpu", shorten(&v))))?;
        }
        if let Some(v) = p.take("items") {
            e.items = parse_int("items", &v, 1, MAX_ITEMS)?;
        }
        if let Some(v) = p.take("search") {
            e.search = match v.as_str() {
                "1" => true,
                "0" => false,
                other => return Err(LinkError::bad("search", format!("'{}' is not 0 or 1", shorten(other)))),
            };
        }
        if let Some(v) = p.take("sizes") {
            if v.chars().count() > 64 {
                return Err(LinkError::bad("sizes", "at most 64 characters"));
            }
            e.sizes = v;
        }
        if let Some(v) = p.take("batch") {
            e.batch = parse_int("batch", &v, 1, 256)?;
        }
        if let Some(v) = p.take("repeats") {
            e.repeats = parse_int("repeats", &v, 1, 100)?;
        }
        if let Some(v) = p.take("base") {
            e.baseline = match v.as_str() {
                "1" => true,
                "0" => false,
                other => return Err(LinkError::bad("base", format!("'{}' is not 0 or 1", shorten(other)))),
            };
        }
        if let Some(v) = p.take("mt") {
            match Target::read(&v).map_err(|r| LinkError::bad("mt", r))? {
                t @ (Target::Bytes(_) | Target::BitsPerWeight(_)) => e.target = Some(t),
                _ => return Err(LinkError::bad("mt", "weights aim for bytes or bits per weight (write 20000B or 4.5bpw)")),
            }
        }
        if let Some(v) = p.take("run") {
            e.run = Some(match v.as_str() {
                "eval" => ModelRun::Eval,
                "check" => ModelRun::Check,
                "bench" => ModelRun::Bench,
                other => return Err(LinkError::bad("run", format!("'{}' is not eval, check or bench", shorten(other)))),
            });
        }
        Ok(e)
    }
}

#[cfg(test)]
mod tests {
    use super::super::Experiment;
    use super::*;

    #[test]
    fn model_links_round_trip() {
        let e = ModelExperiment {
            model: "cats-dogs-cnn".into(),
            backend: KernelBackend::Cpu,
            items: 200,
            search: false,
            sizes: "4096".into(),
            batch: 4,
            repeats: 3,
            baseline: true,
            target: Some(Target::BitsPerWeight(4.25)),
            run: Some(ModelRun::Eval),
        };
        let f = Experiment::Model(e.clone()).to_fragment();
        assert_eq!(f, "#/model?v=1&m=cats-dogs-cnn&on=cpu&items=200&search=0&sizes=4096&batch=4&repeats=3&base=1&mt=4.25bpw&run=eval");
        assert_eq!(Experiment::parse(&f).unwrap(), Experiment::Model(e));
        for (link, want) in [
            ("#/model?v=1&items=5000", "outside"),
            ("#/model?v=1&search=maybe", "not 0 or 1"),
            ("#/model?v=1&run=train", "not eval, check or bench"),
            ("#/model?v=1&split=50", "unknown setting 'split'"),
            ("#/model?v=1&mt=12kbps", "bits per weight"),
            ("#/model?v=1&mt=4bpww", "not a size"),
        ] {
            let err = Experiment::parse(link).expect_err(link).to_string();
            assert!(err.contains(want), "{link}: {err}");
        }
    }
}
