//! Contract cases for what people read and write: conversations and the document library.

use super::AllStores;
use crate::fixtures::{id, message, t0};
use domain::conversation::Author;
use domain::library::{Document, Passage};
use domain::ports::*;
use domain::*;

pub async fn conversations_page_and_delete<S: AllStores>(s: S) {
    let me = UserId(id());
    let other = UserId(id());
    let mut mine = Vec::new();
    for i in 0..5u8 {
        let m = message(
            me,
            if i % 2 == 0 {
                Author::User
            } else {
                Author::Assistant
            },
            &[i, 0, 255],
        );
        s.insert_messages(std::slice::from_ref(&m)).await.unwrap();
        mine.push(m);
    }
    s.insert_messages(&[message(other, Author::User, b"theirs")])
        .await
        .unwrap();
    let page = s.messages_page(me, None, 2).await.unwrap();
    assert_eq!(
        page,
        vec![mine[4].clone(), mine[3].clone()],
        "newest first, bytes intact"
    );
    let next = s.messages_page(me, Some(page[1].id), 10).await.unwrap();
    assert_eq!(next.len(), 3);
    assert_eq!(next[0], mine[2]);
    assert_eq!(s.delete_messages(me).await.unwrap(), 5);
    assert!(s.messages_page(me, None, 10).await.unwrap().is_empty());
    assert_eq!(
        s.messages_page(other, None, 10).await.unwrap().len(),
        1,
        "others untouched"
    );
}

pub async fn library_replace_is_whole<S: AllStores>(s: S) {
    let v1 = document("guia.pdf", "hash-1");
    let p1 = passages(&v1, 3);
    s.replace_document(&v1, &p1).await.unwrap();
    assert_eq!(
        s.document_by_source("guia.pdf").await.unwrap(),
        Some(v1.clone())
    );
    assert_eq!(s.all_passages().await.unwrap(), p1);
    let v2 = document("guia.pdf", "hash-2");
    let p2 = passages(&v2, 2);
    s.replace_document(&v2, &p2).await.unwrap();
    assert_eq!(
        s.list_documents().await.unwrap(),
        vec![v2.clone()],
        "old version gone"
    );
    assert_eq!(s.all_passages().await.unwrap(), p2, "old passages gone");
    s.retire_document(v2.id).await.unwrap();
    assert!(s.list_documents().await.unwrap().is_empty());
    assert!(s.all_passages().await.unwrap().is_empty());
    assert_eq!(s.retire_document(v2.id).await, Err(StoreError::NotFound));
}

fn document(source: &str, hash: &str) -> Document {
    Document {
        id: DocumentId(id()),
        title: "Guia de sono".into(),
        source: source.into(),
        content_hash: hash.into(),
        format: "pdf".into(),
        pages: 2,
        ingested_at: t0(),
    }
}

fn passages(doc: &Document, n: u32) -> Vec<Passage> {
    (0..n)
        .map(|i| Passage {
            id: PassageId(id()),
            document_id: doc.id,
            ordinal: i,
            text: format!("Trecho {i}: dormir bem ajuda a lidar com a ansiedade."),
            page: Some(i + 1),
            heading: (i == 0).then(|| "Introdução".to_string()),
            token_count: 12,
        })
        .collect()
}
