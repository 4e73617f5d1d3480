//! Throughput (MB/s, pages/s) of our PDF extraction against poppler's `pdftotext` on the
//! same files in one run, and how far their words agree.
//!
//! `cargo bench -p ingest-docs --bench pdf_vs_pdftotext` (needs the tools of TOOLS.md); also run
//! by `cargo xtask bench`, which reads its last line.
//! The PDFs are the test fixtures (LibreOffice and reportlab, one and two columns) plus a
//! long LibreOffice document made of every source eight times.

#[path = "../tests/common/mod.rs"]
mod common;

use domain::ports::TextExtractor;
use ingest_docs::Extractor;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// Each file is extracted repeatedly until this much time has passed (at least 3 times).
const BUDGET: Duration = Duration::from_millis(700);

fn long_pdf(dir: &Path) -> PathBuf {
    let mut html =
        String::from("<html><head><meta charset='utf-8'><title>Long</title></head><body>");
    for _ in 0..8 {
        for src in common::sources() {
            let md = std::fs::read_to_string(src).expect("source");
            for block in md.split("\n\n") {
                let block = block.replace('&', "&amp;").replace('<', "&lt;");
                match block
                    .strip_prefix("# ")
                    .or_else(|| block.strip_prefix("## "))
                {
                    Some(h) => html.push_str(&format!("<h2>{h}</h2>")),
                    None => html.push_str(&format!("<p>{block}</p>")),
                }
            }
        }
    }
    html.push_str("</body></html>");
    let src = dir.join("long.html");
    std::fs::write(&src, html).expect("write long.html");
    let status = Command::new("soffice")
        .args([
            "--headless",
            "--infilter=HTML (StarWriter)",
            "--convert-to",
            "pdf:writer_pdf_Export",
            "--outdir",
        ])
        .arg(dir)
        .arg(&src)
        .output()
        .expect("soffice");
    assert!(status.status.success());
    dir.join("long.pdf")
}

/// CPU seconds used so far by this process (`who` = RUSAGE_SELF) or its finished children.
fn cpu_seconds(who: libc::c_int) -> f64 {
    // SAFETY: getrusage only writes into the zeroed struct we own.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(who, &mut usage);
        usage
    };
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    secs(usage.ru_utime) + secs(usage.ru_stime)
}

/// Runs `f` repeatedly; returns its last output, wall and CPU seconds per run. CPU time
/// keeps the comparison fair on a machine that other jobs are loading.
fn timed<T>(who: libc::c_int, mut f: impl FnMut() -> T) -> (T, f64, f64) {
    let start = Instant::now();
    let cpu_start = cpu_seconds(who);
    let mut runs = 0u32;
    let mut out;
    loop {
        out = f();
        runs += 1;
        if runs >= 3 && start.elapsed() >= BUDGET {
            break;
        }
    }
    let n = f64::from(runs);
    (
        out,
        start.elapsed().as_secs_f64() / n,
        (cpu_seconds(who) - cpu_start) / n,
    )
}

