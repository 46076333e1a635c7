//! The weights' layout in GPU memory for the bandwidth kernels (`kernels/*.wgsl`).
//!
//! The block *semantics* stay llama.cpp's (the same codes and f16 scales as [`QuantMatrix`],
//! so errors and bits per weight stay comparable); only where the bytes sit changes:
//!
//! * Each row is a run of *units*, every unit a whole number of 16-byte `vec4<u32>` words, so a
//!   lane fetches its weights with one to eight 16-byte loads and no load straddles a block.
//!   A unit is one block of 32 weights (f32: 8 words, f16: 4, Q8_0: 2, Q4_0: 1) or, for Q3_0
//!   whose 12-byte blocks do not align, four blocks in 3 words: word 0 holds the four blocks'
//!   first low-bit words, word 1 their second, word 2 their high-bit words (component k =
//!   block k of the unit). Rows are padded with zero blocks to whole units.
//! * The f16 block scales sit in their own array (pairs in `u32`), so the quant words stay
//!   aligned; a scale is read once per block.
//! * Rows are padded with zero rows to a multiple of the kernel's rows per workgroup, and a
//!   matrix larger than one storage binding is split into *slabs* of whole row groups, each
//!   with its own buffers (lavapipe binds at most 128 MiB, browsers often 128 MiB–2 GiB).
//! * The input vector is padded with zeros to the padded row length, so no kernel checks
//!   column bounds.

use crate::formats::{BLOCK, Format, QuantMatrix, blocks_per_row};

/// Blocks per unit (see the module docs).
pub fn blocks_per_unit(format: Format) -> usize {
    if format == Format::Q3_0 { 4 } else { 1 }
}

/// `vec4<u32>` words per unit.
pub fn words_per_unit(format: Format) -> usize {
    match format {
        Format::F32 => 8,
        Format::F16 => 4,
        Format::Q8_0 => 2,
        Format::Q4_0 => 1,
        Format::Q3_0 => 3,
    }
}

/// Blocks per padded row (a multiple of [`blocks_per_unit`]).
pub fn padded_blocks(format: Format, cols: usize) -> usize {
    blocks_per_row(cols).next_multiple_of(blocks_per_unit(format))
}

/// Units per padded row.
pub fn units_per_row(format: Format, cols: usize) -> usize {
    padded_blocks(format, cols) / blocks_per_unit(format)
}

/// Padded row length in weights (what the kernels read of x per input).
pub fn padded_cols(format: Format, cols: usize) -> usize {
    padded_blocks(format, cols) * BLOCK
}

/// Rows `row0 .. row0 + rows` of a matrix in the GPU layout: `words` (u32, 4 per `vec4`) and
/// `scales` (f16 pairs; one zero word for F32/F16, whose kernels bind but never read it).
/// `rows` may run past the matrix: those rows are zeros.
pub fn pack_rows(m: &QuantMatrix, row0: usize, rows: usize) -> (Vec<u32>, Vec<u32>) {
    let f = m.format;
    let nb = blocks_per_row(m.cols);
    let pb = padded_blocks(f, m.cols);
    let wpu = words_per_unit(f) * 4;
    let units = units_per_row(f, m.cols);
    let mut words = vec![0u32; rows * units * wpu];
    let mut scales_f16 = vec![0u16; if matches!(f, Format::F32 | Format::F16) { 0 } else { rows * pb }];
    let real = rows.min(m.rows.saturating_sub(row0));
    for lr in 0..real {
        let r = row0 + lr;
        let out = &mut words[lr * units * wpu..(lr + 1) * units * wpu];
        match f {
            Format::F32 => {
                // Row r of the unpadded f32 matrix, into a padded row.
                out[..m.cols].copy_from_slice(&m.data[r * m.cols..(r + 1) * m.cols]);
            }
            Format::F16 => {
                // Already padded to nb·32 halves, two per word: the same words.
                let per = nb * BLOCK / 2;
                out[..per].copy_from_slice(&m.data[r * per..(r + 1) * per]);
            }
            Format::Q8_0 | Format::Q4_0 => {
                let per = words_per_unit(f) * 4 * nb; // one unit = one block
                out[..per].copy_from_slice(&m.data[r * per..(r + 1) * per]);
            }
            Format::Q3_0 => {
                for b in 0..nb {
                    let src = &m.data[(r * nb + b) * 3..(r * nb + b) * 3 + 3];
                    let (unit, k) = (b / 4, b % 4);
                    for (part, &w) in src.iter().enumerate() {
                        out[unit * 12 + part * 4 + k] = w;
                    }
                }
            }
        }
        if !scales_f16.is_empty() {
            for b in 0..nb {
                let word = m.scales[(r * nb + b) / 2];
                scales_f16[lr * pb + b] = if (r * nb + b) % 2 == 0 { word as u16 } else { (word >> 16) as u16 };
            }
        }
    }
    let scales = if scales_f16.is_empty() {
        vec![0]
    } else {
        scales_f16.chunks(2).map(|p| p[0] as u32 | (p.get(1).copied().unwrap_or(0) as u32) << 16).collect()
    };
    (words, scales)
}

