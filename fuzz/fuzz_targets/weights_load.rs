//! Any bytes as a model's weight file (`mpqlab quant|sweep --weights`, `train --init`): the
//! first byte picks the model. An error (another network's file, other shapes, damage), never
//! a panic or a huge allocation.
#![no_main]
use libfuzzer_sys::fuzz_target;
use mpq_models::{Classifier, ModelId, cpu_device};

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else { return };
    let id = ModelId::ALL[pick as usize % ModelId::ALL.len()];
    let _ = Classifier::load_weights(id, rest, &cpu_device());
});
