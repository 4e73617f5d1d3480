//! The person's safety plan (Stanley–Brown): read, save, delete and export their own, and no one
//! else's. There is deliberately no admin or manager path: every method takes the caller and
//! works on the caller's plan only, so no route can reach another person's plan.
//!
//! The plan is sealed as one JSON document by the [`MessageCipher`], bound to its owner's id, so
//! the store only ever sees ciphertext and a row copied to another person does not open.

use crate::conversation::CipherError;
use crate::ports::{Clock, MessageCipher, SafetyPlanStore, StoreError};
use crate::safety_plan::{SafetyPlan, SealedSafetyPlan};
use crate::{Actor, Locale};
use chrono::{DateTime, SubsecRound, Utc};
use std::sync::Arc;

/// Longest text of one step, in characters (after trimming).
pub const MAX_STEP_CHARS: usize = 2_000;

/// One field of a [`SafetyPlan`]: the six steps of the intervention in order, then the reasons
/// for living. The single place that knows each field's name, number and title.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    WarningSigns,
    CopingStrategies,
    Distractions,
    PeopleToAsk,
    Professionals,
    SafeEnvironment,
    ReasonsForLiving,
}

impl Step {
    pub const ALL: [Step; 7] = [
        Step::WarningSigns,
        Step::CopingStrategies,
        Step::Distractions,
        Step::PeopleToAsk,
        Step::Professionals,
        Step::SafeEnvironment,
        Step::ReasonsForLiving,
    ];

