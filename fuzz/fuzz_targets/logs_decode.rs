//! The log-structure codec's parser: any bytes as a columns layout (both kinds, with a stated
//! text length taken from the input), where random bytes reach the parser directly instead of
//! stopping at the back-end's checks; and any bytes as a whole `.mplog` stream. The parser must
//! refuse or rebuild exactly the stated length; never panic, hang or allocate past its bounds.
#![no_main]
use libfuzzer_sys::fuzz_target;
use mpq_codecs::text::logs::{self, Columns};
use mpq_core::Codec;

fuzz_target!(|data: &[u8]| {
    if data.len() < 3 {
        return;
    }
    let how = if data[0] & 1 == 0 { Columns::PerTemplate } else { Columns::PerPosition };
    let stated = u16::from_le_bytes([data[1], data[2]]) as usize;
    if let Ok(text) = logs::from_columns(&data[3..], stated, how) {
        assert_eq!(text.len(), stated);
    }
    if let Ok(m) = logs::Logs.decode(data) {
        assert!(m.into_text().unwrap().bytes.len() <= mpq_core::limits::MAX_TEXT_BYTES);
    }
    let _ = logs::describe(data);
});
