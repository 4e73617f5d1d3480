//! Which of the two languages a message is written in, so that a crisis answer comes in the
//! language the person wrote in, whatever their profile says.

use crate::Locale;
use crate::text::fold_words;

/// Frequent words of each language that are rare in the other (after folding accents).
const PORTUGUESE: &[&str] = &[
    "eu", "nao", "que", "de", "um", "uma", "para", "com", "voce", "estou", "muito", "mais",
    "minha", "meu", "tudo", "mas", "se", "ja", "tem", "isso", "esta", "sou", "quero", "por",
    "como", "os", "as", "ele", "ela", "mim", "vida", "hoje", "agora", "ninguem", "nada", "vou",
    "tenho", "porque", "pra", "vc", "q", "n", "aqui", "sempre", "nunca", "quando",
];
const ENGLISH: &[&str] = &[
    "i", "the", "and", "you", "is", "my", "not", "it", "of", "am", "do", "that", "want", "have",
    "this", "what", "with", "for", "be", "just", "feel", "so", "can", "are", "dont", "im",
    "anymore", "myself", "life", "everyone", "nobody", "would", "about", "really", "never", "know",
    "was", "going", "tonight", "how", "why", "they",
];

/// The language of `text`, or `None` when it is too short or too mixed to tell.
pub fn detect_language(text: &str) -> Option<Locale> {
    let (mut pt, mut en) = (0usize, 0usize);
    for word in fold_words(&text.replace(['\'', '’'], "")) {
        pt += usize::from(PORTUGUESE.contains(&word.as_str()));
        en += usize::from(ENGLISH.contains(&word.as_str()));
    }
    match pt.cmp(&en) {
        std::cmp::Ordering::Greater => Some(Locale::PtBr),
        std::cmp::Ordering::Less => Some(Locale::En),
        std::cmp::Ordering::Equal => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tells_the_two_languages_apart() {
        assert_eq!(detect_language("não aguento mais"), Some(Locale::PtBr));
        assert_eq!(detect_language("I can't do this anymore"), Some(Locale::En));
        assert_eq!(detect_language("ok"), None);
    }
}
