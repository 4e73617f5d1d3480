//! Crisis-risk screening (rule 5 of the brief): recognise risk of suicide or self-harm in pt-BR and
//! English, as people actually write it (no accents, informal spelling, stretched letters), without
//! firing on everyday idioms ("morrendo de rir", "killing it").
//!
//! How it works: the message is folded to plain words, informal spellings are rewritten to their
//! standard form, idioms are masked out, and what is left is matched against risk phrases. Phrases
//! are word patterns: `a|b` are alternatives, a trailing `*` matches any ending, and `…` lets up to
//! three other words stand in between ("quero *muito* morrer").
//!
//! A false alarm costs one unneeded list of help lines; a miss can cost far more, so the phrases
//! lean towards firing whenever intent towards oneself is expressed.

use crate::Locale;
use crate::services::chat::CrisisScreen;
use crate::text::fold_words;

/// Words allowed between two parts of a phrase joined by `…`.
const MAX_GAP: usize = 3;

/// Phrases showing risk, after normalisation (both languages share one list: people mix them).
const RISK_PHRASES: &[&str] = &[
    // pt-BR
    "quero|queria|vontade|desejo|penso|pensando|pensei|vou|decidi|preciso|planejando|gostaria … morrer",
    "me|mim matar|mato|matando|suicidar|suicido|enforcar|enforco",
    "me|mim cortar|corto|cortando|machucar|machuco|machucando|ferir|firo|queimar",
    "suicid*",
    "automutil*|autolesao|autoagressao|autoflagel*",
    "tirar|acabar|terminar|fim … minha|propria vida",
    "nao quero|aguento|suporto|consigo … viver|existir|acordar",
    "melhor … morto|morta|morresse|morrer|existisse|sumisse",
    "sem|nenhum|nenhuma motivo|razao|sentido … viver",
    "nao … motivo|razao|sentido … viver",
    "nao vale … pena viver|continuar",
    "dormir … nao acordar|acordasse",
    "dormir para sempre",
    "sumir para sempre",
    "desistir da|de vida|viver",
    "tomar todos|todas|cartela … remedios|comprimidos|pilulas|remedio",
    "pular|jogar … ponte|predio|janela|viaduto|sacada|trem|metro",
    // English
    "kill|killing|unalive myself",
    "want|wanted|going|will|thinking|urge|urges|keep|started|need|planning … hurt|hurting|cut|cutting|harm|harming|burn|burning myself",
    "self harm|harming|injury|injure",
    "selfharm",
    "want|wanted|wish|ready|going|planning|deserve … to die",
    "wish … dead|die",
    "end|ending|take|taking … my|own life",
    "end it all",
    "better off dead|without",
    "no reason|point … to live|living|alive",
    "not want … live|alive|exist|wake",
    "not … worth living",
    "overdose|overdosing",
    "take|taking all … pills|meds|medication",
    "jump|jumping off|from … bridge|building|roof",
    "hang|hanging myself",
];

/// Everyday expressions that use the same words without risk; masked before matching.
const IDIOMS: &[&str] = &[
    // pt-BR: "morrendo de rir", "me mata de vergonha", "matar aula", "matar a saudade"
    "morrer|morrendo|morri|morro|morre|morreu|morta|morto|morria|morrerei|mata|matar|matou|matando|mato de|da|do rir|risada|tedio|fome|sede|sono|saudade|saudades|vergonha|calor|frio|vontade|cansaco|preguica|inveja|ciume|ciumes|curiosidade|amor|medo|raiva|susto|dor|trabalhar|trabalho|estudar",
    "matar|mata|matei|matando|mato aula|aulas|tempo|saudade|saudades|fome|sede|charada|serviço",
    "matar|mata|matei|matando|mato a|o saudade|fome|sede|charada|tempo|cobra|aula",
    "morrer na praia",
    // English: "killing it", "dying to see", "to die for", "bored to death"
    "kill|kills|killed|killing it",
    "kill|killing time",
    "killing|killed myself laughing",
    "die|dying|died of|from laughter|laughing|embarrassment|boredom|curiosity|thirst|hunger",
    "die|dying|died laughing",
    "dying to|for",
    "to die for",
    "die|died|dies down|hard",
    "dead tired|serious|wrong|set|on",
    "bored|scared|worried|frightened|freaking|tickled to death",
    "kill for|kill a",
];

