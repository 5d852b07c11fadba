//! [`router`]: the read-only dashboard (server-rendered HTML, no JavaScript) and
//! `/metrics`. Every value shown is escaped: most of it is the guests' word.

use std::path::PathBuf;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::clock::{now_ms, rfc3339_ms, rfc3339_secs};
use crate::counters::Counters;
use crate::html::{escape, page, table};
use crate::metrics;
use crate::queries::{EventFilter, Queries};
use crate::store::StoreError;
use crate::writer::chain;

/// What the pages read.
#[derive(Clone)]
pub struct Web {
    /// The database (opened read-only per request).
    pub database: PathBuf,
    /// The in-memory counts.
    pub counters: Arc<Counters>,
}

/// `/` (VMs and open alarms), `/events` (the event log, filtered by `vm`, `kind`,
/// `reason`, `limit`) and `/metrics`.
pub fn router(web: Web) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/events", get(events))
        .route("/metrics", get(metrics_text))
        .with_state(web)
}

async fn index(State(web): State<Web>) -> Response {
    blocking(move || {
        let queries = Queries::open(&web.database)?;
        Ok(Html(overview(&queries, &web.counters)?).into_response())
    })
    .await
}

async fn events(State(web): State<Web>, Query(filter): Query<EventFilter>) -> Response {
    blocking(move || {
        let queries = Queries::open(&web.database)?;
        Ok(Html(event_log(&queries, &filter)?).into_response())
    })
    .await
}

async fn metrics_text(State(web): State<Web>) -> Response {
    blocking(move || {
        let queries = Queries::open(&web.database)?;
        let text = metrics::render(&queries, &web.counters)?;
        Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response())
    })
    .await
}

/// Runs a page's database work off the async threads; a failure is a 500 with its cause.
async fn blocking(
    work: impl FnOnce() -> Result<Response, StoreError> + Send + 'static,
) -> Response {
    match tokio::task::spawn_blocking(work).await {
        Ok(Ok(response)) => response,
        Ok(Err(e)) => (StatusCode::INTERNAL_SERVER_ERROR, chain(&e)).into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

fn time_or_dash(ms: Option<i64>) -> String {
    ms.map_or_else(|| "-".to_owned(), rfc3339_ms)
}

fn vm_link(vm: &str) -> String {
    let vm = escape(vm);
    format!("<a href=\"/events?vm={vm}\"><code>{vm}</code></a>")
}

fn overview(queries: &Queries, counters: &Counters) -> Result<String, StoreError> {
    let vms = queries.vms()?;
    let alarms = queries.open_alarms()?;
    let connected = counters.connected();
    let now_secs = now_ms() / 1000;
    let alarm_rows: Vec<Vec<String>> = alarms
        .iter()
        .map(|a| {
            vec![
                vm_link(&a.vm),
                format!("<span class=\"alarm\">{}</span>", escape(&a.kind)),
                escape(&rfc3339_ms(a.opened_ms)),
                escape(a.detail.as_deref().unwrap_or("")),
            ]
        })
        .collect();
    let vm_rows: Vec<Vec<String>> = vms
        .iter()
        .map(|vm| {
            let verdict = match vm.verdict.as_deref() {
                Some(v) => format!("<span class=\"{0}\">{0}</span>", escape(v)),
                None => "<span class=\"silent\">no verdict</span>".to_owned(),
            };
            let expiry = match (vm.verdict.as_deref(), vm.exp) {
                (Some("accepted"), Some(exp)) => {
                    let days = (exp - now_secs) / 86_400;
                    format!("{} ({days} days)", escape(&rfc3339_secs(exp)))
                }
                _ => "-".to_owned(),
            };
            let kid = vm.kid.as_deref().map_or_else(
                || "-".to_owned(),
                |kid| {
                    format!(
                        "<code title=\"{0}\">{1}</code>",
                        escape(kid),
                        escape(kid.get(..16).unwrap_or(kid))
                    )
                },
            );
            let is_connected =
                uuid::Uuid::parse_str(&vm.vm).is_ok_and(|id| connected.contains(&id));
            vec![
                vm_link(&vm.vm),
                if is_connected { "connected" } else { "-" }.to_owned(),
                verdict,
                escape(vm.reason.as_deref().unwrap_or("-")),
                escape(&time_or_dash(vm.verdict_ms)),
                expiry,
                kid,
                escape(&time_or_dash(vm.last_contact_ms)),
            ]
        })
        .collect();
    let body = format!(
        "<p id=\"summary\">{} VMs, {} connected, {} open alarms.</p>\
         <h2>Open alarms</h2>{}<h2>VMs</h2>{}\
         <p>Verdicts are the guests' own reports: useful to see which VMs authenticated, \
         which were refused and which stayed silent, not proof.</p>",
        vms.len(),
        connected.len(),
        alarms.len(),
        table(
            "alarms",
            &["VM", "Alarm", "Since", "Detail"],
            &alarm_rows,
            "No open alarms."
        ),
        table(
            "vms",
            &[
                "VM",
                "Channel",
                "Last verdict",
                "Reason",
                "Verdict at",
                "Token expires",
                "Key id",
                "Last contact"
            ],
            &vm_rows,
            "No VM has connected yet."
        ),
    );
    Ok(page("VMs and alarms", &body))
}

fn event_log(queries: &Queries, filter: &EventFilter) -> Result<String, StoreError> {
    let rows: Vec<Vec<String>> = queries
        .events(filter)?
        .iter()
        .map(|e| {
            vec![
                e.id.to_string(),
                escape(&rfc3339_ms(e.at_ms)),
                vm_link(&e.vm),
                format!("<span class=\"{0}\">{0}</span>", escape(&e.kind)),
                escape(e.reason.as_deref().unwrap_or("")),
                escape(&e.exp.map(rfc3339_secs).unwrap_or_default()),
                escape(e.jti.as_deref().unwrap_or("")),
                escape(e.detail.as_deref().unwrap_or("")),
            ]
        })
        .collect();
    let field = |name: &str, value: &Option<String>| {
        format!(
            "<label>{name} <input name=\"{name}\" value=\"{}\"></label> ",
            escape(value.as_deref().unwrap_or(""))
        )
    };
    let body = format!(
        "<h2>Event log</h2><form method=\"get\" action=\"/events\">{}{}{}\
         <button type=\"submit\">Filter</button></form>{}",
        field("vm", &filter.vm),
        field("kind", &filter.kind),
        field("reason", &filter.reason),
        table(
            "events",
            &[
                "#",
                "Time",
                "VM",
                "Event",
                "Reason",
                "Token expires",
                "Token id",
                "Detail"
            ],
            &rows,
            "No events."
        ),
    );
    Ok(page("Event log", &body))
}
