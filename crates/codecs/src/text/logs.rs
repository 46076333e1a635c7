//! `logs`: a log-structure codec (after Logzip, Liu et al. 2019): each line is cut into a
//! template and its variable fields, the fields are stored column by column, each column in the
//! form that suits it (deltas for numbers, a dictionary for repeated values, plain strings for
//! the rest), and the whole is compressed by a classic back-end (xz by default). Lossless to the
//! byte on any input: a line that matches no template is its own template, and a line holding
//! the placeholder byte is kept whole.
//!
//! Written here because no crate does it: log compressors are research code (Logzip, LogReducer,
//! CLP) in Python/C++, and none writes a stream a Rust decoder could read.
//!
//! Lines are split at `\n`. A *field* is a maximal run of ASCII letters, digits and `_` that
//! holds at least one digit (a number, a timestamp's part, a process id, an address's byte, a
//! hex id); everything else — words without digits, punctuation, spaces, non-ASCII bytes — is
//! the line's template, with each field replaced by the placeholder byte 0x00. Lines with the
//! same template share an id; each of a template's field positions is one column.
//!
//! The stream (`.mplog`):
//! ```text
//! "MPLG" | version 1 | back-end (0 xz -9, 1 zstd -19, 2 brotli -q11, 3 bzip2 -9, 4 PPMd o6)
//! | layout (0 the text itself, 1 a column per template and field, 2 a column per field
//!   position) | text length (u32 LE) | the back-end's stream
//! ```
//! The back-end's stream holds, for layouts 1 and 2 (numbers are LEB128 varints; strings never
//! hold a line break, so each ends with one, which keeps them text to the back-end):
//! ```text
//! flags (bit 0: the text ends with \n) | lines | templates | each template
//! | each line's template (the template count itself = a line kept whole)
//! | the columns, in order: kind (0 strings, one per value; 1 dictionary: the entries' count,
//!   the entries, then an index per value; 2 integers: the first value's zigzag delta from 0,
//!   then each next one's from the previous, then a width flag and, where set, each value's
//!   digit count as a byte)
//! | the whole lines
//! ```
//! Layout 1 has a column per template and field position (Logzip's), in template order; layout
//! 2 one per field position over all lines (the first fields of every line — most logs'
//! timestamps — form one sequence whatever the line's template). The encoder writes all three
//! layouts through the back-end (with `backend=auto`, through xz, brotli, bzip2 and PPMd each)
//! and keeps the smallest, so on text that is not a log the codec costs its best back-end's
//! bytes plus 11. On small logs of varied lines (a few tens of kB of package names, users and
//! hosts) the plain text through PPMd is usually smallest; the columns win where lines repeat a
//! few templates with numbers in them (an access log).
//!
//! Decoding is bounded: the text length is checked against the limit first; the back-end's
//! output is bounded by it as every text decoder's is; every count is checked against the bytes
//! left before anything is sized from it, and the rebuilt text may not pass its stated length.

use std::collections::HashMap;

use mpq_core::{Codec, Error, Media, Modality, ParamSpec, Params, ParamValue, Result, Text, codec::ResolvedParams, limits};

pub const MAGIC: &[u8; 4] = b"MPLG";
pub const VERSION: u8 = 1;
const HEADER: usize = 4 + 1 + 1 + 1 + 4;
const FORMAT: &str = "mpqlab log";
const PLACEHOLDER: u8 = 0;

/// The back-ends, by their index in the stream: codec id and the setting that makes it
/// strongest.
pub const BACKENDS: [(&str, &str, i64); 5] = [("xz", "level", 9), ("zstd", "level", 19), ("brotli", "quality", 11), ("bzip2", "level", 9), ("ppmd", "order", 6)];

pub(crate) fn is_stream(bytes: &[u8]) -> bool {
    bytes.starts_with(MAGIC)
}

fn backend(index: usize) -> Result<(Box<dyn Codec>, Params)> {
    let (id, name, value) = BACKENDS.get(index).ok_or_else(|| Error::decode(FORMAT, format!("unknown back-end {index}")))?;
    let mut params = Params::new();
    params.insert(name.to_string(), ParamValue::Int(*value));
    Ok((crate::codec(id)?, params))
}

// --- varints ---------------------------------------------------------------------------------

