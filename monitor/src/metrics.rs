//! [`render`]: the Prometheus text exposition for `/metrics`.

use std::fmt::Write as _;

use crate::counters::Counters;
use crate::queries::Queries;
use crate::store::StoreError;

/// The metrics now: verdicts per VM and reason, each VM's token expiry and last contact
/// (Unix seconds), open alarms, connected channels and dropped lines.
pub fn render(queries: &Queries, counters: &Counters) -> Result<String, StoreError> {
    let mut out = String::new();
    header(
        &mut out,
        "vusbkey_verdicts_total",
        "counter",
        "Verdicts reported by each VM's agent, by reason (accepted for acceptances).",
    );
    for (vm, reason, count) in queries.verdict_counts()? {
        let _ = writeln!(
            out,
            "vusbkey_verdicts_total{{vm=\"{}\",reason=\"{}\"}} {count}",
            label(&vm),
            label(&reason)
        );
    }
    let vms = queries.vms()?;
    header(
        &mut out,
        "vusbkey_token_expiry_seconds",
        "gauge",
        "Expiry (Unix time) of the token each VM last accepted.",
    );
    for vm in &vms {
        if let (Some("accepted"), Some(exp)) = (vm.verdict.as_deref(), vm.exp) {
            let _ = writeln!(
                out,
                "vusbkey_token_expiry_seconds{{vm=\"{}\"}} {exp}",
                label(&vm.vm)
            );
        }
    }
    header(
        &mut out,
        "vusbkey_vm_last_contact_seconds",
        "gauge",
        "When (Unix time) each VM's agent last sent anything.",
    );
    for vm in &vms {
        if let Some(ms) = vm.last_contact_ms {
            let _ = writeln!(
                out,
                "vusbkey_vm_last_contact_seconds{{vm=\"{}\"}} {}",
                label(&vm.vm),
                ms as f64 / 1000.0
            );
        }
    }
    header(
        &mut out,
        "vusbkey_vm_connected",
        "gauge",
        "Whether the monitor holds each VM's channel open.",
    );
    for vm in counters.connected() {
        let _ = writeln!(out, "vusbkey_vm_connected{{vm=\"{vm}\"}} 1");
    }
    header(
        &mut out,
        "vusbkey_alarms_open",
        "gauge",
        "Open alarms by VM and kind.",
    );
    let mut alarms = std::collections::BTreeMap::<(String, String), u64>::new();
    for alarm in queries.open_alarms()? {
        *alarms.entry((alarm.vm, alarm.kind)).or_default() += 1;
    }
    for ((vm, kind), count) in alarms {
        let _ = writeln!(
            out,
            "vusbkey_alarms_open{{vm=\"{}\",kind=\"{}\"}} {count}",
            label(&vm),
            label(&kind)
        );
    }
    header(
        &mut out,
        "vusbkey_lines_dropped_total",
        "counter",
        "Lines from guests dropped since the monitor started, by why.",
    );
    for (vm, why, count) in counters.drops() {
        let _ = writeln!(
            out,
            "vusbkey_lines_dropped_total{{vm=\"{vm}\",why=\"{}\"}} {count}",
            why.name()
        );
    }
    Ok(out)
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// A label value, escaped as the exposition format wants.
fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
