//! The crisis screen on its evaluation corpus (`crisis_corpus/`, written for this purpose, pt-BR
//! and English, half risk and half safe). `dev.jsonl` is the part the rules were written
//! against; `heldout.jsonl` was written separately and is not read while writing rules: it
//! measures whether they generalise.
//!
//! The targets: recall of at least 0.97 and precision of at least 0.93 overall, and recall of at
//! least 0.90 in every risk category. The development part meets them. The held-out part does
//! not yet (BENCHMARKS.md, "Crisis screen", has today's figures): its test holds the screen to
//! what it reaches now, so that a change that makes it generalise worse fails, and is raised as
//! the rules improve.

use domain::safety::CrisisDetector;
use domain::safety::evaluation::{Report, evaluate, parse_corpus};

fn report(file: &str) -> Report {
    let path = format!("{}/tests/crisis_corpus/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let cases = parse_corpus(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
    evaluate(&CrisisDetector::default(), &cases)
}

/// Lowest overall recall, overall precision and recall in any risk category.
struct Floor {
    recall: f64,
    precision: f64,
    category_recall: f64,
}

const TARGETS: Floor = Floor {
    recall: 0.97,
    precision: 0.93,
    category_recall: 0.90,
};

/// What the held-out part reaches today (recall 0.788, precision 0.929, lowest category 0.600).
const HELD_OUT_TODAY: Floor = Floor {
    recall: 0.78,
    precision: 0.92,
    category_recall: 0.60,
};

fn assert_at_least(report: &Report, floor: &Floor, name: &str) {
    let table = report.table();
    assert!(
        report.overall.recall() >= floor.recall,
        "{name}: overall recall\n{table}"
    );
    assert!(
        report.overall.precision() >= floor.precision,
        "{name}: overall precision\n{table}"
    );
    for (category, counts) in &report.by_category {
        let risk_category = counts.true_positive + counts.false_negative > 0;
        assert!(
            !risk_category || counts.recall() >= floor.category_recall,
            "{name}: recall in {category}\n{table}"
        );
    }
}

/// Only the summary table is ever printed for this part: its messages stay unread.
#[test]
fn the_held_out_part_does_not_generalise_worse_than_today() {
    assert_at_least(&report("heldout.jsonl"), &HELD_OUT_TODAY, "held-out");
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
    assert_at_least(&report, &TARGETS, "development");
}
