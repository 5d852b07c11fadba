//! [`event_table`]: the event log as a plain-text table, for a terminal.

use std::fmt::Write as _;

use crate::clock::rfc3339_ms;
use crate::queries::EventRow;

/// The longest detail shown; the rest is cut with `...`.
const DETAIL_WIDTH: usize = 60;

/// `rows` as aligned columns: id, time, VM, kind, reason, detail. Control characters in
/// guest text are shown as spaces.
pub fn event_table(rows: &[EventRow]) -> String {
    let header = ["ID", "TIME", "VM", "KIND", "REASON", "DETAIL"].map(str::to_owned);
    let mut cells: Vec<[String; 6]> = vec![header];
    for row in rows {
        let detail = clean(row.detail.as_deref().unwrap_or(""));
        let detail = match detail.char_indices().nth(DETAIL_WIDTH) {
            Some((at, _)) => format!("{}...", &detail[..at]),
            None => detail,
        };
        cells.push([
            row.id.to_string(),
            rfc3339_ms(row.at_ms),
            clean(&row.vm),
            clean(&row.kind),
            clean(row.reason.as_deref().unwrap_or("-")),
            detail,
        ]);
    }
    let mut widths = [0usize; 6];
    for row in &cells {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in &cells {
        let mut line = String::new();
        for (cell, width) in row.iter().zip(widths) {
            let _ = write!(line, "{cell:<width$}  ");
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn clean(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_line_up_and_details_are_cut() {
        let row = EventRow {
            id: 12,
            at_ms: 0,
            vm: "v".into(),
            kind: "refused".into(),
            reason: Some("wrong-vm".into()),
            exit_code: Some(16),
            jti: None,
            exp: None,
            kid: None,
            device: None,
            detail: Some(format!("x\n{}", "y".repeat(100))),
        };
        let table = event_table(&[row]);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines[0].find("KIND"), lines[1].find("refused"));
        assert!(lines[1].ends_with("..."));
        assert!(lines[1].contains("x yyy"));
    }
}
