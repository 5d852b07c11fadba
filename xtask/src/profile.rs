//! Where the time goes: the bench VM's perf profiles (`VUSBKEY-PROFILE` rows) as markdown
//! tables and JSON, with the module's Rust symbols demangled (perf shows them mangled).

use std::fmt::Write as _;

use serde_json::json;

use crate::results::Share;

/// The groupings bench.sh asks perf for, in the order they are shown: (`by`, column title).
const GROUPINGS: &[(&str, &str)] = &[("comm", "thread"), ("dso", "binary"), ("sym", "symbol")];

/// A symbol as perf prints it (`[k] name`, `[.] name`), Rust names demangled without
/// their hash.
fn readable(what: &str) -> String {
    let (kind, name) = match what.split_once(' ') {
        Some((kind, name)) if kind.starts_with('[') => (Some(kind), name),
        _ => (None, what),
    };
    let name = format!("{:#}", rustc_demangle::demangle(name));
    match kind {
        Some(kind) => format!("{kind} {name}"),
        None => name,
    }
}

/// The workloads profiled, in the order the guest reported them.
fn workloads(shares: &[Share]) -> Vec<&str> {
    let mut names: Vec<&str> = Vec::new();
    for share in shares {
        if !names.contains(&share.workload.as_str()) {
            names.push(&share.workload);
        }
    }
    names
}

/// One markdown table per workload and grouping; nothing when no profile was taken.
pub(crate) fn markdown(shares: &[Share]) -> String {
    let mut out = String::new();
    for workload in workloads(shares) {
        for (by, title) in GROUPINGS {
            let rows: Vec<&Share> = shares
                .iter()
                .filter(|s| s.workload == workload && s.by == *by)
                .collect();
            if rows.is_empty() {
                continue;
            }
            let _ = write!(
                out,
                "\n### Where the time goes: {workload}, by {title} (perf cpu-clock samples, all CPUs)\n\n\
                 | {title} | share of samples |\n| --- | ---: |\n"
            );
            for share in rows {
                let _ = writeln!(
                    out,
                    "| `{}` | {:.2}% |",
                    readable(&share.what),
                    share.percent
                );
            }
        }
    }
    out
}

/// `{workload: {by: [{what, percent}]}}`.
pub(crate) fn json(shares: &[Share]) -> serde_json::Value {
    let mut report = json!({});
    for share in shares {
        let rows = &mut report[&share.workload][&share.by];
        if rows.is_null() {
            *rows = json!([]);
        }
        if let Some(rows) = rows.as_array_mut() {
            rows.push(json!({ "what": readable(&share.what), "percent": share.percent }));
        }
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    fn share(workload: &str, by: &str, percent: f64, what: &str) -> Share {
        Share {
            workload: workload.to_owned(),
            by: by.to_owned(),
            percent,
            what: what.to_owned(),
        }
    }

    #[test]
    fn rust_symbols_are_demangled_and_others_kept() {
        assert_eq!(
            readable("[k] _RNvNtCs1234abcd_7vusbkey8transfer3run"),
            "[k] vusbkey::transfer::run"
        );
        assert_eq!(readable("[k] memcpy_orig"), "[k] memcpy_orig");
        assert_eq!(readable("usb-storage"), "usb-storage");
    }

    #[test]
    fn tables_follow_workloads_and_groupings() {
        let shares = [
            share("seq", "sym", 40.0, "[k] memcpy_orig"),
            share("seq", "comm", 60.0, "usb-storage"),
            share("rand", "comm", 30.0, "kworker"),
        ];
        let text = markdown(&shares);
        let seq_thread = text.find("seq, by thread").unwrap();
        let seq_symbol = text.find("seq, by symbol").unwrap();
        let rand_thread = text.find("rand, by thread").unwrap();
        assert!(seq_thread < seq_symbol && seq_symbol < rand_thread);
        assert!(text.contains("| `usb-storage` | 60.00% |"));
        assert!(!text.contains("by binary"));
        assert_eq!(markdown(&[]), "");
        let json = json(&shares);
        assert_eq!(json["seq"]["comm"][0]["what"], "usb-storage");
        assert_eq!(json["rand"]["comm"][0]["percent"], 30.0);
    }
}
