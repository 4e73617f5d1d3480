//! The operator's library commands: `extract FILE` shows what the library would hold for one
//! file; `ingest PATH...` ingests files and folders with a progress bar and a per-file table.
//!
//! Each file is read, extracted on the blocking pool under a time limit, chunked and stored in
//! one transaction, so a bad file never leaves partial passages and never stops the others.

use crate::state::AppState;
use app::database::{self, Database};
use app::settings::Settings;
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use domain::library::ExtractError;
use domain::ports::{Persistence, TextExtractor};
use domain::services::library::{IngestOutcome, LibraryError};
use indicatif::{ProgressBar, ProgressStyle};
use ingest_docs::Extractor;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Extensions the extractor understands; other files in a folder are skipped, not failed.
const EXTENSIONS: &[&str] = &[
    "pdf", "docx", "html", "htm", "xhtml", "txt", "md", "markdown",
];
/// Longest a single file may take to extract.
const PER_FILE_TIMEOUT: Duration = Duration::from_secs(60);

/// `botpsicologo extract FILE`: the extracted text on stdout, page and heading marks included.
pub fn extract_command(file: &Path) -> Result<(), String> {
    let bytes = std::fs::read(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let name = file.display().to_string();
    let doc = Extractor::default()
        .extract(&name, &bytes)
        .map_err(|e| format!("{name}: {e}"))?;
    if let Some(title) = &doc.title {
        println!("# {title}\n");
    }
    let mut page = None;
    for block in &doc.blocks {
        if block.page.is_some() && block.page != page {
            page = block.page;
            println!("--- page {} ---\n", page.unwrap_or_default());
        }
        if let Some(heading) = &block.heading {
            println!("## {heading}\n");
        }
        println!("{}\n", block.text);
    }
    Ok(())
}

/// What happened to one file.
struct FileResult {
    source: String,
    status: &'static str,
    pages: u32,
    passages: usize,
    characters: usize,
    elapsed: Duration,
    error: String,
}

/// `botpsicologo ingest PATH... [--retire-missing]`. Fails when any file failed.
pub async fn ingest_command(
    settings: Settings,
    paths: Vec<PathBuf>,
    retire_missing: bool,
) -> Result<(), String> {
    match database::open(&settings).await.map_err(|e| e.to_string())? {
        Database::Sqlite(store) => ingest_into(store, settings, paths, retire_missing).await,
        Database::Mysql(store) => ingest_into(store, settings, paths, retire_missing).await,
    }
}

async fn ingest_into<S: Persistence>(
    store: S,
    settings: Settings,
    paths: Vec<PathBuf>,
    retire_missing: bool,
) -> Result<(), String> {
    let state = AppState::new(store, settings).map_err(|e| e.to_string())?;
    let files = collect_files(&paths)?;
    let bar = ProgressBar::new(files.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} {wide_msg}")
            .map_err(|e| e.to_string())?,
    );
    let results = ingest_files(&state, &files, &bar).await;
    bar.finish_and_clear();

    let mut retired = Vec::new();
    if retire_missing {
        let roots: Vec<String> = paths
            .iter()
            .filter(|p| p.is_dir())
            .map(|p| p.display().to_string())
            .collect();
        let present: HashSet<String> = files.iter().map(|f| f.display().to_string()).collect();
        retired = state
            .library
            .retire_missing(&roots, &present)
            .await
            .map_err(|e| e.to_string())?;
    }
    print_table(&results);
    for document in &retired {
        println!("retired {} (file removed)", document.source);
    }
    let failed = results.iter().filter(|r| r.status == "failed").count();
    let ingested = results.iter().filter(|r| r.status == "ingested").count();
    println!(
        "{} file(s): {ingested} ingested, {} unchanged, {failed} failed, {} retired",
        results.len(),
        results.len() - ingested - failed,
        retired.len()
    );
    if failed > 0 {
        return Err(format!("{failed} file(s) could not be ingested"));
    }
    Ok(())
}

/// Ingests `files` one after the other, advancing `bar`.
async fn ingest_files<S: Persistence>(
    state: &AppState<S>,
    files: &[PathBuf],
    bar: &ProgressBar,
) -> Vec<FileResult> {
    let extractor = Arc::new(Extractor::default());
    let mut results = Vec::new();
    for file in files {
        let source = file.display().to_string();
        bar.set_message(source.clone());
        results.push(ingest_one(state, &extractor, file, source).await);
        bar.inc(1);
    }
    results
}

