//! HTML for the dashboard: escaping (every value shown may come from a guest) and the
//! page around the content.

use std::fmt::Write as _;

/// `text` safe inside HTML text and quoted attribute values.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A table: the header cells, then rows of cells already escaped (HTML).
pub(crate) fn table(id: &str, header: &[&str], rows: &[Vec<String>], empty: &str) -> String {
    let mut html = format!("<table id=\"{}\"><thead><tr>", escape(id));
    for cell in header {
        let _ = write!(html, "<th>{}</th>", escape(cell));
    }
    html.push_str("</tr></thead><tbody>");
    if rows.is_empty() {
        let _ = write!(
            html,
            "<tr><td colspan=\"{}\">{}</td></tr>",
            header.len(),
            escape(empty)
        );
    }
    for row in rows {
        html.push_str("<tr>");
        for cell in row {
            let _ = write!(html, "<td>{cell}</td>");
        }
        html.push_str("</tr>");
    }
    html.push_str("</tbody></table>");
    html
}

/// A whole page: title, navigation, `body` (HTML).
pub(crate) fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width\">\
         <title>{title} - vusbkey monitor</title><style>{STYLE}</style></head><body>\
         <header><h1>vusbkey monitor</h1><nav><a href=\"/\">VMs and alarms</a> \
         <a href=\"/events\">Event log</a> <a href=\"/metrics\">Metrics</a></nav></header>\
         <main>{body}</main></body></html>\n",
        title = escape(title)
    )
}

const STYLE: &str = "body{font-family:sans-serif;margin:1.5em;color:#222}\
h1{font-size:1.4em;margin:0}header{display:flex;gap:2em;align-items:baseline;\
border-bottom:2px solid #446;margin-bottom:1em}nav a{margin-right:1em}\
table{border-collapse:collapse;margin:.5em 0 1.5em;font-size:.9em}\
th,td{border:1px solid #ccc;padding:.25em .6em;text-align:left;vertical-align:top}\
th{background:#eef}.accepted{color:#175;font-weight:bold}.refused,.alarm{color:#b12;font-weight:bold}\
.silent{color:#a60;font-weight:bold}code{font-size:.9em}form{margin:.5em 0}";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_is_escaped() {
        assert_eq!(
            escape("<script>alert('x')</script> & \"q\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"
        );
        let html = table("t", &["a<b"], &[], "none <here>");
        assert!(html.contains("<th>a&lt;b</th>"));
        assert!(html.contains("none &lt;here&gt;"));
    }
}
