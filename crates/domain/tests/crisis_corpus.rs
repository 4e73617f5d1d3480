//! The crisis screen on its evaluation corpus (`crisis_corpus/`, written for this purpose, pt-BR
//! and English, half risk and half safe). `dev.jsonl` is the part the rules were written
//! against; `heldout.jsonl` was written separately and is not read while writing rules: it
//! measures whether they generalise. Thresholds of issue #16: on the held-out part, recall of
//! at least 0.97 and precision of at least 0.93 overall, and recall of at least 0.90 in every
//! risk category.

use domain::safety::CrisisDetector;
use domain::safety::evaluation::{Report, evaluate, parse_corpus};

fn report(file: &str) -> Report {
    let path = format!("{}/tests/crisis_corpus/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let cases = parse_corpus(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
    evaluate(&CrisisDetector::default(), &cases)
}

fn assert_targets(report: &Report, name: &str) {
    let table = report.table();
    assert!(
        report.overall.recall() >= 0.97,
        "{name}: overall recall\n{table}"
    );
    assert!(
        report.overall.precision() >= 0.93,
        "{name}: overall precision\n{table}"
    );
    for (category, counts) in &report.by_category {
        let risk_category = counts.true_positive + counts.false_negative > 0;
        assert!(
            !risk_category || counts.recall() >= 0.90,
            "{name}: recall in {category}\n{table}"
        );
    }
}

#[test]
fn the_held_out_part_meets_the_targets() {
    assert_targets(&report("heldout.jsonl"), "held-out");
}

#[test]
fn the_development_part_meets_the_targets() {
    let report = report("dev.jsonl");
    let misses: Vec<String> = report
        .misses
        .iter()
        .map(|(case, flagged)| {
            format!(
                "{} {} {:?} → {flagged}",
                case.category, case.text, case.context
            )
        })
        .collect();
    assert!(
        report.overall.recall() >= 0.97 && report.overall.precision() >= 0.93,
        "{}\n{}",
        report.table(),
        misses.join("\n")
    );
    assert_targets(&report, "development");
}
