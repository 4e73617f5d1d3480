//! Whose words a match is about, and whether it is denied: the small grammar around a match.

use super::phrase::Token;

/// Stands in for masked idiom words; matches no rule and no marker.
pub const MASK: &str = "\u{0}";

/// Words that deny what follows them ("não", "never").
const NEGATORS: &[&str] = &[
    "nao", "nunca", "jamais", "nem", "not", "never", "sem", "without",
];

/// After a negator these make a double negative that still affirms ("ain't nobody gon miss me",
/// "não ia ninguém sentir falta").
const CONCORD: &[&str] = &[
    "no", "nobody", "nothing", "ninguem", "nada", "nenhum", "nenhuma",
];

/// English "no" denies only before these ("no thoughts of…"): in Portuguese "no" is "in the".
#[rustfmt::skip]
const NO_BEFORE: &[&str] = &[
    "thoughts", "thought", "plans", "plan", "intention", "intentions", "desire", "urge", "urges",
    "wish", "way", "longer", "intent",
];

/// Words that may stand between a negator and what it denies ("não *quero* me matar", "I would
/// *never ever* kill myself").
#[rustfmt::skip]
const NEGATION_FILLERS: &[&str] = &[
    "eu", "i", "do", "does", "did", "would", "will", "am", "is", "to", "estou", "mesmo", "really",
    "actually", "even", "ever", "quero", "queria", "penso", "pensei", "pretendo", "vou", "tenho",
    "want", "going", "plan", "planning", "intend", "thinking", "pensando", "tentei", "tried",
    "thought", "consigo", "could", "ia", "iria", "faria", "have", "seriously", "em", "de", "a",
    "about", "of", "that", "que", "sou", "be", "being", "been", "feel", "me", "sinto", "estar",
    "um", "uma", "ser", "tipo", "having", "any", "nenhum", "nenhuma", "thoughts", "thought",
    "pensamento", "pensamentos", "plans", "plan", "plano", "planos", "intention", "intencao",
    "vontade", "ideia", "ideias", "urge", "urges", "desire", "desejo", "at", "all", "com",
    "certeza", "sure", "definitely", "gonna", "ainda", "yet", "mais", "anymore", "em",
];

/// The writer speaking of themself.
#[rustfmt::skip]
const FIRST_PERSON: &[&str] = &[
    "eu", "me", "mim", "meu", "minha", "meus", "minhas", "comigo", "i", "my", "myself", "mine",
    // pt-BR verb forms that can only be the writer's
    "quero", "queria", "vou", "estou", "tou", "estava", "penso", "tento", "tomei", "tenho",
    "tinha", "sinto", "sou", "era", "fui", "acho", "preciso", "consigo", "aguento", "decidi",
    "resolvi", "fiz", "escrevi", "corto", "machuco", "queimo", "bato", "mato", "vejo", "posso",
    "gostaria", "desejo", "durmo", "acordo", "engoli", "bebi", "sofro", "choro", "odeio",
    "prefiro", "preferia", "desisti", "desisto", "sobrevivi", "aguentei", "dei", "doei", "fiz",
    "fui", "tive", "quis", "pus", "sai", "cai", "pedi", "vivi", "vi", "li", "tomo", "guardo",
];

