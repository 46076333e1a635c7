//! Sweeps beyond one machine: `mpqlab sweep … --shard i/n` runs every n-th point of the sweep's
//! plan (starting at the i-th) and prints a shard file; `mpqlab merge` joins the shards of one
//! sweep into exactly the JSON, CSV and SVG that the unsharded run writes. A scheduler runs the
//! shards: `scripts/cluster-sweep.sh` as a Slurm array job, `deploy/sweep-indexed-job.yaml` as a
//! Kubernetes Indexed Job.
//!
//! ```text
//! for i in 0 1 2; do mpqlab sweep --model fashion-cnn --shard $i/3 --no-timings > s$i.json; done
//! mpqlab merge s0.json s1.json s2.json --csv sweep.csv --svg sweep.svg > sweep.json
//! ```
//!
//! Points go to shards round-robin (point k to shard k mod n), not in runs: a sweep's costly
//! points (a codec's high qualities, AVIF's slow speeds) sit side by side in its plan, and
//! round-robin spreads them over the shards. Every point is computed alone from the same
//! inputs, so a merged sweep's numbers are the unsharded run's; only the measured times differ,
//! which `--no-timings` leaves out of both (written as 0) to make the files byte-identical.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use anyhow::{Context, Result, bail};
use mpq_metrics::lossy_text::LossyTextSweep;
use mpq_metrics::sweep::SweepResult;
use serde::{Deserialize, Serialize};

/// What a shard file says it is (checked before anything else is read from it).
pub const FORMAT: &str = "mpqlab-sweep-shard";
pub const VERSION: u32 = 1;
/// Shard files are JSON of a few hundred points at most; bounded before reading.
pub const MAX_SHARD_FILE_BYTES: u64 = 64 << 20;
/// More shards than this is a typo (an array job's index range is far smaller).
pub const MAX_SHARDS: usize = 10_000;

/// `--shard i/n`: the i-th of n shards, counted from 0 (Slurm's and Kubernetes' indices are).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (i, n) = s.split_once('/').ok_or_else(|| format!("'{s}' is not i/n (for example 0/4)"))?;
        let index: usize = i.trim().parse().map_err(|_| format!("'{i}' in '{s}' is not a shard index"))?;
        let count: usize = n.trim().parse().map_err(|_| format!("'{n}' in '{s}' is not a number of shards"))?;
        if count == 0 || count > MAX_SHARDS {
            return Err(format!("{count} shards: between 1 and {MAX_SHARDS}"));
        }
        if index >= count {
            return Err(format!("shard {index} of {count}: shards are counted from 0 to {}", count - 1));
        }
        Ok(Shard { index, count })
    }
}

impl Shard {
    /// Whether point `k` of the plan is this shard's.
    pub fn takes(&self, k: usize) -> bool {
        k % self.count == self.index
    }
}

/// What kind of result a shard holds (each has its own columns and plot).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// `SweepResult`: an image or audio model's rate–perception sweep.
    RatePerception,
    /// `LossyTextSweep`.
    LossyText,
}

/// One shard's points and what they belong to.
#[derive(Debug, Serialize, Deserialize)]
pub struct ShardFile {
    pub format: String,
    pub version: u32,
    pub kind: Kind,
    pub shard: Shard,
    /// Points in the whole sweep's plan.
    pub plan_points: usize,
    /// The settings that define the sweep (model, items, codecs, weights' SHA-256, …): shards
    /// of different sweeps are refused at merge.
    pub sweep: serde_json::Value,
    /// The plan index of each of `result`'s points, in order.
    pub indices: Vec<usize>,
    /// The result as the unsharded run writes it, with this shard's points only.
    pub result: serde_json::Value,
}

impl ShardFile {
    pub fn new<R: Serialize>(kind: Kind, shard: Shard, plan_points: usize, sweep: serde_json::Value, indices: Vec<usize>, result: &R) -> Result<Self> {
        Ok(ShardFile { format: FORMAT.into(), version: VERSION, kind, shard, plan_points, sweep, indices, result: serde_json::to_value(result)? })
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|_| "{}".into())
    }
}

