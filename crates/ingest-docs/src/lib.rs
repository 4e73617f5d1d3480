//! Text extraction for the document library: PDF (lopdf), DOCX (zip + quick-xml), HTML
//! (html5ever's tokenizer), plain text and Markdown.
//!
//! Every input is untrusted: sizes, pages, decompressed bytes and nesting are bounded by
//! [`Limits`], and each format runs under `catch_unwind` so a hostile file becomes an
//! [`ExtractError`] instead of a panic in the caller.

mod docx;
mod html;
mod pdf;
mod text;

use domain::library::{DocFormat, ExtractError, ExtractedDocument};
use domain::ports::TextExtractor;
use std::panic::{AssertUnwindSafe, catch_unwind};

/// Bounds applied to every file. The defaults suit a library of articles and booklets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Largest input file accepted, in bytes.
    pub max_bytes: usize,
    /// Most pages read from a PDF; longer files are refused.
    pub max_pages: u32,
    /// Most bytes decompressed from one file (DOCX parts, PDF streams), counted while reading.
    pub max_uncompressed_bytes: u64,
    /// Largest decompressed/compressed ratio allowed once a part passes 1 MiB.
    pub max_compression_ratio: u64,
    /// Deepest HTML element nesting accepted.
    pub max_html_depth: usize,
    /// Most characters of text kept from one file; extraction stops with an error past it.
    pub max_text_chars: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 50 * 1024 * 1024,
            max_pages: 2_000,
            max_uncompressed_bytes: 200 * 1024 * 1024,
            max_compression_ratio: 200,
            max_html_depth: 512,
            max_text_chars: 20_000_000,
        }
    }
}

/// The [`TextExtractor`] adapter.
#[derive(Debug, Clone, Default)]
pub struct Extractor {
    limits: Limits,
}

impl Extractor {
    pub fn new(limits: Limits) -> Self {
        Extractor { limits }
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    fn extract_as(
        &self,
        format: DocFormat,
        bytes: &[u8],
    ) -> Result<ExtractedDocument, ExtractError> {
        let limits = &self.limits;
        // A parser bug triggered by a hostile file must not take the caller down with it.
        let result = catch_unwind(AssertUnwindSafe(|| match format {
            DocFormat::Pdf => pdf::extract(bytes, limits),
            DocFormat::Docx => docx::extract(bytes, limits),
            DocFormat::Html => html::extract(bytes, limits),
            DocFormat::Text => text::extract_plain(bytes, limits),
            DocFormat::Markdown => text::extract_markdown(bytes, limits),
        }));
        let doc = result.map_err(|_| {
            ExtractError::Malformed(format!(
                "the {} parser failed on this file",
                format.as_str()
            ))
        })??;
        if doc.blocks.iter().all(|b| b.text.trim().is_empty()) {
            return Err(ExtractError::NoText);
        }
        Ok(doc)
    }
}

impl TextExtractor for Extractor {
    fn extract(&self, file_name: &str, bytes: &[u8]) -> Result<ExtractedDocument, ExtractError> {
        if bytes.len() > self.limits.max_bytes {
            return Err(ExtractError::TooLarge(format!(
                "{} bytes, the limit is {}",
                bytes.len(),
                self.limits.max_bytes
            )));
        }
        let format = detect_format(file_name, bytes)?;
        self.extract_as(format, bytes)
    }
}

const OLE_MAGIC: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

fn is_zip(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06")
}

fn is_pdf(bytes: &[u8]) -> bool {
    // Some producers put junk before the header; readers accept it within the first KiB.
    let head = &bytes[..bytes.len().min(1024)];
    head.windows(5).any(|w| w == b"%PDF-")
}

/// Magic numbers of binary formats that are never text, whatever the file is called.
fn binary_kind(bytes: &[u8]) -> Option<&'static str> {
    const MAGICS: &[(&[u8], &str)] = &[
        (b"%PDF-", "a PDF"),
        (b"PK\x03\x04", "a zip archive"),
        (OLE_MAGIC, "an OLE (legacy Office) file"),
        (b"\x89PNG", "a PNG image"),
        (b"GIF8", "a GIF image"),
        (b"\xFF\xD8\xFF", "a JPEG image"),
        (b"\x1F\x8B", "gzip data"),
        (b"\x7FELF", "an executable"),
    ];
    if let Some((_, name)) = MAGICS.iter().find(|(m, _)| bytes.starts_with(m)) {
        return Some(name);
    }
    let head = &bytes[..bytes.len().min(8192)];
    let utf16 = head.starts_with(&[0xFF, 0xFE]) || head.starts_with(&[0xFE, 0xFF]);
    (!utf16 && head.contains(&0)).then_some("binary data")
}

