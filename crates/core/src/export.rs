//! Exports that say where they come from: every result a lab exports (CSV, JSON) carries the
//! experiment's link, mpqlab's version, the page's build and the versions of the crates that
//! made the numbers, so a file found on a disk months later can be reproduced
//! (`mpqlab run LINK`) and its numbers trusted to the tool that made them.
//!
//! * JSON: `{"format": "mpqlab-export", "version": 1, "kind": …, "provenance": {…}, "result": …}`;
//! * CSV: the result's columns, then [`PROVENANCE_COLUMNS`] repeated on every row (a plain
//!   table any CSV reader parses with its header, no comment lines).

use serde::{Deserialize, Serialize};

include!(concat!(env!("OUT_DIR"), "/tools.rs"));

/// The format's name and version in every JSON export.
pub const FORMAT: &str = "mpqlab-export";
pub const VERSION: u32 = 1;
/// The columns every CSV export ends with.
pub const PROVENANCE_COLUMNS: [&str; 4] = ["link", "mpqlab_version", "build", "tools"];

/// Where an export comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Provenance {
    /// The experiment's link (`https://…/#/image?v=1&…`, or a fragment natively).
    pub link: String,
    /// mpqlab's version (the workspace's).
    pub mpqlab_version: String,
    /// The page's build (its id in build.json), `None` natively.
    pub build: Option<String>,
    /// Crate name → version, for the crates that made the numbers.
    pub tools: std::collections::BTreeMap<String, String>,
}

impl Provenance {
    pub fn new(link: &str, build: Option<&str>) -> Provenance {
        Provenance {
            link: link.to_string(),
            mpqlab_version: env!("CARGO_PKG_VERSION").to_string(),
            build: build.map(str::to_string),
            tools: TOOLS.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect(),
        }
    }

    /// `burn 0.22.1; jpeg-encoder 0.7.1; …` (one CSV cell).
    pub fn tools_line(&self) -> String {
        self.tools.iter().map(|(n, v)| format!("{n} {v}")).collect::<Vec<_>>().join("; ")
    }
}

/// The JSON export of `result` (a JSON text, of `kind`: `comparison`, `sweep`, …). Written as
/// text around the result's own text, so that the page's small UI module needs no JSON values.
pub fn json(kind: &str, provenance: &Provenance, result: &str) -> String {
    let provenance = serde_json::to_string(provenance).unwrap_or_else(|_| "{}".into());
    let kind = serde_json::to_string(kind).unwrap_or_else(|_| "\"\"".into());
    format!("{{\"format\":\"{FORMAT}\",\"version\":{VERSION},\"kind\":{kind},\"provenance\":{provenance},\"result\":{result}}}\n")
}

/// `csv` (a header line, then rows) with the provenance columns appended to every line.
pub fn csv(csv: &str, provenance: &Provenance) -> String {
    let cells = [
        csv_cell(&provenance.link),
        csv_cell(&provenance.mpqlab_version),
        csv_cell(provenance.build.as_deref().unwrap_or("")),
        csv_cell(&provenance.tools_line()),
    ]
    .join(",");
    let mut out = String::with_capacity(csv.len() + 256);
    for (i, line) in csv.lines().enumerate() {
        if line.is_empty() {
            continue;
        }
        out.push_str(line);
        out.push(',');
        out.push_str(&if i == 0 { PROVENANCE_COLUMNS.join(",") } else { cells.clone() });
        out.push('\n');
    }
    out
}

/// A table as CSV: `header`, then `rows`, each cell quoted when it needs it (RFC 4180).
pub fn table_csv(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut out = header.iter().map(|h| csv_cell(h)).collect::<Vec<_>>().join(",");
    out.push('\n');
    for row in rows {
        out.push_str(&row.iter().map(|c| csv_cell(c)).collect::<Vec<_>>().join(","));
        out.push('\n');
    }
    out
}

/// One CSV cell: quoted (quotes doubled) when it holds a comma, quote or line break.
pub fn csv_cell(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lock_files_versions_are_named() {
        let p = Provenance::new("#/image?v=1", Some("abc"));
        assert!(p.tools.contains_key("jpeg-encoder") && p.tools.contains_key("burn"), "{:?}", p.tools);
        assert!(p.tools_line().contains("burn 0."), "{}", p.tools_line());
    }

    #[test]
    fn csv_exports_end_with_the_provenance_columns() {
        let p = Provenance::new("#/image?v=1&l=jpeg:quality=10,subsampling=4:4:4", None);
        let out = csv(&table_csv(&["side", "bytes"], &[vec!["left".into(), "123".into()], vec!["a, \"b\"".into(), "4".into()]]), &p);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], "side,bytes,link,mpqlab_version,build,tools");
        assert!(lines[1].starts_with("left,123,\"#/image?v=1&l=jpeg:quality=10,subsampling=4:4:4\","), "{}", lines[1]);
        assert!(lines[2].starts_with("\"a, \"\"b\"\"\",4,"), "{}", lines[2]);
        let doc: serde_json::Value = serde_json::from_str(&json("comparison", &p, r#"{"x": 1}"#)).unwrap();
        assert_eq!((doc["format"].as_str(), doc["version"].as_u64(), doc["result"]["x"].as_u64()), (Some(FORMAT), Some(1), Some(1)));
        assert_eq!(doc["provenance"]["link"], p.link);
    }
}
