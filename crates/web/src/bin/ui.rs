//! The UI module trunk builds (feature `ui`): the shell and every lab's page side.

fn main() {
    #[cfg(target_arch = "wasm32")]
    mpq_web::shell::start();
}
