//! PDF through lopdf: fonts decoded with their ToUnicode maps or standard encodings, text
//! placed by interpreting the content stream, then laid out in reading order per page.

mod content;
mod fonts;
mod layout;
mod resources;
mod std_widths;

use crate::Limits;
use crate::text::clean_lines;
use content::{Budget, Interpreter, Scope};
use domain::library::{DocFormat, ExtractError, ExtractedDocument, TextBlock};
use fonts::Font;
use lopdf::{DecompressError, Dictionary, Document, LoadOptions};
use resources::FontTable;

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
    // Producers fill the field with placeholders or the source file name.
    let title = title
        .strip_prefix("Microsoft Word - ")
        .unwrap_or(&title)
        .trim();
    let placeholder =
        ["untitled", "sem título", "(anonymous)"].contains(&title.to_lowercase().as_str());
    (!title.is_empty() && !placeholder).then(|| title.to_owned())
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

    // Fonts are shared between pages and forms: decode each dictionary's encoding once.
    let mut table = FontTable::default();
    let mut scopes: Vec<Scope<'_>> = Vec::new();
    for &page_id in pages.values() {
        let fonts = doc.get_page_fonts(page_id).unwrap_or_default();
        let names = fonts
            .into_iter()
            .map(|(name, dict)| (name, table.add(dict)))
            .collect();
        let xobjects = resources::page_xobjects(&doc, page_id);
        if let Some(x) = xobjects {
            table.add_forms(&doc, x, 0);
        }
        scopes.push(Scope {
            fonts: names,
            xobjects,
        });
    }
    let decoding: Vec<Dictionary> = table
        .fonts
        .iter()
        .map(|d| fonts::prefer_to_unicode(d))
        .collect();
    let fonts: Vec<Font<'_>> = table
        .fonts
        .iter()
        .zip(&decoding)
        .map(|(orig, dec)| Font::new(&doc, orig, dec))
        .collect();

    let budget = usize::try_from(limits.max_uncompressed_bytes).unwrap_or(usize::MAX);
    let mut used = 0usize;
    let mut chars = 0usize;
    let mut blocks = Vec::new();
    for ((&number, &page_id), scope) in pages.iter().zip(scopes) {
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
        let page_budget = Budget {
            ops: MAX_OPS_PER_PAGE,
            bytes: budget.saturating_sub(used),
        };
        let mut interpreter = Interpreter::new(&doc, &fonts, &table.index, scope, page_budget);
        interpreter.run(&content);
        used += interpreter.bytes_spent();
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