fn put(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Bytes that hold no line break, and one after them: the strings of the layout read as text to
/// the back-end (a length before each would break its contexts).
fn put_line(out: &mut Vec<u8>, b: &[u8]) {
    debug_assert!(!b.contains(&b'\n'));
    out.extend_from_slice(b);
    out.push(b'\n');
}

fn zigzag(d: i64) -> u64 {
    ((d << 1) ^ (d >> 63)) as u64
}

fn unzigzag(z: u64) -> i64 {
    (z >> 1) as i64 ^ -((z & 1) as i64)
}

/// Reads the container, every read checked against what is left.
struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn cut() -> Error {
        Error::decode(FORMAT, "the stream is cut short")
    }
    fn num(&mut self) -> Result<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let (&b, rest) = self.bytes.split_first().ok_or_else(Self::cut)?;
            self.bytes = rest;
            v |= ((b & 0x7f) as u64) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(Error::decode(FORMAT, "a number is longer than 64 bits"))
    }
    /// A count of things that each take at least `min_bytes` of what is left (0: a count that
    /// the caller bounds itself).
    fn count(&mut self, min_bytes: usize, what: &str) -> Result<usize> {
        let n = self.num()?;
        let most = if min_bytes == 0 { limits::MAX_TEXT_BYTES as u64 + 1 } else { (self.bytes.len() / min_bytes) as u64 };
        if n > most {
            return Err(Error::decode(FORMAT, format!("it claims {n} {what}, more than the stream holds")));
        }
        Ok(n as usize)
    }
    /// Bytes up to the next line break, which is consumed.
    fn line(&mut self) -> Result<&'a [u8]> {
        let n = self.bytes.iter().position(|&b| b == b'\n').ok_or_else(Self::cut)?;
        let (b, rest) = self.bytes.split_at(n);
        self.bytes = &rest[1..];
        Ok(b)
    }
    fn byte(&mut self) -> Result<u8> {
        let (&b, rest) = self.bytes.split_first().ok_or_else(Self::cut)?;
        self.bytes = rest;
        Ok(b)
    }
}

// --- the structure ---------------------------------------------------------------------------

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// The line's template and its fields (see the module's note).
fn split_line(line: &[u8]) -> (Vec<u8>, Vec<&[u8]>) {
    let mut template = Vec::with_capacity(line.len());
    let mut fields = Vec::new();
    let mut i = 0;
    while i < line.len() {
        if is_word(line[i]) {
            let start = i;
            while i < line.len() && is_word(line[i]) {
                i += 1;
            }
            let word = &line[start..i];
            if word.iter().any(u8::is_ascii_digit) {
                template.push(PLACEHOLDER);
                fields.push(word);
            } else {
                template.extend_from_slice(word);
            }
        } else {
            template.push(line[i]);
            i += 1;
        }
    }
    (template, fields)
}

/// A decimal integer as the column can store it: digits only, at most 19 (below 10¹⁹).
fn as_integer(field: &[u8]) -> Option<u64> {
    if field.is_empty() || field.len() > 19 || !field.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(field.iter().fold(0u64, |v, &d| v * 10 + (d - b'0') as u64))
}

fn digits(mut v: u64) -> usize {
    let mut n = 1;
    while v >= 10 {
        v /= 10;
        n += 1;
    }
    n
}

fn write_column(out: &mut Vec<u8>, values: &[&[u8]]) {
    if let Some(ints) = values.iter().map(|v| as_integer(v)).collect::<Option<Vec<u64>>>() {
        out.push(2);
        let mut prev = 0u64;
        for &v in &ints {
            put(out, zigzag(v.wrapping_sub(prev) as i64));
            prev = v;
        }
        let natural = values.iter().zip(&ints).all(|(s, &v)| s.len() == digits(v));
        out.push(!natural as u8);
        if !natural {
            out.extend(values.iter().map(|s| s.len() as u8));
        }
        return;
    }
    let mut dict: HashMap<&[u8], usize> = HashMap::new();
    let mut order = Vec::new();
    for v in values {
        dict.entry(v).or_insert_with(|| {
            order.push(*v);
            order.len() - 1
        });
    }
    if order.len() * 4 <= values.len() {
        out.push(1);
        put(out, order.len() as u64);
        for v in &order {
            put_line(out, v);
        }
        for v in values {
            put(out, dict[v] as u64);
        }
    } else {
        out.push(0);
        for v in values {
            put_line(out, v);
        }
    }
}

