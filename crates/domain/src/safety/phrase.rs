//! Word patterns, the unit the screen's rules are written in.
//!
//! A pattern is a sequence of segments joined by `…` (up to [`MAX_GAP`] other words may stand
//! in between: "quero *muito* morrer"), by `+` (next to each other) or by `~` (later in the same
//! sentence, up to [`SENTENCE_GAP`] words on: "arma ~ pensando ~ em mim"). A segment lists
//! alternatives separated by `|`; each alternative is one or more words in a row, where `stem*`
//! matches any word starting with `stem` and `[a|b]` is an optional word. A segment made of one
//! bracketed item is optional as a whole. `$` stands for the end of the sentence or of a clause (a comma): "eu vou fazer +
//! $" is a bare "I'll do it", not "eu vou fazer o jantar".
//!
//! `quero|queria … morrer|estar morto + [agora]` matches "queria muito estar morto agora".
//! Words are matched after normalisation (`words.rs`): patterns are written lower case, without
//! accents, in the standard spelling; `#num` matches a number ("40", "trinta").

/// Words allowed between two segments joined by `…`.
pub const MAX_GAP: usize = 4;

/// Words allowed between two segments joined by `~`: a long clause, in practice the sentence;
/// bounded so that a message of one endless sentence stays fast to screen.
pub const SENTENCE_GAP: usize = 24;

/// A word of the message as the patterns see it: its normal form, and the form with stretched
/// letters kept doubled ("killll" → "kil" and "kill"), either of which may match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub forms: Vec<String>,
    /// A comma, colon or dash follows the word: a clause ends here, which `$` also matches.
    pub clause_end: bool,
}

impl Token {
    pub fn new(form: impl Into<String>) -> Token {
        Token {
            forms: vec![form.into()],
            clause_end: false,
        }
    }

    pub fn main(&self) -> &str {
        self.forms.first().map(String::as_str).unwrap_or_default()
    }

    pub fn is(&self, word: &str) -> bool {
        self.forms.iter().any(|f| f == word)
    }

    /// Whether any form is one of `words`.
    pub fn is_any(&self, words: &[&str]) -> bool {
        self.forms.iter().any(|f| words.contains(&f.as_str()))
    }
}

/// One word position: exact words or prefixes, possibly optional.
#[derive(Debug, Clone)]
struct Word {
    exact: Vec<String>,
    prefixes: Vec<String>,
    optional: bool,
}

impl Word {
    fn parse(item: &str) -> Word {
        let (optional, body) = match item.strip_prefix('[').and_then(|i| i.strip_suffix(']')) {
            Some(inner) => (true, inner),
            None => (false, item),
        };
        let (mut exact, mut prefixes) = (Vec::new(), Vec::new());
        for alt in body.split('|') {
            match alt.strip_suffix('*') {
                Some(prefix) => prefixes.push(prefix.to_string()),
                None => exact.push(alt.to_string()),
            }
        }
        Word {
            exact,
            prefixes,
            optional,
        }
    }

    /// `$`: matches no word, only the end of the sentence.
    fn is_end(&self) -> bool {
        self.exact.len() == 1 && self.exact[0] == "$" && self.prefixes.is_empty()
    }

    fn matches(&self, token: &Token) -> bool {
        token.forms.iter().any(|form| {
            self.exact
                .iter()
                .any(|w| w == form || (w == "#num" && is_number(form)))
                || self.prefixes.iter().any(|p| form.starts_with(p.as_str()))
        })
    }
}

/// What may stand between a segment and the one before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Gap {
    /// Nothing: `+`.
    None,
    /// Up to [`MAX_GAP`] words: `…`.
    Near,
    /// Up to [`SENTENCE_GAP`] words of the same sentence: `~`.
    Sentence,
}

#[derive(Debug, Clone)]
struct Segment {
    alternatives: Vec<Vec<Word>>,
    optional: bool,
    gap_before: Gap,
}

impl Segment {
    fn parse(text: &str, gap_before: Gap) -> Segment {
        let items = bracket_aware_split(text, ' ');
        if let [only] = items.as_slice()
            && let Some(inner) = only.strip_prefix('[').and_then(|i| i.strip_suffix(']'))
        {
            return Segment {
                alternatives: inner
                    .split('|')
                    .map(|alt| alt.split_whitespace().map(Word::parse).collect())
                    .collect(),
                optional: true,
                gap_before,
            };
        }
        let alternatives = bracket_aware_split(text, '|')
            .iter()
            .flat_map(|alt| expand(alt))
            .collect();
        Segment {
            alternatives,
            optional: false,
            gap_before,
        }
    }

