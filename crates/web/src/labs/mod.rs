//! The labs, registered once: `labs!(image, model, audio, text)` below is the whole list.
//!
//! A lab is one folder, `labs/NAME/`:
//!
//! * `mod.rs`: its protocol: `pub struct Lab;`, `pub enum Request`, `pub enum Event` (serde),
//!   the plain data they carry, and `pub fn module(&Request) -> WorkerModule` (which worker
//!   module a request needs: the GPU one only for work on WebGPU); compiled everywhere and
//!   tested natively;
//! * `page.rs` (feature `ui`): its page side, `pub fn entry() -> crate::ui::LabEntry`;
//! * `worker.rs` (feature `worker`): its worker side, `pub async fn handle(ctx, request)`.
//!
//! Adding a lab is that folder plus its name in `labs!`; the macro makes the worker module's
//! one request and event type (an enum with a variant per lab), the bridge's [`Protocol`] for
//! each lab, the worker's dispatch and the page's list of labs. No other shared file changes.

use serde::{Deserialize, Serialize};

use crate::bridge::Protocol;

macro_rules! labs {
    ($($lab:ident),* $(,)?) => {
        $(pub mod $lab;)*

        /// A request for any lab's worker side (the worker module serves every lab).
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[allow(non_camel_case_types)]
        pub enum AnyRequest { $($lab($lab::Request)),* }

        /// An event from any lab's worker side.
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[allow(non_camel_case_types)]
        pub enum AnyEvent { $($lab($lab::Event)),* }

        $(
            impl From<$lab::Event> for AnyEvent {
                fn from(e: $lab::Event) -> Self {
                    AnyEvent::$lab(e)
                }
            }

            impl Protocol for $lab::Lab {
                type Request = $lab::Request;
                type Event = $lab::Event;
                type WireRequest = AnyRequest;
                type WireEvent = AnyEvent;
                fn wrap(request: $lab::Request) -> AnyRequest {
                    AnyRequest::$lab(request)
                }
                #[allow(unreachable_patterns)]
                fn unwrap(event: AnyEvent) -> Option<$lab::Event> {
                    match event {
                        AnyEvent::$lab(e) => Some(e),
                        _ => None,
                    }
                }
                fn module(request: &$lab::Request) -> crate::bridge::WorkerModule {
                    $lab::module(request)
                }
                const NAME: &'static str = concat!("the ", stringify!($lab), " lab's worker");
            }
        )*

        /// The lab ids, in the page's order.
        pub const LAB_IDS: &[&str] = &[$(stringify!($lab)),*];

        /// Runs one request on this worker (the worker module's entry calls this).
        #[cfg(all(target_arch = "wasm32", feature = "worker"))]
        pub async fn handle(ctx: crate::bridge::worker::Ctx<AnyEvent>, request: AnyRequest) -> Result<(), String> {
            match request {
                $(AnyRequest::$lab(r) => $lab::worker::handle(ctx, r).await.map_err(|e| e.to_string()),)*
            }
        }

        /// Every lab's page side, in order.
        #[cfg(all(target_arch = "wasm32", feature = "ui"))]
        pub fn pages() -> Vec<crate::ui::LabEntry> {
            vec![$($lab::page::entry()),*]
        }
    };
}

labs!(image, model, audio, text);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_lab_is_a_link_lab() {
        for id in LAB_IDS {
            assert!(mpq_core::experiment::LABS.contains(id), "{id} has no experiment (and link format) in mpq_core");
        }
        // …and every link lab has a page.
        for id in mpq_core::experiment::LABS {
            assert!(LAB_IDS.contains(&id), "the {id} lab has links but no page");
        }
        for id in LAB_IDS {
            assert!(mpq_core::Experiment::default_for(id).is_some(), "{id}");
        }
    }

    #[test]
    fn only_work_on_webgpu_needs_the_gpu_worker_module() {
        use crate::bridge::WorkerModule::{Cpu, Gpu};
        use mpq_core::experiment::image::Backend;
        let encode = |backend| image::Request::Encode {
            codec: "jpeg".into(),
            params: Default::default(),
            target: None,
            judge: Some(image::Judge { model: "fashion-cnn".into(), backend }),
        };
        assert_eq!(<image::Lab as Protocol>::module(&encode(Backend::Cpu)), Cpu);
        assert_eq!(<image::Lab as Protocol>::module(&encode(Backend::WebGpu)), Gpu);
        assert_eq!(<image::Lab as Protocol>::module(&image::Request::Catalog), Cpu);
        assert_eq!(<image::Lab as Protocol>::module(&image::Request::Agreement { model: "fashion-cnn".into(), items: 10 }), Gpu);
        let sweep = |backend| image::Request::Sweep { model: "fashion-cnn".into(), backend, items: 10, specs: vec![], shard: 0, shards: 1 };
        assert_eq!(<image::Lab as Protocol>::module(&sweep(Backend::Cpu)), Cpu);
        assert_eq!(<image::Lab as Protocol>::module(&sweep(Backend::WebGpu)), Gpu);
        let evaluate = |on_gpu| model::Request::Evaluate { model: "fashion-cnn".into(), on_gpu, items: 10, search: false, target: None };
        assert_eq!(<model::Lab as Protocol>::module(&evaluate(false)), Cpu);
        assert_eq!(<model::Lab as Protocol>::module(&evaluate(true)), Gpu);
        assert_eq!(<model::Lab as Protocol>::module(&model::Request::CheckKernels), Gpu);
        assert_eq!(<audio::Lab as Protocol>::module(&audio::Request::Catalog), Cpu);
        assert_eq!(<audio::Lab as Protocol>::module(&audio::Request::Bench { seconds: 1, runs: 1 }), Gpu);
        assert_eq!(<text::Lab as Protocol>::module(&text::Request::Catalog), Cpu);
    }

    #[test]
    fn requests_are_tagged_by_lab() {
        let r = AnyRequest::model(model::Request::CheckKernels);
        assert_eq!(serde_json::to_value(&r).unwrap(), serde_json::json!({ "model": "CheckKernels" }));
        assert_eq!(<model::Lab as Protocol>::unwrap(AnyEvent::image(image::Event::BenchDone)), None);
    }
}
