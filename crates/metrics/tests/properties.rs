//! Arbitrary inputs: no panics, and the invariants every metric promises.

use mpq_core::{Error, Image, PixelFormat};
use proptest::prelude::*;

fn format() -> impl Strategy<Value = PixelFormat> {
    prop_oneof![Just(PixelFormat::Gray8), Just(PixelFormat::Rgb8), Just(PixelFormat::Rgba8)]
}

fn image(w: u32, h: u32) -> impl Strategy<Value = Image> {
    format().prop_flat_map(move |f| {
        proptest::collection::vec(any::<u8>(), (w * h) as usize * f.channels())
            .prop_map(move |d| Image::new(w, h, f, d).unwrap())
    })
}

/// A pair of the same size, anywhere from 1×1 to beyond the 11 px SSIM minimum.
fn pair() -> impl Strategy<Value = (Image, Image)> {
    (1u32..40, 1u32..40).prop_flat_map(|(w, h)| (image(w, h), image(w, h)))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn never_panics_and_stays_in_range((a, b) in pair()) {
        let q = mpq_metrics::quality(&a, &b).unwrap();
        prop_assert!(q.psnr_rgb >= 0.0 && q.psnr_y >= 0.0);
        prop_assert_eq!(q.psnr_rgb, mpq_metrics::psnr_rgb(&a, &b).unwrap());
        let big = a.width() >= 11 && a.height() >= 11;
        prop_assert_eq!(mpq_metrics::ssim(&a, &b).is_ok(), big);
        prop_assert_eq!(mpq_metrics::ms_ssim(&a, &b).is_ok(), big);
        if let (Some(s), Some(ms)) = (q.ssim, q.ms_ssim) {
            prop_assert!((-1.0..=1.0).contains(&s), "ssim {}", s);
            prop_assert!((0.0..=1.0).contains(&ms.value), "ms_ssim {}", ms.value);
            prop_assert!((1..=5).contains(&ms.scales));
            let back = mpq_metrics::ssim(&b, &a).unwrap();
            prop_assert!((s - back).abs() < 1e-12);
        } else {
            prop_assert!(!big);
        }
        let self_q = mpq_metrics::quality(&a, &a).unwrap();
        prop_assert_eq!(self_q.psnr_rgb, f64::INFINITY);
        prop_assert_eq!(self_q.psnr_y, f64::INFINITY);
        if let Some(s) = self_q.ssim {
            prop_assert!((s - 1.0).abs() < 1e-9);
        }
        let r = mpq_metrics::rate(b.data().len(), &a);
        prop_assert!(r.bits_per_pixel > 0.0 && r.compression_ratio > 0.0);
    }

    #[test]
    fn mismatched_sizes_are_errors(a in image(13, 12), b in image(12, 13)) {
        prop_assert!(matches!(mpq_metrics::psnr_rgb(&a, &b), Err(Error::Invalid(_))));
        prop_assert!(matches!(mpq_metrics::psnr_y(&a, &b), Err(Error::Invalid(_))));
        prop_assert!(matches!(mpq_metrics::ssim(&a, &b), Err(Error::Invalid(_))));
        prop_assert!(matches!(mpq_metrics::ms_ssim(&a, &b), Err(Error::Invalid(_))));
        prop_assert!(matches!(mpq_metrics::quality(&a, &b), Err(Error::Invalid(_))));
    }
}
