//! `cargo xtask demo`: the main job end to end, on embedded defaults.

use crate::keydisk;
use crate::paths::Paths;
use crate::vm;

/// Makes a demo key, a token for the demo VM and a module carrying it; boots a VM playing
/// the hypervisor host, which loads the module and starts the demo VM with the key disk
/// attached (accepted), then a copy of it under another UUID (refused, and paused by the
/// host's monitor through QMP); prints the monitor's event table.
pub(crate) fn run(paths: &Paths) -> anyhow::Result<()> {
    println!(
        "demo: the first run installs packages and builds a kernel (10-20 minutes on 2 cores); \
         later runs take a few minutes (VMs run under software emulation)"
    );
    println!(
        "demo: the token is for VM {}; the copy runs as {}; keys and image in {}",
        keydisk::VM_UUID,
        keydisk::OTHER_UUID,
        paths.target().join("keys").display()
    );
    vm::run_suites(paths, &vm::Options::default(), &["demo".to_owned()])?.finish()?;
    println!(
        "demo: the genuine VM was accepted; its copy was refused (reason=wrong-vm) and paused \
         by vusbkey-monitor through QMP."
    );
    Ok(())
}
