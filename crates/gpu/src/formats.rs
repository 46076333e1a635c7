//! Weight formats, quantised exactly as llama.cpp's reference quantisers do, so bits per weight
//! and errors are comparable with that world.
//!
//! * `F32`, `F16`: plain.
//! * `Q8_0`: blocks of 32 weights, one f16 scale `d = max|x| / 127`, `q = round(x / d)` (int8).
//! * `Q4_0`: blocks of 32, one f16 scale `d = m / -8` where `m` is the signed value of largest
//!   magnitude, `q = min(15, trunc(x / d + 8.5))` (4-bit), dequantised as `(q − 8) · d`;
//!   byte `j` of a block holds element `j` in its low nibble and `j + 16` in its high one.
//!
//! * `Q3_0` (ours: llama.cpp has no 3-bit "legacy" block type; its Q3_K uses 256-weight
//!   super-blocks): blocks of 32, one f16 scale `d = m / -4` (as Q4_0, with 3 bits),
//!   `q = min(7, trunc(x / d + 4.5))`, dequantised as `(q − 4) · d`. Stored as two words of
//!   2-bit low parts (element `j` at bits `2(j mod 16)` of word `j / 16`) and one word of high
//!   bits (bit `j`): 3.5 bits per weight with the scale.
//!
//! Rows whose length is not a multiple of 32 are padded with zeros to whole blocks (llama.cpp
//! requires multiples of 32; we pad so any shape works). The kernels never read past `k`.
//!
//! [`Scale::Search`] keeps each block format's layout and dequantisation but chooses every
//! block's scale (and its sign, for Q4_0/Q3_0) by trying candidates around the reference rule
//! and keeping the one with the least squared error after rounding the scale to f16; the
//! reference quantisation is one of the candidates, so a block never gets worse.

use half::f16;

pub const BLOCK: usize = 32;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    F32,
    F16,
    Q8_0,
    Q4_0,
    Q3_0,
}

impl Format {
    pub const ALL: [Format; 5] = [Format::F32, Format::F16, Format::Q8_0, Format::Q4_0, Format::Q3_0];

    pub fn name(self) -> &'static str {
        match self {
            Format::F32 => "f32",
            Format::F16 => "f16",
            Format::Q8_0 => "q8_0",
            Format::Q4_0 => "q4_0",
            Format::Q3_0 => "q3_0",
        }
    }

    /// The format named `s` (`f32`, `f16`, `q8_0`, `q4_0`, `q3_0`; case-insensitive).
    pub fn parse(s: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.name().eq_ignore_ascii_case(s.trim()))
    }

    /// Storage bits per weight, scales included (llama.cpp: Q8_0 8.5, Q4_0 4.5).
    pub fn bits_per_weight(self) -> f64 {
        match self {
            Format::F32 => 32.0,
            Format::F16 => 16.0,
            Format::Q8_0 => (2.0 + 32.0) * 8.0 / 32.0,
            Format::Q4_0 => (2.0 + 16.0) * 8.0 / 32.0,
            Format::Q3_0 => (2.0 + 12.0) * 8.0 / 32.0,
        }
    }
}

/// A row-major `rows × cols` weight matrix in one format, laid out for the GPU: packed 32-bit
/// words (so WGSL can read it as `array<u32>`), and for block formats a separate scale array
/// (f16 pairs in u32). Each row is padded to `blocks_per_row · 32` elements.
#[derive(Debug, Clone, PartialEq)]
pub struct QuantMatrix {
    pub format: Format,
    pub rows: usize,
    pub cols: usize,
    /// Weights (f32 bits, f16 pairs, 4 int8, or 8 nibbles per word).
    pub data: Vec<u32>,
    /// Block scales as f16 pairs (empty for F32/F16).
    pub scales: Vec<u32>,
}

/// How a block format picks its per-block scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Scale {
    /// llama.cpp's reference rule (Q8_0: max|x|/127; Q4_0/Q3_0: signed max / −8 or −4).
    #[default]
    Reference,
    /// Least squared error over [`SEARCH_STEPS`] candidate scales per sign (see
    /// [`search_block`]). Same packed layout: the same kernels run it.
    Search,
}

impl Scale {
    pub fn name(self) -> &'static str {
        match self {
            Scale::Reference => "reference",
            Scale::Search => "search",
        }
    }
}

/// Candidate scales per sign in [`search_block`]: max|x| maps to the extreme level times
/// 0.8, 0.825, …, 1.2 (1.0 is the reference rule).
pub const SEARCH_STEPS: usize = 17;

/// Squared error of a block quantised to integer levels `q` with scale `d`.
fn block_error(x: &[f32; BLOCK], d: f32, q: &[i8; BLOCK]) -> f64 {
    x.iter().zip(q).map(|(&v, &qi)| ((v - qi as f32 * d) as f64).powi(2)).sum()
}