fn extension(file_name: &str) -> Option<String> {
    let base = file_name.rsplit(['/', '\\']).next().unwrap_or(file_name);
    base.rsplit_once('.')
        .map(|(_, ext)| ext.to_ascii_lowercase())
}

/// Picks the format from the extension and checks that the bytes agree with it; files with
/// no known extension are sniffed.
fn detect_format(file_name: &str, bytes: &[u8]) -> Result<DocFormat, ExtractError> {
    let unsupported = |why: String| Err(ExtractError::Unsupported(why));
    match extension(file_name).as_deref() {
        Some("pdf") => {
            if is_pdf(bytes) {
                Ok(DocFormat::Pdf)
            } else {
                unsupported(format!(
                    "{file_name} is named .pdf but is not a PDF (no %PDF- header)"
                ))
            }
        }
        Some("docx") => {
            if bytes.starts_with(OLE_MAGIC) {
                unsupported(format!(
                    "{file_name} is a legacy Word 97-2003 (.doc) file; save it as .docx"
                ))
            } else if is_zip(bytes) {
                Ok(DocFormat::Docx)
            } else {
                unsupported(format!(
                    "{file_name} is named .docx but is not a zip archive"
                ))
            }
        }
        Some("doc") => unsupported(format!(
            "{file_name}: legacy Word 97-2003 (.doc) files are not supported; save it as .docx"
        )),
        Some(ext @ ("html" | "htm" | "xhtml" | "txt" | "text" | "md" | "markdown")) => {
            if let Some(kind) = binary_kind(bytes) {
                return unsupported(format!("{file_name} is named .{ext} but contains {kind}"));
            }
            Ok(match ext {
                "html" | "htm" | "xhtml" => DocFormat::Html,
                "md" | "markdown" => DocFormat::Markdown,
                _ => DocFormat::Text,
            })
        }
        _ => sniff(file_name, bytes),
    }
}

fn sniff(file_name: &str, bytes: &[u8]) -> Result<DocFormat, ExtractError> {
    if is_pdf(bytes) {
        return Ok(DocFormat::Pdf);
    }
    if is_zip(bytes) {
        return Ok(DocFormat::Docx);
    }
    if let Some(kind) = binary_kind(bytes) {
        return Err(ExtractError::Unsupported(format!(
            "{file_name} contains {kind}"
        )));
    }
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(1024)]).to_ascii_lowercase();
    if head.contains("<!doctype html") || head.contains("<html") {
        Ok(DocFormat::Html)
    } else {
        Ok(DocFormat::Text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_follows_extension_and_bytes() {
        assert_eq!(detect_format("a.PDF", b"%PDF-1.7\n"), Ok(DocFormat::Pdf));
        assert_eq!(detect_format("notes.md", b"# Hi"), Ok(DocFormat::Markdown));
        assert_eq!(
            detect_format("page", b"<!DOCTYPE html><p>x"),
            Ok(DocFormat::Html)
        );
        assert!(matches!(
            detect_format("x.html", b"\x89PNG\r\n"),
            Err(ExtractError::Unsupported(_))
        ));
        assert!(matches!(
            detect_format("x.docx", b"hello"),
            Err(ExtractError::Unsupported(_))
        ));
        assert!(matches!(
            detect_format("x.docx", OLE_MAGIC),
            Err(ExtractError::Unsupported(_))
        ));
        assert!(matches!(
            detect_format("x.pdf", b"<html>"),
            Err(ExtractError::Unsupported(_))
        ));
    }

    #[test]
    fn size_limit_is_enforced_before_parsing() {
        let ex = Extractor::new(Limits {
            max_bytes: 4,
            ..Limits::default()
        });
        assert!(matches!(
            ex.extract("a.txt", b"hello"),
            Err(ExtractError::TooLarge(_))
        ));
    }
}
