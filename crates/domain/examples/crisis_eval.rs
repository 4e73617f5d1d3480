//! `cargo xtask crisis-eval [--explain]`: the crisis screen's precision and recall, overall,
//! per category and per language, on the development and held-out parts of its corpus
//! (`crates/domain/tests/crisis_corpus/`). `--explain` lists the development part's misjudged
//! messages with the rules that matched them; the held-out part is only ever summarised, so
//! that whoever writes rules never reads it.

use domain::safety::CrisisDetector;
use domain::safety::evaluation::{Report, evaluate, parse_corpus};
use std::path::Path;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let explain = args.iter().any(|a| a == "--explain");
    let dir = args
        .iter()
        .find(|a| !a.starts_with("--"))
        .map(String::as_str)
        .unwrap_or(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/crisis_corpus"));
    let detector = CrisisDetector::default();
    let mut failed = false;
    for (part, file) in [("development", "dev.jsonl"), ("held-out", "heldout.jsonl")] {
        match report(&detector, &Path::new(dir).join(file)) {
            Ok(report) => {
                println!("## {part} part ({} messages)\n", report.overall.total());
                println!("{}", report.table());
                if explain && part == "development" {
                    for (case, flagged) in &report.misses {
                        println!(
                            "- [{}] {} (context {:?}): {}",
                            case.category,
                            case.text,
                            case.context,
                            if *flagged {
                                "flagged, but safe"
                            } else {
                                "missed"
                            }
                        );
                        for line in detector.explain(&case.text) {
                            println!("    {line}");
                        }
                    }
                    println!();
                }
            }
            Err(e) => {
                eprintln!("crisis-eval: {e}");
                failed = true;
            }
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn report(detector: &CrisisDetector, path: &Path) -> Result<Report, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let cases = parse_corpus(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(evaluate(detector, &cases))
}