/// Error-minimising scale search for one block whose values are `q · d` with integer `q` in
/// `lo..=hi` (Q8_0: −128..=127, Q4_0: −8..=7, Q3_0: −4..=3), starting from the reference
/// quantisation `reference` (which is kept unless a candidate has strictly less error).
///
/// Candidates: for each sign choice (the largest-magnitude value maps to level `hi` or to
/// `lo`), [`SEARCH_STEPS`] scales `max / (level · f)` with `f` in 0.8…1.2 (f > 1 clips that
/// value a little to resolve the rest more finely), each also refitted once by least squares
/// (`d = Σ x·q / Σ q²` for its levels). Every candidate's scale is rounded to f16 first, as
/// stored, and its levels are the nearest to `x / d` in range, so the error compared is
/// exactly what the kernels see.
pub fn search_block(x: &[f32; BLOCK], lo: i8, hi: i8, reference: (f16, [i8; BLOCK])) -> (f16, [i8; BLOCK]) {
    let mut best = reference;
    let mut best_err = block_error(x, reference.0.to_f32(), &reference.1);
    let (mut amax, mut max) = (0f32, 0f32);
    for &v in x {
        if amax < v.abs() {
            amax = v.abs();
            max = v;
        }
    }
    if amax == 0.0 || !amax.is_finite() || !best_err.is_finite() {
        return best;
    }
    let mut try_scale = |d: f32| -> Option<[i8; BLOCK]> {
        let d16 = f16::from_f32(d);
        let dq = d16.to_f32();
        if dq == 0.0 || !dq.is_finite() {
            return None;
        }
        let mut q = [0i8; BLOCK];
        for (qi, &v) in q.iter_mut().zip(x) {
            *qi = (v / dq).round().clamp(lo as f32, hi as f32) as i8;
        }
        let err = block_error(x, dq, &q);
        if err < best_err {
            best_err = err;
            best = (d16, q);
        }
        Some(q)
    };
    for level in [hi, lo] {
        for k in 0..SEARCH_STEPS {
            let f = 0.8 + 0.4 * k as f32 / (SEARCH_STEPS - 1) as f32;
            let Some(q) = try_scale(max / (level as f32 * f)) else { continue };
            let (xq, qq) = x.iter().zip(&q).fold((0f64, 0f64), |(a, b), (&v, &qi)| {
                (a + v as f64 * qi as f64, b + (qi as f64).powi(2))
            });
            if qq > 0.0 {
                try_scale((xq / qq) as f32);
            }
        }
    }
    best
}

/// [`quantize_block_q8_0`] with [`search_block`].
pub fn search_block_q8_0(x: &[f32; BLOCK]) -> (f16, [i8; BLOCK]) {
    search_block(x, -128, 127, quantize_block_q8_0(x))
}

/// [`quantize_block_q4_0`] with [`search_block`]: same nibble layout (q + 8).
pub fn search_block_q4_0(x: &[f32; BLOCK]) -> (f16, [u8; BLOCK / 2]) {
    let (d, qs) = quantize_block_q4_0(x);
    let mut levels = [0i8; BLOCK];
    for j in 0..BLOCK / 2 {
        levels[j] = (qs[j] & 15) as i8 - 8;
        levels[j + BLOCK / 2] = (qs[j] >> 4) as i8 - 8;
    }
    let (d, q) = search_block(x, -8, 7, (d, levels));
    let mut out = [0u8; BLOCK / 2];
    for j in 0..BLOCK / 2 {
        out[j] = (q[j] + 8) as u8 | ((q[j + BLOCK / 2] + 8) as u8) << 4;
    }
    (d, out)
}

/// [`quantize_block_q3_0`] with [`search_block`]: same word layout (q + 4).
pub fn search_block_q3_0(x: &[f32; BLOCK]) -> (f16, [u32; 3]) {
    let (d, words) = quantize_block_q3_0(x);
    let mut levels = [0i8; BLOCK];
    for (j, l) in levels.iter_mut().enumerate() {
        let q = ((words[j / 16] >> (2 * (j % 16))) & 3) | ((words[2] >> j) & 1) << 2;
        *l = q as i8 - 4;
    }
    let (d, q) = search_block(x, -4, 3, (d, levels));
    let mut out = [0u32; 3];
    for (j, &l) in q.iter().enumerate() {
        let v = (l + 4) as u32;
        out[j / 16] |= (v & 3) << (2 * (j % 16));
        out[2] |= (v >> 2) << j;
    }
    (d, out)
}

pub fn blocks_per_row(cols: usize) -> usize {
    cols.div_ceil(BLOCK)
}

