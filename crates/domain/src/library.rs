//! The document library that grounds the assistant's answers.

use crate::{DocumentId, PassageId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Document {
    pub id: DocumentId,
    pub title: String,
    /// Where it came from (file name or path relative to the ingested folder); unique.
    pub source: String,
    /// Hex SHA-256 of the file's bytes: re-ingesting the same bytes does nothing.
    pub content_hash: String,
    pub format: String,
    pub pages: u32,
    pub ingested_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Passage {
    pub id: PassageId,
    pub document_id: DocumentId,
    /// Position within the document, from 0.
    pub ordinal: u32,
    pub text: String,
    pub page: Option<u32>,
    pub heading: Option<String>,
    pub token_count: u32,
}

/// The file formats the extractor understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DocFormat {
    Pdf,
    Docx,
    Html,
    Text,
    Markdown,
}

impl DocFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            DocFormat::Pdf => "pdf",
            DocFormat::Docx => "docx",
            DocFormat::Html => "html",
            DocFormat::Text => "text",
            DocFormat::Markdown => "markdown",
        }
    }
}

/// A run of text with where it stands in its document, before chunking.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TextBlock {
    pub page: Option<u32>,
    pub heading: Option<String>,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExtractedDocument {
    pub title: Option<String>,
    pub format: DocFormat,
    pub pages: u32,
    pub blocks: Vec<TextBlock>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExtractError {
    #[error("unsupported file type: {0}")]
    Unsupported(String),
    #[error("no extractable text (encrypted, scanned or empty)")]
    NoText,
    #[error("file too large: {0}")]
    TooLarge(String),
    #[error("malformed file: {0}")]
    Malformed(String),
}
