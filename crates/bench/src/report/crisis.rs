//! The "Crisis screen" section: the targets on the held-out part, and the tables.

use super::verdict;
use crate::crisis::CrisisResult;
use crate::stats::human;
use domain::safety::evaluation::Report;

const TARGET_RECALL: f64 = 0.97;
const TARGET_PRECISION: f64 = 0.93;
const TARGET_CATEGORY_RECALL: f64 = 0.90;

pub fn section(result: &Result<CrisisResult, String>, head: &str) -> (String, Vec<String>) {
    let result = match result {
        Ok(result) => result,
        Err(e) => {
            let line = format!("- #16 acceptance 1, the crisis screen's corpus: **failed** ({e}).");
            return (
                format!("## Crisis screen\n\n{head}\nFailed: {e}\n"),
                vec![line],
            );
        }
    };
    let held_out = &result.held_out;
    let (worst_name, worst) = worst_risk_category(held_out);
    let met = held_out.overall.recall() >= TARGET_RECALL
        && held_out.overall.precision() >= TARGET_PRECISION
        && worst >= TARGET_CATEGORY_RECALL;
    let line = format!(
        "- #16 acceptance 1, the crisis screen (rules alone) on the held-out part: recall {:.3} \
         (target {TARGET_RECALL}), precision {:.3} (target {TARGET_PRECISION}), lowest category \
         recall {worst:.3} in {worst_name} (target {TARGET_CATEGORY_RECALL}): **{}**.",
        held_out.overall.recall(),
        held_out.overall.precision(),
        verdict(met)
    );
    let text = format!(
        "## Crisis screen\n\n{head}\nThe rules alone (no model), on the evaluation corpus in \
         `crates/domain/tests/crisis_corpus/`: `dev.jsonl` is the part the rules were written \
         against, `heldout.jsonl` was written separately and is never read while writing them. \
         A message is flagged when the crisis answer would be given; risk categories show \
         recall, safe ones how many were left alone. `cargo xtask crisis-eval` prints the same \
         tables.\n\n{line}\n\nScreening one message takes {} at p50 and {} at p99; a \
         10,000-character message {}.\n\n### Held-out part ({} messages)\n\n{}\n### \
         Development part ({} messages)\n\n{}",
        human(result.per_message.0),
        human(result.per_message.1),
        human(result.long_message),
        held_out.overall.total(),
        held_out.table(),
        result.development.overall.total(),
        result.development.table()
    );
    (text, vec![line])
}

/// The risk category with the lowest recall.
fn worst_risk_category(report: &Report) -> (String, f64) {
    report
        .by_category
        .iter()
        .filter(|(_, c)| c.true_positive + c.false_negative > 0)
        .map(|(name, c)| (name.clone(), c.recall()))
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .unwrap_or_else(|| ("none".into(), 1.0))
}