fn pack_f16_pairs(values: &[f16]) -> Vec<u32> {
    values.chunks(2).map(|p| p[0].to_bits() as u32 | (p.get(1).map_or(0, |h| h.to_bits()) as u32) << 16).collect()
}

fn padded_row(w: &[f32], r: usize, cols: usize) -> Vec<f32> {
    let mut row = w[r * cols..(r + 1) * cols].to_vec();
    row.resize(blocks_per_row(cols) * BLOCK, 0.0);
    row
}

/// llama.cpp's `quantize_row_q8_0_ref` for one block.
pub fn quantize_block_q8_0(x: &[f32; BLOCK]) -> (f16, [i8; BLOCK]) {
    let amax = x.iter().fold(0f32, |m, v| m.max(v.abs()));
    let d = amax / 127.0;
    let id = if d != 0.0 { 1.0 / d } else { 0.0 };
    let mut q = [0i8; BLOCK];
    for (qi, xi) in q.iter_mut().zip(x) {
        *qi = (xi * id).round() as i8; // f32::round rounds half away from zero, like roundf
    }
    (f16::from_f32(d), q)
}

/// One input row quantised for the int8-activation kernels, as llama.cpp quantises
/// activations before its `vec_dot_q8_0_q8_0` / `vec_dot_q4_0_q8_0`: the row padded with zeros
/// to `blocks` blocks of 32, each block Q8_0 ([`quantize_block_q8_0`]: one f16 scale, 32 int8).
pub fn quantize_activations(x: &[f32], blocks: usize) -> Vec<(f16, [i8; BLOCK])> {
    (0..blocks)
        .map(|b| {
            let mut block = [0f32; BLOCK];
            for (j, v) in block.iter_mut().enumerate() {
                *v = x.get(b * BLOCK + j).copied().unwrap_or(0.0);
            }
            quantize_block_q8_0(&block)
        })
        .collect()
}

/// llama.cpp's `quantize_row_q4_0_ref` for one block: 16 bytes of nibbles.
pub fn quantize_block_q4_0(x: &[f32; BLOCK]) -> (f16, [u8; BLOCK / 2]) {
    let (mut amax, mut max) = (0f32, 0f32);
    for &v in x {
        if amax < v.abs() {
            amax = v.abs();
            max = v;
        }
    }
    let d = max / -8.0;
    let id = if d != 0.0 { 1.0 / d } else { 0.0 };
    let mut qs = [0u8; BLOCK / 2];
    for j in 0..BLOCK / 2 {
        let q0 = ((x[j] * id + 8.5) as i8).min(15) as u8; // `as i8` truncates like C's cast
        let q1 = ((x[j + BLOCK / 2] * id + 8.5) as i8).min(15) as u8;
        qs[j] = q0 | (q1 << 4);
    }
    (f16::from_f32(d), qs)
}

/// Q3_0 for one block: (scale, [low-bits word 0, low-bits word 1, high-bits word]).
pub fn quantize_block_q3_0(x: &[f32; BLOCK]) -> (f16, [u32; 3]) {
    let (mut amax, mut max) = (0f32, 0f32);
    for &v in x {
        if amax < v.abs() {
            amax = v.abs();
            max = v;
        }
    }
    let d = max / -4.0;
    let id = if d != 0.0 { 1.0 / d } else { 0.0 };
    let mut words = [0u32; 3];
    for (j, &v) in x.iter().enumerate() {
        let q = ((v * id + 4.5) as i8).clamp(0, 7) as u32;
        words[j / 16] |= (q & 3) << (2 * (j % 16));
        words[2] |= (q >> 2) << j;
    }
    (f16::from_f32(d), words)
}

impl QuantMatrix {
    /// Quantises a row-major `rows × cols` f32 matrix with the reference scales. Panics if
    /// `w.len() != rows · cols` (a programming error; [`Self::quantize_with`] returns it).
    pub fn quantize(w: &[f32], rows: usize, cols: usize, format: Format) -> QuantMatrix {
        Self::quantize_with(w, rows, cols, format, Scale::Reference).expect("weight buffer does not match its shape")
    }