    /// Every end (exclusive) of a match of this segment starting exactly at `at`.
    fn ends(&self, tokens: &[Token], at: usize, out: &mut Vec<usize>) {
        for words in &self.alternatives {
            sequence_ends(words, tokens, at, out);
        }
    }
}

/// Number words a count of pills may be written in.
const NUMBER_WORDS: &[&str] = &[
    "dez",
    "quinze",
    "vinte",
    "trinta",
    "quarenta",
    "cinquenta",
    "sessenta",
    "cem",
    "ten",
    "fifteen",
    "twenty",
    "thirty",
    "forty",
    "fifty",
    "sixty",
    "hundred",
];

/// `#num` in a pattern: a number in digits or words ("40", "trinta").
fn is_number(form: &str) -> bool {
    (!form.is_empty() && form.chars().all(|c| c.is_ascii_digit())) || NUMBER_WORDS.contains(&form)
}

/// One alternative as word sequences: an optional item of several words ("[too much|a lot]")
/// becomes one sequence per choice, and one without it.
fn expand(alt: &str) -> Vec<Vec<Word>> {
    let mut sequences: Vec<Vec<Word>> = vec![Vec::new()];
    for item in bracket_aware_split(alt, ' ') {
        let several = item
            .strip_prefix('[')
            .and_then(|i| i.strip_suffix(']'))
            .filter(|inner| inner.contains(' '));
        match several {
            Some(inner) => {
                let choices: Vec<Vec<Word>> = inner
                    .split('|')
                    .map(|c| c.split_whitespace().map(Word::parse).collect())
                    .chain(std::iter::once(Vec::new()))
                    .collect();
                sequences = sequences
                    .iter()
                    .flat_map(|seq| {
                        choices.iter().map(move |choice| {
                            let mut longer = seq.clone();
                            longer.extend(choice.iter().cloned());
                            longer
                        })
                    })
                    .collect();
            }
            None => {
                let word = Word::parse(&item);
                for seq in &mut sequences {
                    seq.push(word.clone());
                }
            }
        }
    }
    sequences
}

fn sequence_ends(words: &[Word], tokens: &[Token], at: usize, out: &mut Vec<usize>) {
    let Some((word, rest)) = words.split_first() else {
        out.push(at);
        return;
    };
    if word.is_end() {
        if at == tokens.len() || (at > 0 && tokens[at - 1].clause_end) {
            sequence_ends(rest, tokens, at, out);
        }
        return;
    }
    if at < tokens.len() && word.matches(&tokens[at]) {
        sequence_ends(rest, tokens, at + 1, out);
    }
    if word.optional {
        sequence_ends(rest, tokens, at, out);
    }
}

/// Splits on `sep` outside `[…]`, dropping empty pieces.
fn bracket_aware_split(text: &str, sep: char) -> Vec<String> {
    let mut pieces = vec![String::new()];
    let mut depth = 0usize;
    for c in text.chars() {
        match c {
            '[' => depth += 1,
            ']' => depth = depth.saturating_sub(1),
            _ => {}
        }
        if c == sep && depth == 0 {
            pieces.push(String::new());
        } else if let Some(last) = pieces.last_mut() {
            last.push(c);
        }
    }
    pieces
        .into_iter()
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
        .collect()
}

/// The index key of words starting with `text`'s first two letters ("su*" for "suicidio" and
/// for the stem "suicid"); `None` when it is shorter.
pub fn prefix_key(text: &str) -> Option<String> {
    let mut chars = text.chars();
    let (a, b) = (chars.next()?, chars.next()?);
    Some(format!("{a}{b}*"))
}

/// A parsed pattern.
#[derive(Debug, Clone)]
pub struct Phrase {
    segments: Vec<Segment>,
}

impl Phrase {
    pub fn parse(pattern: &str) -> Phrase {
        let mut segments = Vec::new();
        let mut gap = Gap::None;
        let mut current = String::new();
        for item in bracket_aware_split(pattern, ' ') {
            if item == "…" || item == "+" || item == "~" {
                if !current.trim().is_empty() {
                    segments.push(Segment::parse(&current, gap));
                }
                current.clear();
                gap = match item.as_str() {
                    "…" => Gap::Near,
                    "~" => Gap::Sentence,
                    _ => Gap::None,
                };
            } else {
                current.push(' ');
                current.push_str(&item);
            }
        }
        if !current.trim().is_empty() {
            segments.push(Segment::parse(&current, gap));
        }
        debug_assert!(
            segments.first().is_some_and(|s| !s.optional),
            "a pattern starts with a required segment: {pattern}"
        );
        Phrase { segments }
    }