fn main() {
    if !common::tool("pdftotext (poppler-utils)", "pdftotext", &["-v"]) {
        return;
    }
    let Some(dir) = common::fixture_dir() else {
        return;
    };
    let mut pdfs: Vec<PathBuf> = std::fs::read_dir(dir.join("lo"))
        .expect("lo dir")
        .chain(std::fs::read_dir(dir).expect("fixture dir"))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "pdf"))
        .filter(|p| !p.ends_with("encrypted.pdf") && !p.ends_with("image-only.pdf"))
        .collect();
    pdfs.sort();
    pdfs.push(long_pdf(dir));

    let extractor = Extractor::default();
    let (mut bytes_total, mut pages_total) = (0f64, 0f64);
    let (mut ours_secs, mut theirs_secs) = (0f64, 0f64);
    let (mut ours_cpu_secs, mut theirs_cpu_secs) = (0f64, 0f64);
    let (mut agree_sum, mut agree_min) = (0f64, 1f64);
    println!(
        "{:44} {:>5} {:>7} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "file (MB/s by wall time, then CPU time)",
        "pages",
        "KiB",
        "ours",
        "poppler",
        "ours cpu",
        "pop. cpu",
        "agreement"
    );
    for pdf in &pdfs {
        let bytes = std::fs::read(pdf).expect("pdf");
        let name = pdf.strip_prefix(dir).unwrap_or(pdf).display().to_string();
        let (doc, ours_per_run, ours_cpu) = timed(libc::RUSAGE_SELF, || {
            extractor.extract(&name, &bytes).expect("extract")
        });
        let (text, theirs_per_run, theirs_cpu) = timed(libc::RUSAGE_CHILDREN, || {
            let out = Command::new("pdftotext")
                .args(["-enc", "UTF-8"])
                .arg(pdf)
                .arg("-")
                .output()
                .expect("pdftotext");
            // pdftotext keeps ligature glyphs (ﬁ, ﬂ); words are compared, not ligatures.
            String::from_utf8_lossy(&out.stdout)
                .replace('\u{FB01}', "fi")
                .replace('\u{FB02}', "fl")
        });
        let ours_text: String = doc
            .blocks
            .iter()
            .map(|b| b.text.as_str())
            .collect::<Vec<_>>()
            .join("\n");
        let (p, r) = common::precision_recall(&common::words(&ours_text), &common::words(&text));
        let agreement = p.min(r);
        let mb = bytes.len() as f64 / 1e6;
        println!(
            "{name:44} {:>5} {:>7.1} {:>9.2} {:>9.2} {:>9.2} {:>9.2} {:>9.4}",
            doc.pages,
            bytes.len() as f64 / 1024.0,
            mb / ours_per_run,
            mb / theirs_per_run,
            mb / ours_cpu,
            mb / theirs_cpu,
            agreement
        );
        bytes_total += mb;
        pages_total += f64::from(doc.pages);
        ours_secs += ours_per_run;
        theirs_secs += theirs_per_run;
        ours_cpu_secs += ours_cpu;
        theirs_cpu_secs += theirs_cpu;
        agree_sum += agreement;
        agree_min = agree_min.min(agreement);
    }
    println!(
        "\nTOTAL {} files, {:.2} MB, {} pages\n  wall  ours:      {:.2} MB/s, {:.1} pages/s\n  wall  pdftotext: {:.2} MB/s, {:.1} pages/s (process start included)\n  cpu   ours:      {:.2} MB/s, {:.1} pages/s\n  cpu   pdftotext: {:.2} MB/s, {:.1} pages/s\n  ours/pdftotext throughput: {:.2}x wall, {:.2}x cpu\n  word agreement: mean {:.4}, min {:.4}",
        pdfs.len(),
        bytes_total,
        pages_total,
        bytes_total / ours_secs,
        pages_total / ours_secs,
        bytes_total / theirs_secs,
        pages_total / theirs_secs,
        bytes_total / ours_cpu_secs,
        pages_total / ours_cpu_secs,
        bytes_total / theirs_cpu_secs,
        pages_total / theirs_cpu_secs,
        theirs_secs / ours_secs,
        theirs_cpu_secs / ours_cpu_secs,
        agree_sum / pdfs.len() as f64,
        agree_min
    );
    // One line for `cargo xtask bench` to read (crates/bench/src/external.rs).
    println!(
        "extraction_files={} mb={bytes_total:.4} pages={pages_total} \
         ours_wall_mb_s={:.4} ours_wall_pages_s={:.2} pdftotext_wall_mb_s={:.4} \
         pdftotext_wall_pages_s={:.2} ours_cpu_mb_s={:.4} ours_cpu_pages_s={:.2} \
         pdftotext_cpu_mb_s={:.4} pdftotext_cpu_pages_s={:.2} agreement_mean={:.4} \
         agreement_min={agree_min:.4}",
        pdfs.len(),
        bytes_total / ours_secs,
        pages_total / ours_secs,
        bytes_total / theirs_secs,
        pages_total / theirs_secs,
        bytes_total / ours_cpu_secs,
        pages_total / ours_cpu_secs,
        bytes_total / theirs_cpu_secs,
        pages_total / theirs_cpu_secs,
        agree_sum / pdfs.len() as f64,
    );
}
