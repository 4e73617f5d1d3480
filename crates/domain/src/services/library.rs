//! The library use cases: ingest a file (idempotent by content hash), retire one, list them, and
//! keep the live search index in step with the store.

use super::Env;
use crate::chunking::{ChunkSize, chunk_blocks};
use crate::library::{Document, ExtractError, ExtractedDocument, Passage};
use crate::ports::{AuditLog, LibraryStore, StoreError, TokenCounter};
use crate::retrieval::{LibraryIndex, SearchIndex, library_version};
use crate::{Actor, DocumentId, PassageId, Role};
use sha2::{Digest, Sha256};
use std::future::Future;
use std::sync::Arc;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LibraryError {
    #[error("only a platform admin may change the library")]
    Forbidden,
    #[error("no such document")]
    NotFound,
    #[error(transparent)]
    Extract(#[from] ExtractError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What ingesting one file did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IngestOutcome {
    /// The same bytes were already ingested under this source: nothing was written.
    Unchanged(Document),
    /// The document is new or changed; its passages replaced the old ones in one transaction.
    Ingested {
        document: Document,
        passages: usize,
        characters: usize,
    },
}

pub struct LibraryService<S, T, E> {
    pub store: Arc<S>,
    pub tokens: Arc<T>,
    pub env: Arc<E>,
    pub index: Arc<LibraryIndex>,
    pub chunk_size: ChunkSize,
}

impl<S, T, E> Clone for LibraryService<S, T, E> {
    fn clone(&self) -> Self {
        LibraryService {
            store: self.store.clone(),
            tokens: self.tokens.clone(),
            env: self.env.clone(),
            index: self.index.clone(),
            chunk_size: self.chunk_size,
        }
    }
}

/// Hex SHA-256 of a file's bytes: the document's identity for idempotent re-ingestion.
pub fn content_hash(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

impl<S: LibraryStore, T: TokenCounter, E: Env> LibraryService<S, T, E> {
    /// Ingests one file under `source` (its path or name). `extract` turns the bytes into text;
    /// it runs only when the content changed, so the caller can run it off the async runtime.
    /// Does not refresh the search index: call [`Self::refresh_index`] after a batch.
    pub async fn ingest<F, Fut>(
        &self,
        source: &str,
        bytes: &[u8],
        extract: F,
    ) -> Result<IngestOutcome, LibraryError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<ExtractedDocument, ExtractError>>,
    {
        let hash = content_hash(bytes);
        if let Some(existing) = self.store.document_by_source(source).await?
            && existing.content_hash == hash
        {
            return Ok(IngestOutcome::Unchanged(existing));
        }
        let extracted = extract().await?;
        let chunks = chunk_blocks(&extracted.blocks, self.tokens.as_ref(), self.chunk_size);
        if chunks.is_empty() {
            return Err(ExtractError::NoText.into());
        }
        let document = Document {
            id: DocumentId(self.env.next_id()),
            title: extracted
                .title
                .map(|t| t.trim().to_string())
                .filter(|t| !t.is_empty())
                .unwrap_or_else(|| title_from_source(source)),
            source: source.to_string(),
            content_hash: hash,
            format: extracted.format.as_str().to_string(),
            pages: extracted.pages,
            ingested_at: self.env.now(),
        };
        let passages: Vec<Passage> = chunks
            .into_iter()
            .enumerate()
            .map(|(ordinal, chunk)| Passage {
                id: PassageId(self.env.next_id()),
                document_id: document.id,
                ordinal: u32::try_from(ordinal).unwrap_or(u32::MAX),
                text: chunk.text,
                page: chunk.page,
                heading: chunk.heading,
                token_count: u32::try_from(chunk.token_count).unwrap_or(u32::MAX),
            })
            .collect();
        let characters = passages.iter().map(|p| p.text.chars().count()).sum();
        self.store.replace_document(&document, &passages).await?;
        Ok(IngestOutcome::Ingested {
            document,
            passages: passages.len(),
            characters,
        })
    }

    /// Operator action of the `ingest` command (which runs with database access, not as a
    /// signed-in person): retires the documents whose source starts with one of `roots` but is
    /// not in `present`, i.e. files removed from an ingested folder. Returns what it retired.
    pub async fn retire_missing(
        &self,
        roots: &[String],
        present: &std::collections::HashSet<String>,
    ) -> Result<Vec<Document>, LibraryError> {
        let mut retired = Vec::new();
        for document in self.store.list_documents().await? {
            let under_root = roots
                .iter()
                .any(|r| document.source.starts_with(r.as_str()));
            if under_root && !present.contains(&document.source) {
                self.store.retire_document(document.id).await?;
                retired.push(document);
            }
        }
        Ok(retired)
    }

    pub async fn documents(&self) -> Result<Vec<Document>, LibraryError> {
        Ok(self.store.list_documents().await?)
    }

    /// Rebuilds the search index from the store and swaps it in; returns the passage count.
    pub async fn refresh_index(&self) -> Result<usize, StoreError> {
        let documents = self.store.list_documents().await?;
        self.rebuild(documents).await
    }

    /// Rebuilds the index only if the library changed since it was built (another instance or
    /// the `ingest` command wrote to it); returns whether it did.
    pub async fn refresh_if_changed(&self) -> Result<bool, StoreError> {
        let documents = self.store.list_documents().await?;
        if library_version(&documents) == self.index.version() {
            return Ok(false);
        }
        self.rebuild(documents).await?;
        Ok(true)
    }

    async fn rebuild(&self, documents: Vec<Document>) -> Result<usize, StoreError> {
        let passages = self.store.all_passages().await?;
        let version = library_version(&documents);
        let index = SearchIndex::from_library(&documents, passages);
        let count = index.len();
        self.index.replace_version(index, version);
        Ok(count)
    }
}

/// The admin's changes, which are audited.
impl<S: LibraryStore + AuditLog, T: TokenCounter, E: Env> LibraryService<S, T, E> {
    /// An admin's upload from the web: the same as [`Self::ingest`], then the index is refreshed
    /// and the change audited.
    pub async fn upload<F, Fut>(
        &self,
        actor: &Actor,
        file_name: &str,
        bytes: &[u8],
        extract: F,
    ) -> Result<IngestOutcome, LibraryError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<ExtractedDocument, ExtractError>>,
    {
        require_admin(actor)?;
        let outcome = self.ingest(file_name, bytes, extract).await?;
        self.refresh_index().await?;
        if let IngestOutcome::Ingested {
            document, passages, ..
        } = &outcome
        {
            let detail = format!("{file_name}: {passages} passages");
            self.audit(actor, "library.upload", document.id, detail)
                .await?;
        }
        Ok(outcome)
    }

    /// Removes a document and its passages, refreshes the index, and audits it.
    pub async fn retire(&self, actor: &Actor, id: DocumentId) -> Result<(), LibraryError> {
        require_admin(actor)?;
        self.store.retire_document(id).await.map_err(|e| match e {
            StoreError::NotFound => LibraryError::NotFound,
            other => other.into(),
        })?;
        self.refresh_index().await?;
        self.audit(actor, "library.retire", id, String::new())
            .await?;
        Ok(())
    }

    async fn audit(
        &self,
        actor: &Actor,
        action: &str,
        id: DocumentId,
        detail: String,
    ) -> Result<(), StoreError> {
        super::audit(
            self.store.as_ref(),
            self.env.as_ref(),
            actor,
            action,
            format!("document:{id}"),
            detail,
        )
        .await
    }
}

fn require_admin(actor: &Actor) -> Result<(), LibraryError> {
    if actor.role == Role::PlatformAdmin {
        Ok(())
    } else {
        Err(LibraryError::Forbidden)
    }
}

/// "files/sono-e-descanso.pdf" → "sono e descanso": a readable title when the file has none.
fn title_from_source(source: &str) -> String {
    let name = source.rsplit(['/', '\\']).next().unwrap_or(source);
    let stem = name.rsplit_once('.').map_or(name, |(stem, _)| stem);
    stem.replace(['-', '_'], " ").trim().to_string()
}
