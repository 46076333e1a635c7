//! The text lab's prose (`scripts/fetch-text-data.py` puts it in `data/text/books/`) and its
//! fixed split. Twelve public-domain books: ten train the byte-level language model on their
//! first 85 %, keep the next 5 % for validation (choosing recipes) and their last 10 % as the
//! held-out test text it never sees; Austen's *Persuasion* joins the held-out test whole (an
//! author it knows, a book it does not); Conan Doyle's *The Adventures of Sherlock Holmes* is
//! the book from outside the training authors.

use std::path::Path;

use super::DataError;

/// Books the model trains on (their first 85 %).
pub const TRAIN_BOOKS: [&str; 10] = [
    "dickens-two-cities",
    "stoker-dracula",
    "twain-tom-sawyer",
    "dumas-monte-cristo",
    "homer-iliad",
    "austen-emma",
    "austen-mansfield-park",
    "austen-northanger-abbey",
    "austen-pride-prejudice",
    "austen-sense-sensibility",
];
/// Held out whole, by an author in training.
pub const HELD_OUT_BOOK: &str = "austen-persuasion";
/// Held out whole, by an author not in training.
pub const OUTSIDE_BOOK: &str = "doyle-sherlock-holmes";

/// Where each training book is cut (shares of its length, moved forward to the next blank
/// line so that no paragraph is split).
pub const VALIDATION_FROM: f64 = 0.85;
pub const TEST_FROM: f64 = 0.90;

/// The split, as byte strings (books joined by a blank line).
#[derive(Debug, Clone, Default)]
pub struct TextSplits {
    pub train: Vec<u8>,
    pub validation: Vec<u8>,
    /// The held-out prose: the training books' last 10 % and *Persuasion*.
    pub test: Vec<u8>,
    /// *The Adventures of Sherlock Holmes*.
    pub outside: Vec<u8>,
}

/// The first blank line at or after `at` (the text's end if none).
fn paragraph_cut(text: &[u8], at: usize) -> usize {
    text[at..].windows(2).position(|w| w == b"\n\n").map(|p| at + p + 2).unwrap_or(text.len())
}

/// Reads the books from `dir` (`data/text/books`) and splits them.
pub fn load_splits(dir: &Path) -> Result<TextSplits, DataError> {
    let read = |name: &str| {
        let path = dir.join(format!("{name}.txt"));
        std::fs::read(&path).map_err(|source| DataError::Io { path, source })
    };
    let mut s = TextSplits::default();
    let join = |into: &mut Vec<u8>, part: &[u8]| {
        if !into.is_empty() {
            into.extend_from_slice(b"\n\n");
        }
        into.extend_from_slice(part);
    };
    for name in TRAIN_BOOKS {
        let text = read(name)?;
        let v = paragraph_cut(&text, (text.len() as f64 * VALIDATION_FROM) as usize);
        let t = paragraph_cut(&text, (text.len() as f64 * TEST_FROM) as usize).max(v);
        join(&mut s.train, &text[..v]);
        join(&mut s.validation, &text[v..t]);
        join(&mut s.test, &text[t..]);
    }
    join(&mut s.test, &read(HELD_OUT_BOOK)?);
    s.outside = read(OUTSIDE_BOOK)?;
    Ok(s)
}
