//! The classifier's metrics, read from a recorder installed for this test binary alone (the
//! recorder is process-wide, so this file holds a single test).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use domain::model::{RiskQuestion, RiskVerdict, risk_classifier_messages};
use domain::ports::{ChatModel, TokenCounter};
use metrics::{Counter, Gauge, Histogram, Key, KeyName, Metadata, Recorder, SharedString, Unit};
use model_openai::stub::{Behaviour, Reply, StubServer};
use model_openai::{OpenAiConfig, OpenAiModel, TiktokenCounter};

/// Counters by name and labels (`name{label=value}`); gauges and histograms are ignored.
#[derive(Default)]
struct Counters(Mutex<HashMap<String, Arc<AtomicU64>>>);

impl Counters {
    fn get(&self, key: &str) -> u64 {
        self.0
            .lock()
            .unwrap()
            .get(key)
            .map_or(0, |c| c.load(Ordering::SeqCst))
    }
}

impl Recorder for Counters {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}

    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        let labels: Vec<String> = key
            .labels()
            .map(|l| format!("{}={}", l.key(), l.value()))
            .collect();
        let name = if labels.is_empty() {
            key.name().to_string()
        } else {
            format!("{}{{{}}}", key.name(), labels.join(","))
        };
        Counter::from_arc(self.0.lock().unwrap().entry(name).or_default().clone())
    }

    fn register_gauge(&self, _: &Key, _: &Metadata<'_>) -> Gauge {
        Gauge::noop()
    }

    fn register_histogram(&self, _: &Key, _: &Metadata<'_>) -> Histogram {
        Histogram::noop()
    }
}

#[tokio::test]
async fn calls_are_counted_by_outcome_and_tokens_as_reported() {
    let counters: &'static Counters = Box::leak(Box::default());
    metrics::set_global_recorder(counters).unwrap();
    model_openai::describe_metrics();

    let server = StubServer::start(Behaviour::from(vec![]).classifications(vec![
        Reply::verdict(true, false),
        Reply::verdict(false, false),
        Reply::json("talvez"),
        Reply::status(500),
        Reply::verdict(true, true).delay_first(Duration::from_secs(1)),
    ]))
    .await;
    let mut config = OpenAiConfig::new(&server.base_url, "m");
    config.classification_timeout = Duration::from_millis(200);
    let model = OpenAiModel::new(config).unwrap();
    let question = RiskQuestion {
        recent: Vec::new(),
        message: "Não vejo saída.".into(),
    };
    for _ in 0..5 {
        let _ = model.classify_risk(&question).await;
    }

    for outcome in ["risk", "no_risk", "timeout"] {
        let key = format!("safety_classifier_calls_total{{outcome={outcome}}}");
        assert_eq!(counters.get(&key), 1, "{key}");
    }
    // The malformed answer and the 500.
    assert_eq!(
        counters.get("safety_classifier_calls_total{outcome=error}"),
        2
    );
    // Three answers reported usage (the malformed one too: its tokens were spent); the refusal
    // and the timeout reported none.
    let counter = TiktokenCounter::new();
    let prompt = counter.count_request(&risk_classifier_messages(&question));
    let content = |risk, imminent| serde_json::to_string(&RiskVerdict { risk, imminent }).unwrap();
    let completion = counter.count(&content(true, false))
        + counter.count(&content(false, false))
        + counter.count("talvez");
    assert_eq!(
        counters.get("safety_classifier_tokens_total"),
        3 * prompt + completion
    );
}