/// Informal spellings rewritten to the standard words the phrases use.
const SPELLINGS: &[(&str, &str)] = &[
    ("qro", "quero"),
    ("kero", "quero"),
    ("qero", "quero"),
    ("keru", "quero"),
    ("n", "nao"),
    ("naum", "nao"),
    ("num", "nao"),
    ("nn", "nao"),
    ("pra", "para"),
    ("pro", "para"),
    ("p", "para"),
    ("vc", "voce"),
    ("q", "que"),
    ("mt", "muito"),
    ("mto", "muito"),
    ("msm", "mesmo"),
    ("dont", "do not"),
    ("doesnt", "does not"),
    ("cant", "can not"),
    ("cannot", "can not"),
    ("im", "i am"),
    ("wanna", "want to"),
    ("gonna", "going to"),
    ("kms", "kill myself"),
    ("u", "you"),
    ("isnt", "is not"),
];

/// One word slot of a phrase.
#[derive(Debug, Clone)]
struct Slot {
    words: Vec<String>,
    prefixes: Vec<String>,
    /// Other words may stand between the previous slot and this one.
    gap_before: bool,
}

impl Slot {
    fn matches(&self, word: &str) -> bool {
        self.words.iter().any(|w| w == word) || self.prefixes.iter().any(|p| word.starts_with(p))
    }
}

#[derive(Debug, Clone)]
struct Phrase(Vec<Slot>);

impl Phrase {
    fn parse(pattern: &str) -> Phrase {
        let mut slots = Vec::new();
        let mut gap = false;
        for item in pattern.split_whitespace() {
            if item == "…" {
                gap = true;
                continue;
            }
            let (mut words, mut prefixes) = (Vec::new(), Vec::new());
            for alt in item.split('|') {
                match alt.strip_suffix('*') {
                    Some(prefix) => prefixes.push(prefix.to_string()),
                    None => words.push(alt.to_string()),
                }
            }
            slots.push(Slot {
                words,
                prefixes,
                gap_before: std::mem::take(&mut gap),
            });
        }
        Phrase(slots)
    }

    /// The end (exclusive) of a match starting at `start`, if the phrase matches there.
    fn match_at(&self, words: &[&str], start: usize) -> Option<usize> {
        fn rest(slots: &[Slot], words: &[&str], at: usize) -> Option<usize> {
            let Some((slot, tail)) = slots.split_first() else {
                return Some(at);
            };
            let reach = if slot.gap_before { MAX_GAP } else { 0 };
            (at..=at + reach)
                .take_while(|&i| i < words.len())
                .filter(|&i| slot.matches(words[i]))
                .find_map(|i| rest(tail, words, i + 1))
        }
        let (first, tail) = self.0.split_first()?;
        if start < words.len() && first.matches(words[start]) {
            rest(tail, words, start + 1)
        } else {
            None
        }
    }
}

/// The keyword-and-phrase crisis screen for pt-BR and English.
#[derive(Debug, Clone)]
pub struct CrisisDetector {
    risks: Vec<Phrase>,
    idioms: Vec<Phrase>,
}

impl Default for CrisisDetector {
    fn default() -> Self {
        CrisisDetector {
            risks: RISK_PHRASES.iter().map(|p| Phrase::parse(p)).collect(),
            idioms: IDIOMS.iter().map(|p| Phrase::parse(p)).collect(),
        }
    }
}

/// Stands in for masked idiom words; matches no phrase.
const MASK: &str = "\u{0}";

impl CrisisDetector {
    /// Folded, respelled words with stretched letters shortened ("queroooo" → "quero").
    fn normalise(text: &str) -> Vec<String> {
        // Apostrophes join contractions ("don't" → "dont") instead of splitting them.
        let joined: String = text.chars().filter(|c| !matches!(c, '\'' | '’')).collect();
        let mut out = Vec::new();
        for word in fold_words(&joined) {
            let word = squeeze_repeats(&word);
            match SPELLINGS.iter().find(|(informal, _)| *informal == word) {
                Some((_, standard)) => out.extend(standard.split(' ').map(str::to_string)),
                None => out.push(word),
            }
        }
        out
    }

    fn find_risk(&self, words: &[&str]) -> bool {
        (0..words.len()).any(|start| {
            self.risks
                .iter()
                .any(|p| p.match_at(words, start).is_some())
        })
    }
}

/// Runs of three or more of the same letter shrink to one: people stretch words for emphasis.
fn squeeze_repeats(word: &str) -> String {
    let chars: Vec<char> = word.chars().collect();
    let mut out = String::with_capacity(word.len());
    let mut i = 0;
    while i < chars.len() {
        let run = chars[i..].iter().take_while(|&&c| c == chars[i]).count();
        let keep = if run >= 3 { 1 } else { run };
        out.extend(std::iter::repeat_n(chars[i], keep));
        i += run;
    }
    out
}

impl CrisisScreen for CrisisDetector {
    fn shows_risk(&self, text: &str) -> bool {
        let owned = Self::normalise(text);
        let mut words: Vec<&str> = owned.iter().map(String::as_str).collect();
        let mut start = 0;
        while start < words.len() {
            match self.idioms.iter().find_map(|p| p.match_at(&words, start)) {
                Some(end) => {
                    words[start..end].fill(MASK);
                    start = end;
                }
                None => start += 1,
            }
        }
        self.find_risk(&words)
    }

