//! The guest's report: result lines on the serial console, and the tally of a run.

use anyhow::bail;

/// Marks one check's result: `VUSBKEY-RESULT pass|fail NAME DETAIL...`.
const RESULT: &str = "VUSBKEY-RESULT ";
/// Marks a progress message for the person watching: `VUSBKEY-PROGRESS TEXT`.
const PROGRESS: &str = "VUSBKEY-PROGRESS ";
/// Marks a measurement: `VUSBKEY-METRIC NAME VALUE`.
const METRIC: &str = "VUSBKEY-METRIC ";
/// Marks one row of a profile: `VUSBKEY-PROFILE WORKLOAD BY PERCENT WHAT...`.
const PROFILE: &str = "VUSBKEY-PROFILE ";
/// Marks the end of a suite, with the number of result lines the guest printed.
const DONE: &str = "VUSBKEY-DONE ";

/// One check, as the guest reported it.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Check {
    /// Whether it passed.
    pub(crate) passed: bool,
    /// Its name.
    pub(crate) name: String,
    /// What the guest said about it.
    pub(crate) detail: String,
}

impl Check {
    /// A host-side check `name`: passed with `Ok`'s detail, or failed with the error chain.
    pub(crate) fn host(name: &str, result: anyhow::Result<String>) -> Self {
        let (passed, detail) = match result {
            Ok(detail) => (true, detail),
            Err(e) => (false, format!("{e:#}")),
        };
        Self {
            passed,
            name: name.to_owned(),
            detail,
        }
    }
}

/// One measurement the guest took.
#[derive(Debug, PartialEq)]
pub(crate) struct Metric {
    /// What was measured, e.g. `seq_mib_s.vusbkey`.
    pub(crate) name: String,
    /// The value.
    pub(crate) value: f64,
}

/// One row of a profile the guest took with perf: the share of the CPU samples taken while
/// `workload` ran that fell on `what` (a thread, a binary or a symbol, as `by` says).
#[derive(Debug, PartialEq)]
pub(crate) struct Share {
    /// What ran while the samples were taken, e.g. `seq`.
    pub(crate) workload: String,
    /// How samples were grouped: `comm` (thread), `dso` (binary) or `sym` (symbol).
    pub(crate) by: String,
    /// The share of the samples, in percent.
    pub(crate) percent: f64,
    /// The thread, binary or symbol.
    pub(crate) what: String,
}

/// What one console line means.
#[derive(Debug, PartialEq)]
pub(crate) enum Line {
    /// A check's result.
    Check(Check),
    /// The guest finished, having printed this many results.
    Done(usize),
    /// A progress message, or the guest agent's verdict, to show as it comes.
    Progress(String),
    /// A measurement.
    Metric(Metric),
    /// A row of a profile.
    Profile(Share),
    /// Anything else (kernel messages, command output).
    Other,
}

/// Parses one line of serial console output. A marker may follow other output on the
/// same line (firmware escape sequences, a kernel message without a newline).
pub(crate) fn parse(line: &str) -> Line {
    let line = line.trim_end_matches(['\r', '\n']);
    if let Some(at) = line.find(DONE) {
        return line[at + DONE.len()..]
            .trim()
            .parse()
            .map_or(Line::Other, Line::Done);
    }
    if let Some(at) = line.find(METRIC) {
        let mut words = line[at + METRIC.len()..].split_whitespace();
        return match (words.next(), words.next().and_then(|v| v.parse().ok())) {
            (Some(name), Some(value)) => Line::Metric(Metric {
                name: name.to_owned(),
                value,
            }),
            _ => Line::Other,
        };
    }
    if let Some(at) = line.find(PROFILE) {
        let mut words = line[at + PROFILE.len()..].splitn(4, ' ');
        return match (
            words.next(),
            words.next(),
            words.next().and_then(|p| p.parse().ok()),
            words.next(),
        ) {
            (Some(workload), Some(by), Some(percent), Some(what)) if !what.trim().is_empty() => {
                Line::Profile(Share {
                    workload: workload.to_owned(),
                    by: by.to_owned(),
                    percent,
                    what: what.trim().to_owned(),
                })
            }
            _ => Line::Other,
        };
    }
    if let Some(at) = line.find(PROGRESS) {
        return Line::Progress(line[at + PROGRESS.len()..].to_owned());
    }
    if line.contains("vusbkey-agent: ") {
        return Line::Progress(line.to_owned());
    }
    let Some(at) = line.find(RESULT) else {
        return Line::Other;
    };
    let rest = &line[at + RESULT.len()..];
    let (verdict, rest) = rest.split_once(' ').unwrap_or((rest, ""));
    let (name, detail) = rest.split_once(' ').unwrap_or((rest, ""));
    let passed = match verdict {
        "pass" => true,
        "fail" => false,
        _ => return Line::Other,
    };
    Line::Check(Check {
        passed,
        name: name.to_owned(),
        detail: detail.to_owned(),
    })
}