/// A text cut into lines, each line's template and fields.
struct Parsed<'t> {
    ends_with_newline: bool,
    templates: Vec<Vec<u8>>,
    /// Per line: its template (`None`: kept whole) and its fields.
    lines: Vec<(Option<usize>, Vec<&'t [u8]>)>,
    whole: Vec<&'t [u8]>,
}

fn parse(text: &[u8]) -> Parsed<'_> {
    let ends_with_newline = text.last() == Some(&b'\n');
    let body = if ends_with_newline { &text[..text.len() - 1] } else { text };
    let raw: Vec<&[u8]> = if text.is_empty() { Vec::new() } else { body.split(|&b| b == b'\n').collect() };
    let mut ids: HashMap<Vec<u8>, usize> = HashMap::new();
    let mut parsed = Parsed { ends_with_newline, templates: Vec::new(), lines: Vec::with_capacity(raw.len()), whole: Vec::new() };
    for line in raw {
        if line.contains(&PLACEHOLDER) {
            parsed.lines.push((None, Vec::new()));
            parsed.whole.push(line);
            continue;
        }
        let (template, fields) = split_line(line);
        let id = *ids.entry(template.clone()).or_insert_with(|| {
            parsed.templates.push(template);
            parsed.templates.len() - 1
        });
        parsed.lines.push((Some(id), fields));
    }
    parsed
}

/// How the fields are cut into columns.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Columns {
    /// One column per template and field position (Logzip's): a template's fields side by side.
    PerTemplate,
    /// One column per field position over all lines: the first fields of every line (most
    /// logs' timestamps) form one sequence whatever the line's template.
    PerPosition,
}

/// The columns layout of a text (the back-end's input for layouts 1 and 2).
pub fn columns(text: &[u8], how: Columns) -> Vec<u8> {
    let p = parse(text);
    let mut out = Vec::with_capacity(text.len() / 2);
    put(&mut out, p.ends_with_newline as u64);
    put(&mut out, p.lines.len() as u64);
    put(&mut out, p.templates.len() as u64);
    for t in &p.templates {
        put_line(&mut out, t);
    }
    for (id, _) in &p.lines {
        put(&mut out, id.unwrap_or(p.templates.len()) as u64);
    }
    let mut cols: Vec<Vec<&[u8]>> = Vec::new();
    match how {
        Columns::PerTemplate => {
            let mut per: Vec<Vec<Vec<&[u8]>>> = p.templates.iter().map(|t| vec![Vec::new(); slots(t)]).collect();
            for (id, fields) in &p.lines {
                if let Some(id) = id {
                    for (col, f) in per[*id].iter_mut().zip(fields) {
                        col.push(f);
                    }
                }
            }
            cols = per.into_iter().flatten().collect();
        }
        Columns::PerPosition => {
            for (_, fields) in &p.lines {
                for (k, f) in fields.iter().enumerate() {
                    if cols.len() <= k {
                        cols.push(Vec::new());
                    }
                    cols[k].push(f);
                }
            }
        }
    }
    for col in &cols {
        write_column(&mut out, col);
    }
    for w in &p.whole {
        put_line(&mut out, w);
    }
    out
}

fn slots(template: &[u8]) -> usize {
    template.iter().filter(|&&b| b == PLACEHOLDER).count()
}

