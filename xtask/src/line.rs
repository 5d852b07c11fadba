//! The kernel lines the project builds: 6.12 (the LTS, the default) and 7.2, each from
//! Debian's `linux-source-<line>` package, and where that package comes from.

use std::fmt;
use std::path::PathBuf;

use clap::ValueEnum;

use crate::paths::Paths;

/// A Linux release series, as `cargo xtask kernel --line` and `# vusbkey-line:` name it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub(crate) enum Line {
    /// Linux 6.12, a long-term-support series: Debian 12's `linux-source-6.12`.
    #[default]
    #[value(name = "6.12")]
    V6_12,
    /// Linux 7.2: Debian forky's `linux-source-7.2`.
    #[value(name = "7.2")]
    V7_2,
}

/// Where a line's source package comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Origin {
    /// The system's apt sources: `cargo xtask setup` installs the package.
    System,
    /// Another Debian suite (its codename), read through a private apt configuration; the
    /// package is downloaded, never installed.
    Suite(&'static str),
}

impl Line {
    /// The release series, e.g. `6.12`.
    fn name(self) -> &'static str {
        match self {
            Self::V6_12 => "6.12",
            Self::V7_2 => "7.2",
        }
    }

    /// The Debian source package, e.g. `linux-source-6.12`.
    pub(crate) fn package(self) -> String {
        format!("linux-source-{self}")
    }

    /// The source tarball the package puts on disk.
    pub(crate) fn tarball(self) -> String {
        format!("/usr/src/{}.tar.xz", self.package())
    }

    /// Where the package comes from.
    pub(crate) fn origin(self) -> Origin {
        match self {
            Self::V6_12 => Origin::System,
            Self::V7_2 => Origin::Suite("forky"),
        }
    }

    /// The line's own kernel config fragment, `qemu/kernel/line-<line>.config`, merged after
    /// the base and flavour fragments, if the line has one.
    pub(crate) fn fragment(self, paths: &Paths) -> Option<PathBuf> {
        Some(paths.root.join(format!("qemu/kernel/line-{self}.config"))).filter(|p| p.exists())
    }

    /// The line a kernel release (`uname -r`, e.g. `6.12.118`) belongs to, if the project
    /// knows it.
    pub(crate) fn of_release(release: &str) -> Option<Self> {
        Self::value_variants()
            .iter()
            .copied()
            .find(|line| release.starts_with(&format!("{line}.")))
    }
}

impl fmt::Display for Line {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_and_print_alike() {
        for line in Line::value_variants() {
            assert_eq!(Line::from_str(&line.to_string(), false), Ok(*line));
        }
        assert_eq!(Line::default(), Line::V6_12);
        assert!(Line::from_str("6.13", false).is_err());
    }

    #[test]
    fn each_line_has_its_package() {
        assert_eq!(Line::V7_2.package(), "linux-source-7.2");
        assert_eq!(Line::V6_12.tarball(), "/usr/src/linux-source-6.12.tar.xz");
        assert_eq!(Line::V6_12.origin(), Origin::System);
        assert_eq!(Line::V7_2.origin(), Origin::Suite("forky"));
    }

    #[test]
    fn releases_belong_to_their_line() {
        assert_eq!(Line::of_release("6.12.118"), Some(Line::V6_12));
        assert_eq!(Line::of_release("7.2.12+deb14-amd64"), Some(Line::V7_2));
        assert_eq!(Line::of_release("6.1.0-57-amd64"), None);
        assert_eq!(Line::of_release("6.120.1"), None);
        assert_eq!(Line::of_release("7.20.1"), None);
    }
}