/// The tally of a whole run (several suites, several VMs).
#[derive(Default)]
pub(crate) struct Summary {
    /// Every check, in order, with the suite it came from.
    pub(crate) checks: Vec<(String, Check)>,
}

impl Summary {
    /// Records a check of `suite`.
    pub(crate) fn add(&mut self, suite: &str, check: Check) {
        self.checks.push((suite.to_owned(), check));
    }

    /// Number of failed checks.
    pub(crate) fn failed(&self) -> usize {
        self.checks.iter().filter(|(_, c)| !c.passed).count()
    }

    /// Prints the failures and the final `N passed, M failed` line; an error if any failed.
    pub(crate) fn finish(&self) -> anyhow::Result<()> {
        let failed = self.failed();
        for (suite, check) in self.checks.iter().filter(|(_, c)| !c.passed) {
            println!("FAILED {suite}/{}: {}", check.name, check.detail);
        }
        println!("{} passed, {failed} failed", self.checks.len() - failed);
        if failed > 0 {
            bail!("{failed} check(s) failed");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn result_lines_parse() {
        assert_eq!(
            parse("VUSBKEY-RESULT pass insmod loaded in 0.3 s\r\n"),
            Line::Check(Check {
                passed: true,
                name: "insmod".into(),
                detail: "loaded in 0.3 s".into()
            })
        );
        assert_eq!(
            parse("VUSBKEY-RESULT fail sha256"),
            Line::Check(Check {
                passed: false,
                name: "sha256".into(),
                detail: String::new()
            })
        );
        assert_eq!(parse("VUSBKEY-DONE 7"), Line::Done(7));
        assert_eq!(
            parse("\x1bc\x1b[?7l\x1b[2JVUSBKEY-RESULT pass first"),
            Line::Check(Check {
                passed: true,
                name: "first".into(),
                detail: String::new()
            })
        );
    }

    #[test]
    fn progress_and_agent_verdicts_are_shown() {
        assert_eq!(
            parse("VUSBKEY-PROGRESS starting guest VM"),
            Line::Progress("starting guest VM".into())
        );
        assert_eq!(
            parse("guest[accepted]| vusbkey-agent: accepted vm=x"),
            Line::Progress("guest[accepted]| vusbkey-agent: accepted vm=x".into())
        );
    }

    #[test]
    fn metrics_parse() {
        assert_eq!(
            parse("VUSBKEY-METRIC seq_mib_s.vusbkey 123.5\r"),
            Line::Metric(Metric {
                name: "seq_mib_s.vusbkey".into(),
                value: 123.5
            })
        );
        assert_eq!(parse("VUSBKEY-METRIC seq_mib_s.vusbkey fast"), Line::Other);
    }

    #[test]
    fn profile_rows_parse() {
        assert_eq!(
            parse("VUSBKEY-PROFILE seq sym 12.5 [k] memcpy_orig\r"),
            Line::Profile(Share {
                workload: "seq".to_owned(),
                by: "sym".to_owned(),
                percent: 12.5,
                what: "[k] memcpy_orig".to_owned(),
            })
        );
        assert_eq!(
            parse("VUSBKEY-PROFILE seq comm many usb-storage"),
            Line::Other
        );
        assert_eq!(parse("VUSBKEY-PROFILE seq comm 3.0"), Line::Other);
    }

    #[test]
    fn other_lines_are_not_results() {
        assert_eq!(
            parse("[    1.2] usb 1-1: new high-speed USB device"),
            Line::Other
        );
        assert_eq!(parse("VUSBKEY-RESULT maybe x"), Line::Other);
        assert_eq!(parse("VUSBKEY-DONE x"), Line::Other);
        assert_eq!(parse("VUSBKEY-RESULTpass x"), Line::Other);
    }

    #[test]
    fn any_failure_fails_the_run() {
        let mut summary = Summary::default();
        summary.add(
            "s",
            Check {
                passed: true,
                name: "a".into(),
                detail: String::new(),
            },
        );
        assert!(summary.finish().is_ok());
        summary.add(
            "s",
            Check {
                passed: false,
                name: "b".into(),
                detail: String::new(),
            },
        );
        assert_eq!(summary.failed(), 1);
        assert!(summary.finish().is_err());
    }
}
