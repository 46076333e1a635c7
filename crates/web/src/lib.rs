//! mpqlab in the browser: two wasm modules from this crate.
//!
//! * The **UI module** (feature `ui`, bin `mpq-ui`): [`shell`] (header, lab switcher, banner,
//!   copy-link, routing between the URL fragment and the labs) and every lab's page side, on
//!   the services of [`ui`]. No burn, no codecs, no wgpu: it is light, and the page paints and
//!   becomes usable from it alone.
//! * The **worker module** (feature `worker`, bin `mpq-worker`): every lab's worker side, with
//!   the models and data sets of `machine`. The page compiles it once and every worker it
//!   starts instantiates that compiled module.
//!
//! [`lessons`] are the classroom lessons (their data file's format and the claims' checks;
//! their panel is `lessons::page`).
//!
//! [`labs`] registers the labs (one folder each: protocol, page side, worker side); [`bridge`]
//! carries their typed messages, with job ids, progress, cancel and crashes handled once for
//! all. The plain logic (protocols, the job tracker, viewport maths, formatting) builds and is
//! tested natively with `cargo test`.

pub mod bridge;
pub mod format;
pub mod labs;
pub mod lessons;
pub mod viewport;

#[cfg(target_arch = "wasm32")]
mod js;
#[cfg(all(target_arch = "wasm32", feature = "worker"))]
mod machine;
#[cfg(all(target_arch = "wasm32", feature = "ui"))]
pub mod shell;
#[cfg(all(target_arch = "wasm32", feature = "ui"))]
pub mod ui;
#[cfg(all(target_arch = "wasm32", feature = "worker"))]
pub mod worker_main;
