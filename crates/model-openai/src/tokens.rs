//! Real token counts with OpenAI's o200k_base BPE (the encoding of the GPT-4o family), so quotas
//! are charged in tokens rather than characters.

use domain::ports::TokenCounter;
use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
use std::sync::Mutex;
use tiktoken_rs::CoreBPE;

/// Counts tokens with o200k_base. Cheap to create and copy: the encoding is built once per
/// process (it takes a few hundred milliseconds) and shared by every counter.
#[derive(Clone, Copy)]
pub struct TiktokenCounter {
    bpe: &'static CoreBPE,
}

impl TiktokenCounter {
    /// Returns a counter, building the shared encoding on first use.
    pub fn new() -> Self {
        Self {
            bpe: tiktoken_rs::o200k_base_singleton(),
        }
    }
}

impl Default for TiktokenCounter {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for TiktokenCounter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TiktokenCounter(o200k_base)")
    }
}

impl TokenCounter for TiktokenCounter {
    fn count(&self, text: &str) -> u64 {
        // Ordinary encoding: text that looks like a special token is still just text to us.
        self.bpe.count_ordinary(text) as u64
    }
}

/// A [`TiktokenCounter`] that remembers the counts of the texts it has seen, by a 64-bit hash of
/// the text: the history resent with every turn is then tokenized once per process instead of
/// once per turn (hashing a message is about a hundred times cheaper than tokenizing it).
#[derive(Debug, Default)]
pub struct CachedTokenCounter {
    counter: TiktokenCounter,
    seen: Mutex<HashMap<u64, u64>>,
}

impl CachedTokenCounter {
    /// Beyond this many texts the cache starts again, so memory stays bounded (a few MB).
    const MAX_TEXTS: usize = 100_000;

    pub fn new() -> Self {
        Self::default()
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, HashMap<u64, u64>> {
        // Only a cache: after a panic elsewhere its content is still valid.
        self.seen.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl TokenCounter for CachedTokenCounter {
    fn count(&self, text: &str) -> u64 {
        let key = BuildHasherDefault::<DefaultHasher>::default().hash_one(text);
        if let Some(&tokens) = self.cache().get(&key) {
            return tokens;
        }
        // Counted outside the lock: two turns counting the same new text both do the work once.
        let tokens = self.counter.count(text);
        let mut cache = self.cache();
        if cache.len() >= Self::MAX_TEXTS {
            cache.clear();
        }
        cache.insert(key, tokens);
        tokens
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cache_gives_the_same_counts() {
        let cached = CachedTokenCounter::new();
        let plain = TiktokenCounter::new();
        for text in [PT, "", "outra frase", PT] {
            assert_eq!(cached.count(text), plain.count(text), "{text:?}");
        }
        assert_eq!(cached.seen.lock().unwrap().len(), 3);
    }

    const PT: &str = "Olá! Tenho me sentido ansioso com o trabalho e não consigo dormir direito.";

    #[test]
    fn a_system_message_counted_in_pieces_costs_what_it_costs_whole() {
        use domain::Locale;
        use domain::prompt::{Source, default_system_prompt, system_message_parts};
        let source = |title: &str, page, text: &str| Source {
            title: title.into(),
            page,
            heading: Some("Higiene do sono".into()),
            text: text.into(),
        };
        // Passages as the chunker cuts them, with the endings that meet a seam: a full stop,
        // a list, trailing spaces, a line break, a number, a quotation mark.
        let sources = [
            source(
                "Sono e ansiedade",
                Some(3),
                "Manter horários regulares ajuda o corpo a \
                 reconhecer a hora de dormir. Evite telas e cafeína à noite.",
            ),
            source(
                "Stress at work",
                None,
                "Try these:\n- a short walk\n- slow breathing;\n",
            ),
            source("Luto", Some(12), "O luto não tem prazo.   "),
            source("Anxiety", Some(7), "About 1 in 5 adults, or 20"),
            source(
                "Comunicação não violenta",
                Some(40),
                "Diga: \"eu preciso de\u{a0}silêncio\"",
            ),
        ];
        let counter = TiktokenCounter::new();
        for locale in [Locale::PtBr, Locale::En] {
            let parts = system_message_parts(default_system_prompt(locale), &sources, locale);
            let whole = counter.count(&parts.concat());
            let pieces: u64 = parts.iter().map(|p| counter.count(p)).sum();
            // Each seam may split what the whole message tokenizes as one token, at most.
            let seams = parts.len() as u64 - 1;
            assert!(
                pieces >= whole && pieces <= whole + seams,
                "{locale:?}: {pieces} in pieces, {whole} whole, {seams} seams"
            );
        }
    }

    #[test]
    fn portuguese_text_has_tokens_and_counts_are_deterministic() {
        let counter = TiktokenCounter::new();
        let first = counter.count(PT);
        assert!(first > 5, "got {first}");
        assert!(
            first < PT.chars().count() as u64,
            "tokens should be fewer than characters"
        );
        assert_eq!(first, TiktokenCounter::new().count(PT));
        assert_eq!(counter.count(""), 0);
    }

    #[test]
    fn special_token_lookalikes_count_as_text() {
        let counter = TiktokenCounter::new();
        assert!(counter.count("<|endoftext|>") > 1);
    }

    #[test]
    fn a_request_costs_its_messages_plus_overheads() {
        use domain::model::{ChatRole, ChatTurn};
        let counter = TiktokenCounter::new();
        // The role names the framing counts as one token each really are one token.
        for role in ["system", "user", "assistant"] {
            assert_eq!(counter.count(role), 1, "{role}");
        }
        let turn = |role, content: &str| ChatTurn {
            role,
            content: content.to_owned(),
        };
        let messages = [
            turn(ChatRole::System, "Você é um assistente de psicologia."),
            turn(ChatRole::User, PT),
        ];
        let content: u64 = messages.iter().map(|m| counter.count(&m.content)).sum();
        // "system" and "user" are one token each.
        assert_eq!(counter.count_request(&messages), content + 2 * (3 + 1) + 3);
        assert_eq!(counter.count_request(&[]), 3);
    }
}
