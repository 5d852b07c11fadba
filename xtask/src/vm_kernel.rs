//! Which kernel a test VM boots: one of the project's own builds, with `vusbkey.ko` built
//! for it, or Debian's stock kernel, which has no Rust and gets no module.

use std::fmt;

use clap::ValueEnum;

use crate::kernel::Flavour;

/// The kernel of a VM, as a suite declares it (`# vusbkey-flavour: debug|release|stock`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum VmKernel {
    /// The project's Rust-enabled kernel of this flavour.
    Project(Flavour),
    /// Debian 12's `linux-image-amd64`, as `cargo xtask setup` unpacked it.
    Stock,
}

impl VmKernel {
    /// Every kernel, in the order their suites run.
    pub(crate) const ALL: [Self; 3] = [
        Self::Project(Flavour::Debug),
        Self::Project(Flavour::Release),
        Self::Stock,
    ];

    /// Parses a suite header's value.
    pub(crate) fn parse(name: &str) -> Option<Self> {
        match name {
            "stock" => Some(Self::Stock),
            _ => Flavour::from_str(name, false).ok().map(Self::Project),
        }
    }

    /// The kernel to boot when `--flavour` chooses among the project's kernels: it replaces
    /// a project kernel, and leaves a stock suite on the stock kernel.
    pub(crate) fn overridden(self, flavour: Option<Flavour>) -> Self {
        match (self, flavour) {
            (Self::Project(_), Some(flavour)) => Self::Project(flavour),
            _ => self,
        }
    }
}

impl fmt::Display for VmKernel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Project(flavour) => flavour.fmt(f),
            Self::Stock => f.write_str("stock"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_and_print_alike() {
        for kernel in VmKernel::ALL {
            assert_eq!(VmKernel::parse(&kernel.to_string()), Some(kernel));
        }
        assert_eq!(VmKernel::parse("fast"), None);
    }

    #[test]
    fn the_flavour_option_leaves_stock_suites_alone() {
        let release = Some(Flavour::Release);
        assert_eq!(
            VmKernel::Project(Flavour::Debug).overridden(release),
            VmKernel::Project(Flavour::Release)
        );
        assert_eq!(VmKernel::Stock.overridden(release), VmKernel::Stock);
        assert_eq!(
            VmKernel::Project(Flavour::Debug).overridden(None),
            VmKernel::Project(Flavour::Debug)
        );
    }
}
