//! Crisis-risk screening: recognise risk of suicide or self-harm in pt-BR
//! and English as people write it, by the categories clinicians screen for (the Columbia Suicide
//! Severity Rating Scale screener, plus the risk factors of Joiner and Beck), in the context of
//! the conversation.
//!
//! How it works, per sentence (`words.rs`, `phrase.rs`):
//! 1. the message is folded to plain words (accents, case, informal spelling, leetspeak,
//!    stretched letters, contractions and coded words undone);
//! 2. everyday idioms ("morrendo de rir", "killing it", "cortar caminho") are masked;
//! 3. the rules (`rules_*_acts.rs` and `rules_*_thoughts.rs` by category, `rules_*_other.rs`
//!    for the weaker signals and the idioms; `*` is `pt` or `en`) find *signals*: first-person risk by category,
//!    hopelessness and distress, questions about means, someone else at risk;
//! 4. each risk signal is checked for negation ("I'm not suicidal") and for whose it is: the
//!    nearest person named before it ("minha irmã quer…" is someone else) or a topic frame
//!    before it ("a reportagem sobre suicídio" is news);
//! 5. the signals and the person's recent messages decide the [`Concern`].
//!
//! A false alarm costs one unneeded list of help lines; a miss can cost far more, so where the
//! rules are unsure they lean towards risk. `cargo xtask crisis-eval` measures them on the
//! corpus in `crates/domain/tests/crisis_corpus/`.

pub mod evaluation;
mod language;
mod markers;
mod phrase;
pub mod replies;
mod rules_en_acts;
mod rules_en_other;
mod rules_en_thoughts;
mod rules_pt_acts;
mod rules_pt_other;
mod rules_pt_thoughts;
mod words;

pub use language::detect_language;
pub use replies::{crisis_reply, method_content, safety_prompt, someone_else_reply};

use crate::Locale;
use phrase::{Phrase, Token};
use std::collections::{BTreeSet, HashMap};

/// The risk categories of the screen, as clinicians name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RiskCategory {
    /// An act in progress or minutes away: emergency first.
    Imminent,
    /// An earlier attempt, or the intent to try again.
    PastAttempt,
    /// Wishing to be dead, not to wake up, never to have been born.
    PassiveWish,
    /// Thinking about killing oneself.
    ActiveIdeation,
    /// Thinking about how.
    Method,
    /// A decision, a date, a place.
    IntentPlan,
    /// Farewell letters, giving things away, obtaining or stockpiling means.
    Preparation,
    /// Cutting, burning, hitting oneself, including recurrence.
    SelfInjury,
    /// Feeling a burden, that nobody would miss them, trapped with no way out.
    BurdenHopelessness,
    /// Asking about lethal doses, heights or means, after distress or outright about dying.
    MethodSeeking,
}

impl RiskCategory {
    pub const ALL: [RiskCategory; 10] = [
        RiskCategory::Imminent,
        RiskCategory::PastAttempt,
        RiskCategory::PassiveWish,
        RiskCategory::ActiveIdeation,
        RiskCategory::Method,
        RiskCategory::IntentPlan,
        RiskCategory::Preparation,
        RiskCategory::SelfInjury,
        RiskCategory::BurdenHopelessness,
        RiskCategory::MethodSeeking,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RiskCategory::Imminent => "imminent",
            RiskCategory::PastAttempt => "past_attempt",
            RiskCategory::PassiveWish => "passive_wish",
            RiskCategory::ActiveIdeation => "active_ideation",
            RiskCategory::Method => "method",
            RiskCategory::IntentPlan => "intent_plan",
            RiskCategory::Preparation => "preparation",
            RiskCategory::SelfInjury => "self_injury",
            RiskCategory::BurdenHopelessness => "burden_hopelessness",
            RiskCategory::MethodSeeking => "method_seeking",
        }
    }
}

/// What the rules find in one sentence; see the rule files for the wordings of each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Signal {
    /// First-person risk of this category (unless negated, or someone else's, or a topic).
    Risk(RiskCategory),
    /// Strong hopelessness or entrapment: risk together with other distress, ambiguous alone.
    Hopeless,
    /// Distress without risk content.
    Distress,
    /// A question about doses, heights or means: risk only after distress.
    MethodQuestion,
    /// A question about how to die (painless ways, lethal doses): risk on its own.
    DeathQuestion,
    /// Words that carry intent only in a conversation that has shown risk ("doing it Friday").
    VagueIntent,
    /// Someone else at risk ("ela quer se matar").
    OtherAtRisk,
}

