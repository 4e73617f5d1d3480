//! Synthetic library passages and questions in Portuguese and English, deterministic from a
//! seed so every run searches the same index.

use domain::prompt::Source;

/// splitmix64: small, fast and good enough to pick words.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// Skewed towards the start of the list, as word frequencies are (roughly Zipf).
    fn skewed(&mut self, n: usize) -> usize {
        let u = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        ((u * u * u) * n as f64) as usize % n
    }
}

#[rustfmt::skip]
const PT_STOP: &[&str] = &[
    "a", "o", "de", "que", "e", "do", "da", "em", "um", "para", "com", "não", "uma", "os", "no",
    "se", "na", "por", "mais", "as", "dos", "como", "mas", "ao", "ele", "das", "à", "seu", "sua",
    "ou", "quando", "muito", "nos", "já", "eu", "também", "só", "pelo", "pela", "até", "isso",
];
#[rustfmt::skip]
const PT_WORDS: &[&str] = &[
    "ansiedade", "sono", "trabalho", "estresse", "medo", "tristeza", "luto", "perda", "família",
    "relação", "corpo", "respiração", "pensamento", "emoção", "sentimento", "descanso", "rotina",
    "conversa", "escuta", "necessidade", "pedido", "conflito", "raiva", "culpa", "vergonha",
    "saudade", "memória", "cuidado", "apoio", "amigo", "filho", "mãe", "pai", "chefe", "equipe",
    "reunião", "prazo", "cobrança", "limite", "pausa", "noite", "manhã", "cansaço", "insônia",
    "preocupação", "coração", "peito", "tensão", "músculo", "atenção", "presença", "calma",
    "exercício", "caminhada", "alimentação", "café", "tela", "celular", "horário", "cama",
    "sonho", "pesadelo", "choro", "lágrima", "despedida", "morte", "doença", "hospital",
    "terapia", "psicólogo", "profissional", "ajuda", "crise", "segurança", "confiança",
    "autoestima", "comparação", "expectativa", "frustração", "esperança", "sentido", "valor",
    "gratidão", "compaixão", "empatia", "julgamento", "observação", "comunicação", "violência",
    "escolha", "hábito", "mudança", "adolescente", "escola", "casamento", "separação",
    "solidão", "dormir", "acordar", "sentir", "pensar", "falar", "ouvir", "chorar", "respirar",
    "descansar", "trabalhar", "cuidar", "pedir", "aceitar", "mudar", "lembrar", "esquecer",
    "tranquilo", "ansioso", "cansado", "triste", "irritado", "sozinho", "difícil", "possível",
];
#[rustfmt::skip]
const EN_STOP: &[&str] = &[
    "the", "of", "and", "to", "a", "in", "is", "it", "you", "that", "for", "with", "on", "as",
    "are", "be", "this", "at", "or", "can", "your", "when", "not", "but", "from", "more", "often",
];
#[rustfmt::skip]
const EN_WORDS: &[&str] = &[
    "grief", "loss", "sleep", "stress", "anxiety", "fear", "sadness", "work", "family",
    "relationship", "body", "breathing", "thought", "emotion", "feeling", "rest", "routine",
    "conversation", "listening", "need", "request", "conflict", "anger", "guilt", "shame",
    "memory", "care", "support", "friend", "child", "mother", "father", "manager", "team",
    "meeting", "deadline", "pressure", "boundary", "break", "night", "morning", "tiredness",
    "insomnia", "worry", "heart", "chest", "tension", "muscle", "attention", "calm", "exercise",
    "walk", "food", "coffee", "screen", "phone", "schedule", "bed", "dream", "nightmare",
    "crying", "tears", "goodbye", "death", "illness", "therapy", "professional", "help",
    "crisis", "safety", "trust", "esteem", "expectation", "frustration", "hope", "meaning",
    "gratitude", "compassion", "empathy", "judgement", "observation", "communication",
    "choice", "habit", "change", "teenager", "school", "marriage", "divorce", "loneliness",
    "sleeping", "waking", "feel", "think", "talk", "listen", "cry", "breathe", "calmly",
];

fn words(rng: &mut Rng, n: usize, stop: &[&str], content: &[&str]) -> String {
    let mut out = String::new();
    for i in 0..n {
        if i > 0 {
            out.push(' ');
        }
        let word = if rng.below(10) < 4 {
            stop[rng.skewed(stop.len())]
        } else {
            content[rng.skewed(content.len())]
        };
        out.push_str(word);
    }
    out
}

/// `n` passages of about `length` words, seven in ten in Portuguese.
pub fn passages(n: usize, length: usize) -> Vec<Source> {
    let mut rng = Rng(0x5EED);
    (0..n)
        .map(|i| {
            let portuguese = rng.below(10) < 7;
            let (stop, content) = if portuguese {
                (PT_STOP, PT_WORDS)
            } else {
                (EN_STOP, EN_WORDS)
            };
            let length = length - length / 6 + rng.below(length / 3 + 1);
            Source {
                title: format!("Documento {}", i / 40 + 1),
                page: Some((i % 40) as u32 + 1),
                heading: Some(words(&mut rng, 3, stop, content)),
                text: words(&mut rng, length, stop, content),
            }
        })
        .collect()
}

/// Questions as people write them: one in four is one of the bench's chat messages, the rest are
/// 8 to 20 words in the passages' vocabulary.
pub fn queries(n: usize) -> Vec<String> {
    let mut rng = Rng(0xA5C);
    (0..n)
        .map(|i| {
            if i % 4 == 0 {
                return crate::load::MESSAGES[(i / 4) % crate::load::MESSAGES.len()].to_string();
            }
            let length = 8 + rng.below(13);
            if rng.below(10) < 7 {
                format!("eu {}?", words(&mut rng, length, PT_STOP, PT_WORDS))
            } else {
                format!("I {}?", words(&mut rng, length, EN_STOP, EN_WORDS))
            }
        })
        .collect()
}

/// Portuguese text of exactly `bytes` bytes (padded with spaces when a word does not fit).
pub fn sentence_of_bytes(bytes: usize) -> String {
    let mut rng = Rng(7);
    let mut out = String::new();
    loop {
        let word = PT_WORDS[rng.below(PT_WORDS.len())];
        if out.len() + word.len() + 1 > bytes {
            break;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    while out.len() < bytes {
        out.push(' ');
    }
    out
}