    /// The field's name in JSON and in forms (the name of the [`SafetyPlan`] field).
    pub fn key(self) -> &'static str {
        match self {
            Step::WarningSigns => "warning_signs",
            Step::CopingStrategies => "coping_strategies",
            Step::Distractions => "distractions",
            Step::PeopleToAsk => "people_to_ask",
            Step::Professionals => "professionals",
            Step::SafeEnvironment => "safe_environment",
            Step::ReasonsForLiving => "reasons_for_living",
        }
    }

    /// The step's number in the intervention; the reasons for living are an addition, unnumbered.
    pub fn number(self) -> Option<usize> {
        Step::ALL[..6]
            .iter()
            .position(|s| *s == self)
            .map(|i| i + 1)
    }

    /// The step's title, for pages and the export.
    pub fn title(self, locale: Locale) -> &'static str {
        match (self, locale) {
            (Step::WarningSigns, Locale::PtBr) => "Sinais de alerta",
            (Step::WarningSigns, Locale::En) => "Warning signs",
            (Step::CopingStrategies, Locale::PtBr) => "O que eu posso fazer sozinho(a)",
            (Step::CopingStrategies, Locale::En) => "Things I can do on my own",
            (Step::Distractions, Locale::PtBr) => "Pessoas e lugares que me distraem",
            (Step::Distractions, Locale::En) => "People and places that take my mind off it",
            (Step::PeopleToAsk, Locale::PtBr) => "Pessoas a quem posso pedir ajuda",
            (Step::PeopleToAsk, Locale::En) => "People I can ask for help",
            (Step::Professionals, Locale::PtBr) => "Profissionais e serviços",
            (Step::Professionals, Locale::En) => "Professionals and services",
            (Step::SafeEnvironment, Locale::PtBr) => "Deixar o ambiente mais seguro",
            (Step::SafeEnvironment, Locale::En) => "Making my surroundings safer",
            (Step::ReasonsForLiving, Locale::PtBr) => "Minhas razões para viver",
            (Step::ReasonsForLiving, Locale::En) => "My reasons for living",
        }
    }

    pub fn of(self, plan: &SafetyPlan) -> &str {
        match self {
            Step::WarningSigns => &plan.warning_signs,
            Step::CopingStrategies => &plan.coping_strategies,
            Step::Distractions => &plan.distractions,
            Step::PeopleToAsk => &plan.people_to_ask,
            Step::Professionals => &plan.professionals,
            Step::SafeEnvironment => &plan.safe_environment,
            Step::ReasonsForLiving => &plan.reasons_for_living,
        }
    }

    fn of_mut(self, plan: &mut SafetyPlan) -> &mut String {
        match self {
            Step::WarningSigns => &mut plan.warning_signs,
            Step::CopingStrategies => &mut plan.coping_strategies,
            Step::Distractions => &mut plan.distractions,
            Step::PeopleToAsk => &mut plan.people_to_ask,
            Step::Professionals => &mut plan.professionals,
            Step::SafeEnvironment => &mut plan.safe_environment,
            Step::ReasonsForLiving => &mut plan.reasons_for_living,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SafetyPlanError {
    #[error("the plan is empty: write something in at least one step")]
    Empty,
    #[error("the step \"{}\" is too long (at most {MAX_STEP_CHARS} characters)", .0.key())]
    TooLong(Step),
    /// Tampering, or a row that is not the caller's: never shown as someone else's words.
    #[error("the saved plan cannot be opened")]
    Undecryptable,
    #[error("storage unavailable: {0}")]
    Storage(StoreError),
}

impl From<StoreError> for SafetyPlanError {
    fn from(e: StoreError) -> Self {
        SafetyPlanError::Storage(e)
    }
}

impl From<CipherError> for SafetyPlanError {
    fn from(_: CipherError) -> Self {
        SafetyPlanError::Undecryptable
    }
}

pub struct SafetyPlanService<S, X, C> {
    pub store: Arc<S>,
    pub cipher: Arc<X>,
    /// When a plan was saved.
    pub clock: Arc<C>,
}

impl<S, X, C> Clone for SafetyPlanService<S, X, C> {
    fn clone(&self) -> Self {
        SafetyPlanService {
            store: self.store.clone(),
            cipher: self.cipher.clone(),
            clock: self.clock.clone(),
        }
    }
}

impl<S: SafetyPlanStore, X: MessageCipher, C: Clock> SafetyPlanService<S, X, C> {
    /// The caller's plan and when it was last saved; `None` before the first save.
    pub async fn get(
        &self,
        actor: &Actor,
    ) -> Result<Option<(SafetyPlan, DateTime<Utc>)>, SafetyPlanError> {
        let Some(stored) = self.store.safety_plan(actor.user_id).await? else {
            return Ok(None);
        };
        let json = self.cipher.open(actor.user_id, &stored.sealed)?;
        // Sealed by `save` from a `SafetyPlan`: JSON that does not parse was not written by us.
        let plan = serde_json::from_str(&json).map_err(|_| SafetyPlanError::Undecryptable)?;
        Ok(Some((plan, stored.updated_at)))
    }

    /// Creates or replaces the caller's plan, as `normalize` leaves it; returns what was
    /// saved and when.
    pub async fn save(
        &self,
        actor: &Actor,
        plan: SafetyPlan,
    ) -> Result<(SafetyPlan, DateTime<Utc>), SafetyPlanError> {
        let plan = normalize(plan)?;
        // Serialising a struct of strings cannot fail.
        let json = serde_json::to_string(&plan).unwrap_or_default();
        let stored = SealedSafetyPlan {
            user_id: actor.user_id,
            sealed: self.cipher.seal(actor.user_id, &json),
            // Stores keep milliseconds: what `save` answers is then what `get` reads back.
            updated_at: self.clock.now().trunc_subsecs(3),
        };
        self.store.put_safety_plan(&stored).await?;
        Ok((plan, stored.updated_at))
    }

    /// Really deletes the caller's plan; `true` if there was one.
    pub async fn delete(&self, actor: &Actor) -> Result<bool, SafetyPlanError> {
        Ok(self.store.delete_safety_plan(actor.user_id).await?)
    }
}

/// Each step trimmed, with Windows line breaks (what browsers send from a textarea) made `\n`
/// so a step's length is the length the person saw; refused when a step is longer than
/// [`MAX_STEP_CHARS`] or when every step is empty.
fn normalize(mut plan: SafetyPlan) -> Result<SafetyPlan, SafetyPlanError> {
    for step in Step::ALL {
        let text = step.of_mut(&mut plan);
        *text = text.trim().replace("\r\n", "\n");
        if text.chars().count() > MAX_STEP_CHARS {
            return Err(SafetyPlanError::TooLong(step));
        }
    }
    if Step::ALL.iter().all(|step| step.of(&plan).is_empty()) {
        return Err(SafetyPlanError::Empty);
    }
    Ok(plan)
}

/// The plan as a Markdown document to keep or print: every step under its title, one item a
/// line as the person wrote them (an empty step stays as a blank to fill in by hand), and the
/// crisis lines of the person's language at the end.
pub fn export_markdown(plan: &SafetyPlan, locale: Locale) -> String {
    let (title, step_word, blank, help) = match locale {
        Locale::PtBr => (
            "Meu plano de segurança",
            "Passo",
            "(em branco)",
            "Em crise: CVV 188 (gratuito, 24 horas, cvv.org.br). Em perigo agora: SAMU 192.",
        ),
        Locale::En => (
            "My safety plan",
            "Step",
            "(blank)",
            "In a crisis: call or text 988 (988lifeline.org). In danger right now: call 911.",
        ),
    };
    let mut out = format!("# {title}\n");
    for step in Step::ALL {
        let heading = match step.number() {
            Some(n) => format!("{step_word} {n}: {}", step.title(locale)),
            None => step.title(locale).to_string(),
        };
        out.push_str(&format!("\n## {heading}\n\n"));
        let items: Vec<&str> = step
            .of(plan)
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty())
            .collect();
        if items.is_empty() {
            out.push_str(&format!("{blank}\n"));
        }
        for item in items {
            out.push_str(&format!("- {item}\n"));
        }
    }
    out.push_str(&format!("\n---\n\n{help}\n"));
    out
}
