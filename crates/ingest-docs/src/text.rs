//! Shared text plumbing: decoding, Unicode clean-up, heading sections, and the plain-text
//! and Markdown formats.

use crate::Limits;
use domain::library::{DocFormat, ExtractError, ExtractedDocument, TextBlock};
use unicode_normalization::UnicodeNormalization;

/// Headings longer than this are not real headings (or are a run of merged empty ones).
const MAX_HEADING_CHARS: usize = 300;

/// Decodes text whose encoding is unknown: BOM first, then UTF-8, then windows-1252 (which
/// is what a non-UTF-8 Portuguese or English text file almost always is).
pub(crate) fn decode_unlabelled(bytes: &[u8]) -> String {
    if let Some((enc, bom_len)) = encoding_rs::Encoding::for_bom(bytes) {
        return enc
            .decode_without_bom_handling(&bytes[bom_len..])
            .0
            .into_owned();
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_owned(),
        Err(_) => encoding_rs::WINDOWS_1252
            .decode_without_bom_handling(bytes)
            .0
            .into_owned(),
    }
}

/// NFC, typographic ligatures expanded, invisible and control characters dropped. Newlines
/// and other whitespace are kept for [`clean_lines`] to fold.
pub(crate) fn normalize(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.nfc() {
        match c {
            '\u{FB00}' => out.push_str("ff"),
            '\u{FB01}' => out.push_str("fi"),
            '\u{FB02}' => out.push_str("fl"),
            '\u{FB03}' => out.push_str("ffi"),
            '\u{FB04}' => out.push_str("ffl"),
            '\u{FB05}' | '\u{FB06}' => out.push_str("st"),
            '\u{00AD}' | '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{2060}' | '\u{FEFF}' => {}
            '\n' | '\t' => out.push(c),
            '\r' => out.push('\n'),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Collapses runs of whitespace inside each line, trims lines and drops empty ones.
pub(crate) fn clean_lines(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for line in normalize(s).split('\n') {
        let mut words = line.split_whitespace().peekable();
        if words.peek().is_none() {
            continue;
        }
        if !out.is_empty() {
            out.push('\n');
        }
        for (i, w) in words.enumerate() {
            if i > 0 {
                out.push(' ');
            }
            out.push_str(w);
        }
    }
    out
}

/// Folds all whitespace, newlines included, into single spaces.
pub(crate) fn clean_inline(s: &str) -> String {
    normalize(s)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Collects paragraphs into [`TextBlock`]s, starting a new block at each heading so that
/// the heading travels with the text under it.
pub(crate) struct Sections {
    blocks: Vec<TextBlock>,
    heading: Option<String>,
    paragraphs: Vec<String>,
    chars: usize,
    max_chars: usize,
}

impl Sections {
    pub(crate) fn new(limits: &Limits) -> Self {
        Sections {
            blocks: Vec::new(),
            heading: None,
            paragraphs: Vec::new(),
            chars: 0,
            max_chars: limits.max_text_chars,
        }
    }

    fn count(&mut self, n: usize) -> Result<(), ExtractError> {
        self.chars += n;
        if self.chars > self.max_chars {
            return Err(ExtractError::TooLarge(format!(
                "more than {} characters of text",
                self.max_chars
            )));
        }
        Ok(())
    }

    /// Adds a paragraph; line breaks inside it are kept, blank ones dropped.
    pub(crate) fn paragraph(&mut self, raw: &str) -> Result<(), ExtractError> {
        let text = clean_lines(raw);
        if text.is_empty() {
            return Ok(());
        }
        self.count(text.len())?;
        self.paragraphs.push(text);
        Ok(())
    }

    pub(crate) fn heading(&mut self, raw: &str) -> Result<(), ExtractError> {
        let text = clean_inline(raw);
        if text.is_empty() {
            return Ok(());
        }
        self.count(text.len())?;
        self.flush();
        // A heading directly under another (title, then first section) keeps both.
        self.heading = match self.heading.take() {
            Some(prev) if prev.len() + text.len() < MAX_HEADING_CHARS => {
                Some(format!("{prev} — {text}"))
            }
            _ => Some(text),
        };
        Ok(())
    }

    fn flush(&mut self) {
        if self.paragraphs.is_empty() {
            return;
        }
        self.blocks.push(TextBlock {
            page: None,
            heading: self.heading.take(),
            text: self.paragraphs.join("\n\n"),
        });
        self.paragraphs.clear();
    }

    pub(crate) fn finish(mut self) -> Vec<TextBlock> {
        self.flush();
        // A trailing heading with nothing under it is still text the reader wrote.
        if let Some(h) = self.heading.take() {
            self.blocks.push(TextBlock {
                page: None,
                heading: Some(h.clone()),
                text: h,
            });
        }
        self.blocks
    }
}

pub(crate) fn extract_plain(
    bytes: &[u8],
    limits: &Limits,
) -> Result<ExtractedDocument, ExtractError> {
    let text = decode_unlabelled(bytes);
    let mut sections = Sections::new(limits);
    for para in paragraphs(&text) {
        sections.paragraph(&para.join(" "))?;
    }
    Ok(ExtractedDocument {
        title: None,
        format: DocFormat::Text,
        pages: 1,
        blocks: sections.finish(),
    })
}

/// Splits text into paragraphs at blank lines.
fn paragraphs(text: &str) -> Vec<Vec<&str>> {
    let mut out: Vec<Vec<&str>> = vec![Vec::new()];
    for line in text.lines() {
        if line.trim().is_empty() {
            out.push(Vec::new());
        } else if let Some(last) = out.last_mut() {
            last.push(line);
        }
    }
    out.retain(|p| !p.is_empty());
    out
}

fn atx_heading(line: &str) -> Option<&str> {
    let trimmed = line.trim_start();
    let hashes = trimmed.chars().take_while(|&c| c == '#').count();
    if !(1..=6).contains(&hashes) {
        return None;
    }
    let rest = &trimmed[hashes..];
    if !rest.is_empty() && !rest.starts_with([' ', '\t']) {
        return None;
    }
    Some(rest.trim().trim_end_matches('#').trim_end())
}

fn is_setext_underline(line: &str) -> bool {
    let t = line.trim();
    t.len() >= 2 && (t.chars().all(|c| c == '=') || t.chars().all(|c| c == '-'))
}

/// Strips list and quote markers from the start of a Markdown line.
fn strip_block_marker(line: &str) -> &str {
    let mut t = line.trim_start();
    while let Some(rest) = t.strip_prefix('>') {
        t = rest.trim_start();
    }
    for marker in ["- ", "* ", "+ "] {
        if let Some(rest) = t.strip_prefix(marker) {
            return rest;
        }
    }
    let digits = t.chars().take_while(char::is_ascii_digit).count();
    if digits > 0
        && digits < 10
        && let Some(rest) = t[digits..]
            .strip_prefix(". ")
            .or_else(|| t[digits..].strip_prefix(") "))
    {
        return rest;
    }
    t
}

/// Removes inline Markdown syntax: emphasis markers, code ticks, links and images keep
/// only their visible text.
fn strip_inline(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '*' | '`' => {}
            '_' => {
                let prev_word = i > 0 && chars[i - 1].is_alphanumeric();
                let next_word = chars.get(i + 1).is_some_and(|n| n.is_alphanumeric());
                if prev_word && next_word {
                    out.push('_');
                }
            }
            '!' if chars.get(i + 1) == Some(&'[') => {}
            '[' => {}
            ']' if chars.get(i + 1) == Some(&'(') => {
                // Skip the link target up to its closing parenthesis.
                match chars[i + 1..].iter().position(|&c| c == ')') {
                    Some(off) => i += off + 1,
                    None => out.push(']'),
                }
            }
            ']' => {}
            c => out.push(c),
        }
        i += 1;
    }
    out
}

pub(crate) fn extract_markdown(
    bytes: &[u8],
    limits: &Limits,
) -> Result<ExtractedDocument, ExtractError> {
    let text = decode_unlabelled(bytes);
    let lines: Vec<&str> = text.lines().collect();
    let mut sections = Sections::new(limits);
    let mut title = None;
    let mut para: Vec<String> = Vec::new();
    let mut in_fence = false;
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let trimmed = line.trim();
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            in_fence = !in_fence;
            sections.paragraph(&para.join(" "))?;
            para.clear();
        } else if in_fence {
            sections.paragraph(line)?;
        } else if let Some(h) = atx_heading(line) {
            sections.paragraph(&para.join(" "))?;
            para.clear();
            let h = strip_inline(h);
            if title.is_none() {
                title = Some(clean_inline(&h)).filter(|t| !t.is_empty());
            }
            sections.heading(&h)?;
        } else if trimmed.is_empty() {
            sections.paragraph(&para.join(" "))?;
            para.clear();
        } else if para.is_empty() && lines.get(i + 1).is_some_and(|n| is_setext_underline(n)) {
            let h = strip_inline(trimmed);
            if title.is_none() {
                title = Some(clean_inline(&h)).filter(|t| !t.is_empty());
            }
            sections.heading(&h)?;
            i += 1;
        } else if !is_setext_underline(line) {
            let stripped = strip_block_marker(line);
            // A list item starts its own line even without a blank line before it.
            if stripped.len() != line.trim_start().len() && !para.is_empty() {
                sections.paragraph(&para.join(" "))?;
                para.clear();
            }
            para.push(strip_inline(stripped));
        }
        i += 1;
    }
    sections.paragraph(&para.join(" "))?;
    Ok(ExtractedDocument {
        title,
        format: DocFormat::Markdown,
        pages: 1,
        blocks: sections.finish(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cleans_whitespace_ligatures_and_composes() {
        assert_eq!(
            clean_lines("  a\u{FB01}m  \t b \n\n\n c\u{0327}a "),
            "afim b\nça"
        );
        assert_eq!(decode_unlabelled(b"a\xe7\xe3o"), "ação");
    }

    #[test]
    fn markdown_headings_become_block_headings() {
        let md = "# Sono\n\nDormir **bem** ajuda.\nMuito.\n\n## Dicas\n\n- Evite [telas](http://x) à noite\n- Rotina\n";
        let doc = extract_markdown(md.as_bytes(), &Limits::default()).unwrap();
        assert_eq!(doc.title.as_deref(), Some("Sono"));
        assert_eq!(doc.blocks[0].heading.as_deref(), Some("Sono"));
        assert_eq!(doc.blocks[0].text, "Dormir bem ajuda. Muito.");
        assert_eq!(doc.blocks[1].heading.as_deref(), Some("Dicas"));
        assert_eq!(doc.blocks[1].text, "Evite telas à noite\n\nRotina");
    }

    #[test]
    fn text_limit_stops_extraction() {
        let limits = Limits {
            max_text_chars: 10,
            ..Limits::default()
        };
        assert!(matches!(
            extract_plain(b"hello world, this is long", &limits),
            Err(ExtractError::TooLarge(_))
        ));
    }
}
