//! Passage retrieval: an in-memory BM25 index over the library's passages.
//!
//! The library is small enough (thousands to tens of thousands of passages) to keep its inverted
//! index in memory; it is rebuilt from the store at start-up and after every ingestion, and
//! swapped in whole so searches never see a half-built index.

use crate::library::{Document, Passage};
use crate::ports::Retriever;
use crate::prompt::Source;
use crate::text::fold_words;
use rust_stemmers::{Algorithm, Stemmer};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// BM25's usual constants: term-frequency saturation and length normalisation.
const K1: f32 = 1.2;
const B: f32 = 0.75;

/// Words too common to tell passages apart, in Portuguese and English.
const STOPWORDS: &[&str] = &[
    "a", "ao", "aos", "as", "com", "como", "da", "das", "de", "do", "dos", "e", "ela", "ele",
    "eles", "em", "entre", "era", "essa", "esse", "esta", "este", "eu", "foi", "ha", "isso",
    "isto", "ja", "lhe", "mais", "mas", "me", "meu", "minha", "muito", "na", "nas", "nao", "no",
    "nos", "num", "numa", "o", "os", "ou", "para", "pela", "pelo", "por", "pra", "qual", "quando",
    "que", "se", "sem", "ser", "seu", "sua", "tem", "ter", "um", "uma", "voce", "an", "and", "are",
    "as", "at", "be", "been", "but", "by", "can", "do", "does", "for", "from", "had", "has",
    "have", "how", "i", "if", "in", "into", "is", "it", "its", "me", "my", "of", "on", "or", "our",
    "so", "than", "that", "the", "their", "them", "then", "there", "these", "they", "this", "to",
    "was", "we", "were", "what", "when", "which", "who", "why", "will", "with", "you", "your",
];

/// The words a text is indexed and searched by: folded, without stopwords, and reduced to their
/// Snowball stem in the text's language ("dormido"/"dormir", "sleeping"/"sleep" meet).
pub fn index_terms(text: &str) -> Vec<String> {
    let words = fold_words(text);
    let stemmer = Stemmer::create(language_of(&words));
    words
        .into_iter()
        .filter(|w| !STOPWORDS.contains(&w.as_str()))
        .map(|w| stemmer.stem(&w).into_owned())
        .collect()
}

/// Portuguese unless English function words outnumber Portuguese ones.
fn language_of(words: &[String]) -> Algorithm {
    let count = |list: &[&str]| words.iter().filter(|w| list.contains(&w.as_str())).count();
    if count(ENGLISH_MARKERS) > count(PORTUGUESE_MARKERS) {
        Algorithm::English
    } else {
        Algorithm::Portuguese
    }
}

const PORTUGUESE_MARKERS: &[&str] = &[
    "o", "a", "os", "as", "de", "do", "da", "dos", "das", "que", "nao", "um", "uma", "para", "com",
    "eu", "meu", "minha", "como", "e", "em", "no", "na", "se", "por", "mais", "muito",
];
const ENGLISH_MARKERS: &[&str] = &[
    "the", "a", "an", "of", "to", "and", "i", "my", "is", "am", "are", "how", "what", "with",
    "for", "it", "not", "do", "can", "in", "on", "you", "your", "this", "that",
];

/// An immutable BM25 index over a set of passages.
#[derive(Debug, Default)]
pub struct SearchIndex {
    sources: Vec<Source>,
    /// term → (passage index, term frequency in that passage)
    postings: HashMap<String, Vec<(u32, u32)>>,
    /// Per passage, BM25's length normalisation `K1 * (1 - B + B * length / average)`, computed
    /// once here rather than for every posting of every search.
    norms: Vec<f32>,
}