    /// Quantises a row-major `rows × cols` f32 matrix, choosing block scales by `scale`
    /// (ignored by F32/F16).
    pub fn quantize_with(
        w: &[f32],
        rows: usize,
        cols: usize,
        format: Format,
        scale: Scale,
    ) -> Result<QuantMatrix, mpq_core::Error> {
        if rows.checked_mul(cols) != Some(w.len()) {
            return Err(mpq_core::Error::Invalid(format!(
                "{} weights do not make a {rows}×{cols} matrix",
                w.len()
            )));
        }
        let search = scale == Scale::Search;
        let nb = blocks_per_row(cols);
        let (mut data, mut scales) = (Vec::new(), Vec::new());
        match format {
            Format::F32 => data = w.iter().map(|v| v.to_bits()).collect(),
            Format::F16 => {
                for r in 0..rows {
                    let row: Vec<f16> = padded_row(w, r, cols).iter().map(|&v| f16::from_f32(v)).collect();
                    data.extend(pack_f16_pairs(&row));
                }
            }
            Format::Q8_0 | Format::Q4_0 | Format::Q3_0 => {
                let mut d_all = Vec::with_capacity(rows * nb);
                for r in 0..rows {
                    let row = padded_row(w, r, cols);
                    for b in 0..nb {
                        let block: &[f32; BLOCK] = row[b * BLOCK..(b + 1) * BLOCK].try_into().expect("block");
                        if format == Format::Q8_0 {
                            let (d, q) = if search { search_block_q8_0(block) } else { quantize_block_q8_0(block) };
                            d_all.push(d);
                            data.extend(q.chunks(4).map(|c| u32::from_le_bytes([c[0] as u8, c[1] as u8, c[2] as u8, c[3] as u8])));
                        } else if format == Format::Q3_0 {
                            let (d, words) = if search { search_block_q3_0(block) } else { quantize_block_q3_0(block) };
                            d_all.push(d);
                            data.extend(words);
                        } else {
                            let (d, q) = if search { search_block_q4_0(block) } else { quantize_block_q4_0(block) };
                            d_all.push(d);
                            data.extend(q.chunks(4).map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]])));
                        }
                    }
                }
                scales = pack_f16_pairs(&d_all);
            }
        }
        Ok(QuantMatrix { format, rows, cols, data, scales })
    }

    /// Stored size in bytes (weights + scales, without row padding overhead of the GPU layout
    /// for F32 which has none).
    pub fn storage_bytes(&self) -> usize {
        4 * (self.data.len() + self.scales.len())
    }

    fn scale(&self, idx: usize) -> f32 {
        let word = self.scales[idx / 2];
        f16::from_bits(if idx.is_multiple_of(2) { word as u16 } else { (word >> 16) as u16 }).to_f32()
    }

    /// Scale of block `b` of row `r` (block formats only).
    pub fn block_scale(&self, r: usize, b: usize) -> f32 {
        self.scale(r * blocks_per_row(self.cols) + b)
    }

    /// The integer code of weight (r, c) of a block format, its offset taken off (Q4_0: the
    /// stored nibble − 8, Q3_0: the stored 3 bits − 4): the weight is `code · block_scale`.
    /// Columns up to the padded row length may be asked for (padding codes are 0).
    /// Panics for F32/F16, which have no codes.
    pub fn code(&self, r: usize, c: usize) -> i32 {
        let nb = blocks_per_row(self.cols);
        let (b, j) = (c / BLOCK, c % BLOCK);
        match self.format {
            Format::Q8_0 => {
                let i = (r * nb + b) * BLOCK + j;
                (self.data[i / 4] >> (8 * (i % 4))) as u8 as i8 as i32
            }
            Format::Q4_0 => {
                let byte = (r * nb + b) * (BLOCK / 2) + j % (BLOCK / 2);
                let v = (self.data[byte / 4] >> (8 * (byte % 4))) as u8;
                (if j < BLOCK / 2 { v & 15 } else { v >> 4 }) as i32 - 8
            }
            Format::Q3_0 => {
                let base = (r * nb + b) * 3;
                let lo = (self.data[base + j / 16] >> (2 * (j % 16))) & 3;
                let hi = (self.data[base + 2] >> j) & 1;
                (lo | hi << 2) as i32 - 4
            }
            Format::F32 | Format::F16 => panic!("{} weights have no integer codes", self.format.name()),
        }
    }

    /// Weight (r, c) as the kernels see it.
    pub fn get(&self, r: usize, c: usize) -> f32 {
        let padded = blocks_per_row(self.cols) * BLOCK;
        match self.format {
            Format::F32 => f32::from_bits(self.data[r * self.cols + c]),
            Format::F16 => {
                let i = r * padded + c;
                let word = self.data[i / 2];
                f16::from_bits(if i.is_multiple_of(2) { word as u16 } else { (word >> 16) as u16 }).to_f32()
            }
            Format::Q8_0 | Format::Q4_0 | Format::Q3_0 => self.code(r, c) as f32 * self.block_scale(r, c / BLOCK),
        }
    }

    /// Dequantised copy, row-major `rows × cols`.
    pub fn dequantize(&self) -> Vec<f32> {
        (0..self.rows).flat_map(|r| (0..self.cols).map(move |c| (r, c))).map(|(r, c)| self.get(r, c)).collect()
    }
}
