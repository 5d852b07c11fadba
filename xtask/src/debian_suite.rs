//! Another Debian suite than the system's (forky, for Linux 7.2), read through a private
//! apt configuration under `~/.cache/vusbkey/apt-<suite>/`: its own `sources.list`,
//! package lists, status and cache, so that `/etc/apt` and the system's package state are
//! never touched. Only the suite's `Packages` index is fetched (no translations, no
//! AppStream/DEP-11 metadata), and none of the system's apt hooks run.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Mutex;

use anyhow::Context;
use xshell::{cmd, Shell};

use crate::apt::Apt;
use crate::paths::Paths;
use crate::setup;

/// The suites whose lists this process has updated: once per run is enough (a `distro`
/// run reads forky twice, for the kernel's packages and for its source).
static UPDATED: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());

/// The archive's mirror when the system's sources name none.
const DEFAULT_MIRROR: &str = "http://deb.debian.org/debian";
/// The keys the Debian archive signs its suites with (package `debian-archive-keyring`).
const KEYRING: &str = "/usr/share/keyrings/debian-archive-keyring.gpg";

/// Index targets the system's configuration may enable (the `appstream` package does) that
/// the private configuration turns off.
const DISABLED_TARGETS: &[&str] = &[
    "DEP-11",
    "DEP-11-icons-small",
    "DEP-11-icons",
    "DEP-11-icons-hidpi",
    "DEP-11-icons-large",
    "DEP-11-icons-large-hidpi",
];

/// Writes the private configuration of `suite` (e.g. `forky`) and updates its package lists
/// unless this process did; returns apt with that configuration. Fails when the archive
/// cannot be reached.
pub(crate) fn update(sh: &Shell, paths: &Paths, suite: &str) -> anyhow::Result<Apt> {
    let dir = paths.cache.join(format!("apt-{suite}"));
    let config = dir.join("apt.conf");
    for sub in ["lists/partial", "cache"] {
        sh.create_dir(dir.join(sub))?;
    }
    let sources = dir.join("sources.list");
    let line = sources_line(sh, suite);
    sh.write_file(&sources, format!("{line}\n"))?;
    let status = dir.join("status");
    if !status.exists() {
        sh.write_file(&status, "")?;
    }
    sh.write_file(&config, config_text(&dir, &sources, setup::is_root(sh)))?;
    let apt = Apt::with_config(config);
    let mut updated = UPDATED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if updated.contains(suite) {
        return Ok(apt);
    }
    println!(
        "apt ({suite}): updating the package lists in {}",
        dir.display()
    );
    apt.cmd(sh, "apt-get")
        .args(["update", "-q", "--error-on=any"])
        .quiet()
        .ignore_stdout()
        .run()
        .with_context(|| format!("cannot update the package lists of Debian {suite} ({line})"))?;
    updated.insert(suite.to_owned());
    Ok(apt)
}

/// The `sources.list` line of `suite` (also what `mmdebstrap` makes a build root from).
pub(crate) fn sources_line(sh: &Shell, suite: &str) -> String {
    format!("deb [signed-by={KEYRING}] {} {suite} main", mirror(sh))
}

/// The private configuration: every file apt reads or writes under `dir`.
fn config_text(dir: &Path, sources: &Path, root: bool) -> String {
    let path = |sub: &str| dir.join(sub).display().to_string();
    let mut text = format!(
        "Dir::Etc::SourceList \"{}\";\n\
         Dir::Etc::SourceParts \"/nonexistent\";\n\
         Dir::State::Lists \"{}\";\n\
         Dir::State::status \"{}\";\n\
         Dir::Cache \"{}\";\n\
         Acquire::Languages \"none\";\n",
        sources.display(),
        path("lists"),
        path("status"),
        path("cache"),
    );
    // Everything else comes from the system's apt configuration, which apt still reads, e.g.
    // `Acquire::Check-Valid-Until "false"` where the mirror is a snapshot whose `Release`
    // files are past their date (forky's here is weeks past it).
    for target in DISABLED_TARGETS {
        text.push_str(&format!(
            "Acquire::IndexTargets::deb::{target}::DefaultEnabled \"false\";\n"
        ));
    }
    // The system's hooks (AppStream's cache refresh, docker-clean, PackageKit) are about
    // the system's lists, not these.
    text.push_str("#clear APT::Update::Post-Invoke;\n#clear APT::Update::Post-Invoke-Success;\n");
    if root {
        // apt's `_apt` user cannot write to a cache under /root (see `Apt::download`).
        text.push_str("APT::Sandbox::User \"root\";\n");
    }
    text
}

/// The Debian mirror the system's own sources use (the one serving the main Debian
/// archive, not security or another origin's), else deb.debian.org.
fn mirror(sh: &Shell) -> String {
    let format = "$(REPO_URI)";
    let filters = ["Identifier: Packages", "Origin: Debian", "Label: Debian"];
    cmd!(sh, "apt-get indextargets --format {format} {filters...}")
        .quiet()
        .ignore_stderr()
        .read()
        .ok()
        .and_then(|uris| uris.lines().next().map(str::to_owned))
        .filter(|uri| uri.starts_with("http"))
        .unwrap_or_else(|| DEFAULT_MIRROR.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_configuration_points_every_apt_directory_into_the_cache() {
        let dir = Path::new("/c/apt-forky");
        let text = config_text(dir, &dir.join("sources.list"), true);
        for line in [
            "Dir::Etc::SourceList \"/c/apt-forky/sources.list\";",
            "Dir::Etc::SourceParts \"/nonexistent\";",
            "Dir::State::Lists \"/c/apt-forky/lists\";",
            "Dir::State::status \"/c/apt-forky/status\";",
            "Dir::Cache \"/c/apt-forky/cache\";",
            "Acquire::IndexTargets::deb::DEP-11::DefaultEnabled \"false\";",
            "APT::Sandbox::User \"root\";",
        ] {
            assert!(text.lines().any(|l| l == line), "missing {line}");
        }
        assert!(!config_text(dir, &dir.join("sources.list"), false).contains("Sandbox"));
    }
}