/// Other people the writer may be speaking of.
#[rustfmt::skip]
const THIRD_PARTY: &[&str] = &[
    "ele", "ela", "eles", "elas", "dele", "dela", "deles", "delas", "amigo", "amiga", "amigos",
    "amigas", "irmao", "irma", "mae", "pai", "filho", "filha", "namorado", "namorada", "marido",
    "esposa", "colega", "aluno", "aluna", "alunos", "paciente", "primo", "prima", "tio", "tia",
    "avo", "vizinho", "vizinha", "cliente", "companheiro", "companheira", "parceiro", "parceira",
    "alguem", "pessoa", "pessoas", "crianca", "adolescente", "enteado", "enteada", "cunhado",
    "cunhada", "sobrinho", "sobrinha", "chefe", "funcionario", "funcionaria", "conhecido",
    "conhecida", "he", "she", "they", "them", "his", "her", "their", "him", "friend", "friends",
    "sister", "brother", "mom", "mother", "dad", "father", "son", "daughter", "boyfriend",
    "girlfriend", "husband", "wife", "partner", "coworker", "colleague", "student", "students",
    "patient", "cousin", "aunt", "uncle", "grandma", "grandpa", "grandmother", "grandfather",
    "neighbor", "roommate", "someone", "somebody", "person", "people", "kid", "child", "teen",
    "teenager", "client", "employee", "classmate", "bestie", "bff", "mum", "stepson",
    "stepdaughter", "nephew", "niece", "fiance", "fiancee", "sibling", "siblings", "neto", "neta",
    "vo", "vovo", "vozinha", "vovó", "sogra", "sogro", "genro", "nora", "padrasto", "madrasta", "esposo",
    "menino", "menina", "garoto", "garota", "jovem", "jovens", "adolescentes", "criancas",
    "idosos", "idoso", "idosa", "vitima", "teens",
    "teenagers", "kids", "children", "adults", "users", "soldier", "veterans", "grandson",
    "granddaughter", "stepdad", "stepmom", "wifes", "husbands", "moms", "dads", "sisters",
    "brothers", "friends", "pai", "paciente", "pacientes", "patients", "clients", "member",
    "quem", "whoever", "those", "men", "women", "youth", "doctor", "medico", "medica", "therapist", "terapeuta", "psicologa", "psicologo",
    "psiquiatra", "nurse", "enfermeira", "teacher", "professor", "professora", "dog", "cat",
];

/// Words that frame what follows as a topic, not the writer's own state: news, study, fiction,
/// prevention.
#[rustfmt::skip]
const TOPIC: &[&str] = &[
    "campanha", "setembro", "prevencao", "estatistica", "estatisticas", "pesquisa", "estudo",
    "artigo", "reportagem", "noticia", "noticias", "jornal", "filme", "serie", "livro",
    "romance", "personagem", "personagens", "musica", "novela", "episodio",
    "documentario", "palestra", "faculdade", "redacao", "seminario", "tcc",
    "voluntario", "voluntaria", "treinamento", "oms", "taxa", "taxas",
    "podcast", "anime", "poema", "poesia", "peca",
    "prevention", "awareness", "campaign", "statistics", "rate", "rates", "study", "research",
    "article", "news", "report", "journalist", "movie", "film", "series", "book", "novel",
    "character", "characters", "song", "lyrics", "episode", "documentary", "lecture",
    "essay", "paper", "thesis", "volunteer", "training", "cdc", "poem",
    "podcast", "headline", "webinar", "presentation",
    // education and clinical practice: the signs, the factors, the screening, the myths
    "sinais", "sinal", "alerta", "fatores", "fator", "diferenca", "mito", "mitos", "imprensa",
    "midia", "casos", "triagem", "escala", "protocolo", "conceito", "definicao", "aula",
    "cena", "trecho", "capitulo",  "warning",
    "signs", "sign", "factors", "difference", "myth", "myths", "media", "cases", "screening",
    "scale", "definition", "class", "assignment", "scene", "chapter", "speech", "quote",
    "hamlet", "shakespeare", "cobain", "plath", "getulio", "vargas", "dumont", "materia", "manchete", "dados", "pesquisas", "numeros", "index", "contagio",
    "werther", "clinico", "clinical", "course", "curso", "relacao", "relation", "relationship",
    "link", "correlacao", "correlation", "assess", "avaliar", "avaliacao", "assessment",
    "teoria", "theory", "conto", "historia", "protagonista", "roteiro", "fanfic", "story",
    "protagonist", "script", "screenplay", "narrator", "narrador", "piece", "bbc", "supporter",
    "significa", "significado", "meaning", "termo", "term", "palavra", "word", "expressao",
];

/// Words right after a match that make it a topic: "suicídio *prevenção*", "suicide *rates*".
#[rustfmt::skip]
const TOPIC_AFTER: &[&str] = &[
    "prevention", "awareness", "rate", "rates", "statistics", "stats", "severity", "screening",
    "hotline", "hotlines", "lifeline", "risk", "research", "prevencao", "awareness", "squad",
    "survivors", "loss", "bereavement", "cases", "deaths", "contagion", "scale",
    "assessment", "contagio", "epidemic", "epidemia", "taxa", "taxas", "mean", "means",
    "significa", "stand",
];

