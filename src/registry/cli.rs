//! `certverify registry import FILE` and `certverify registry export`.

use std::io::{Read, Write};
use std::path::PathBuf;

use super::import::{self, ImportReport};
use super::import_routes::parse_document;
use super::input::UrlPolicy;
use crate::config::Settings;
use crate::db::{self, write_transaction};
use crate::error::ApiError;

pub enum Task {
    Import(PathBuf),
    Export(Option<PathBuf>),
}

pub fn run(settings: &Settings, task: Task) -> anyhow::Result<()> {
    let pool = db::build_pool(&settings.database_url, 1)?;
    let mut conn = pool.get()?;
    db::migrations::run_pending(&mut conn)?;
    match task {
        Task::Import(path) => {
            let report = import_file(
                &mut conn,
                &path,
                UrlPolicy {
                    allow_http: settings.allow_http_issuers,
                },
            )?;
            let verdict = if report.changed {
                "imported"
            } else {
                "nothing changed"
            };
            eprintln!("{}: {verdict}", path.display());
            println!("{}", serde_json::to_string(&report)?);
            Ok(())
        }
        Task::Export(out) => {
            let doc = import::export(&mut conn)?;
            let text = serde_json::to_string_pretty(&doc)? + "\n";
            match out {
                Some(path) => std::fs::write(&path, text)?,
                None => std::io::stdout().write_all(text.as_bytes())?,
            }
            Ok(())
        }
    }
}

pub fn import_file(
    conn: &mut db::DbConnection,
    path: &std::path::Path,
    urls: UrlPolicy,
) -> anyhow::Result<ImportReport> {
    let mut bytes = Vec::new();
    if path.as_os_str() == "-" {
        std::io::stdin().read_to_end(&mut bytes)?;
    } else {
        bytes = std::fs::read(path)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
    }
    let is_csv = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    let doc = parse_document(
        if is_csv {
            "text/csv"
        } else {
            "application/json"
        },
        &bytes,
    )
    .map_err(describe)?;
    let actor = format!(
        "import:{}",
        path.file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default()
    );
    import_document(conn, &doc, urls, &actor)
}

/// Checks and applies a parsed registry document in one transaction (the file import's
/// work, also `serve --demo`'s sample registry); `actor` names the source in the audit.
pub fn import_document(
    conn: &mut db::DbConnection,
    doc: &serde_json::Value,
    urls: UrlPolicy,
    actor: &str,
) -> anyhow::Result<ImportReport> {
    let checked = import::check_document(doc, urls)
        .map_err(|errors| describe(ApiError::validation(errors)))?;
    // Progress goes to stderr so stdout stays the one-line report.
    let progress = |done: usize, total: usize| eprintln!("applied {done}/{total}");
    let report = write_transaction(conn, |conn| import::apply(conn, checked, actor, &progress))
        .map_err(describe)?;
    import::after_commit(conn, &report)?;
    Ok(report)
}

/// An import error as lines a person can act on: one per bad field.
fn describe(e: ApiError) -> anyhow::Error {
    let mut text = e.detail.clone();
    for f in &e.errors {
        text.push_str(&format!("\n  {}: {} ({})", f.field, f.message, f.code));
    }
    anyhow::anyhow!("{text}\nnothing was written")
}