/// One column's values, rebuilt.
fn read_column(r: &mut Reader<'_>, n: usize) -> Result<Vec<Vec<u8>>> {
    match r.byte()? {
        0 => (0..n).map(|_| r.line().map(<[u8]>::to_vec)).collect(),
        1 => {
            let entries = r.count(1, "dictionary entries")?;
            if entries == 0 && n > 0 {
                return Err(Error::decode(FORMAT, "a dictionary column has no entries"));
            }
            let dict = (0..entries).map(|_| r.line()).collect::<Result<Vec<_>>>()?;
            (0..n)
                .map(|_| {
                    let i = r.num()? as usize;
                    dict.get(i).map(|d| d.to_vec()).ok_or_else(|| Error::decode(FORMAT, format!("dictionary index {i} past its {entries} entries")))
                })
                .collect()
        }
        2 => {
            let mut prev = 0u64;
            let mut ints = Vec::with_capacity(n.min(r.bytes.len()));
            for _ in 0..n {
                prev = prev.wrapping_add(unzigzag(r.num()?) as u64);
                if prev >= 10_000_000_000_000_000_000 {
                    return Err(Error::decode(FORMAT, "an integer field has more than 19 digits"));
                }
                ints.push(prev);
            }
            let widths = match r.byte()? {
                0 => None,
                1 => {
                    if r.bytes.len() < n {
                        return Err(Reader::cut());
                    }
                    let (w, rest) = r.bytes.split_at(n);
                    r.bytes = rest;
                    Some(w)
                }
                f => return Err(Error::decode(FORMAT, format!("unknown width flag {f}"))),
            };
            ints.iter()
                .enumerate()
                .map(|(i, &v)| {
                    let natural = digits(v);
                    let width = widths.map_or(natural, |w| w[i] as usize);
                    if width < natural || width > 19 {
                        return Err(Error::decode(FORMAT, format!("a field of {width} digits cannot hold {v}")));
                    }
                    Ok(format!("{v:0width$}").into_bytes())
                })
                .collect()
        }
        k => Err(Error::decode(FORMAT, format!("unknown column kind {k}"))),
    }
}

/// Rebuilds the text from its columns layout; `text_len` is the length the header states.
pub fn from_columns(container: &[u8], text_len: usize, how: Columns) -> Result<Vec<u8>> {
    let mut r = Reader { bytes: container };
    let flags = r.num()?;
    if flags > 1 {
        return Err(Error::decode(FORMAT, format!("unknown flags {flags}")));
    }
    // Every line but the last takes a \n of the text.
    let lines = r.count(1, "lines")?;
    if lines > text_len + 1 {
        return Err(Error::decode(FORMAT, format!("{lines} lines cannot make {text_len} bytes")));
    }
    let n_templates = r.count(1, "templates")?;
    let templates = (0..n_templates).map(|_| r.line()).collect::<Result<Vec<_>>>()?;
    let slot_counts: Vec<usize> = templates.iter().map(|t| slots(t)).collect();
    let mut uses = vec![0usize; n_templates + 1];
    let mut line_template = Vec::with_capacity(lines);
    for _ in 0..lines {
        let id = r.num()? as usize;
        if id > n_templates {
            return Err(Error::decode(FORMAT, format!("line template {id} past the {n_templates} templates")));
        }
        uses[id] += 1;
        line_template.push(id);
    }
    // A template's constant bytes appear once per line that uses it; fields and whole lines
    // are counted as they are read.
    let mut budget = text_len;
    for (t, template) in templates.iter().enumerate() {
        let constant = (template.len() - slot_counts[t]).saturating_mul(uses[t]);
        budget = budget.checked_sub(constant).ok_or_else(|| too_long(text_len))?;
    }
    // Each column's length, from the templates' use.
    let lengths: Vec<usize> = match how {
        Columns::PerTemplate => (0..n_templates).flat_map(|t| std::iter::repeat_n(uses[t], slot_counts[t])).collect(),
        Columns::PerPosition => {
            let widest = (0..n_templates).filter(|&t| uses[t] > 0).map(|t| slot_counts[t]).max().unwrap_or(0);
            let mut at_least = vec![0usize; widest + 1];
            for t in 0..n_templates {
                if uses[t] > 0 {
                    at_least[slot_counts[t]] += uses[t];
                }
            }
            // Lines with more than k fields.
            let mut n = Vec::with_capacity(widest);
            let mut more: usize = at_least.iter().sum();
            for &a in &at_least[..widest] {
                more -= a;
                n.push(more);
            }
            n
        }
    };
    let mut columns = Vec::with_capacity(lengths.len());
    for &n in &lengths {
        let col = read_column(&mut r, n)?;
        let len: usize = col.iter().map(Vec::len).sum();
        budget = budget.checked_sub(len).ok_or_else(|| too_long(text_len))?;
        columns.push(col.into_iter());
    }
    let mut whole = (0..uses[n_templates]).map(|_| r.line()).collect::<Result<Vec<_>>>()?.into_iter();
    if !r.bytes.is_empty() {
        return Err(Error::decode(FORMAT, format!("{} bytes after the last column", r.bytes.len())));
    }
    // Where each template's columns start (per template).
    let mut first = Vec::with_capacity(n_templates);
    let mut at = 0;
    for &c in &slot_counts {
        first.push(at);
        at += c;
    }
    let mut out = Vec::with_capacity(text_len);
    for (n, &id) in line_template.iter().enumerate() {
        if n > 0 {
            out.push(b'\n');
        }
        if id == n_templates {
            out.extend_from_slice(whole.next().expect("counted"));
        } else {
            let mut slot = 0;
            for &b in templates[id] {
                if b == PLACEHOLDER {
                    let col = match how {
                        Columns::PerTemplate => first[id] + slot,
                        Columns::PerPosition => slot,
                    };
                    out.extend_from_slice(&columns[col].next().expect("counted"));
                    slot += 1;
                } else {
                    out.push(b);
                }
            }
        }
        if out.len() > text_len {
            return Err(too_long(text_len));
        }
    }
    if flags & 1 == 1 {
        out.push(b'\n');
    }
    if out.len() != text_len {
        return Err(Error::decode(FORMAT, format!("the columns make {} bytes, the header says {text_len}", out.len())));
    }
    Ok(out)
}