/// How concerned the screen is, from least to most.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Concern {
    /// Nothing of note.
    None,
    /// Worry about someone else at risk: an answer on how to help them.
    SomeoneElse,
    /// Distress or hopelessness without explicit risk: ambiguous, a second opinion helps.
    Distress,
    /// First-person risk: the crisis answer.
    Risk,
    /// An act in progress or minutes away: the emergency number first.
    Imminent,
}

/// The screen's judgement of one message in its conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assessment {
    pub concern: Concern,
    /// The risk categories recognised (empty unless the concern is `Risk` or `Imminent`).
    pub categories: BTreeSet<RiskCategory>,
    /// The language the message is written in, when it is clear (replies follow it rather
    /// than the profile's).
    pub language: Option<Locale>,
    /// The conversation showed risk before this message: the next turns stay safety-oriented.
    pub after_crisis: bool,
    /// The conversation showed distress (or risk) before this message: the model's replies
    /// stay held back and checked for method content.
    pub after_distress: bool,
}

impl Assessment {
    /// The crisis answer is due.
    pub fn is_crisis(&self) -> bool {
        self.concern >= Concern::Risk
    }
}

/// What one message shows, before the conversation is taken into account.
#[derive(Debug, Default)]
struct Findings {
    risks: BTreeSet<RiskCategory>,
    hopeless: usize,
    distress: usize,
    method_question: bool,
    death_question: bool,
    /// Separate wordings that carry intent only with something else ("it's decided", "tonight
    /// is the night"): two of them, or one with hopelessness or distress, are a plan.
    vague_intent: usize,
    other_at_risk: bool,
}

impl Findings {
    fn alone(&self) -> Concern {
        let weak = self.hopeless + self.distress;
        // Risk factors together: hopelessness twice or with distress; vague intent twice or
        // with either; a question about means with any of them.
        let together = self.hopeless >= 2
            || (self.hopeless >= 1 && self.distress >= 1)
            || self.vague_intent >= 2
            || (self.vague_intent >= 1 && weak > 0)
            || (self.method_question && weak + self.vague_intent > 0);
        if self.risks.contains(&RiskCategory::Imminent) {
            Concern::Imminent
        } else if !self.risks.is_empty() || self.death_question || together {
            Concern::Risk
        } else if weak > 0 {
            Concern::Distress
        } else if self.other_at_risk {
            Concern::SomeoneElse
        } else {
            Concern::None
        }
    }
}

/// The rule-based crisis screen for pt-BR and English.
#[derive(Debug, Clone)]
pub struct CrisisDetector {
    rules: Vec<(Signal, Phrase)>,
    /// Each rule's source text, for [`CrisisDetector::explain`].
    sources: Vec<&'static str>,
    /// Rule indexes by the word a match must start with (or, for a stem, its first two letters
    /// and `*`); `anywhere` lists the others.
    by_first_word: HashMap<String, Vec<usize>>,
    anywhere: Vec<usize>,
    idioms: Vec<Phrase>,
    retractions: Vec<Phrase>,
}

/// Taking back or playing down what was said ("esquece", "I was joking"): right after a crisis,
/// the crisis answer stands rather than the conversation moving on as if nothing was said.
const RETRACTIONS: &[&str] = &[
    "esquece|esqueca|esquecer",
    "deixa|deixe + pra|para + la",
    "to|estou|tou|ta|esta + bem|tranquil*|de boa",
    "era|foi|e|so + brincadeira|zoeira|zoando|exagero",
    "brincadeira|brincando|zoando|zoeira",
    "nao + era|foi|e + serio|nada|verdade",
    "entendeu|entendeu + errado|mal",
    "exagerei|exagerando|drama",
    "nada + nao",
    "forget + it|that|about it",
    "never + mind",
    "nevermind",
    "i am + fine|ok|okay|good|alright|all right|over it",
    "just|only|was + kidding|joking",
    "kidding|joking",
    "misunderstood|misread",
    "did not + mean + it|that",
    "not + serious|serious",
    "overreacting|exaggerating|being dramatic",
    "it is + nothing",
];

