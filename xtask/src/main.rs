//! `cargo xtask`: every automation step of vusbkey, from installing the toolchain to
//! booting the test VMs.

mod apt;
mod bench;
mod bench_usbip;
mod build_root;
mod chroot;
mod dashboard;
mod debian_suite;
mod demo;
mod distro_kernel;
mod distro_kmod;
mod distro_vm;
mod dkms;
mod ffi_mirror;
mod headers;
mod initramfs;
mod kdir;
mod kernel;
mod kernel_source;
mod keydisk;
mod kmod;
mod kmod_images;
mod line;
mod monitor_bench;
mod nested_qemu;
mod package;
mod paths;
mod profile;
mod progress;
mod results;
mod rust_symbols;
mod setup;
mod simulated_vms;
mod stock;
mod suite;
mod test;
mod usbip;
mod vm;
mod vm_kernel;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use kernel::Flavour;
use line::Line;

/// Build, test and demonstrate vusbkey.
#[derive(Parser)]
#[command(name = "cargo xtask", about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Install the system packages and tools the build needs, fetch Debian's stock kernel
    /// for the stock-kernel VMs, and Debian forky's kernel with a build root for it for the
    /// `distro` VMs (idempotent; needs root).
    Setup,
    /// Build the Rust-enabled kernel (cached; a rebuild happens only when inputs change).
    Kernel {
        /// Which kernel line: 6.12 (the LTS, from the system's apt) or 7.2 (downloaded from
        /// Debian forky).
        #[arg(long, value_enum, default_value_t)]
        line: Line,
        /// Which kernel: `debug` (KASAN, kmemleak, lockdep; used by the tests) or `release`.
        #[arg(long, value_enum, default_value_t = Flavour::Debug)]
        flavour: Flavour,
        /// Also write a distribution-style headers directory (what `linux-headers` and
        /// `linux-lib-rust` install) to `target/headers/<line>-<flavour>/`, for `kmod --kdir`.
        #[arg(long)]
        headers: bool,
    },
    /// Build vusbkey.ko out of tree against the chosen kernel, with one image compiled in per
    /// root-hub port; `vusbkey.ports` next to it lists the ports (VM, expiry, sha256, image).
    Kmod {
        /// Kernel line to build against.
        #[arg(long, value_enum, default_value_t)]
        line: Line,
        /// Kernel flavour to build against.
        #[arg(long, value_enum, default_value_t = Flavour::Debug)]
        flavour: Flavour,
        /// Build against this prepared kernel tree or headers directory instead (e.g.
        /// /lib/modules/$(uname -r)/build), with the rustc and C compiler it was built with.
        #[arg(long, value_name = "DIR", conflicts_with_all = ["line", "flavour"])]
        kdir: Option<PathBuf>,
        /// A FAT image to compile in (from `image-builder build`); repeat for more ports
        /// (1 to 15, port 1 first). Default: a demo image with a token for the demo VM,
        /// signed by a demo key in `target/keys/`.
        #[arg(long = "image", value_name = "IMAGE")]
        images: Vec<PathBuf>,
    },
    /// Package vusbkey.ko's sources with an image for DKMS: a DKMS source tree and
    /// `vusbkey-dkms_<version>_all.deb` in `target/package/`, which build the module for
    /// each installed Rust-enabled kernel on the host that installs them.
    Package {
        /// The FAT image the module carries (from `image-builder build`).
        #[arg(long, value_name = "IMAGE")]
        image: PathBuf,
    },
    /// Build vusbkey-usbip (release) with an image compiled in: the key for hosts whose
    /// kernel has no Rust, served to their vhci-hcd over USB/IP.
    Usbip {
        /// The FAT image to compile in (from `image-builder build`); default: the demo image.
        #[arg(long, value_name = "IMAGE")]
        image: Option<PathBuf>,
    },
    /// Boot a VM with the module and run guest test suites from `tests/vm/`.
    Vm {
        /// Project kernel line to boot [default: the suite's own (`# vusbkey-line:`), else
        /// 6.12]; suites on Debian's kernels (`stock`, `distro`) keep theirs.
        #[arg(long, value_enum)]
        line: Option<Line>,
        /// Project kernel flavour to boot [default: the suite's own (`# vusbkey-flavour:`),
        /// else debug]; suites on Debian's kernels (`stock`, `distro`) keep theirs.
        #[arg(long, value_enum)]
        flavour: Option<Flavour>,
        /// Suites to run (file stems in `tests/vm/`); default: all of them.
        suites: Vec<String>,
        /// Use KVM instead of TCG (does not work on every host).
        #[arg(long)]
        kvm: bool,
        /// Kill each VM after this many seconds [default: the suite's own
        /// (`# vusbkey-timeout:`), else 600].
        #[arg(long)]
        timeout: Option<u64>,
        /// More kernel command line for every VM: settings the suites read, e.g.
        /// `vusbkey.kmod_speed=super` (the `kmod` suite loads the module with `speed=super`).
        #[arg(long, default_value = "")]
        append: String,
    },
    /// Measure vusbkey next to Linux's reference and the memory-copy ceiling (release kernel).
    Bench {
        /// Repetitions of each VM measurement.
        #[arg(long, default_value_t = 3)]
        runs: u32,
        /// CPUs of the module's VM (1 or 2): under TCG a wake-up on the other CPU costs
        /// far more than on hardware, so the two figures differ.
        #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..=2))]
        cpus: u32,
        /// Use KVM instead of TCG.
        #[arg(long)]
        kvm: bool,
    },
    /// The long hostile-host soak: vusbkey.ko on the debug kernel (suite `hostile`), or
    /// vusbkey-usbip on the stock kernel (`--suite usbip`).
    Soak {
        /// Minutes of hostile traffic (about 43 operations a second under TCG).
        #[arg(long, default_value_t = 50)]
        minutes: u64,
        /// Seed of the traffic (default: random, printed by the guest).
        #[arg(long)]
        seed: Option<u64>,
        /// Which path to attack: `hostile` (vusbkey.ko on the debug kernel) or `usbip`
        /// (vusbkey-usbip on Debian 12's stock kernel).
        #[arg(long, default_value = "hostile", value_parser = ["hostile", "usbip"])]
        suite: String,
    },
    /// Run every test: formatting, lints, unit tests, the module build and the VM tests
    /// (with `distro`, the module on Debian forky's own kernel), then the `kmod` suite's
    /// smoke subset on Linux 7.2 (release).
    Test,
    /// The end-to-end demonstration.
    Demo,
}

