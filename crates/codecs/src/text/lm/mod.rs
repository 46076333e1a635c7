//! The language-model coder (`lm`): a byte-level network's next-byte probabilities, mixed with
//! adaptive context models, drive an arithmetic coder. Work in progress: the network
//! ([`net`]) and the platform-exact arithmetic ([`math`]).

pub mod math;
pub mod net;
