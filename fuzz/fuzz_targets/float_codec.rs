//! Any bytes through the lossless f16/bf16 weight decoder: an error, or values that encode
//! back to a stream decoding to the same values.
#![no_main]
use libfuzzer_sys::fuzz_target;
use mpq_models::float_codec::{decode, encode};

fuzz_target!(|data: &[u8]| {
    if let Ok((kind, values)) = decode(data) {
        assert_eq!(decode(&encode(&values, kind)).unwrap().1, values);
    }
});