    /// The words a match must start with, when the first segment only has exact first words:
    /// lets the screen try only the patterns that can start at a given word.
    /// A prefix `stem*` is keyed by [`prefix_key`] of its stem.
    pub fn first_words(&self) -> Option<Vec<String>> {
        let first = self.segments.first()?;
        let mut words = Vec::new();
        for alt in &first.alternatives {
            let head = alt.first()?;
            if head.optional || head.is_end() {
                return None;
            }
            words.extend(head.exact.iter().cloned());
            for prefix in &head.prefixes {
                words.push(prefix_key(prefix)?);
            }
        }
        Some(words)
    }

    /// The end (exclusive) of a match starting at `start`, if the phrase matches there.
    pub fn match_at(&self, tokens: &[Token], start: usize) -> Option<usize> {
        let (first, tail) = self.segments.split_first()?;
        let mut ends = Vec::new();
        first.ends(tokens, start, &mut ends);
        ends.into_iter()
            .filter(|&end| end > start)
            .find_map(|end| rest(tail, tokens, end))
    }
}

fn rest(segments: &[Segment], tokens: &[Token], at: usize) -> Option<usize> {
    let Some((segment, tail)) = segments.split_first() else {
        return Some(at);
    };
    let reach = match segment.gap_before {
        Gap::None => 0,
        Gap::Near => MAX_GAP,
        Gap::Sentence => SENTENCE_GAP,
    };
    let mut ends = Vec::new();
    for i in (at..=at + reach).take_while(|&i| i <= tokens.len()) {
        ends.clear();
        segment.ends(tokens, i, &mut ends);
        if let Some(end) = ends.iter().find_map(|&end| rest(tail, tokens, end)) {
            return Some(end);
        }
    }
    if segment.optional {
        rest(tail, tokens, at)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(text: &str) -> Vec<Token> {
        text.split_whitespace().map(Token::new).collect()
    }

    fn matches(pattern: &str, text: &str) -> bool {
        let phrase = Phrase::parse(pattern);
        let t = tokens(text);
        (0..t.len()).any(|i| phrase.match_at(&t, i).is_some())
    }

    #[test]
    fn alternatives_prefixes_gaps_and_optional_slots() {
        assert!(matches("quero|queria morrer", "eu queria morrer"));
        assert!(matches("suicid*", "pensamentos suicidas"));
        assert!(matches("quero … morrer", "quero muito muito mesmo morrer"));
        assert!(!matches("quero … morrer", "quero a b c d e morrer"));
        assert!(matches("kill + [my] self|myself", "kill myself"));
        assert!(matches("kill + [my] self|myself", "kill my self"));
        assert!(!matches("quero morrer", "quero muito morrer"));
        assert!(matches(
            "quero|queria … morrer|estar morto + [agora]",
            "queria muito estar morto agora"
        ));
        assert!(matches(
            "tirar … [a] minha [propria] vida",
            "tirar minha vida"
        ));
        assert!(matches("hoje … [a] [noite] … vou", "hoje a noite vou"));
        assert!(matches(
            "morrer|morrendo + de + [tanto] + rir",
            "morrendo de tanto rir"
        ));
        assert!(!matches(
            "morrer|morrendo + de + [tanto] + rir",
            "morrendo de verdade e rir"
        ));
        assert!(matches(
            "arma ~ pensando ~ em mim",
            "a arma do meu pai fica no armario e eu fico pensando muito em usar em mim"
        ));
        assert!(!matches("arma ~ pensando", "pensando na arma"));
        assert!(matches(
            "so atrapalho … [a] [vida] [de] [todos|todo mundo|voces] + $",
            "so atrapalho a vida de todo mundo"
        ));
        assert!(matches(
            "signing off … [for good|forever]",
            "signing off for good"
        ));
        assert!(matches("tomei … uns + #num", "tomei uns 30"));
        assert!(matches("took … like + #num", "took like forty"));
        assert!(!matches("took … like + #num", "took like a lot"));
        assert!(matches("vou fazer + $", "amanha eu vou fazer"));
        assert!(!matches("vou fazer + $", "amanha eu vou fazer bolo"));
        assert!(matches("vou fazer … $|mesmo", "vou fazer isso amanha"));
        assert!(matches("tentei + [antes] + $|mas", "eu tentei antes"));
        assert!(matches("tentei + [antes] + $|mas", "tentei mas"));
    }

    #[test]
    fn any_form_of_a_token_matches() {
        let t = vec![Token {
            forms: vec!["kil".into(), "kill".into()],
            clause_end: false,
        }];
        assert_eq!(Phrase::parse("kill").match_at(&t, 0), Some(1));
    }
}
