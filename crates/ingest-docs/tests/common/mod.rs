//! Shared by the integration tests: the known texts, external tools (with the CI rule that
//! a missing tool fails instead of skipping), generated fixtures and the word metrics.

#![allow(dead_code)] // each test binary uses its own subset

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use unicode_normalization::UnicodeNormalization;

pub fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The sample library's sources: the known texts every fixture is built from.
pub fn sources() -> Vec<PathBuf> {
    let dir = crate_dir().join("../../library-src");
    let mut md: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    md.sort();
    md
}

/// The words of a Markdown source as a reader sees them (heading markers dropped).
pub fn known_text(md: &str) -> String {
    md.lines()
        .map(|l| l.trim_start_matches('#').trim())
        .collect::<Vec<_>>()
        .join("\n")
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// Whether `cmd args` runs. Missing tools fail the test under CI=true; elsewhere the
/// caller skips, and says so loudly.
pub fn tool(what: &str, cmd: &str, args: &[&str]) -> bool {
    let ok = Command::new(cmd)
        .args(args)
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        let msg =
            format!("missing test tool: {what} (install the lines of crates/ingest-docs/TOOLS.md)");
        if in_ci() {
            panic!("{msg}");
        }
        eprintln!("\n!!!!!!!! SKIPPED: {msg} !!!!!!!!\n");
    }
    ok
}

pub fn have_fixture_tools() -> bool {
    let python = tool(
        "python3 with reportlab, python-docx, pikepdf, pillow",
        "python3",
        &["-c", "import reportlab, docx, pikepdf, PIL"],
    );
    let soffice = tool("LibreOffice (soffice)", "soffice", &["--version"]);
    python && soffice
}

/// Builds the tool-made fixtures once per test binary; `None` when tools are missing
/// (outside CI).
pub fn fixture_dir() -> Option<&'static Path> {
    static DIR: OnceLock<Option<PathBuf>> = OnceLock::new();
    DIR.get_or_init(|| {
        if !have_fixture_tools() {
            return None;
        }
        // One folder per test binary, rebuilt on each run: binaries never share or race.
        let binary = std::env::current_exe()
            .ok()
            .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "fixtures".into());
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join("ingest-fixtures")
            .join(binary);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("fixture dir");
        let script = crate_dir().join("tests/support/make_fixtures.py");
        let status = Command::new("python3")
            .arg(&script)
            .arg(&dir)
            .args(sources())
            .status()
            .expect("python3");
        assert!(status.success(), "make_fixtures.py failed");
        let docx: Vec<PathBuf> = std::fs::read_dir(&dir)
            .expect("fixture dir")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "docx"))
            .collect();
        let lo = dir.join("lo");
        // A private profile keeps parallel or stale LibreOffice instances out of the way.
        let profile = format!(
            "-env:UserInstallation=file://{}",
            dir.join("lo-profile").display()
        );
        let status = Command::new("soffice")
            .args([
                profile.as_str(),
                "--headless",
                "--convert-to",
                "pdf:writer_pdf_Export",
                "--outdir",
            ])
            .arg(&lo)
            .args(&docx)
            .output()
            .expect("soffice");
        assert!(
            status.status.success(),
            "soffice failed: {}",
            String::from_utf8_lossy(&status.stderr)
        );
        Some(dir)
    })
    .as_deref()
}

pub fn words(text: &str) -> Vec<String> {
    text.nfc()
        .collect::<String>()
        .to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Word-level precision and recall of `got` against `want`, as multisets.
pub fn precision_recall(got: &[String], want: &[String]) -> (f64, f64) {
    let mut counts: HashMap<&str, i64> = HashMap::new();
    for w in want {
        *counts.entry(w).or_default() += 1;
    }
    let mut common = 0usize;
    for w in got {
        if let Some(c) = counts.get_mut(w.as_str())
            && *c > 0
        {
            *c -= 1;
            common += 1;
        }
    }
    let ratio = |n: usize| {
        if n == 0 {
            0.0
        } else {
            common as f64 / n as f64
        }
    };
    (ratio(got.len()), ratio(want.len()))
}

/// Longest common subsequence over `want`'s length: 1.0 when the words come in order.
pub fn order_score(got: &[String], want: &[String]) -> f64 {
    if want.is_empty() {
        return 0.0;
    }
    let mut prev = vec![0u32; got.len() + 1];
    let mut cur = vec![0u32; got.len() + 1];
    for w in want {
        for (j, g) in got.iter().enumerate() {
            cur[j + 1] = if g == w {
                prev[j] + 1
            } else {
                prev[j + 1].max(cur[j])
            };
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    f64::from(prev[got.len()]) / want.len() as f64
}
