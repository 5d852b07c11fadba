// SPDX-License-Identifier: GPL-2.0

//! vusbkey: a software USB host controller serving a read-only key disk.

use kernel::prelude::*;

#[path = "device/lib.rs"]
mod device;

module! {
    type: VusbKey,
    name: "vusbkey",
    author: "vusbkey developers",
    description: "Virtual USB authentication key",
    license: "GPL",
}

/// Version of vusbkey, kept equal to the workspace version (checked by `cargo xtask kmod`).
const VERSION: &str = "0.1.0";

struct VusbKey;

impl kernel::Module for VusbKey {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        pr_info!("vusbkey {} loaded\n", VERSION);
        Ok(VusbKey)
    }
}

impl Drop for VusbKey {
    fn drop(&mut self) {
        pr_info!("vusbkey unloaded\n");
    }
}
