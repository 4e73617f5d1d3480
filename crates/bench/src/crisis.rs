//! The crisis screen on its evaluation corpus (`crates/domain/tests/crisis_corpus/`): precision
//! and recall by category on the development and held-out parts, and how long screening one
//! message takes (the rules run on every chat turn, before anything else).

use domain::safety::CrisisDetector;
use domain::safety::evaluation::{Case, Report, evaluate, parse_corpus};
use std::path::Path;
use std::time::{Duration, Instant};

pub struct CrisisResult {
    pub development: Report,
    pub held_out: Report,
    /// Screening one corpus message (with its context), p50 and p99.
    pub per_message: (Duration, Duration),
    /// Screening a 10,000-character message, best of a few.
    pub long_message: Duration,
}

pub fn measure(root: &Path) -> Result<CrisisResult, String> {
    let dir = root.join("crates/domain/tests/crisis_corpus");
    let load = |file: &str| -> Result<Vec<Case>, String> {
        let path = dir.join(file);
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        parse_corpus(&text).map_err(|e| format!("{}: {e}", path.display()))
    };
    let (development, held_out) = (load("dev.jsonl")?, load("heldout.jsonl")?);
    let detector = CrisisDetector::default();
    let mut times: Vec<Duration> = development
        .iter()
        .chain(&held_out)
        .map(|case| {
            let context: Vec<&str> = case.context.iter().map(String::as_str).collect();
            let started = Instant::now();
            std::hint::black_box(detector.assess(&case.text, &context));
            started.elapsed()
        })
        .collect();
    times.sort();
    let at = |q: f64| times[((times.len() - 1) as f64 * q) as usize];
    let long = format!(
        "{} não aguento mais {}",
        "Hoje o trabalho foi longo e cansativo. ".repeat(125),
        "Amanhã tento de novo. ".repeat(200)
    );
    let long_message = (0..5)
        .map(|_| {
            let started = Instant::now();
            std::hint::black_box(detector.assess(&long, &[]));
            started.elapsed()
        })
        .min()
        .unwrap_or_default();
    Ok(CrisisResult {
        development: evaluate(&detector, &development),
        held_out: evaluate(&detector, &held_out),
        per_message: (at(0.5), at(0.99)),
        long_message,
    })
}
