//! The document library: its store, the text extractor and the retriever the chat asks.

use super::StoreResult;
use crate::DocumentId;
use crate::library::{Document, ExtractError, ExtractedDocument, Passage};
use crate::prompt::Source;
use std::future::Future;

#[cfg_attr(test, mockall::automock)]
pub trait LibraryStore: Send + Sync + 'static {
    fn document_by_source(
        &self,
        source: &str,
    ) -> impl Future<Output = StoreResult<Option<Document>>> + Send;
    /// Stores the document and its passages, replacing any document with the same source, in
    /// one transaction (readers never see a half-replaced document).
    fn replace_document(
        &self,
        document: &Document,
        passages: &[Passage],
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// Removes a document and its passages.
    fn retire_document(&self, id: DocumentId) -> impl Future<Output = StoreResult<()>> + Send;
    fn list_documents(&self) -> impl Future<Output = StoreResult<Vec<Document>>> + Send;
    fn all_passages(&self) -> impl Future<Output = StoreResult<Vec<Passage>>> + Send;
}

/// Turns a file's bytes into text blocks. CPU-bound and synchronous: callers run it off the
/// async runtime.
#[cfg_attr(test, mockall::automock)]
pub trait TextExtractor: Send + Sync + 'static {
    fn extract(&self, file_name: &str, bytes: &[u8]) -> Result<ExtractedDocument, ExtractError>;
}

/// The library, as the chat sees it: the passages most relevant to a query.
#[cfg_attr(test, mockall::automock)]
pub trait Retriever: Send + Sync + 'static {
    fn retrieve(&self, query: &str, k: usize) -> Vec<Source>;
}
