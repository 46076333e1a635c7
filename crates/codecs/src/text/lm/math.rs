//! Arithmetic that gives the same bits on every platform: the language-model coder's encoder
//! and decoder must compute the *same* probabilities, natively and in wasm32, or the decoder
//! goes astray at the first difference. IEEE-754 makes `+ − × ÷` and `sqrt` exact-rounded, so
//! they agree everywhere as long as the order of operations is fixed (Rust never contracts
//! `a * b + c` into a fused multiply–add, and never reorders float sums); `exp`, `tanh` and
//! friends come from each platform's libm and may differ in the last bit, so they are ours,
//! built from those operations alone.

/// e^x for x in the range the network needs, from exact-rounded operations only: x = n·ln 2 +
/// r with |r| ≤ ln 2 / 2, e^r by a degree-6 Taylor polynomial (relative error < 2e-7 there),
/// times 2^n built from its bits. Inputs are clamped to [−87, 88] (no denormals, no infinity).
pub fn exp(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    // ln 2 split in two so that n·LN2_HI is exact for |n| < 2^8 (Cody and Waite).
    const LN2_HI: f32 = 0.693_145_75;
    const LN2_LO: f32 = 1.428_606_8e-6;
    let x = x.clamp(-87.0, 88.0);
    let n = (x * LOG2E + 0.5).floor();
    let r = (x - n * LN2_HI) - n * LN2_LO;
    let p = 1.0 + r * (1.0 + r * (0.5 + r * (1.0 / 6.0 + r * (1.0 / 24.0 + r * (1.0 / 120.0 + r * (1.0 / 720.0))))));
    p * f32::from_bits(((n as i32 + 127) as u32) << 23)
}

/// The logistic function 1 / (1 + e^−x).
pub fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + exp(-x))
}

/// tanh x = 2σ(2x) − 1 (absolute error < 3e-7: enough for a network trained with the exact one).
pub fn tanh(x: f32) -> f32 {
    2.0 * sigmoid(2.0 * x) - 1.0
}

/// ln(p / (1 − p)) in the coder's 12-bit fixed point: the smallest d with `squash(d) ≥ p`,
/// for p in 0…4095 (the inverse of [`squash`], built from it, so no float is involved).
pub fn stretch(p: u32) -> i32 {
    STRETCH[p.min(4095) as usize] as i32
}

/// 4096 / (1 + e^(−d/256)) for d in −2047…2047, as an integer 1…4095: interpolated in a
/// 33-entry table (the table of lpaq1 and paq8, by Matt Mahoney: integer, so exact everywhere).
pub const fn squash(d: i32) -> u32 {
    const T: [i32; 33] = [
        1, 2, 3, 6, 10, 16, 27, 45, 73, 120, 194, 310, 488, 747, 1101, 1546, 2047, 2549, 2994, 3348, 3607, 3785, 3901, 3975,
        4024, 4050, 4068, 4079, 4085, 4089, 4092, 4093, 4094,
    ];
    if d > 2047 {
        return 4095;
    }
    if d < -2047 {
        return 1;
    }
    let w = d & 127;
    let i = ((d >> 7) + 16) as usize;
    ((T[i] * (128 - w) + T[i + 1] * w + 64) >> 7) as u32
}

static STRETCH: [i16; 4096] = {
    let mut t = [0i16; 4096];
    let mut pi = 0usize;
    let mut x = -2047;
    while x <= 2047 {
        let v = squash(x) as usize;
        while pi <= v {
            t[pi] = x as i16;
            pi += 1;
        }
        x += 1;
    }
    while pi < 4096 {
        t[pi] = 2047;
        pi += 1;
    }
    t
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_is_close_to_std_and_finite() {
        let mut worst = 0f64;
        for i in -8700..=8800 {
            let x = i as f32 / 100.0;
            let rel = ((exp(x) as f64 - (x as f64).exp()) / (x as f64).exp()).abs();
            worst = worst.max(rel);
        }
        assert!(worst < 4e-7, "worst relative error {worst}");
        assert!(exp(-1000.0) > 0.0 && exp(1000.0).is_finite());
        assert_eq!(exp(0.0), 1.0);
    }

    #[test]
    fn tanh_and_sigmoid_are_close() {
        for i in -2000..=2000 {
            let x = i as f32 / 100.0;
            assert!((tanh(x) - x.tanh()).abs() < 4e-7, "tanh {x}");
            assert!((sigmoid(x) - 1.0 / (1.0 + (-x).exp())).abs() < 2e-7, "sigmoid {x}");
        }
    }

    #[test]
    fn stretch_inverts_squash() {
        for p in 1..4095u32 {
            let d = stretch(p);
            assert!(squash(d) >= p && (d == -2047 || squash(d - 1) < p), "p {p} d {d}");
        }
        assert_eq!(squash(0), 2047);
        assert!(stretch(2048).abs() <= 1);
    }
}
