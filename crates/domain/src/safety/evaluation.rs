//! Measuring the screen on a labelled corpus (`crates/domain/tests/crisis_corpus/`): precision
//! and recall overall and per category, as `cargo xtask crisis-eval` prints them and the corpus
//! test checks them.

use super::CrisisDetector;
use serde::Deserialize;
use std::collections::BTreeMap;

/// One labelled message: `text` is judged after the person's earlier `context` messages.
#[derive(Debug, Clone, Deserialize)]
pub struct Case {
    pub lang: String,
    /// `risk` (first-person risk: the crisis answer is due) or `safe`.
    pub label: String,
    pub category: String,
    #[serde(default)]
    pub context: Vec<String>,
    pub text: String,
}

impl Case {
    pub fn is_risk(&self) -> bool {
        self.label == "risk"
    }
}

/// Reads a JSON Lines corpus; the error names the line.
pub fn parse_corpus(text: &str) -> Result<Vec<Case>, String> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(i, line)| serde_json::from_str(line).map_err(|e| format!("line {}: {e}", i + 1)))
        .collect()
}

/// Counts of one slice of the corpus.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub true_positive: usize,
    pub false_positive: usize,
    pub true_negative: usize,
    pub false_negative: usize,
}

impl Counts {
    fn add(&mut self, risk: bool, flagged: bool) {
        match (risk, flagged) {
            (true, true) => self.true_positive += 1,
            (true, false) => self.false_negative += 1,
            (false, true) => self.false_positive += 1,
            (false, false) => self.true_negative += 1,
        }
    }

    pub fn total(&self) -> usize {
        self.true_positive + self.false_positive + self.true_negative + self.false_negative
    }

    /// Of the messages flagged, how many were risk (1 when none was flagged).
    pub fn precision(&self) -> f64 {
        ratio(self.true_positive, self.true_positive + self.false_positive)
    }

    /// Of the risk messages, how many were flagged (1 when there were none).
    pub fn recall(&self) -> f64 {
        ratio(self.true_positive, self.true_positive + self.false_negative)
    }

    /// Of the safe messages, how many were left alone (1 when there were none).
    pub fn specificity(&self) -> f64 {
        ratio(self.true_negative, self.true_negative + self.false_positive)
    }
}

fn ratio(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        1.0
    } else {
        part as f64 / whole as f64
    }
}

/// The screen's results on a corpus.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub overall: Counts,
    pub by_category: BTreeMap<String, Counts>,
    pub by_language: BTreeMap<String, Counts>,
    /// The cases judged wrongly, for the development part only (never print the held-out one).
    pub misses: Vec<(Case, bool)>,
}

/// Runs the screen on every case: flagged means the crisis answer would be given.
pub fn evaluate(detector: &CrisisDetector, cases: &[Case]) -> Report {
    let mut report = Report::default();
    for case in cases {
        let context: Vec<&str> = case.context.iter().map(String::as_str).collect();
        let flagged = detector.assess(&case.text, &context).is_crisis();
        let risk = case.is_risk();
        report.overall.add(risk, flagged);
        report
            .by_category
            .entry(case.category.clone())
            .or_default()
            .add(risk, flagged);
        report
            .by_language
            .entry(case.lang.clone())
            .or_default()
            .add(risk, flagged);
        if risk != flagged {
            report.misses.push((case.clone(), flagged));
        }
    }
    report
}

impl Report {
    /// A plain table: per category (risk ones show recall, safe ones specificity), per
    /// language, overall.
    pub fn table(&self) -> String {
        let mut out = String::from(
            "| slice | messages | precision | recall | safe left alone |\n|---|---:|---:|---:|---:|\n",
        );
        let mut row = |name: &str, c: &Counts| {
            out.push_str(&format!(
                "| {name} | {} | {:.3} | {:.3} | {:.3} |\n",
                c.total(),
                c.precision(),
                c.recall(),
                c.specificity()
            ));
        };
        for (name, counts) in &self.by_category {
            row(&format!("category {name}"), counts);
        }
        for (name, counts) in &self.by_language {
            row(&format!("language {name}"), counts);
        }
        row("**overall**", &self.overall);
        out
    }
}
