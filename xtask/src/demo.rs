//! `cargo xtask demo`: the end-to-end demonstration.

use std::time::Duration;

use crate::kernel::Flavour;
use crate::paths::Paths;
use crate::vm;

/// Builds the kernel and the module, boots a VM and loads the module in it.
pub(crate) fn run(paths: &Paths) -> anyhow::Result<()> {
    println!("demo: builds the kernel on first run (10-20 minutes), then boots a VM and loads vusbkey.ko");
    let options = vm::Options {
        flavour: Flavour::Debug,
        kvm: false,
        timeout: Duration::from_secs(vm::DEFAULT_TIMEOUT_SECS),
    };
    vm::run_suites(paths, &options, &["smoke".to_owned()])?.finish()?;
    println!(
        "demo: the module loaded and unloaded in the VM. The guest agent and USB passthrough \
         to a guest VM are not built yet, so the demo stops here."
    );
    Ok(())
}