/// At the first start, an empty library is filled from `folder` (the sample library by
/// default), so a fresh install can be tried end to end. Failures are logged, never fatal.
pub async fn seed_library<S: Persistence>(state: &AppState<S>, folder: &Path) {
    match state.library.documents().await {
        Ok(documents) if documents.is_empty() => {}
        Ok(_) => return,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the library");
            return;
        }
    }
    let files = match collect_files(&[folder.to_path_buf()]) {
        Ok(files) => files,
        Err(e) => {
            tracing::info!(folder = %folder.display(), error = %e, "no sample library to load");
            return;
        }
    };
    for result in ingest_files(state, &files, &ProgressBar::hidden()).await {
        if result.status == "failed" {
            tracing::warn!(file = %result.source, error = %result.error, "sample document not loaded");
        } else {
            tracing::info!(file = %result.source, passages = result.passages, "sample document loaded");
        }
    }
}

async fn ingest_one<S: Persistence>(
    state: &AppState<S>,
    extractor: &Arc<Extractor>,
    file: &Path,
    source: String,
) -> FileResult {
    let started = Instant::now();
    let mut result = FileResult {
        source: source.clone(),
        status: "failed",
        pages: 0,
        passages: 0,
        characters: 0,
        elapsed: Duration::ZERO,
        error: String::new(),
    };
    let outcome = match tokio::fs::read(file).await {
        Err(e) => Err(e.to_string()),
        Ok(bytes) => {
            let bytes = Arc::new(bytes);
            let (extractor, shared, name) = (extractor.clone(), bytes.clone(), source.clone());
            let extract = || async move {
                let job = tokio::task::spawn_blocking(move || extractor.extract(&name, &shared));
                match tokio::time::timeout(PER_FILE_TIMEOUT, job).await {
                    Ok(Ok(extracted)) => extracted,
                    Ok(Err(_)) => Err(ExtractError::Malformed("the extractor crashed".into())),
                    Err(_) => Err(ExtractError::TooLarge(format!(
                        "extraction took longer than {} s",
                        PER_FILE_TIMEOUT.as_secs()
                    ))),
                }
            };
            state
                .library
                .ingest(&source, &bytes, extract)
                .await
                .map_err(|e: LibraryError| e.to_string())
        }
    };
    match outcome {
        Ok(IngestOutcome::Unchanged(document)) => {
            result.status = "unchanged";
            result.pages = document.pages;
        }
        Ok(IngestOutcome::Ingested {
            document,
            passages,
            characters,
        }) => {
            result.status = "ingested";
            result.pages = document.pages;
            result.passages = passages;
            result.characters = characters;
        }
        Err(error) => result.error = error,
    }
    result.elapsed = started.elapsed();
    result
}

/// The supported files under `paths` (folders walked recursively), sorted, without duplicates.
/// A path that does not exist is an error: a typo must not look like an empty library.
fn collect_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            walk(path, &mut files).map_err(|e| format!("{}: {e}", path.display()))?;
        } else if path.is_file() {
            files.push(path.clone());
        } else {
            return Err(format!("{}: no such file or folder", path.display()));
        }
    }
    files.sort();
    files.dedup();
    Ok(files)
}

/// The supported files below `dir`. Symbolic links are followed; one that leads back into a
/// folder being walked is a loop, skipped with a warning instead of walked forever.
fn walk(dir: &Path, files: &mut Vec<PathBuf>) -> Result<(), walkdir::Error> {
    for entry in walkdir::WalkDir::new(dir).follow_links(true) {
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) if e.loop_ancestor().is_some() => {
                eprintln!("skipping a symbolic link loop: {e}");
                continue;
            }
            Err(e) => return Err(e),
        };
        let supported = entry
            .path()
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()));
        if entry.file_type().is_file() && supported {
            files.push(entry.into_path());
        }
    }
    Ok(())
}

fn print_table(results: &[FileResult]) {
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED).set_header([
        "file",
        "result",
        "pages",
        "passages",
        "characters",
        "time",
        "error",
    ]);
    for r in results {
        table.add_row([
            r.source.clone(),
            r.status.to_string(),
            r.pages.to_string(),
            r.passages.to_string(),
            r.characters.to_string(),
            format!("{:.0} ms", r.elapsed.as_secs_f64() * 1000.0),
            r.error.clone(),
        ]);
    }
    println!("{table}");
}