impl Default for CrisisDetector {
    fn default() -> Self {
        let sources: Vec<(Signal, &'static str)> = rules_pt_acts::RULES
            .iter()
            .chain(rules_pt_thoughts::RULES)
            .chain(rules_pt_other::RULES)
            .chain(rules_en_acts::RULES)
            .chain(rules_en_thoughts::RULES)
            .chain(rules_en_other::RULES)
            .flat_map(|(signal, patterns)| patterns.iter().map(|p| (*signal, *p)))
            .collect();
        let rules: Vec<(Signal, Phrase)> = sources
            .iter()
            .map(|(signal, p)| (*signal, Phrase::parse(p)))
            .collect();
        let sources = sources.into_iter().map(|(_, p)| p).collect();
        let mut by_first_word: HashMap<String, Vec<usize>> = HashMap::new();
        let mut anywhere = Vec::new();
        for (i, (_, phrase)) in rules.iter().enumerate() {
            match phrase.first_words() {
                Some(words) => {
                    for word in words {
                        by_first_word.entry(word).or_default().push(i);
                    }
                }
                None => anywhere.push(i),
            }
        }
        let idioms = rules_pt_other::IDIOMS
            .iter()
            .chain(rules_en_other::IDIOMS)
            .map(|p| Phrase::parse(p))
            .collect();
        CrisisDetector {
            rules,
            sources,
            by_first_word,
            anywhere,
            idioms,
            retractions: RETRACTIONS.iter().map(|p| Phrase::parse(p)).collect(),
        }
    }
}

/// Earlier messages older than this many of the person's own are no longer context.
const CONTEXT_MESSAGES: usize = 6;

impl CrisisDetector {
    /// Judges `message` given the person's `earlier` messages in this conversation, oldest
    /// first (only their own: the assistant's replies carry no risk of theirs).
    pub fn assess(&self, message: &str, earlier: &[&str]) -> Assessment {
        let findings = self.findings(message);
        let recent = &earlier[earlier.len().saturating_sub(CONTEXT_MESSAGES)..];
        let earlier_findings: Vec<Findings> = recent.iter().map(|m| self.findings(m)).collect();
        let before: Vec<Concern> = earlier_findings.iter().map(Findings::alone).collect();
        let recent_risk: BTreeSet<RiskCategory> = earlier_findings
            .iter()
            .flat_map(|f| f.risks.iter().copied())
            .collect();
        let after_crisis = before.iter().any(|c| *c >= Concern::Risk);
        let just_after_crisis = before.last().is_some_and(|c| *c >= Concern::Risk);
        let distress_before = before.iter().any(|c| *c >= Concern::Distress);
        let mut concern = findings.alone();
        let mut categories = findings.risks.clone();
        if concern < Concern::Risk {
            let escalated = if findings.method_question && distress_before {
                Some(RiskCategory::MethodSeeking)
            } else if findings.vague_intent > 0 && distress_before {
                Some(RiskCategory::IntentPlan)
            } else if just_after_crisis
                || (after_crisis && (concern == Concern::Distress || self.retracts(message)))
            {
                // Still in the crisis: the next message, and later "nothing will change",
                // "forget it, I'm fine" or "you misunderstood", are not a new topic and must not
                // end the safety flow. Other messages after a crisis go on carefully (the chat
                // service's safety prompt and check-in) instead of repeating the crisis answer.
                Some(
                    recent_risk
                        .iter()
                        .copied()
                        .next()
                        .unwrap_or(RiskCategory::BurdenHopelessness),
                )
            } else {
                None
            };
            if let Some(category) = escalated {
                concern = Concern::Risk;
                categories.insert(category);
            }
        }
        if concern == Concern::Risk && findings.death_question {
            categories.insert(RiskCategory::MethodSeeking);
        }
        if concern == Concern::Risk && categories.is_empty() {
            categories.insert(if findings.method_question {
                RiskCategory::MethodSeeking
            } else if findings.vague_intent > 0 {
                RiskCategory::IntentPlan
            } else {
                RiskCategory::BurdenHopelessness
            });
        }
        if concern < Concern::Risk {
            categories.clear();
        }
        Assessment {
            concern,
            categories,
            language: detect_language(message),
            after_crisis,
            after_distress: distress_before,
        }
    }

    /// Whether `message` takes back or plays down what was said before.
    fn retracts(&self, message: &str) -> bool {
        words::sentences(message).iter().any(|sentence| {
            (0..sentence.len()).any(|start| {
                self.retractions
                    .iter()
                    .any(|p| p.match_at(sentence, start).is_some())
            })
        })
    }

    /// Which rules matched where, and whose each match was: for reading the screen's decisions
    /// on the development corpus (`cargo xtask crisis-eval --explain`).
    pub fn explain(&self, message: &str) -> Vec<String> {
        let mut out = Vec::new();
        for mut sentence in words::sentences(message) {
            self.mask_idioms(&mut sentence);
            for start in 0..sentence.len() {
                for (i, (signal, phrase)) in self.rules.iter().enumerate() {
                    if let Some(end) = phrase.match_at(&sentence, start) {
                        let said: Vec<&str> =
                            sentence[start..end].iter().map(Token::main).collect();
                        out.push(format!(
                            "{signal:?} {:?} negated={} «{}» ← {}",
                            markers::subject(&sentence, start, end),
                            markers::negated(&sentence, start),
                            said.join(" "),
                            self.sources[i]
                        ));
                    }
                }
            }
        }
        out
    }