/// Verbs that report what someone else said ("ela disse que…", "he told me he…"): the object
/// pronoun after them ("me mandou", "told me") is not the speaker.
#[rustfmt::skip]
const REPORTING: &[&str] = &[
    "disse", "diz", "dizendo", "dizer", "falou", "fala", "falando", "contou", "conta",
    "contando", "escreveu", "mandou", "postou", "comentou", "confessou", "admitiu", "said",
    "says", "saying", "told", "tells", "telling", "texted", "wrote", "posted", "mentioned",
    "admitted", "confessed", "messaged", "dizia", "falava", "repetia", "contava", "dizem",
    "types", "typed", "writes", "digita", "digitou", "escreve", "searched", "googled",
    "pesquisou",
    "say", "used to say", "wrote",
];

/// People who may be the ones speaking in a reported sentence, beyond the usual third parties.
#[rustfmt::skip]
const SPEAKERS: &[&str] = &[
    "senhora", "senhor", "mulher", "homem", "moca", "moco", "rapaz", "menina", "menino", "man",
    "woman", "lady", "guy", "girl", "boy", "old",
];

/// Object pronouns of the writer that a reported sentence may carry.
const WRITER_OBJECT: &[&str] = &["me", "mim", "comigo"];

/// Those a dose question is often about, named right after it ("…for a dog").
#[rustfmt::skip]
const DEPENDANTS: &[&str] = &[
    "dog", "cat", "pet", "puppy", "kitten", "baby", "toddler", "kid", "child", "cachorro",
    "cachorra", "gato", "gata", "cao", "bebe", "crianca", "filho", "filha", "idoso", "idosa",
];

/// Whether a question about doses or means is asked for someone in one's care: "…for a dog",
/// "para uma criança".
pub fn for_a_dependant(tokens: &[Token], end: usize) -> bool {
    tokens[end..tokens.len().min(end + 5)]
        .iter()
        .any(|t| t.is_any(DEPENDANTS))
}

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
    let said = &tokens[start..end];
    if reported_by_other(tokens, start) && !said.iter().any(|t| t.is_any(&["eu", "i"])) {
        return Subject::Other;
    }
    if said.iter().any(is_first_person) {
        return Subject::Writer;
    }
    if topic_after(tokens, end) {
        return Subject::Topic;
    }
    let mut reported = false;
    let floor = start.saturating_sub(SUBJECT_REACH);
    let mut i = start;
    while i > floor {
        i -= 1;
        let token = &tokens[i];
        if token.is_any(REPORTING) {
            reported = true;
            continue;
        }
        if reported && token.is_any(WRITER_OBJECT) {
            continue;
        }
        // "com alguém", "do meu pai": someone named in passing, with their possessive.
        if token.is_any(THIRD_PARTY)
            && let Some(preposition) = governing_preposition(tokens, i)
        {
            i = preposition;
            continue;
        }
        if is_first_person(token) {
            return Subject::Writer;
        }
        // "my 12 year old" is a child of the writer's.
        if token.is("old") && i > 0 && tokens[i - 1].is_any(&["year", "years", "yr"]) {
            return Subject::Other;
        }
        if token.is_any(THIRD_PARTY) {
            return Subject::Other;
        }
        if token.is_any(TOPIC) {
            return Subject::Topic;
        }
    }
    let object = ["them", "him", "her"];
    if said
        .iter()
        .any(|t| t.is_any(THIRD_PARTY) && !t.is_any(&object))
    {
        return Subject::Other;
    }
    if topic_before(tokens, start) {
        return Subject::Topic;
    }
    Subject::Writer
}

/// People named only in general ("someone", "uma pessoa"): in a question about doses or heights
/// they stand for the asker as often as not.
#[rustfmt::skip]
const GENERIC: &[&str] = &[
    "someone", "somebody", "person", "people", "alguem", "pessoa", "pessoas", "anyone", "adult",
    "adulto", "homem", "man",
];

