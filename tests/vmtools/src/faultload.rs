//! Loading a kernel module with the Nth fault-injection call of the loading thread failing
//! (`/proc/thread-self/fail-nth`, with failslab), to walk the error paths of loading and
//! init one allocation at a time. Only the `finit_module` call counts, not an `exec`.

use std::ffi::CString;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::Path;

use anyhow::Context;
use nix::kmod::{finit_module, ModuleInitFlags};

/// What one load did.
#[derive(Debug)]
pub struct FailingLoad {
    /// The load's result (the errno when refused).
    pub result: io::Result<()>,
    /// Whether the Nth call was reached, i.e. a failure was injected.
    pub injected: bool,
    /// Fault-injection calls the load made, when it made fewer than N.
    pub calls: Option<u32>,
}

/// Loads `module` with `params`, the `nth` fault-injection call failing (0: none).
pub fn load(module: &Path, params: &str, nth: u32) -> anyhow::Result<FailingLoad> {
    let file = File::open(module).with_context(|| format!("opening {}", module.display()))?;
    let params = CString::new(params).context("module parameters")?;
    // Both handles are opened before arming: opening allocates too. The file cannot seek,
    // so the value is read back through a handle not read before.
    let fail_nth = Path::new("/proc/thread-self/fail-nth");
    let context = "opening /proc/thread-self/fail-nth (CONFIG_FAULT_INJECTION)";
    let mut arm = OpenOptions::new()
        .write(true)
        .open(fail_nth)
        .context(context)?;
    let mut read_back = File::open(fail_nth).context(context)?;
    arm.write_all(nth.to_string().as_bytes())
        .context("arming fail-nth")?;
    let result = finit_module(&file, &params, ModuleInitFlags::empty()).map_err(io::Error::from);
    let mut left = String::new();
    read_back.read_to_string(&mut left)?;
    let left: u32 = left.trim().parse().context("reading fail-nth back")?;
    arm.write_all(b"0").context("disarming fail-nth")?;
    Ok(FailingLoad {
        result,
        injected: nth != 0 && left == 0,
        calls: (left != 0).then(|| nth - left),
    })
}
