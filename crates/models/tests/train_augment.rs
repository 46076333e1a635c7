//! The training loop's codec-augmentation path, on a tiny run (1 epoch, a few dozen images):
//! the caller's closure is called for about `prob` of the items, with the item's shape and the
//! seeded random stream; its errors and wrong sizes stop training; the same seed gives the same
//! weights. Needs the `train` feature (the dev-dependency on this crate turns it on).

use std::cell::{Cell, RefCell};
use std::sync::Mutex;

use mpq_models::data::LabeledImages;
use mpq_models::train::{CodecAugment, ItemShape, TrainOptions, train};
use mpq_models::{CatsDogsCnn, CatsDogsCnnConfig, FashionCnn, FashionCnnConfig};

/// burn-flex keeps one process-wide seeded RNG (`Backend::seed` stores it in a static): two
/// trainings running at once in this test binary draw from it in turn, and "the same seed gives
/// the same weights" then fails now and then. Each test that trains holds this lock.
static ONE_TRAINING_AT_A_TIME: Mutex<()> = Mutex::new(());

fn set(n: usize, side: usize, channels: usize, classes: u8) -> LabeledImages {
    let item = side * side * channels;
    LabeledImages {
        rows: side,
        cols: side,
        channels,
        pixels: (0..n * item).map(|i| ((i * 37 + i / item * 11) % 256) as u8).collect(),
        labels: (0..n).map(|i| (i % classes as usize) as u8).collect(),
    }
}

fn opts(seed: u64) -> TrainOptions {
    TrainOptions { epochs: 1, batch_size: 16, seed, crop_padding: 2, ..TrainOptions::default() }
}

#[test]
fn codec_augmentation_is_applied_with_the_given_probability() {
    let _one = ONE_TRAINING_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let train_set = set(48, 32, 3, 2);
    let test = train_set.take(8);
    let calls = Cell::new(0usize);
    let draws = RefCell::new(Vec::new());
    // A dummy "codec": inverts every pixel; draws one number from the stream, as a codec
    // augmentation draws its quality.
    let invert = |item: &[u8], shape: ItemShape, rng: &mut dyn FnMut() -> u64| {
        assert_eq!(shape, ItemShape { width: 32, height: 32, channels: 3 });
        assert_eq!(item.len(), 32 * 32 * 3);
        calls.set(calls.get() + 1);
        draws.borrow_mut().push(rng());
        Ok(item.iter().map(|&p| 255 - p).collect())
    };
    let mut augmented = Vec::new();
    let aug = CodecAugment { apply: &invert, prob: 0.5 };
    let model = train(
        |d| Ok(CatsDogsCnnConfig::default().init(d)),
        &train_set,
        &test,
        &opts(3),
        Some(&aug),
        |r| augmented.push(r.augmented),
    )
    .unwrap();
    let n = calls.get();
    eprintln!("closure called for {n} of 48 items");
    assert_eq!(augmented, vec![n]);
    // Binomial(48, ½): mean 24, sd 3.5; the seeded stream gives a fixed count inside ±3.5 sd.
    assert!((12..=36).contains(&n), "{n}");
    // The draws are the seeded stream's values, not constants.
    assert!(draws.borrow().windows(2).all(|w| w[0] != w[1]));

    // Same seed, same closure: same calls and bit-identical weights.
    let calls_first = n;
    calls.set(0);
    draws.borrow_mut().clear();
    let again = train(|d| Ok(CatsDogsCnnConfig::default().init(d)), &train_set, &test, &opts(3), Some(&aug), |_| {})
        .unwrap();
    assert_eq!(calls.get(), calls_first);
    assert_eq!(model.to_bytes().unwrap(), again.to_bytes().unwrap());

    // Probability 0 never calls it, 1 always does.
    for (prob, expect) in [(0.0, 0), (1.0, 48)] {
        calls.set(0);
        let aug = CodecAugment { apply: &invert, prob };
        train(|d| Ok(CatsDogsCnnConfig::default().init(d)), &train_set, &test, &opts(3), Some(&aug), |_| {})
            .unwrap();
        assert_eq!(calls.get(), expect, "prob {prob}");
    }
}

#[test]
fn augmentation_errors_stop_training() {
    let _one = ONE_TRAINING_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let train_set = set(32, 28, 1, 10);
    let test = train_set.take(4);
    let fresh = |d: &mpq_models::Device| Ok(FashionCnnConfig::default().init(d));
    let failing = |_: &[u8], _: ItemShape, _: &mut dyn FnMut() -> u64| Err("encoder refused".to_string());
    let aug = CodecAugment { apply: &failing, prob: 1.0 };
    let err = train::<FashionCnn>(fresh, &train_set, &test, &opts(1), Some(&aug), |_| {}).unwrap_err();
    assert!(err.to_string().contains("encoder refused"), "{err}");
    let short = |item: &[u8], _: ItemShape, _: &mut dyn FnMut() -> u64| Ok(item[1..].to_vec());
    let aug = CodecAugment { apply: &short, prob: 1.0 };
    assert!(train::<FashionCnn>(fresh, &train_set, &test, &opts(1), Some(&aug), |_| {}).is_err());
    let aug = CodecAugment { apply: &short, prob: 1.5 };
    assert!(train::<FashionCnn>(fresh, &train_set, &test, &opts(1), Some(&aug), |_| {}).is_err());
    // The wrong network for the images is an error too.
    assert!(
        train::<CatsDogsCnn>(|d| Ok(CatsDogsCnnConfig::default().init(d)), &train_set, &test, &opts(1), None, |_| {})
            .is_err()
    );
}