/// Whether the nearest person named before the end of the match is only a generic one.
pub fn generic_person(tokens: &[Token], start: usize, end: usize) -> bool {
    tokens[start.saturating_sub(SUBJECT_REACH)..end]
        .iter()
        .rev()
        .find(|t| t.is_any(THIRD_PARTY) || t.is_any(GENERIC))
        .is_some_and(|t| t.is_any(GENERIC))
}

/// Whether the match is someone else's reported speech (pub for the burden rules, whose matches
/// name others by nature: "they'd be better off without me").
pub fn reported(tokens: &[Token], start: usize) -> bool {
    reported_by_other(tokens, start)
}

/// Whether the words before `start` report someone else's speech: "ela disse que…", "um amigo
/// me mandou mensagem dizendo que…".
fn reported_by_other(tokens: &[Token], start: usize) -> bool {
    let mut reported = false;
    for token in tokens[start.saturating_sub(SUBJECT_REACH)..start]
        .iter()
        .rev()
    {
        if token.is_any(REPORTING) {
            reported = true;
        } else if reported && token.is_any(WRITER_OBJECT) {
            continue;
        } else if token.is_any(&["eu", "i"]) {
            return false;
        } else if reported && (token.is_any(THIRD_PARTY) || token.is_any(SPEAKERS)) {
            return true;
        }
    }
    false
}

/// Where the preposition stands whose object is the person at `i` ("com alguém", "do meu pai"),
/// if any: then that person is named in passing, not who the match is about.
fn governing_preposition(tokens: &[Token], i: usize) -> Option<usize> {
    let mut j = i;
    while j > 0 && tokens[j - 1].is_any(DETERMINERS) {
        j -= 1;
    }
    if j > 0 && tokens[j - 1].is_any(PREPOSITIONS) {
        Some(j - 1)
    } else {
        None
    }
}

#[rustfmt::skip]
const DETERMINERS: &[&str] = &[
    "my", "the", "a", "his", "her", "our", "meu", "minha", "meus", "minhas", "o", "a", "os", "as",
    "um", "uma", "seu", "sua", "nosso", "nossa",
];

/// Company and possession, not address: "talk to my teen" is still about the teen.
const PREPOSITIONS: &[&str] = &["com", "with", "do", "da", "dos", "das", "of", "from"];

/// A topic named right at the match: "falar *sobre* suicídio", "suicide *prevention*".
fn topic_before(tokens: &[Token], start: usize) -> bool {
    let mut i = start;
    while i > 0 && tokens[i - 1].is_any(&["o", "a", "the", "os", "as"]) {
        i -= 1;
    }
    // "thinking about it" is the writer's own thought, not a topic.
    let thinking = [
        "thinking",
        "think",
        "thought",
        "thoughts",
        "dreaming",
        "fantasizing",
        "pensando",
        "penso",
        "pensei",
        "pensar",
        "pensamentos",
        "obsessed",
        "obcecad",
    ];
    i > 0
        && tokens[i - 1].is_any(&["sobre", "about", "regarding", "acerca"])
        && !(i > 1 && tokens[i - 2].is_any(&thinking))
}

/// Whether the words right after a match make it a topic ("suicide prevention").
fn topic_after(tokens: &[Token], end: usize) -> bool {
    tokens.get(end).is_some_and(|t| t.is_any(TOPIC_AFTER))
}

fn is_first_person(token: &Token) -> bool {
    // pt-BR first-person preterite: "tentei", "cortei", "comprei"; "escrevi", "escolhi", "vendi".
    token.is_any(FIRST_PERSON)
        || token
            .forms
            .iter()
            .any(|f| f.len() >= 5 && (f.ends_with("ei") || (f.ends_with('i') && f != "daqui")))
}

/// Whether a negator stands just before `start`, with only fillers in between.
pub fn negated(tokens: &[Token], start: usize) -> bool {
    for back in 1..=6 {
        let Some(i) = start.checked_sub(back) else {
            return false;
        };
        if tokens[i].is_any(NEGATORS) {
            return !tokens.get(i + 1).is_some_and(|t| t.is_any(CONCORD));
        }
        if tokens[i].is("no") && tokens.get(i + 1).is_some_and(|t| t.is_any(NO_BEFORE)) {
            return true;
        }
        if !tokens[i].is_any(NEGATION_FILLERS) || tokens[i].clause_end {
            return false;
        }
    }
    false
}