impl SearchIndex {
    /// Indexes each source's title, heading and text.
    pub fn build(sources: Vec<Source>) -> SearchIndex {
        let mut postings: HashMap<String, Vec<(u32, u32)>> = HashMap::new();
        let mut lengths = Vec::with_capacity(sources.len());
        for (i, source) in sources.iter().enumerate() {
            let mut counts: HashMap<String, u32> = HashMap::new();
            let fields = [
                source.title.as_str(),
                source.heading.as_deref().unwrap_or(""),
                source.text.as_str(),
            ];
            let mut length = 0u32;
            for term in fields.iter().flat_map(|f| index_terms(f)) {
                *counts.entry(term).or_default() += 1;
                length += 1;
            }
            lengths.push(length);
            let index = u32::try_from(i).unwrap_or(u32::MAX);
            for (term, tf) in counts {
                postings.entry(term).or_default().push((index, tf));
            }
        }
        let average_length = if lengths.is_empty() {
            0.0
        } else {
            lengths.iter().map(|&l| l as f32).sum::<f32>() / lengths.len() as f32
        };
        let norms = lengths
            .iter()
            .map(|&length| K1 * (1.0 - B + B * length as f32 / average_length.max(1.0)))
            .collect();
        SearchIndex {
            sources,
            postings,
            norms,
        }
    }

    /// Builds the index from the stored documents and passages, citing each document's title.
    pub fn from_library(documents: &[Document], passages: Vec<Passage>) -> SearchIndex {
        let titles: HashMap<_, _> = documents.iter().map(|d| (d.id, d.title.as_str())).collect();
        let sources = passages
            .into_iter()
            .filter_map(|p| {
                Some(Source {
                    title: (*titles.get(&p.document_id)?).to_string(),
                    page: p.page,
                    heading: p.heading,
                    text: p.text,
                })
            })
            .collect();
        SearchIndex::build(sources)
    }

    pub fn len(&self) -> usize {
        self.sources.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sources.is_empty()
    }

    /// The `k` best passages for `query` with their scores, best first; passages sharing no
    /// term with the query are never returned.
    pub fn search(&self, query: &str, k: usize) -> Vec<(&Source, f32)> {
        let mut terms = index_terms(query);
        terms.sort();
        terms.dedup();
        let n = self.sources.len() as f32;
        // Scores live in a dense array indexed by passage: a query of common words touches most
        // passages, and adding into an array costs a fraction of a hash-map update (this is what
        // kept the slowest searches under the 2 ms target over 10,000 passages).
        let mut scores = vec![0f32; self.sources.len()];
        for term in &terms {
            let Some(list) = self.postings.get(term) else {
                continue;
            };
            let df = list.len() as f32;
            let idf = (1.0 + (n - df + 0.5) / (df + 0.5)).ln();
            for &(passage, tf) in list {
                let tf = tf as f32;
                let norm = self.norms[passage as usize];
                scores[passage as usize] += idf * tf * (K1 + 1.0) / (tf + norm);
            }
        }
        // BM25 scores of matching passages are positive (idf > 0, tf >= 1), so zero means "shares
        // no term with the query".
        let mut ranked: Vec<(u32, f32)> = scores
            .into_iter()
            .zip(0u32..)
            .filter(|&(score, _)| score > 0.0)
            .map(|(score, passage)| (passage, score))
            .collect();
        let by_score = |a: &(u32, f32), b: &(u32, f32)| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0));
        if ranked.len() > k && k > 0 {
            ranked.select_nth_unstable_by(k - 1, by_score);
            ranked.truncate(k);
        }
        ranked.sort_by(by_score);
        ranked.truncate(k);
        ranked
            .into_iter()
            .map(|(i, score)| (&self.sources[i as usize], score))
            .collect()
    }
}

/// The library as the chat sees it: the current index, replaced whole after each ingestion,
/// with the version of the library it was built from.
#[derive(Debug, Default)]
pub struct LibraryIndex {
    current: RwLock<(Arc<SearchIndex>, String)>,
}

