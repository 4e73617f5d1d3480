//! Whose words a match is about, and whether it is denied: the small grammar around a match.

use super::phrase::Token;

/// Stands in for masked idiom words; matches no rule and no marker.
pub const MASK: &str = "\u{0}";

/// Words that deny what follows them ("não", "never").
const NEGATORS: &[&str] = &["nao", "nunca", "jamais", "nem", "not", "never", "no"];

/// Words that may stand between a negator and what it denies ("não *quero* me matar", "I would
/// *never ever* kill myself").
const NEGATION_FILLERS: &[&str] = &[
    "eu",
    "i",
    "do",
    "does",
    "did",
    "would",
    "will",
    "am",
    "is",
    "to",
    "estou",
    "mesmo",
    "really",
    "actually",
    "even",
    "ever",
    "quero",
    "queria",
    "penso",
    "pensei",
    "pretendo",
    "vou",
    "tenho",
    "want",
    "going",
    "plan",
    "planning",
    "intend",
    "thinking",
    "pensando",
    "tentei",
    "tried",
    "thought",
    "consigo",
    "could",
    "ia",
    "iria",
    "faria",
    "have",
    "seriously",
    "em",
    "de",
    "a",
    "about",
    "of",
    "that",
    "que",
    "sou",
    "be",
    "being",
    "been",
    "feel",
    "me",
    "sinto",
    "estar",
    "um",
    "uma",
    "ser",
    "tipo",
];

/// The writer speaking of themself.
const FIRST_PERSON: &[&str] = &[
    "eu",
    "me",
    "mim",
    "meu",
    "minha",
    "meus",
    "minhas",
    "comigo",
    "i",
    "my",
    "myself",
    "mine",
    // pt-BR verb forms that can only be the writer's
    "quero",
    "queria",
    "vou",
    "estou",
    "tou",
    "estava",
    "penso",
    "tento",
    "tomei",
    "tenho",
    "tinha",
    "sinto",
    "sou",
    "era",
    "fui",
    "acho",
    "preciso",
    "consigo",
    "aguento",
    "decidi",
    "resolvi",
    "fiz",
    "escrevi",
    "corto",
    "machuco",
    "queimo",
    "bato",
    "mato",
    "vejo",
    "posso",
    "gostaria",
    "desejo",
    "durmo",
    "acordo",
    "engoli",
    "bebi",
    "sofro",
    "choro",
    "odeio",
    "prefiro",
    "preferia",
    "desisti",
    "desisto",
    "sobrevivi",
    "aguentei",
];

/// Other people the writer may be speaking of.
const THIRD_PARTY: &[&str] = &[
    "ele",
    "ela",
    "eles",
    "elas",
    "dele",
    "dela",
    "deles",
    "delas",
    "amigo",
    "amiga",
    "amigos",
    "amigas",
    "irmao",
    "irma",
    "mae",
    "pai",
    "filho",
    "filha",
    "namorado",
    "namorada",
    "marido",
    "esposa",
    "colega",
    "aluno",
    "aluna",
    "alunos",
    "paciente",
    "primo",
    "prima",
    "tio",
    "tia",
    "avo",
    "vizinho",
    "vizinha",
    "cliente",
    "companheiro",
    "companheira",
    "parceiro",
    "parceira",
    "alguem",
    "pessoa",
    "pessoas",
    "crianca",
    "adolescente",
    "enteado",
    "enteada",
    "cunhado",
    "cunhada",
    "sobrinho",
    "sobrinha",
    "chefe",
    "funcionario",
    "funcionaria",
    "conhecido",
    "conhecida",
    "he",
    "she",
    "they",
    "them",
    "his",
    "her",
    "their",
    "him",
    "friend",
    "friends",
    "sister",
    "brother",
    "mom",
    "mother",
    "dad",
    "father",
    "son",
    "daughter",
    "boyfriend",
    "girlfriend",
    "husband",
    "wife",
    "partner",
    "coworker",
    "colleague",
    "student",
    "students",
    "patient",
    "cousin",
    "aunt",
    "uncle",
    "grandma",
    "grandpa",
    "grandmother",
    "grandfather",
    "neighbor",
    "roommate",
    "someone",
    "somebody",
    "person",
    "people",
    "kid",
    "child",
    "teen",
    "teenager",
    "client",
    "employee",
    "classmate",
    "bestie",
    "bff",
    "mum",
    "stepson",
    "stepdaughter",
    "nephew",
    "niece",
    "fiance",
    "fiancee",
];

/// Words that frame what follows as a topic, not the writer's own state: news, study, fiction,
/// prevention.
const TOPIC: &[&str] = &[
    "campanha",
    "setembro",
    "prevencao",
    "estatistica",
    "estatisticas",
    "pesquisa",
    "estudo",
    "artigo",
    "reportagem",
    "noticia",
    "noticias",
    "jornal",
    "filme",
    "serie",
    "livro",
    "romance",
    "personagem",
    "personagens",
    "musica",
    "novela",
    "episodio",
    "documentario",
    "palestra",
    "faculdade",
    "redacao",
    "seminario",
    "tcc",
    "voluntario",
    "voluntaria",
    "treinamento",
    "oms",
    "taxa",
    "taxas",
    "podcast",
    "anime",
    "manga",
    "poema",
    "poesia",
    "peca",
    "prevention",
    "awareness",
    "campaign",
    "statistics",
    "rate",
    "rates",
    "study",
    "research",
    "article",
    "news",
    "report",
    "journalist",
    "movie",
    "film",
    "series",
    "book",
    "novel",
    "character",
    "characters",
    "song",
    "lyrics",
    "episode",
    "documentary",
    "lecture",
    "essay",
    "paper",
    "thesis",
    "volunteer",
    "training",
    "cdc",
    "poem",
    "podcast",
    "headline",
    "webinar",
    "presentation",
];

/// Whose a match is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    /// The writer (said so, or nobody else named: people often leave the subject out).
    Writer,
    /// Someone else named before the match.
    Other,
    /// A topic (news, study, fiction) named before the match, with no person in between.
    Topic,
}

/// How far back to look for the person or topic a match is about.
const SUBJECT_REACH: usize = 10;

/// The subject of the match `start..end`: the writer if the match itself speaks in the first
/// person, else the nearest person or topic named before it in the sentence.
pub fn subject(tokens: &[Token], start: usize, end: usize) -> Subject {
    if tokens[start..end].iter().any(is_first_person) {
        return Subject::Writer;
    }
    for token in tokens[start.saturating_sub(SUBJECT_REACH)..start]
        .iter()
        .rev()
    {
        if is_first_person(token) {
            return Subject::Writer;
        }
        if token.is_any(THIRD_PARTY) {
            return Subject::Other;
        }
        if token.is_any(TOPIC) {
            return Subject::Topic;
        }
    }
    Subject::Writer
}

fn is_first_person(token: &Token) -> bool {
    // pt-BR first-person preterite: "tentei", "cortei", "comprei".
    token.is_any(FIRST_PERSON)
        || token
            .forms
            .iter()
            .any(|f| f.len() >= 5 && f.ends_with("ei"))
}

/// Whether a negator stands just before `start`, with only fillers in between.
pub fn negated(tokens: &[Token], start: usize) -> bool {
    for back in 1..=4 {
        let Some(i) = start.checked_sub(back) else {
            return false;
        };
        if tokens[i].is_any(NEGATORS) {
            return true;
        }
        if !tokens[i].is_any(NEGATION_FILLERS) {
            return false;
        }
    }
    false
}