    fn findings(&self, message: &str) -> Findings {
        let mut findings = Findings::default();
        for mut sentence in words::sentences(message) {
            self.mask_idioms(&mut sentence);
            self.scan(&sentence, &mut findings);
        }
        findings
    }

    fn mask_idioms(&self, tokens: &mut [Token]) {
        let mut start = 0;
        while start < tokens.len() {
            match self.idioms.iter().find_map(|p| p.match_at(tokens, start)) {
                Some(end) => {
                    for token in &mut tokens[start..end] {
                        let clause_end = token.clause_end;
                        *token = Token::new(markers::MASK);
                        token.clause_end = clause_end;
                    }
                    start = end;
                }
                None => start += 1,
            }
        }
    }

    fn scan(&self, tokens: &[Token], findings: &mut Findings) {
        let mut counted = Counted::default();
        for start in 0..tokens.len() {
            let forms = &tokens[start].forms;
            let keys = forms.iter().filter_map(|form| phrase::prefix_key(form));
            let indexed = forms
                .iter()
                .filter_map(|form| self.by_first_word.get(form))
                .chain(keys.filter_map(|key| self.by_first_word.get(&key)))
                .flatten();
            for &i in indexed.chain(&self.anywhere) {
                let (signal, phrase) = &self.rules[i];
                if let Some(end) = phrase.match_at(tokens, start) {
                    record(*signal, tokens, start, end, findings, &mut counted);
                }
            }
        }
    }
}

/// Where in the sentence the counted signals reach, so overlapping wordings of one thought
/// ("não vejo saída" inside "preso, não vejo saída") count once.
#[derive(Default)]
struct Counted {
    hopeless: usize,
    distress: usize,
    vague: usize,
}

/// Counts a match unless it overlaps one already counted of the same signal.
fn count_once(reach: &mut usize, count: &mut usize, start: usize, end: usize) {
    if start >= *reach {
        *count += 1;
    }
    *reach = (*reach).max(end);
}

/// Adds one rule match to the findings, once its negation and its subject are known.
fn record(
    signal: Signal,
    tokens: &[Token],
    start: usize,
    end: usize,
    findings: &mut Findings,
    counted: &mut Counted,
) {
    let mut subject = markers::subject(tokens, start, end);
    if matches!(signal, Signal::MethodQuestion | Signal::DeathQuestion)
        && markers::for_a_dependant(tokens, end)
    {
        subject = markers::Subject::Other;
    }
    // "They'd be better off with the insurance": burden names others by nature; "asking for a
    // friend" is the asker's; "for someone to not wake up" in a question is a generic someone.
    let own_anyway = match signal {
        Signal::Risk(RiskCategory::BurdenHopelessness) | Signal::VagueIntent => true,
        Signal::MethodQuestion | Signal::DeathQuestion => {
            markers::generic_person(tokens, start, end) && !markers::for_a_dependant(tokens, end)
        }
        _ => false,
    };
    if own_anyway && subject == markers::Subject::Other && !markers::reported(tokens, start) {
        subject = markers::Subject::Writer;
    }
    if markers::negated(tokens, start) && signal != Signal::MethodQuestion {
        return;
    }
    match (signal, subject) {
        (Signal::OtherAtRisk, markers::Subject::Other) => findings.other_at_risk = true,
        (Signal::OtherAtRisk, _) => {}
        // Someone else's distress is not the writer's.
        (Signal::Hopeless | Signal::Distress | Signal::VagueIntent, markers::Subject::Other) => {}
        (Signal::Risk(_) | Signal::DeathQuestion, markers::Subject::Other) => {
            findings.other_at_risk = true
        }
        (_, markers::Subject::Topic) => {}
        (Signal::Risk(category), _) => {
            findings.risks.insert(category);
        }
        (Signal::Hopeless, _) => {
            count_once(&mut counted.hopeless, &mut findings.hopeless, start, end)
        }
        (Signal::Distress, _) => {
            count_once(&mut counted.distress, &mut findings.distress, start, end)
        }
        (Signal::MethodQuestion, _) => findings.method_question = true,
        (Signal::DeathQuestion, _) => findings.death_question = true,
        (Signal::VagueIntent, _) => {
            count_once(&mut counted.vague, &mut findings.vague_intent, start, end)
        }
    }
}

#[cfg(test)]
mod tests;
