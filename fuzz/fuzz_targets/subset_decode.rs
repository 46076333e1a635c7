//! Any bytes through the test-subset reader (the page fetches the subsets; a damaged or hostile
//! file must be an error): labels within the classes, pixels exactly what the header says.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(set) = mpq_models::data::decode_subset(data) {
        assert_eq!(set.pixels.len(), set.len() * set.item_bytes());
    }
});