/// The plan indices shard `shard` runs out of `plan_points`.
pub fn indices(shard: Option<Shard>, plan_points: usize) -> Vec<usize> {
    (0..plan_points).filter(|&k| shard.is_none_or(|s| s.takes(k))).collect()
}

/// SHA-256 of a file, hex (for the `sweep` settings: shards must have used the same weights).
pub fn file_sha256(path: &Path) -> Result<String> {
    use sha2::Digest;
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(sha2::Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect())
}

#[derive(clap::Args)]
pub struct MergeArgs {
    /// The shard files (as `mpqlab sweep … --shard i/n` prints them), in any order.
    #[arg(required = true)]
    shards: Vec<PathBuf>,
    /// Also write the merged points as CSV here.
    #[arg(long)]
    csv: Option<PathBuf>,
    /// Also write the merged plot as SVG here.
    #[arg(long)]
    svg: Option<PathBuf>,
}

fn read_shard(path: &Path) -> Result<ShardFile> {
    let len = std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?.len();
    if len > MAX_SHARD_FILE_BYTES {
        bail!("{}: {len} bytes; a shard file is at most {MAX_SHARD_FILE_BYTES}", path.display());
    }
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let head: serde_json::Value = serde_json::from_str(&text).with_context(|| format!("{}: not JSON", path.display()))?;
    if head.get("format").and_then(|f| f.as_str()) != Some(FORMAT) {
        bail!("{}: not a sweep shard (write one with `mpqlab sweep … --shard i/n`)", path.display());
    }
    if head.get("version").and_then(|v| v.as_u64()) != Some(VERSION as u64) {
        bail!("{}: shard format version {}, this mpqlab reads version {VERSION}", path.display(), head["version"]);
    }
    serde_json::from_value(head).with_context(|| format!("{}: a damaged shard file", path.display()))
}

/// The shards joined: one file per shard index, the same sweep in all, every plan point once.
/// Returns the kind and the merged result as JSON, its points in plan order.
pub fn merge(files: &[(String, ShardFile)]) -> Result<(Kind, serde_json::Value)> {
    let Some((first_name, first)) = files.first() else { bail!("no shard files") };
    let count = first.shard.count;
    let mut seen: Vec<Option<&str>> = vec![None; count];
    for (name, f) in files {
        let differs = |what: &str| anyhow::anyhow!("{name} and {first_name} are shards of different sweeps ({what} differ)");
        if f.kind != first.kind {
            return Err(differs("kinds"));
        }
        if f.shard.count != count || f.plan_points != first.plan_points {
            return Err(differs("shard counts or plans"));
        }
        if f.sweep != first.sweep {
            return Err(differs("settings"));
        }
        if f.shard.index >= count {
            bail!("{name}: shard {} of {count}", f.shard.index);
        }
        if let Some(other) = seen[f.shard.index].replace(name) {
            bail!("{name} and {other} are both shard {}/{count}", f.shard.index);
        }
        let want = indices(Some(f.shard), f.plan_points);
        if f.indices != want {
            bail!("{name}: its points are not shard {}/{count}'s", f.shard.index);
        }
    }
    let missing: Vec<String> = seen.iter().enumerate().filter(|(_, s)| s.is_none()).map(|(i, _)| format!("{i}/{count}")).collect();
    if !missing.is_empty() {
        bail!("shard{} {} missing (got {} of {count})", if missing.len() > 1 { "s" } else { "" }, missing.join(", "), files.len());
    }
    // Everything but the points must agree (the same model, test set and items).
    let strip = |r: &serde_json::Value| {
        let mut r = r.clone();
        if let Some(o) = r.as_object_mut() {
            o.remove("points");
        }
        r
    };
    let head = strip(&first.result);
    let mut points: Vec<Option<serde_json::Value>> = vec![None; first.plan_points];
    for (name, f) in files {
        if strip(&f.result) != head {
            bail!("{name} and {first_name} are shards of different sweeps (their results' headers differ)");
        }
        let got = f.result.get("points").and_then(|p| p.as_array()).with_context(|| format!("{name}: no points"))?;
        if got.len() != f.indices.len() {
            bail!("{name}: {} points for {} plan indices", got.len(), f.indices.len());
        }
        for (k, p) in f.indices.iter().zip(got) {
            points[*k] = Some(p.clone());
        }
    }
    let mut merged = first.result.clone();
    merged["points"] = serde_json::Value::Array(points.into_iter().map(|p| p.expect("every index was checked")).collect());
    Ok((first.kind, merged))
}

