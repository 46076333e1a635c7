//! Lessons for the classroom: short texts, each step an experiment link, a question to try, and
//! claims about the page's numbers that the page checks as they arrive. The lessons live in one
//! data file, `www/lessons.json` (served as `lessons.json`, fetched when the lessons open), so a
//! teacher edits text, not code.
//!
//! A claim's numbers are **readings** of the page: `"left.psnr": "[data-testid=metrics-0]
//! [data-metric=psnr_rgb] @data-value"` — a CSS selector and the attribute holding the raw
//! value the page shows (the `data-*` attributes the labs write for tests, or `text`). Each lab
//! has its readings and the selectors that say its results are complete (`ready`). A claim is a
//! [`check::Condition`] over readings (`right.psnr > left.psnr && right.changed`), so a codec or
//! model change that makes a lesson false fails the browser test that checks every claim.
//!
//! This module is plain Rust (parsed and validated natively in `cargo test`); the panel that
//! shows the lessons is [`page`] (feature `ui`).

pub mod check;
#[cfg(all(target_arch = "wasm32", feature = "ui"))]
pub mod page;

use serde::Deserialize;

pub use check::{Condition, Named, Value};

/// Where the page finds the lessons (next to index.html).
pub const LESSONS_FILE: &str = "lessons.json";
/// The lessons file's format name and the version this page reads.
pub const FORMAT: &str = "mpqlab-lessons";
pub const VERSION: u32 = 1;
/// Bounds on what a lessons file may hold, checked before it is shown.
pub const MAX_FILE_BYTES: usize = 1 << 20;
pub const MAX_LESSONS: usize = 64;
pub const MAX_STEPS: usize = 32;
pub const MAX_CLAIMS: usize = 16;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LessonFile {
    pub format: String,
    pub version: u32,
    /// Per lab: what a claim may read, and when the lab's results are complete.
    pub readings: Named<LabReadings>,
    pub lessons: Vec<Lesson>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabReadings {
    /// Selectors that all match once the lab's results for the experiment are on screen.
    pub ready: Vec<String>,
    /// Reading name → `SELECTOR @ATTRIBUTE` (`@text` for the element's text).
    pub values: Named<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lesson {
    pub id: String,
    pub lab: String,
    pub title: String,
    /// One sentence for the list of lessons.
    pub summary: String,
    pub steps: Vec<Step>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    pub text: String,
    /// The experiment this step shows (a link fragment, `#/image?v=1&…`).
    pub link: String,
    #[serde(default)]
    pub question: Option<String>,
    /// More selectors that must match before the claims are checked (a panel this step needs).
    #[serde(default)]
    pub ready: Vec<String>,
    #[serde(default)]
    pub claims: Vec<Claim>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Claim {
    /// What the lesson says, in words.
    pub say: String,
    /// The same, as a condition on readings (written as text in the file, parsed as it is read).
    pub check: Condition,
}

/// A reading's selector and attribute.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadingAt<'a> {
    pub selector: &'a str,
    /// `data-value`, `data-class`, … or `text` for the element's text content.
    pub attribute: &'a str,
}

pub fn reading_at(spec: &str) -> Result<ReadingAt<'_>, String> {
    let (selector, attribute) = spec.rsplit_once(" @").ok_or_else(|| format!("'{spec}' is not 'SELECTOR @ATTRIBUTE'"))?;
    let attribute = attribute.trim();
    if selector.trim().is_empty() || attribute.is_empty() || !(attribute == "text" || attribute.starts_with("data-")) {
        return Err(format!("'{spec}' is not 'SELECTOR @ATTRIBUTE' (a data-* attribute or text)"));
    }
    Ok(ReadingAt { selector: selector.trim(), attribute })
}

impl LessonFile {
    /// Parses and checks a lessons file: its format, bounds, unique ids, one lab per lesson
    /// with readings, every link an experiment of that lab, every claim a condition over that
    /// lab's readings.
    pub fn parse(text: &str) -> Result<LessonFile, String> {
        if text.len() > MAX_FILE_BYTES {
            return Err(format!("the lessons file is larger than {MAX_FILE_BYTES} bytes"));
        }
        let file: LessonFile = serde_json::from_str(text).map_err(|e| format!("the lessons file is not valid: {e}"))?;
        if file.format != FORMAT || file.version != VERSION {
            return Err(format!("the lessons file is '{}' version {}; this page reads '{FORMAT}' version {VERSION}", file.format, file.version));
        }
        if file.lessons.is_empty() || file.lessons.len() > MAX_LESSONS {
            return Err(format!("a lessons file has 1 to {MAX_LESSONS} lessons, this one {}", file.lessons.len()));
        }
        for (lab, r) in &file.readings.0 {
            for spec in r.values.values() {
                reading_at(spec).map_err(|e| format!("readings of the {lab} lab: {e}"))?;
            }
        }
        let mut ids = Vec::new();
        for lesson in &file.lessons {
            let at = |what: String| format!("lesson '{}': {what}", lesson.id);
            if ids.contains(&lesson.id.as_str()) {
                return Err(at("its id is used twice".into()));
            }
            ids.push(&lesson.id);
            let readings = file.readings.get(&lesson.lab).ok_or_else(|| at(format!("there are no readings for the '{}' lab", lesson.lab)))?;
            if lesson.steps.is_empty() || lesson.steps.len() > MAX_STEPS {
                return Err(at(format!("a lesson has 1 to {MAX_STEPS} steps")));
            }
            for (k, step) in lesson.steps.iter().enumerate() {
                let at = |what: String| at(format!("step {}: {what}", k + 1));
                let exp = mpq_core::Experiment::parse(&step.link).map_err(|e| at(format!("its link cannot be opened: {e}")))?;
                if exp.lab() != lesson.lab {
                    return Err(at(format!("its link opens the {} lab, not the {} lab", exp.lab(), lesson.lab)));
                }
                if step.claims.len() > MAX_CLAIMS {
                    return Err(at(format!("more than {MAX_CLAIMS} claims")));
                }
                for claim in &step.claims {
                    if let Some(n) = claim.check.names().into_iter().find(|n| !readings.values.contains_key(n)) {
                        return Err(at(format!("'{}' reads '{n}', which the {} lab's readings do not name", claim.check.text(), lesson.lab)));
                    }
                }
            }
        }
        Ok(file)
    }

    /// The claim's outcome with these readings: `None` while a reading is missing.
    pub fn judge(claim: &Claim, values: &Named<Value>) -> Result<Option<bool>, String> {
        if claim.check.names().iter().any(|n| !values.contains_key(n)) {
            return Ok(None);
        }
        claim.check.holds(values).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = include_str!("../../../../www/lessons.json");

    #[test]
    fn the_lessons_file_is_valid_and_every_lab_has_a_lesson() {
        let file = LessonFile::parse(FILE).unwrap_or_else(|e| panic!("{e}"));
        for lab in crate::labs::LAB_IDS {
            assert!(file.lessons.iter().any(|l| l.lab == *lab), "no lesson for the {lab} lab");
            assert!(file.readings.contains_key(*lab), "no readings for the {lab} lab");
        }
        // Every lesson says something checkable: a lesson with no claim cannot fail.
        for l in &file.lessons {
            assert!(l.steps.iter().any(|s| !s.claims.is_empty()), "lesson {} has no claim", l.id);
        }
    }

    #[test]
    fn broken_lessons_are_refused_with_the_reason() {
        let good: serde_json::Value = serde_json::from_str(FILE).unwrap();
        let broken = |f: &dyn Fn(&mut serde_json::Value)| {
            let mut v = good.clone();
            f(&mut v);
            LessonFile::parse(&v.to_string()).expect_err("refused")
        };
        assert!(broken(&|v| v["version"] = 2.into()).contains("version 2"));
        assert!(broken(&|v| v["lessons"][0]["steps"][0]["link"] = "#/nowhere".into()).contains("cannot be opened"));
        assert!(broken(&|v| v["lessons"][0]["steps"][0]["link"] = "#/text".into()).contains("not the"));
        assert!(broken(&|v| v["lessons"][0]["steps"][0]["claims"] = serde_json::json!([{ "say": "x", "check": "nothing.here > 1" }])).contains("do not name"));
        assert!(broken(&|v| v["lessons"][0]["steps"][0]["claims"] = serde_json::json!([{ "say": "x", "check": "1 <" }])).contains("ends too soon"));
        assert!(broken(&|v| v["lessons"][1]["id"] = v["lessons"][0]["id"].clone()).contains("used twice"));
        assert!(broken(&|v| v["lessons"][0]["lab"] = "video".into()).contains("no readings"));
        assert!(broken(&|v| v["lessons"][0]["extra"] = 1.into()).contains("unknown field"));
        assert!(LessonFile::parse(&FILE.replacen("\"left.bpp\"", "\"left.bytes\"", 1)).unwrap_err().contains("named twice"));
        assert!(broken(&|v| v["readings"]["image"]["values"]["x"] = "no attribute".into()).contains("SELECTOR @ATTRIBUTE"));
        assert!(LessonFile::parse(&"x".repeat(MAX_FILE_BYTES + 1)).unwrap_err().contains("larger"));
    }

    #[test]
    fn a_claim_waits_for_its_readings() {
        let claim = Claim { say: "smaller".into(), check: Condition::parse("a.bytes < b.bytes").unwrap() };
        let mut v = Named::default();
        v.insert("a.bytes".to_string(), Value::Num(1.0));
        assert_eq!(LessonFile::judge(&claim, &v), Ok(None));
        v.insert("b.bytes".to_string(), Value::Num(2.0));
        assert_eq!(LessonFile::judge(&claim, &v), Ok(Some(true)));
        assert_eq!(reading_at("[data-testid=x] .y @data-value"), Ok(ReadingAt { selector: "[data-testid=x] .y", attribute: "data-value" }));
        assert!(reading_at("[data-testid=x] @style").is_err());
    }
}