    fn crisis_reply(&self, locale: Locale) -> String {
        match locale {
            Locale::PtBr => CRISIS_PT_BR,
            Locale::En => CRISIS_EN,
        }
        .to_string()
    }
}

const CRISIS_PT_BR: &str = "Sinto muito que você esteja passando por isso. O que você sente importa, \
e você não precisa enfrentar este momento sozinho(a).

• CVV — Centro de Valorização da Vida: ligue 188, de graça, 24 horas por dia, ou converse pelo chat em cvv.org.br.
• Se você corre perigo agora: ligue 192 (SAMU) ou vá ao pronto-socorro mais próximo.
• Se puder, chame agora alguém de confiança para ficar com você.

Estou aqui e podemos continuar conversando.";

const CRISIS_EN: &str = "I'm really sorry you're going through this. What you feel matters, and you \
don't have to face this moment alone.

• Call or text 988 (Suicide & Crisis Lifeline, US), free, 24 hours a day, or chat at 988lifeline.org.
• If you are in danger right now: call 911 or go to the nearest emergency room.
• Outside the US, findahelpline.com lists free help lines in your country.
• If you can, ask someone you trust to stay with you now.

I'm here, and we can keep talking.";

#[cfg(test)]
mod tests {
    use super::*;

    fn risky(text: &str) -> bool {
        CrisisDetector::default().shows_risk(text)
    }

    #[test]
    fn portuguese_risk_with_and_without_accents_and_informal_spelling() {
        for text in [
            "Eu quero morrer",
            "eu qro morrer",
            "queroooo morrer, não aguento",
            "Tenho vontade de morrer todos os dias",
            "estou pensando em me matar",
            "vou mim matar hoje",
            "Penso em suicídio",
            "pensei em suicidio",
            "às vezes penso em me cortar",
            "não quero mais viver",
            "n aguento mais viver assim",
            "seria melhor se eu não existisse",
            "queria dormir e não acordar mais",
            "vou tomar todos os remédios da caixa",
            "pensei em pular da ponte",
            "quero acabar com a minha vida",
            "sinto que não tem motivo pra viver",
        ] {
            assert!(risky(text), "should fire: {text}");
        }
    }

    #[test]
    fn english_risk_including_informal_spelling() {
        for text in [
            "I want to die",
            "i wanna die",
            "I'm thinking about killing myself",
            "i want to kms",
            "I keep wanting to hurt myself",
            "I've been self-harming again",
            "I'm going to end my life",
            "I just want to end it all",
            "everyone would be better off without me",
            "I don't want to live anymore",
            "i dont want to wake up tomorrow",
            "life is not worth living",
            "I wish I was dead",
            "thinking of taking all my pills",
            "suicidal thoughts every night",
        ] {
            assert!(risky(text), "should fire: {text}");
        }
    }

    #[test]
    fn idioms_do_not_fire() {
        for text in [
            "Estou morrendo de rir com esse vídeo",
            "to morrendo de fome, bora almoçar",
            "morri de vergonha na reunião",
            "quero morrer de rir nesse show",
            "essa série me mata de rir",
            "vou matar aula amanhã",
            "que vontade de matar a saudade da família",
            "Ela está morrendo de saudade",
            "You're killing it at work!",
            "she killed it on stage",
            "I'm dying to see that movie",
            "I almost died laughing",
            "this cake is to die for",
            "I was bored to death in that meeting",
            "I was killing myself laughing",
            "we played cards to kill time",
            "the noise should die down soon",
            "I could kill for a coffee",
        ] {
            assert!(!risky(text), "should not fire: {text}");
        }
    }

    #[test]
    fn ordinary_messages_do_not_fire() {
        for text in [
            "Tenho dormido mal e estou ansiosa com o trabalho",
            "Como posso conversar com meu chefe sem brigar?",
            "My manager keeps criticising me and I feel stressed",
            "How do I deal with grief after my father died?",
            "",
        ] {
            assert!(!risky(text), "should not fire: {text}");
        }
    }

    #[test]
    fn replies_name_the_local_resources() {
        let detector = CrisisDetector::default();
        let pt = detector.crisis_reply(Locale::PtBr);
        assert!(pt.contains("188") && pt.contains("cvv.org.br") && pt.contains("CVV"));
        let en = detector.crisis_reply(Locale::En);
        assert!(en.contains("988"));
    }

    #[test]
    fn stretched_letters_shrink() {
        assert_eq!(squeeze_repeats("queroooo"), "quero");
        assert_eq!(squeeze_repeats("morrer"), "morrer");
        assert_eq!(squeeze_repeats("aaa"), "a");
    }
}
