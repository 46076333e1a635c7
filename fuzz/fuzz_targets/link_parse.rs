//! Any text through the experiment-link parser (a link is input from a stranger): an error, or
//! an experiment whose own link reads back to the same experiment.
#![no_main]
use libfuzzer_sys::fuzz_target;
use mpq_core::Experiment;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(exp) = Experiment::parse(text) {
        let fragment = exp.to_fragment();
        assert!(fragment.len() <= mpq_core::experiment::MAX_LINK_CHARS, "{fragment}");
        assert_eq!(Experiment::parse(&fragment).as_ref(), Ok(&exp), "{text:?} → {fragment}");
    }
});
