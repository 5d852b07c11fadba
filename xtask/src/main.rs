//! `cargo xtask`: every automation step of vusbkey, from installing the toolchain to
//! booting the test VMs.

mod demo;
mod initramfs;
mod kernel;
mod kmod;
mod paths;
mod progress;
mod results;
mod setup;
mod test;
mod vm;

use clap::{Parser, Subcommand};

use kernel::Flavour;

/// Build, test and demonstrate vusbkey.
#[derive(Parser)]
#[command(name = "cargo xtask", about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Install the system packages and tools the build needs (idempotent; needs root).
    Setup,
    /// Build the Rust-enabled kernel (cached; a rebuild happens only when inputs change).
    Kernel {
        /// Which kernel: `debug` (KASAN, kmemleak, lockdep; used by the tests) or `release`.
        #[arg(long, value_enum, default_value_t = Flavour::Debug)]
        flavour: Flavour,
    },
    /// Build vusbkey.ko out of tree against the chosen kernel.
    Kmod {
        /// Kernel flavour to build against.
        #[arg(long, value_enum, default_value_t = Flavour::Debug)]
        flavour: Flavour,
    },
    /// Boot a VM with the module and run guest test suites from `tests/vm/`.
    Vm {
        /// Kernel flavour to boot.
        #[arg(long, value_enum, default_value_t = Flavour::Debug)]
        flavour: Flavour,
        /// Suites to run (file stems in `tests/vm/`); default: all of them.
        suites: Vec<String>,
        /// Use KVM instead of TCG (does not work on every host).
        #[arg(long)]
        kvm: bool,
        /// Kill the VM after this many seconds.
        #[arg(long, default_value_t = vm::DEFAULT_TIMEOUT_SECS)]
        timeout: u64,
    },
    /// Run every test: formatting, lints, unit tests, the module build and the VM tests.
    Test,
    /// The end-to-end demonstration.
    Demo,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let paths = paths::Paths::discover()?;
    match cli.command {
        Command::Setup => setup::run(),
        Command::Kernel { flavour } => kernel::build(&paths, flavour).map(drop),
        Command::Kmod { flavour } => kmod::build(&paths, flavour).map(drop),
        Command::Vm {
            flavour,
            suites,
            kvm,
            timeout,
        } => {
            let options = vm::Options {
                flavour,
                kvm,
                timeout: std::time::Duration::from_secs(timeout),
            };
            let summary = vm::run_suites(&paths, &options, &suites)?;
            summary.finish()
        }
        Command::Test => test::run(&paths),
        Command::Demo => demo::run(&paths),
    }
}
