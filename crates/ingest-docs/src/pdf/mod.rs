//! PDF through lopdf: fonts decoded with their ToUnicode maps or standard encodings, text
//! placed by interpreting the content stream, then laid out in reading order per page.

mod content;
mod fonts;
mod layout;
mod std_widths;

use crate::Limits;
use crate::text::clean_lines;
use content::Interpreter;
use domain::library::{DocFormat, ExtractError, ExtractedDocument, TextBlock};
use fonts::Font;
use lopdf::{DecompressError, Dictionary, Document, LoadOptions};
use std::collections::HashMap;

/// Operations read from one page at most; a page's content is already size-bounded, this
/// keeps pathological streams of tiny operators bounded too.
const MAX_OPS_PER_PAGE: usize = 2_000_000;

fn malformed(e: impl std::fmt::Display) -> ExtractError {
    ExtractError::Malformed(format!("unreadable PDF: {e}"))
}

fn load(bytes: &[u8], limits: &Limits) -> Result<Document, ExtractError> {
    let options = LoadOptions {
        max_decompressed_size: Some(
            usize::try_from(limits.max_uncompressed_bytes).unwrap_or(usize::MAX),
        ),
        ..LoadOptions::default()
    };
    match Document::load_mem_with_options(bytes, options) {
        Ok(doc) if doc.is_encrypted() => Err(ExtractError::NoText),
        Ok(doc) => Ok(doc),
        Err(lopdf::Error::Decompress(DecompressError::MemoryLimitExceeded { .. })) => {
            Err(ExtractError::TooLarge(format!(
                "a stream decompresses to more than {} bytes",
                limits.max_uncompressed_bytes
            )))
        }
        // A file we cannot open because it is encrypted has no text we may read.
        Err(_) if bytes.windows(8).any(|w| w == b"/Encrypt") => Err(ExtractError::NoText),
        Err(e) => Err(malformed(e)),
    }
}

fn title(doc: &Document) -> Option<String> {
    let info = doc.trailer.get(b"Info").ok()?;
    let info = doc.dereference(info).ok()?.1.as_dict().ok()?;
    let raw = doc.dereference(info.get(b"Title").ok()?).ok()?.1;
    let title = crate::text::clean_inline(&lopdf::decode_text_string(raw).ok()?);
    (!title.is_empty()).then_some(title)
}

pub(crate) fn extract(bytes: &[u8], limits: &Limits) -> Result<ExtractedDocument, ExtractError> {
    let doc = load(bytes, limits)?;
    let pages = doc.get_pages();
    let page_count = u32::try_from(pages.len()).unwrap_or(u32::MAX);
    if page_count > limits.max_pages {
        return Err(ExtractError::TooLarge(format!(
            "{page_count} pages, the limit is {}",
            limits.max_pages
        )));
    }

    // Fonts are shared between pages: decode each dictionary's encoding once.
    let mut page_fonts: Vec<HashMap<Vec<u8>, usize>> = Vec::with_capacity(pages.len());
    let mut originals: Vec<&Dictionary> = Vec::new();
    let mut index: HashMap<*const Dictionary, usize> = HashMap::new();
    for &page_id in pages.values() {
        let mut names = HashMap::new();
        for (name, dict) in doc.get_page_fonts(page_id).unwrap_or_default() {
            let next = originals.len();
            let i = *index.entry(std::ptr::from_ref(dict)).or_insert(next);
            if i == next {
                originals.push(dict);
            }
            names.insert(name, i);
        }
        page_fonts.push(names);
    }
    let decoding: Vec<Dictionary> = originals
        .iter()
        .map(|d| fonts::prefer_to_unicode(d))
        .collect();
    let fonts: Vec<Font<'_>> = originals
        .iter()
        .zip(&decoding)
        .map(|(orig, dec)| Font::new(&doc, orig, dec))
        .collect();

    let budget = usize::try_from(limits.max_uncompressed_bytes).unwrap_or(usize::MAX);
    let mut used = 0usize;
    let mut chars = 0usize;
    let mut blocks = Vec::new();
    for ((&number, &page_id), names) in pages.iter().zip(&page_fonts) {
        let content = doc
            .get_page_content_with_limit(page_id, budget.saturating_sub(used))
            .map_err(|e| match e {
                lopdf::Error::Decompress(DecompressError::MemoryLimitExceeded { .. }) => {
                    ExtractError::TooLarge(format!(
                        "page content decompresses to more than {budget} bytes"
                    ))
                }
                e => malformed(e),
            })?;
        used += content.len();
        let mut interpreter = Interpreter::new(&fonts, names);
        interpreter.run(&content, MAX_OPS_PER_PAGE);
        let text = layout::page_text(&interpreter.runs);
        let text = text
            .split("\n\n")
            .map(clean_lines)
            .filter(|p| !p.is_empty())
            .collect::<Vec<_>>()
            .join("\n\n");
        if text.is_empty() {
            continue;
        }
        chars += text.len();
        if chars > limits.max_text_chars {
            return Err(ExtractError::TooLarge(format!(
                "more than {} characters of text",
                limits.max_text_chars
            )));
        }
        blocks.push(TextBlock {
            page: Some(number),
            heading: None,
            text,
        });
    }
    if blocks.is_empty() {
        return Err(ExtractError::NoText);
    }
    Ok(ExtractedDocument {
        title: title(&doc),
        format: DocFormat::Pdf,
        pages: page_count,
        blocks,
    })
}