pub fn run(args: MergeArgs) -> Result<()> {
    let files = args.shards.iter().map(|p| Ok((p.display().to_string(), read_shard(p)?))).collect::<Result<Vec<_>>>()?;
    let (kind, merged) = merge(&files)?;
    let (json, csv, svg) = match kind {
        Kind::RatePerception => {
            let r: SweepResult = serde_json::from_value(merged).context("the merged points")?;
            (r.to_json(), r.to_csv(), r.plot_svg())
        }
        Kind::LossyText => {
            let r: LossyTextSweep = serde_json::from_value(merged).context("the merged points")?;
            (r.to_json(), r.to_csv(), r.plot_svg())
        }
    };
    write_outputs(&json, args.csv.as_deref().map(|p| (p, csv.as_str())), args.svg.as_deref().map(|p| (p, svg.as_str())))
}

/// The sweep's JSON on stdout, CSV and SVG where asked.
pub fn write_outputs(json: &str, csv: Option<(&Path, &str)>, svg: Option<(&Path, &str)>) -> Result<()> {
    for (path, text) in [csv, svg].into_iter().flatten() {
        std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    println!("{json}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_specs_parse_and_bad_ones_say_why() {
        assert_eq!("2/5".parse::<Shard>(), Ok(Shard { index: 2, count: 5 }));
        for bad in ["5/5", "1", "a/3", "0/0", "-1/3", "1/100000"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }

    #[test]
    fn every_point_is_in_exactly_one_shard() {
        for n in 1..7 {
            let mut all: Vec<usize> = (0..n).flat_map(|i| indices(Some(Shard { index: i, count: n }), 23)).collect();
            all.sort();
            assert_eq!(all, (0..23).collect::<Vec<_>>());
        }
    }

    fn shard_of(result: &serde_json::Value, shard: Shard, sweep: &str) -> ShardFile {
        let idx = indices(Some(shard), 5);
        let mut r = result.clone();
        r["points"] = idx.iter().map(|&k| result["points"][k].clone()).collect();
        ShardFile::new(Kind::LossyText, shard, 5, serde_json::json!({ "sweep": sweep }), idx, &r).unwrap()
    }

    #[test]
    fn merge_restores_the_plan_order_and_refuses_mixed_or_missing_shards() {
        let result = serde_json::json!({ "classifier": "ngram:3", "points": [0, 1, 2, 3, 4] });
        let s = |i, n, sweep| (format!("s{i}"), shard_of(&result, Shard { index: i, count: n }, sweep));
        let (_, merged) = merge(&[s(1, 2, "a"), s(0, 2, "a")]).unwrap();
        assert_eq!(merged, result);
        assert!(merge(&[s(0, 2, "a")]).unwrap_err().to_string().contains("1/2 missing"));
        assert!(merge(&[s(0, 2, "a"), s(1, 2, "b")]).unwrap_err().to_string().contains("different sweeps"));
        assert!(merge(&[s(0, 2, "a"), s(0, 2, "a")]).unwrap_err().to_string().contains("both shard 0/2"));
        assert!(merge(&[s(0, 2, "a"), s(1, 3, "a")]).unwrap_err().to_string().contains("different sweeps"));
    }
}