/// x (`batch` rows of `cols`) padded with zeros to `padded` columns per row.
pub fn pad_input(x: &[f32], batch: usize, cols: usize, padded: usize) -> Vec<f32> {
    let mut out = vec![0f32; batch * padded];
    for b in 0..batch {
        out[b * padded..b * padded + cols].copy_from_slice(&x[b * cols..(b + 1) * cols]);
    }
    out
}

/// x (`batch` rows of `cols`) for the int8-activation kernels: each row quantised to Q8_0
/// blocks ([`crate::formats::quantize_activations`]) over the padded row. `codes`: per input,
/// per block, 8 u32 of four int8 each (element 4i + k in byte k of word i, the layout
/// `dot4I8Packed` takes); `scales`: per input, per block, the pair (scale as f32, Σ codes) —
/// the kernels take the Q4_0/Q3_0 code offset off as offset · Σ codes (an exact integer).
pub fn quantize_input(x: &[f32], batch: usize, cols: usize, padded_blocks: usize) -> (Vec<u32>, Vec<f32>) {
    let mut codes = Vec::with_capacity(batch * padded_blocks * 8);
    let mut scales = Vec::with_capacity(batch * padded_blocks * 2);
    for b in 0..batch {
        for (d, q) in crate::formats::quantize_activations(&x[b * cols..(b + 1) * cols], padded_blocks) {
            codes.extend(q.chunks(4).map(|c| u32::from_le_bytes([c[0] as u8, c[1] as u8, c[2] as u8, c[3] as u8])));
            scales.push(d.to_f32());
            scales.push(q.iter().map(|&v| v as i32).sum::<i32>() as f32);
        }
    }
    (codes, scales)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::test_values;

    /// Decodes weight (r, c) from the GPU layout the way the kernels do, independently of
    /// `QuantMatrix::get`.
    fn gpu_get(f: Format, cols: usize, words: &[u32], scales: &[u32], r: usize, c: usize) -> f32 {
        let (b, j) = (c / BLOCK, c % BLOCK);
        let pb = padded_blocks(f, cols);
        let wpu = words_per_unit(f) * 4;
        let unit = &words[(r * units_per_row(f, cols) + b / blocks_per_unit(f)) * wpu..][..wpu];
        let s = || {
            let i = r * pb + b;
            half::f16::from_bits((scales[i / 2] >> (16 * (i % 2))) as u16).to_f32()
        };
        match f {
            Format::F32 => f32::from_bits(unit[j]),
            Format::F16 => half::f16::from_bits((unit[j / 2] >> (16 * (j % 2))) as u16).to_f32(),
            Format::Q8_0 => (unit[j / 4] >> (8 * (j % 4))) as u8 as i8 as f32 * s(),
            Format::Q4_0 => {
                let byte = (unit[(j % 16) / 4] >> (8 * (j % 4))) as u8;
                ((if j < 16 { byte & 15 } else { byte >> 4 }) as f32 - 8.0) * s()
            }
            Format::Q3_0 => {
                let k = b % 4;
                let lo = (unit[(j / 16) * 4 + k] >> (2 * (j % 16))) & 3;
                let hi = (unit[8 + k] >> j) & 1;
                ((lo | hi << 2) as f32 - 4.0) * s()
            }
        }
    }

    #[test]
    fn every_weight_sits_where_the_kernels_read_it() {
        for (rows, cols) in [(1, 1), (3, 33), (5, 130), (2, 257)] {
            let w = test_values(rows * cols, (rows * 7 + cols) as u64);
            for f in Format::ALL {
                let m = QuantMatrix::quantize(&w, rows, cols, f);
                let (words, scales) = pack_rows(&m, 0, rows + 3);
                assert_eq!(words.len(), (rows + 3) * units_per_row(f, cols) * words_per_unit(f) * 4);
                for r in 0..rows {
                    for c in 0..cols {
                        assert_eq!(gpu_get(f, cols, &words, &scales, r, c), m.get(r, c), "{f:?} {rows}×{cols} ({r},{c})");
                    }
                    for c in cols..padded_cols(f, cols) {
                        assert_eq!(gpu_get(f, cols, &words, &scales, r, c), 0.0, "{f:?} padding ({r},{c})");
                    }
                }
                // A slab from row 1 holds rows 1.. at its start.
                if rows > 1 {
                    let (w1, s1) = pack_rows(&m, 1, rows - 1);
                    assert_eq!(gpu_get(f, cols, &w1, &s1, 0, cols - 1), m.get(1, cols - 1));
                }
            }
        }
    }
}
