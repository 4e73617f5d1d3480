//! Text folding shared by the crisis screen and the search index: both must match words the
//! way people actually type them (with or without accents, any case).

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Lower-cases, removes accents and splits into words of letters and digits.
///
/// `"Não AGUENTO mais!"` gives `["nao", "aguento", "mais"]`.
pub fn fold_words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    for c in text.nfd().filter(|c| !is_combining_mark(*c)) {
        if c.is_alphanumeric() {
            word.extend(c.to_lowercase());
        } else if !word.is_empty() {
            words.push(std::mem::take(&mut word));
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_case_accents_and_punctuation() {
        assert_eq!(
            fold_words("Não AGUENTO mais!  Coração—ação"),
            ["nao", "aguento", "mais", "coracao", "acao"]
        );
        assert!(fold_words(" .,; ").is_empty());
    }
}
