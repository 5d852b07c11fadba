//! Which kernel a test VM boots: one of the project's own builds (a line and a flavour),
//! with `vusbkey.ko` built for it, Debian's stock kernel, which has no Rust and gets no
//! module, or Debian forky's own kernel, with a `vusbkey.ko` built for it.

use std::fmt;

use clap::ValueEnum;

use crate::kernel::Flavour;
use crate::line::Line;

/// The kernel of a VM, as a suite declares it (`# vusbkey-flavour:
/// debug|release|stock|distro`, `# vusbkey-line: 6.12|7.2`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum VmKernel {
    /// The project's Rust-enabled kernel of this line and flavour.
    Project(Line, Flavour),
    /// Debian 12's `linux-image-amd64`, as `cargo xtask setup` unpacked it.
    Stock,
    /// Debian forky's `linux-image-amd64`, unmodified (see `distro_kernel`).
    Distro,
}

impl VmKernel {
    /// Every kernel, in the order their suites run: the project's, line by line, then
    /// stock, then distro.
    pub(crate) fn all() -> Vec<Self> {
        let mut all: Vec<Self> = Line::value_variants()
            .iter()
            .flat_map(|&line| {
                Flavour::value_variants()
                    .iter()
                    .map(move |&flavour| Self::Project(line, flavour))
            })
            .collect();
        all.extend([Self::Stock, Self::Distro]);
        all
    }

    /// Parses a `# vusbkey-flavour:` value; a project flavour is on the default line.
    pub(crate) fn parse(name: &str) -> Option<Self> {
        match name {
            "stock" => Some(Self::Stock),
            "distro" => Some(Self::Distro),
            _ => Flavour::from_str(name, false)
                .ok()
                .map(|flavour| Self::Project(Line::default(), flavour)),
        }
    }

    /// The kernel to boot when `--line` and `--flavour` choose among the project's kernels:
    /// each replaces its part of a project kernel, and a suite on a Debian kernel (stock,
    /// distro) stays on it.
    pub(crate) fn overridden(self, line: Option<Line>, flavour: Option<Flavour>) -> Self {
        match self {
            Self::Project(own_line, own_flavour) => {
                Self::Project(line.unwrap_or(own_line), flavour.unwrap_or(own_flavour))
            }
            Self::Stock | Self::Distro => self,
        }
    }
}

impl fmt::Display for VmKernel {
    /// `6.12-debug`, `7.2-release`, `stock`, `distro`: also the name of its VMs' directory.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Project(line, flavour) => write!(f, "{line}-{flavour}"),
            Self::Stock => f.write_str("stock"),
            Self::Distro => f.write_str("distro"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_line_and_flavour_has_its_own_name() {
        let names: Vec<String> = VmKernel::all().iter().map(ToString::to_string).collect();
        assert_eq!(
            names,
            [
                "6.12-debug",
                "6.12-release",
                "7.2-debug",
                "7.2-release",
                "stock",
                "distro"
            ]
        );
    }

    #[test]
    fn flavour_names_parse_on_the_default_line() {
        assert_eq!(
            VmKernel::parse("debug"),
            Some(VmKernel::Project(Line::V6_12, Flavour::Debug))
        );
        assert_eq!(
            VmKernel::parse("release"),
            Some(VmKernel::Project(Line::V6_12, Flavour::Release))
        );
        assert_eq!(VmKernel::parse("stock"), Some(VmKernel::Stock));
        assert_eq!(VmKernel::parse("distro"), Some(VmKernel::Distro));
        assert_eq!(VmKernel::parse("fast"), None);
    }

    #[test]
    fn the_line_and_flavour_options_leave_stock_suites_alone() {
        let debug = VmKernel::Project(Line::V6_12, Flavour::Debug);
        let release = Some(Flavour::Release);
        assert_eq!(
            debug.overridden(None, release),
            VmKernel::Project(Line::V6_12, Flavour::Release)
        );
        assert_eq!(
            debug.overridden(Some(Line::V7_2), None),
            VmKernel::Project(Line::V7_2, Flavour::Debug)
        );
        assert_eq!(
            debug.overridden(Some(Line::V7_2), release),
            VmKernel::Project(Line::V7_2, Flavour::Release)
        );
        assert_eq!(
            VmKernel::Stock.overridden(Some(Line::V7_2), release),
            VmKernel::Stock
        );
        assert_eq!(
            VmKernel::Distro.overridden(Some(Line::V7_2), release),
            VmKernel::Distro
        );
        assert_eq!(debug.overridden(None, None), debug);
    }
}