impl LibraryIndex {
    pub fn new(index: SearchIndex) -> LibraryIndex {
        LibraryIndex {
            current: RwLock::new((Arc::new(index), String::new())),
        }
    }

    pub fn replace(&self, index: SearchIndex) {
        self.replace_version(index, String::new());
    }

    /// Swaps in `index`, built from the library at `version` (see [`library_version`]).
    pub fn replace_version(&self, index: SearchIndex, version: String) {
        let fresh = (Arc::new(index), version);
        match self.current.write() {
            Ok(mut guard) => *guard = fresh,
            Err(poisoned) => *poisoned.into_inner() = fresh,
        }
    }

    pub fn snapshot(&self) -> Arc<SearchIndex> {
        self.read().0.clone()
    }

    pub fn version(&self) -> String {
        self.read().1.clone()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, (Arc<SearchIndex>, String)> {
        match self.current.read() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }
}

/// Identifies the library's contents: changes whenever a document is added, replaced or
/// retired, so an index can tell it is stale without reading any passage.
pub fn library_version(documents: &[Document]) -> String {
    let mut ids: Vec<String> = documents
        .iter()
        .map(|d| format!("{}:{}", d.id, d.content_hash))
        .collect();
    ids.sort();
    ids.join(",")
}

impl Retriever for LibraryIndex {
    fn retrieve(&self, query: &str, k: usize) -> Vec<Source> {
        self.snapshot()
            .search(query, k)
            .into_iter()
            .map(|(source, _)| source.clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(title: &str, text: &str) -> Source {
        Source {
            title: title.into(),
            page: Some(1),
            heading: None,
            text: text.into(),
        }
    }

    fn library() -> SearchIndex {
        SearchIndex::build(vec![
            source(
                "Sono",
                "Manter horários regulares para dormir ajuda o sono. Evite telas antes de deitar.",
            ),
            source(
                "Estresse no trabalho",
                "Pausas curtas e limites claros reduzem o estresse no trabalho.",
            ),
            source(
                "Grief",
                "Grief comes in waves; sleeping badly is common after a loss.",
            ),
            source(
                "Comunicação",
                "A comunicação não violenta começa pela observação.",
            ),
        ])
    }

    #[test]
    fn ranks_the_passage_sharing_rare_terms_first() {
        let index = library();
        let hits = index.search("Como lidar com estresse no trabalho?", 3);
        assert_eq!(hits[0].0.title, "Estresse no trabalho");
        let hits = index.search("não consigo dormir, meu sono está ruim", 3);
        assert_eq!(hits[0].0.title, "Sono");
    }

    #[test]
    fn accents_case_and_plurals_do_not_matter() {
        let index = library();
        assert_eq!(
            index.search("COMUNICACAO nao-violenta", 1)[0].0.title,
            "Comunicação"
        );
        assert_eq!(index.search("I can't sleep", 1)[0].0.title, "Grief");
        assert_eq!(index.search("tenho dormido mal", 1)[0].0.title, "Sono");
        assert_eq!(index.search("pausa", 1)[0].0.title, "Estresse no trabalho");
    }

    #[test]
    fn unrelated_or_stopword_queries_find_nothing() {
        let index = library();
        assert!(index.search("xylophone", 5).is_empty());
        assert!(index.search("the de que", 5).is_empty());
        assert!(index.search("sono", 0).is_empty());
        assert!(SearchIndex::default().search("sono", 3).is_empty());
    }

    #[test]
    fn returns_at_most_k_best_first() {
        let index = library();
        let hits = index.search("sono dormir trabalho grief comunicação", 2);
        assert_eq!(hits.len(), 2);
        assert!(hits[0].1 >= hits[1].1);
    }

    #[test]
    fn the_live_index_is_replaced_whole() {
        let live = LibraryIndex::default();
        assert!(live.retrieve("sono", 3).is_empty());
        live.replace(library());
        assert_eq!(live.retrieve("sono", 3)[0].title, "Sono");
    }
}
