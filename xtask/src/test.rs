//! `cargo xtask test`: formatting, lints, unit tests, the monitor's dashboard in a real
//! browser, the module build against a headers directory, the VM suites (among them
//! `distro`: the `kmod` suite's smoke subset on Debian forky's own kernel), the `kmod` suite
//! again with the module's devices at SuperSpeed (`speed=super`), and the `kmod` suite's
//! smoke subset again on the project's Linux 7.2 (release), ending with one `N passed, M
//! failed` line.

use std::process::Command;

use crate::kernel::{self, Flavour};
use crate::line::Line;
use crate::paths::Paths;
use crate::results::{Check, Summary};
use crate::{dashboard, ffi_mirror, headers, setup, vm};

/// Host-side steps, each one check: name and cargo arguments.
const CARGO_STEPS: &[(&str, &[&str])] = &[
    ("fmt", &["fmt", "--all", "--check"]),
    (
        "clippy",
        &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ],
    ),
    ("cargo-test", &["test", "--workspace"]),
];

/// The kernels built in the background while the first steps run (see
/// [`kernel::build_in_background`]): the end to end's (and its nested guests'), then the
/// smoke run's, in the order the steps need them. The first steps build the 6.12 debug
/// kernel themselves (the headers check, then the module's suites).
const BACKGROUND_KERNELS: &[(Line, Flavour)] = &[
    (Line::V6_12, Flavour::Release),
    (Line::V7_2, Flavour::Release),
];

/// Runs everything; an error when any check failed.
pub(crate) fn run(paths: &Paths) -> anyhow::Result<()> {
    if setup::needed(paths) {
        println!("test: system packages missing, running setup first");
        setup::run(paths)?;
    }
    println!(
        "test: the 6.12 release and 7.2 release kernels build in the background (nice 19), \
         on the CPU time the other steps leave"
    );
    let background = kernel::build_in_background(paths, BACKGROUND_KERNELS);
    let mut summary = Summary::default();
    for (name, args) in CARGO_STEPS {
        println!("test: cargo {}", args.join(" "));
        let status = Command::new(env!("CARGO"))
            .args(*args)
            .current_dir(&paths.root)
            .status();
        let (passed, detail) = match status {
            Ok(s) if s.success() => (true, String::new()),
            Ok(s) => (false, format!("cargo {} {s}", args.join(" "))),
            Err(e) => (false, format!("cannot run cargo: {e}")),
        };
        summary.add(
            "host",
            Check {
                passed,
                name: (*name).to_owned(),
                detail,
            },
        );
    }
    println!("test: the monitor's dashboard in headless Chromium");
    add_host_check(&mut summary, dashboard::check(paths));
    println!("test: kmod/ffi.rs against kmod/shim.h (bindgen and syn)");
    add_host_check(&mut summary, ffi_mirror::check(paths));
    println!("test: vusbkey.ko against the 6.12 debug kernel's headers directory (kmod --kdir)");
    add_host_check(&mut summary, headers::check(paths));
    let all = vm::run_suites(paths, &vm::Options::default(), &[]);
    add_vm_checks(&mut summary, "vm", all);
    println!("test: the kmod suite again with the module's other speed (speed=super)");
    let super_speed = vm::Options {
        append: "vusbkey.kmod_speed=super".to_owned(),
        name_suffix: "-super".to_owned(),
        ..vm::Options::default()
    };
    kmod_again(paths, &mut summary, &super_speed);
    println!("test: the kmod smoke subset on Linux 7.2 (release)");
    let smoke = vm::Options {
        line: Some(Line::V7_2),
        flavour: Some(Flavour::Release),
        append: "vusbkey.kmod=smoke".to_owned(),
        name_suffix: "-7.2".to_owned(),
        ..vm::Options::default()
    };
    kmod_again(paths, &mut summary, &smoke);
    // Done by now: the smoke run waited for the last of them.
    if background.join().is_err() {
        println!("test: the background kernel builds' thread panicked");
    }
    summary.finish()
}

/// Runs the `kmod` suite again with `options`; its checks are recorded under `kmod` and the
/// options' name suffix (`kmod-super`, `kmod-7.2`).
fn kmod_again(paths: &Paths, summary: &mut Summary, options: &vm::Options) {
    let run = vm::run_suites(paths, options, &[vm::KMOD_SUITE.to_owned()]);
    add_vm_checks(
        summary,
        &format!("{}{}", vm::KMOD_SUITE, options.name_suffix),
        run,
    );
}

/// Records the checks of a VM run, or its failure to build or boot as a failed check of
/// `suite`.
fn add_vm_checks(summary: &mut Summary, suite: &str, run: anyhow::Result<Summary>) {
    match run {
        Ok(vm_summary) => summary.checks.extend(vm_summary.checks),
        Err(e) => summary.add(
            suite,
            Check {
                passed: false,
                name: "build-and-boot".to_owned(),
                detail: format!("{e:#}"),
            },
        ),
    }
}

/// Prints a host-side check's verdict and records it.
fn add_host_check(summary: &mut Summary, check: Check) {
    let verdict = if check.passed { "ok  " } else { "FAIL" };
    println!("  {verdict} host/{} {}", check.name, check.detail);
    summary.add("host", check);
}
