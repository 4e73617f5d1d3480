//! Chunking extracted text into passages of bounded token size, with overlap, keeping each
//! passage's page and heading for citations.
//!
//! Blocks are never merged across a page or heading change (a passage cites one place), and
//! splits fall between sentences when possible, between words otherwise.

use crate::library::TextBlock;
use crate::ports::TokenCounter;

/// Passage size limits, in tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkSize {
    pub max_tokens: u64,
    /// Tokens of the end of one passage repeated at the start of the next, so an idea cut in
    /// two is still found whole in one of them.
    pub overlap_tokens: u64,
}

impl Default for ChunkSize {
    fn default() -> Self {
        ChunkSize {
            max_tokens: 300,
            overlap_tokens: 50,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    pub text: String,
    pub page: Option<u32>,
    pub heading: Option<String>,
    pub token_count: u64,
}

/// Splits every block into passages of at most `size.max_tokens` tokens.
pub fn chunk_blocks(
    blocks: &[TextBlock],
    tokens: &impl TokenCounter,
    size: ChunkSize,
) -> Vec<Chunk> {
    let max = size.max_tokens.max(1);
    let overlap = size.overlap_tokens.min(max / 2);
    let mut chunks = Vec::new();
    for block in blocks {
        let pieces: Vec<(String, u64)> = sentences(&block.text)
            .flat_map(|s| split_long(s, tokens, max))
            .collect();
        let mut current: Vec<&(String, u64)> = Vec::new();
        let mut current_tokens = 0;
        let mut fresh = 0; // pieces added since the last emitted chunk
        for piece in &pieces {
            if current_tokens + piece.1 > max && fresh > 0 {
                chunks.push(make_chunk(block, &current, tokens));
                // Keep the tail of what was just emitted, up to the overlap budget.
                let mut kept = 0;
                let mut keep_from = current.len();
                while keep_from > 0 && kept + current[keep_from - 1].1 <= overlap {
                    keep_from -= 1;
                    kept += current[keep_from].1;
                }
                current.drain(..keep_from);
                current_tokens = kept;
                fresh = 0;
            }
            while current_tokens + piece.1 > max && !current.is_empty() {
                current_tokens -= current.remove(0).1;
            }
            current.push(piece);
            current_tokens += piece.1;
            fresh += 1;
        }
        if fresh > 0 {
            chunks.push(make_chunk(block, &current, tokens));
        }
    }
    chunks
}

fn make_chunk(block: &TextBlock, pieces: &[&(String, u64)], tokens: &impl TokenCounter) -> Chunk {
    let text = pieces
        .iter()
        .map(|(s, _)| s.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    Chunk {
        token_count: tokens.count(&text),
        text,
        page: block.page,
        heading: block.heading.clone(),
    }
}

/// Sentences and paragraph lines, trimmed, empty ones dropped.
fn sentences(text: &str) -> impl Iterator<Item = &str> {
    text.split('\n').flat_map(|line| {
        let mut out = Vec::new();
        let mut start = 0;
        let bytes = line.as_bytes();
        for (i, c) in line.char_indices() {
            let ends = matches!(c, '.' | '!' | '?' | '…');
            let next_is_space = bytes.get(i + c.len_utf8()).is_none_or(|b| *b == b' ');
            if ends && next_is_space {
                out.push(&line[start..i + c.len_utf8()]);
                start = i + c.len_utf8();
            }
        }
        out.push(&line[start..]);
        out.into_iter().map(str::trim).filter(|s| !s.is_empty())
    })
}

/// A sentence longer than the limit, cut between words into pieces that fit.
fn split_long(sentence: &str, tokens: &impl TokenCounter, max: u64) -> Vec<(String, u64)> {
    let count = tokens.count(sentence);
    if count <= max {
        return vec![(sentence.to_string(), count)];
    }
    let mut pieces = Vec::new();
    let mut piece = String::new();
    for word in sentence.split_whitespace() {
        let candidate = if piece.is_empty() {
            word.to_string()
        } else {
            format!("{piece} {word}")
        };
        if tokens.count(&candidate) > max && !piece.is_empty() {
            let done = std::mem::replace(&mut piece, word.to_string());
            let n = tokens.count(&done);
            pieces.push((done, n));
        } else {
            piece = candidate;
        }
    }
    if !piece.is_empty() {
        let n = tokens.count(&piece);
        pieces.push((piece, n));
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One token per word: easy to reason about.
    struct Words;
    impl TokenCounter for Words {
        fn count(&self, text: &str) -> u64 {
            text.split_whitespace().count() as u64
        }
    }

    fn block(text: &str, page: Option<u32>) -> TextBlock {
        TextBlock {
            page,
            heading: Some("Intro".into()),
            text: text.into(),
        }
    }

    #[test]
    fn short_text_is_one_passage_with_its_metadata() {
        let chunks = chunk_blocks(
            &[block("Uma frase. Outra frase.", Some(2))],
            &Words,
            ChunkSize::default(),
        );
        assert_eq!(chunks.len(), 1);
        assert_eq!(chunks[0].text, "Uma frase. Outra frase.");
        assert_eq!(chunks[0].page, Some(2));
        assert_eq!(chunks[0].heading.as_deref(), Some("Intro"));
        assert_eq!(chunks[0].token_count, 4);
    }

    #[test]
    fn long_text_is_bounded_and_overlaps() {
        let text = (0..40)
            .map(|i| format!("Frase numero {i} aqui."))
            .collect::<Vec<_>>()
            .join(" ");
        let size = ChunkSize {
            max_tokens: 20,
            overlap_tokens: 8,
        };
        let chunks = chunk_blocks(&[block(&text, None)], &Words, size);
        assert!(chunks.len() > 8);
        for c in &chunks {
            assert!(c.token_count <= 20, "{c:?}");
        }
        // Five 4-token sentences fit in 20 tokens; the next passage repeats the last two.
        assert!(chunks[0].text.ends_with("Frase numero 4 aqui."));
        assert!(
            chunks[1]
                .text
                .starts_with("Frase numero 3 aqui. Frase numero 4 aqui.")
        );
        // Every sentence survives somewhere.
        for i in 0..40 {
            let s = format!("Frase numero {i} aqui.");
            assert!(chunks.iter().any(|c| c.text.contains(&s)), "lost {s}");
        }
    }

    #[test]
    fn pages_are_never_mixed_and_huge_sentences_are_cut_between_words() {
        let huge = vec!["palavra"; 50].join(" ");
        let chunks = chunk_blocks(
            &[block("Primeira página.", Some(1)), block(&huge, Some(2))],
            &Words,
            ChunkSize {
                max_tokens: 20,
                overlap_tokens: 0,
            },
        );
        assert_eq!(chunks[0].page, Some(1));
        assert!(
            chunks[1..]
                .iter()
                .all(|c| c.page == Some(2) && c.token_count <= 20)
        );
        let words: u64 = chunks[1..].iter().map(|c| c.token_count).sum();
        assert_eq!(words, 50);
    }

    #[test]
    fn empty_blocks_give_nothing() {
        assert!(chunk_blocks(&[block("  \n ", None)], &Words, ChunkSize::default()).is_empty());
    }
}