fn main() -> std::process::ExitCode {
    match run(Cli::parse()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let paths = paths::Paths::discover()?;
    match cli.command {
        Command::Setup => setup::run(&paths),
        Command::Kernel {
            line,
            flavour,
            headers,
        } => {
            let kernel = kernel::build(&paths, line, flavour)?;
            if headers {
                headers::make(&paths, &kernel)?;
            }
            Ok(())
        }
        Command::Kmod {
            line,
            flavour,
            kdir,
            images,
        } => {
            let (images, variant) = if images.is_empty() {
                (vec![keydisk::make(&paths)?.image], "demo")
            } else {
                (images, "custom")
            };
            match kdir {
                Some(dir) => kmod::build_kdir(&paths, &dir, &images, variant).map(drop),
                None => kmod::build(&paths, line, flavour, &images, variant).map(drop),
            }
        }
        Command::Package { image } => package::make(&paths, &image).map(drop),
        Command::Usbip { image } => {
            let (image, variant) = match image {
                Some(image) => (image, "custom"),
                None => (keydisk::make(&paths)?.image, "demo"),
            };
            usbip::build(&paths, &image, variant).map(drop)
        }
        Command::Vm {
            line,
            flavour,
            suites,
            kvm,
            timeout,
            append,
        } => {
            let options = vm::Options {
                line,
                flavour,
                kvm,
                timeout: timeout.map(std::time::Duration::from_secs),
                append,
                ..vm::Options::default()
            };
            let summary = vm::run_suites(&paths, &options, &suites)?;
            summary.finish()
        }
        Command::Test => test::run(&paths),
        Command::Soak {
            minutes,
            seed,
            suite,
        } => {
            let mut append = format!("vusbkey.soak_minutes={minutes}");
            if let Some(seed) = seed {
                append.push_str(&format!(" vusbkey.seed={seed}"));
            }
            let options = vm::Options {
                flavour: Some(Flavour::Debug),
                // The fault scenarios and the failslab sweep add about 10 minutes.
                timeout: Some(std::time::Duration::from_secs(minutes * 60 + 1200)),
                append,
                ..vm::Options::default()
            };
            vm::run_suites(&paths, &options, &[suite])?.finish()
        }
        Command::Bench { runs, cpus, kvm } => bench::run(&paths, runs, cpus, kvm),
        Command::Demo => demo::run(&paths),
    }
}