fn too_long(text_len: usize) -> Error {
    Error::decode(FORMAT, format!("the columns make more than the {text_len} bytes the header states"))
}

fn header(backend: usize, layout: u8, text_len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER);
    out.extend_from_slice(MAGIC);
    out.push(VERSION);
    out.push(backend as u8);
    out.push(layout);
    out.extend_from_slice(&(text_len as u32).to_le_bytes());
    out
}

pub struct Logs;

impl Codec for Logs {
    fn id(&self) -> &'static str {
        "logs"
    }
    fn name(&self) -> &'static str {
        "Log structure (ours)"
    }
    fn modality(&self) -> Modality {
        Modality::Text
    }
    fn lossless(&self) -> bool {
        true
    }
    fn extension(&self) -> &'static str {
        "mplog"
    }
    fn mime(&self) -> &'static str {
        "application/x-mpqlab-log"
    }
    fn params(&self) -> Vec<ParamSpec> {
        let mut ids = vec!["auto"];
        ids.extend(BACKENDS.iter().map(|b| b.0));
        vec![ParamSpec::choice(
            "backend",
            "Back-end",
            &ids,
            "auto",
            "the classic codec over the columns: xz -9, zstd -19, brotli -q11, bzip2 -9 or PPMd order 6; auto tries xz, brotli, bzip2 and PPMd and keeps the smallest",
        )]
    }
    fn encode_resolved(&self, input: &Media, params: &ResolvedParams) -> Result<Vec<u8>> {
        let text = super::expect_text(self.id(), input)?;
        let backends: Vec<usize> = match params.choice("backend") {
            // zstd -19 is left out of auto: on text it is never smaller than xz -9.
            "auto" => ["xz", "brotli", "bzip2", "ppmd"].iter().map(|id| BACKENDS.iter().position(|b| b.0 == *id).expect("listed")).collect(),
            one => vec![BACKENDS.iter().position(|b| b.0 == one).expect("the schema lists the back-ends")],
        };
        let mut layouts = vec![(0u8, text.to_vec())];
        for (layout, how) in [(1, Columns::PerTemplate), (2, Columns::PerPosition)] {
            let cols = columns(text, how);
            // A layout past the text limit could not be read back through the back-end.
            if cols.len() <= limits::MAX_TEXT_BYTES {
                layouts.push((layout, cols));
            }
        }
        // Every back-end on every layout, the smallest kept (the first of equals).
        let mut best: Option<Vec<u8>> = None;
        for &index in &backends {
            let (codec, bparams) = backend(index)?;
            for (layout, bytes) in &layouts {
                let coded = codec.encode(&Media::Text(Text { bytes: bytes.clone() }), &bparams)?;
                if best.as_ref().is_none_or(|b| HEADER + coded.len() < b.len()) {
                    let mut out = header(index, *layout, text.len());
                    out.extend_from_slice(&coded);
                    best = Some(out);
                }
            }
        }
        Ok(best.expect("at least one back-end and layout"))
    }
    fn decode(&self, bytes: &[u8]) -> Result<Media> {
        if !is_stream(bytes) {
            return Err(Error::decode(FORMAT, "it does not start with MPLG"));
        }
        if bytes.len() < HEADER {
            return Err(Error::decode(FORMAT, "the stream is cut short"));
        }
        if bytes[4] != VERSION {
            return Err(Error::decode(FORMAT, format!("version {} (this build reads version {VERSION})", bytes[4])));
        }
        let (codec, _) = backend(bytes[5] as usize)?;
        let layout = bytes[6];
        let text_len = u32::from_le_bytes(bytes[7..11].try_into().expect("4 bytes")) as usize;
        if text_len > limits::MAX_TEXT_BYTES {
            return Err(limits::text_too_large(FORMAT));
        }
        let inner = codec.decode(&bytes[HEADER..])?.into_text()?.bytes;
        let text = match layout {
            0 if inner.len() == text_len => inner,
            0 => return Err(Error::decode(FORMAT, format!("it holds {} bytes, the header says {text_len}", inner.len()))),
            1 => from_columns(&inner, text_len, Columns::PerTemplate)?,
            2 => from_columns(&inner, text_len, Columns::PerPosition)?,
            l => return Err(Error::decode(FORMAT, format!("unknown layout {l}"))),
        };
        Ok(Media::Text(Text { bytes: text }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(text: &[u8]) {
        for how in [Columns::PerTemplate, Columns::PerPosition] {
            let cols = columns(text, how);
            assert_eq!(from_columns(&cols, text.len(), how).unwrap(), text, "{how:?} {:?}", String::from_utf8_lossy(text));
        }
    }

    #[test]
    fn lines_split_into_templates_and_fields() {
        let (t, f) = split_line(b"Dec  7 02:17:25 host sshd[1234]: Failed password for root from 10.0.0.7 port 22");
        assert_eq!(t, b"Dec  \0 \0:\0:\0 host sshd[\0]: Failed password for root from \0.\0.\0.\0 port \0");
        assert_eq!(f, vec![&b"7"[..], b"02", b"17", b"25", b"1234", b"10", b"0", b"0", b"7", b"22"]);
    }

    #[test]
    fn edge_cases_round_trip() {
        for t in [&b""[..], b"\n", b"\n\n", b"a", b"a\n", b"007 08 9\n", b"x\0y\nz 1\n", b"18446744073709551615 9999999999999999999", b"0x7f3a id42 42id\r\n", b"\xff\xfe 12 \xc3\xa9\n"] {
            round_trip(t);
        }
        let mut many = Vec::new();
        for i in 0..500u32 {
            many.extend_from_slice(format!("2026-12-07 02:{:02}:{:02} INFO worker-{} took {} ms\n", i / 60, i % 60, i % 3, i * 7 % 101).as_bytes());
        }
        round_trip(&many);
    }

    #[test]
    fn hostile_columns_are_refused() {
        let text = b"a 1\nb 2\na 3 x4\n";
        for how in [Columns::PerTemplate, Columns::PerPosition] {
            let cols = columns(text, how);
            // The stated length too short, or the columns cut.
            assert!(from_columns(&cols, text.len() - 1, how).is_err());
            for n in 0..cols.len() {
                assert!(from_columns(&cols[..n], text.len(), how).is_err(), "cut at {n}");
            }
            // Trailing bytes.
            let mut extra = cols.clone();
            extra.push(0);
            assert!(from_columns(&extra, text.len(), how).is_err());
            // Millions of lines claimed in a few bytes.
            let mut bomb = Vec::new();
            put(&mut bomb, 0);
            put(&mut bomb, 1 << 40);
            assert!(from_columns(&bomb, 100, how).is_err());
        }
    }
}

/// What a stream holds: its back-end's codec id, its layout (0 plain, 1 per-template columns,
/// 2 per-position columns) and the text's length — the page's log panel and the notes say
/// which won.
pub fn describe(bytes: &[u8]) -> Result<(&'static str, u8, usize)> {
    if !is_stream(bytes) || bytes.len() < HEADER {
        return Err(Error::decode(FORMAT, "not a log stream"));
    }
    let (id, _, _) = BACKENDS.get(bytes[5] as usize).ok_or_else(|| Error::decode(FORMAT, format!("unknown back-end {}", bytes[5])))?;
    Ok((id, bytes[6], u32::from_le_bytes(bytes[7..11].try_into().expect("4 bytes")) as usize))
}

/// One template the codec found: how it reads (each field shown as `<*>`), how many lines use
/// it and how many fields it has.
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateUse {
    pub template: String,
    pub lines: usize,
    pub fields: usize,
}

/// One column of the per-template layout: its template, field position, the kind the encoder
/// chose (`integers`, `dictionary`, `strings`), its values and bytes (the values' own and in the
/// layout, before the back-end).
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnUse {
    pub template: usize,
    pub field: usize,
    pub kind: &'static str,
    pub values: usize,
    pub value_bytes: usize,
    pub layout_bytes: usize,
}

/// What the codec finds in a text: the page's log panel and `mpqlab eval LOG -c logs` show it.
#[derive(Debug, Clone, PartialEq)]
pub struct Structure {
    pub lines: usize,
    /// Lines kept whole (they hold the placeholder byte).
    pub whole_lines: usize,
    /// Most used first (ties in order of first use).
    pub templates: Vec<TemplateUse>,
    /// In the per-template layout's order; `template` counts templates in order of first use,
    /// as the stream holds them (not in the order of the sorted list above).
    pub columns: Vec<ColumnUse>,
}

/// The templates and columns of a text (the per-template layout's).
pub fn structure(text: &[u8]) -> Structure {
    let p = parse(text);
    let mut uses = vec![0usize; p.templates.len()];
    let mut per: Vec<Vec<Vec<&[u8]>>> = p.templates.iter().map(|t| vec![Vec::new(); slots(t)]).collect();
    for (id, fields) in &p.lines {
        if let Some(id) = id {
            uses[*id] += 1;
            for (col, f) in per[*id].iter_mut().zip(fields) {
                col.push(f);
            }
        }
    }
    let mut columns = Vec::new();
    for (t, cols) in per.iter().enumerate() {
        for (field, col) in cols.iter().enumerate() {
            let mut out = Vec::new();
            write_column(&mut out, col);
            let kind = match out.first() {
                Some(2) => "integers",
                Some(1) => "dictionary",
                _ => "strings",
            };
            columns.push(ColumnUse { template: t, field, kind, values: col.len(), value_bytes: col.iter().map(|v| v.len()).sum(), layout_bytes: out.len() });
        }
    }
    let mut templates: Vec<TemplateUse> = p
        .templates
        .iter()
        .zip(&uses)
        .map(|(t, &lines)| {
            let shown: Vec<u8> = t.iter().flat_map(|&b| if b == PLACEHOLDER { b"<*>".to_vec() } else { vec![b] }).collect();
            TemplateUse { template: String::from_utf8_lossy(&shown).into_owned(), lines, fields: slots(t) }
        })
        .collect();
    templates.sort_by(|a, b| b.lines.cmp(&a.lines));
    Structure { lines: p.lines.len(), whole_lines: p.whole.len(), templates, columns }
}

/// What the codec found in `text` and kept in `stream` (its encoding of `text`), the `top` most
/// used templates listed: the page's log panel and `mpqlab eval LOG -c logs` show it.
pub fn summary(text: &[u8], stream: &[u8], top: usize) -> Result<mpq_metrics::text::LogSummary> {
    let (backend, layout, _) = describe(stream)?;
    let s = structure(text);
    let templates = s.templates.into_iter().map(|t| (t.template, t.lines, t.fields));
    let columns = s.columns.into_iter().map(|c| (c.kind.to_string(), c.value_bytes, c.layout_bytes));
    Ok(mpq_metrics::text::LogSummary::new(backend, layout, s.lines, s.whole_lines, templates, columns, top))
}

#[cfg(test)]
mod structure_tests {
    use super::*;

    #[test]
    fn the_structure_counts_templates_and_columns() {
        let s = structure(b"GET /a 200 12\nGET /b 404 0\nGET /a 200 9\nstarted\n");
        assert_eq!(s.lines, 4);
        assert_eq!(s.templates[0], TemplateUse { template: "GET /a <*> <*>".into(), lines: 2, fields: 2 });
        assert_eq!(s.templates.len(), 3);
        assert_eq!(s.columns.len(), 4);
        assert!(s.columns.iter().all(|c| c.kind == "integers"));
        assert_eq!(s.columns.iter().map(|c| c.values).sum::<usize>(), 6);
    }
}
