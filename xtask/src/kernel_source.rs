//! A kernel line's source tree, extracted once per package version into
//! `~/.cache/vusbkey/linux-source-<line>/`: from the `linux-source-6.12` that `setup`
//! installs, or from `linux-source-7.2` downloaded from Debian forky through a private apt
//! configuration (see `debian_suite`), resolved to forky's version of the day.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{bail, Context};
use xshell::{cmd, Shell};

use crate::apt::Apt;
use crate::debian_suite;
use crate::line::{Line, Origin};
use crate::paths::Paths;

/// The file in an extracted tree naming the package version it came from.
const MARKER: &str = ".vusbkey-source-version";

/// An extracted source tree.
pub(crate) struct Source {
    /// The tree.
    pub(crate) dir: PathBuf,
    /// The version of the package it came from.
    pub(crate) version: String,
}

/// The source tree of `line`, extracted unless that package version already is.
pub(crate) fn extract(sh: &Shell, paths: &Paths, line: Line) -> anyhow::Result<Source> {
    let package = line.package();
    let dir = paths.cache.join(&package);
    let extracted = sh.read_file(dir.join(MARKER)).ok();
    let version = match line.origin() {
        Origin::System => {
            let version = installed_version(sh, &package)?;
            if extracted.as_deref() != Some(version.as_str()) {
                let staging = staging(sh, paths)?;
                println!("kernel ({line}): extracting {} ({version})", line.tarball());
                unpack(sh, &staging, Path::new(&line.tarball()), &dir, &version)?;
            }
            version
        }
        Origin::Suite(suite) => {
            let apt = match debian_suite::update(sh, paths, suite) {
                Ok(apt) => apt,
                Err(error) => {
                    let Some(version) = extracted else {
                        return Err(error.context(format!(
                            "{package} is not in the cache yet and cannot be downloaded"
                        )));
                    };
                    println!(
                        "kernel ({line}): note: {error:#}; using the {package} {version} \
                         extracted earlier in {}",
                        dir.display()
                    );
                    return Ok(Source { dir, version });
                }
            };
            let version = apt.candidate(sh, &package)?;
            if extracted.as_deref() != Some(version.as_str()) {
                download(sh, paths, line, suite, &apt, &version, &dir)?;
            }
            version
        }
    };
    Ok(Source { dir, version })
}

/// The installed version of `package` (`setup` installs it).
fn installed_version(sh: &Shell, package: &str) -> anyhow::Result<String> {
    let format = "-f=${Version}";
    cmd!(sh, "dpkg-query -W {format} {package}")
        .quiet()
        .read()
        .with_context(|| format!("{package} is not installed (run `cargo xtask setup`)"))
}

/// Downloads `line`'s package at `version` from `suite` and extracts its tree to `dir`,
/// keeping neither the `.deb` nor the tarball (about 160 MB each).
fn download(
    sh: &Shell,
    paths: &Paths,
    line: Line,
    suite: &str,
    apt: &Apt,
    version: &str,
    dir: &Path,
) -> anyhow::Result<()> {
    let package = line.package();
    let staging = staging(sh, paths)?;
    println!("kernel ({line}): downloading {package} {version} from Debian {suite} (about 160 MB)");
    let deb = apt.download(sh, &staging, &package, version)?;
    let tarball = line.tarball();
    untar_member(&deb, &format!(".{tarball}"), &staging)?;
    sh.remove_path(&deb)?;
    println!("kernel ({line}): extracting {tarball} of {package} {version}");
    unpack(
        sh,
        &staging,
        &staging.join(tarball.trim_start_matches('/')),
        dir,
        version,
    )
}

/// `dpkg-deb --fsys-tarfile DEB | tar -x MEMBER`, into `dest`.
fn untar_member(deb: &Path, member: &str, dest: &Path) -> anyhow::Result<()> {
    let mut dpkg = Command::new("dpkg-deb")
        .arg("--fsys-tarfile")
        .arg(deb)
        .stdout(Stdio::piped())
        .spawn()
        .context("starting dpkg-deb")?;
    let tar = Command::new("tar")
        .arg("-x")
        .arg("-C")
        .arg(dest)
        .arg(member)
        .stdin(dpkg.stdout.take().context("dpkg-deb's output")?)
        .status()
        .context("running tar")?;
    let dpkg = dpkg.wait()?;
    if !dpkg.success() || !tar.success() {
        bail!(
            "extracting {member} from {} failed (dpkg-deb {dpkg}, tar {tar})",
            deb.display()
        );
    }
    Ok(())
}

/// A new, empty staging directory in the cache (an interrupted earlier attempt is removed).
fn staging(sh: &Shell, paths: &Paths) -> anyhow::Result<PathBuf> {
    let staging = paths.cache.join("extracting");
    if staging.exists() {
        sh.remove_path(&staging)?;
    }
    sh.create_dir(&staging)?;
    Ok(staging)
}

/// Extracts `tarball` in `staging`, moves the tree it holds to `dir` (replacing an older
/// one), marks it with `version` and removes `staging`.
fn unpack(
    sh: &Shell,
    staging: &Path,
    tarball: &Path,
    dir: &Path,
    version: &str,
) -> anyhow::Result<()> {
    cmd!(sh, "tar -xf {tarball} -C {staging}").run()?;
    if dir.exists() {
        sh.remove_path(dir)?;
    }
    let name = dir.file_name().context("source directory name")?;
    std::fs::rename(staging.join(name), dir)?;
    sh.remove_path(staging)?;
    sh.write_file(dir.join(MARKER), version)?;
    Ok(())
}
