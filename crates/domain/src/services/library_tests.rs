//! The library use cases with a mocked store: idempotent by content hash, whole replacement,
//! nothing written for a file that yields no text, admin-only changes.

use super::library::*;
use super::tests::{TestEnv, ready};
use crate::library::{DocFormat, Document, ExtractError, ExtractedDocument, TextBlock};
use crate::ports::{MockLibraryStore, Retriever, TokenCounter};
use crate::retrieval::LibraryIndex;
use crate::{Actor, DocumentId, Role, UserId};
use futures::executor::block_on;
use std::sync::Arc;
use std::sync::atomic::AtomicI64;

struct Words;
impl TokenCounter for Words {
    fn count(&self, text: &str) -> u64 {
        text.split_whitespace().count() as u64
    }
}

thread_local! {
    /// What the library service audited on this test's thread.
    static AUDITED: std::cell::RefCell<Vec<crate::audit::AuditEntry>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

impl crate::ports::AuditLog for MockLibraryStore {
    fn record(
        &self,
        entry: &crate::audit::AuditEntry,
    ) -> impl std::future::Future<Output = crate::ports::StoreResult<()>> + Send {
        AUDITED.with(|a| a.borrow_mut().push(entry.clone()));
        ready(Ok(()))
    }

    fn recent(
        &self,
        _: u64,
        _: u64,
    ) -> impl std::future::Future<Output = crate::ports::StoreResult<Vec<crate::audit::AuditEntry>>> + Send
    {
        ready(Ok(Vec::new()))
    }
}

fn service(store: MockLibraryStore) -> LibraryService<MockLibraryStore, Words, TestEnv> {
    LibraryService {
        store: Arc::new(store),
        tokens: Arc::new(Words),
        env: Arc::new(TestEnv {
            next: AtomicI64::new(100),
        }),
        index: Arc::new(LibraryIndex::default()),
        chunk_size: Default::default(),
    }
}

fn extracted(text: &str) -> ExtractedDocument {
    ExtractedDocument {
        title: Some("Sono e descanso".into()),
        format: DocFormat::Pdf,
        pages: 1,
        blocks: vec![TextBlock {
            page: Some(1),
            heading: None,
            text: text.into(),
        }],
    }
}

fn stored(hash: String) -> Document {
    Document {
        id: DocumentId(7),
        title: "Sono e descanso".into(),
        source: "sono.pdf".into(),
        content_hash: hash,
        format: "pdf".into(),
        pages: 1,
        ingested_at: super::tests::now(),
    }
}

#[test]
fn unchanged_bytes_are_not_extracted_nor_written() {
    let mut store = MockLibraryStore::new();
    let bytes = b"same bytes";
    let doc = stored(content_hash(bytes));
    store
        .expect_document_by_source()
        .returning(move |_| ready(Ok(Some(doc.clone()))));
    store.expect_replace_document().never();
    let outcome = block_on(service(store).ingest("sono.pdf", bytes, || async {
        panic!("must not extract unchanged bytes")
    }))
    .unwrap();
    assert!(matches!(outcome, IngestOutcome::Unchanged(d) if d.id == DocumentId(7)));
}

#[test]
fn new_or_changed_files_replace_their_passages_in_one_call() {
    let mut store = MockLibraryStore::new();
    store
        .expect_document_by_source()
        .returning(|_| ready(Ok(Some(stored("old".into())))));
    store
        .expect_replace_document()
        .once()
        .withf(|doc, passages| {
            doc.source == "sono.pdf"
                && doc.content_hash == content_hash(b"new bytes")
                && doc.title == "Sono e descanso"
                && passages.len() == 1
                && passages[0].document_id == doc.id
                && passages[0].page == Some(1)
                && passages[0].text == "Durma bem."
        })
        .returning(|_, _| ready(Ok(())));
    let outcome = block_on(service(store).ingest("sono.pdf", b"new bytes", || async {
        Ok(extracted("Durma bem."))
    }))
    .unwrap();
    assert!(matches!(
        outcome,
        IngestOutcome::Ingested {
            passages: 1,
            characters: 10,
            ..
        }
    ));
}

#[test]
fn files_without_text_write_nothing() {
    for result in [Ok(extracted("   ")), Err(ExtractError::NoText)] {
        let mut store = MockLibraryStore::new();
        store
            .expect_document_by_source()
            .returning(|_| ready(Ok(None)));
        store.expect_replace_document().never();
        let err =
            block_on(service(store).ingest("vazio.pdf", b"x", || async { result })).unwrap_err();
        assert_eq!(err, LibraryError::Extract(ExtractError::NoText));
    }
}

#[test]
fn only_admins_upload_or_retire_and_the_index_follows() {
    let actor = |role| Actor {
        user_id: UserId(1),
        role,
        company_id: None,
        ip: None,
    };
    for role in [Role::CompanyManager, Role::Employee, Role::Individual] {
        let svc = service(MockLibraryStore::new());
        let denied =
            block_on(svc.upload(&actor(role), "a.txt", b"a", || async { Ok(extracted("a")) }));
        assert_eq!(denied.unwrap_err(), LibraryError::Forbidden);
        let denied = block_on(svc.retire(&actor(role), DocumentId(7)));
        assert_eq!(denied.unwrap_err(), LibraryError::Forbidden);
    }

    let mut store = MockLibraryStore::new();
    store
        .expect_document_by_source()
        .returning(|_| ready(Ok(None)));
    store
        .expect_replace_document()
        .returning(|_, _| ready(Ok(())));
    store
        .expect_list_documents()
        .returning(|| ready(Ok(vec![stored("h".into())])));
    store.expect_all_passages().returning(|| {
        ready(Ok(vec![crate::library::Passage {
            id: crate::PassageId(1),
            document_id: DocumentId(7),
            ordinal: 0,
            text: "Horários regulares ajudam o sono.".into(),
            page: Some(1),
            heading: None,
            token_count: 4,
        }]))
    });
    let svc = service(store);
    block_on(
        svc.upload(&actor(Role::PlatformAdmin), "sono.pdf", b"z", || async {
            Ok(extracted("Horários regulares ajudam o sono."))
        }),
    )
    .unwrap();
    let found = svc.index.retrieve("sono", 3);
    assert_eq!(found[0].title, "Sono e descanso");
    assert_eq!(found[0].page, Some(1));
    // The admin's upload is in the audit log; the refused attempts are not.
    let audited = AUDITED.with(|a| a.borrow().clone());
    assert_eq!(audited.len(), 1, "{audited:?}");
    assert_eq!(audited[0].action, "library.upload");
    assert!(audited[0].detail.contains("sono.pdf"), "{audited:?}");
}

#[test]
fn titles_fall_back_to_the_file_name() {
    let mut store = MockLibraryStore::new();
    store
        .expect_document_by_source()
        .returning(|_| ready(Ok(None)));
    store
        .expect_replace_document()
        .withf(|doc, _| doc.title == "estresse no trabalho")
        .returning(|_, _| ready(Ok(())));
    let mut doc = extracted("Pausas ajudam.");
    doc.title = Some("  ".into());
    block_on(
        service(store).ingest("files/estresse_no-trabalho.docx", b"q", || async {
            Ok(doc)
        }),
    )
    .unwrap();
}
