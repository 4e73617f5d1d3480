//! The library's documents and passages: [`domain::ports::LibraryStore`].

/// Implements [`domain::ports::LibraryStore`] for `$store` (see [`crate::impl_sql_stores!`]).
#[doc(hidden)]
#[macro_export]
macro_rules! impl_library_store {
    ($store:ty, $begin:ident) => {
        const _: () = {
            use domain::library::{Document, Passage};
            use domain::ports::LibraryStore;
            use domain::ports::*;
            use domain::*;
            use $crate::reexports::diesel;
            use $crate::reexports::diesel::prelude::*;
            use $crate::reexports::diesel_async::RunQueryDsl;
            use $crate::reexports::domain;
            use $crate::rows::*;
            use $crate::schema::*;
            use $crate::stores::found;
            use $crate::{TxError, db_err};

            // `transaction` is `AsyncConnection`'s; SQLite's `immediate_transaction` is its own.
            #[allow(unused_imports)]
            use $crate::reexports::diesel_async::AsyncConnection;

            impl LibraryStore for $store {
                async fn document_by_source(&self, source: &str) -> StoreResult<Option<Document>> {
                    let mut conn = self.conn().await?;
                    let row = documents::table
                        .filter(documents::source.eq(source))
                        .select(DocumentRow::as_select())
                        .first(&mut *conn)
                        .await
                        .optional()
                        .map_err(db_err)?;
                    Ok(row.map(Document::from))
                }

                async fn replace_document(
                    &self,
                    document: &Document,
                    passages: &[Passage],
                ) -> StoreResult<()> {
                    let doc = DocumentRow::from(document);
                    let rows: Vec<PassageRow> = passages.iter().map(PassageRow::from).collect();
                    let mut conn = self.conn().await?;
                    conn.$begin(async |conn| -> Result<(), TxError> {
                        let old: Vec<i64> = documents::table
                            .filter(documents::source.eq(&doc.source))
                            .select(documents::id)
                            .load(conn)
                            .await?;
                        diesel::delete(passages::table.filter(passages::document_id.eq_any(&old)))
                            .execute(conn)
                            .await?;
                        diesel::delete(documents::table.filter(documents::id.eq_any(&old)))
                            .execute(conn)
                            .await?;
                        diesel::insert_into(documents::table)
                            .values(&doc)
                            .execute(conn)
                            .await?;
                        for row in &rows {
                            diesel::insert_into(passages::table)
                                .values(row)
                                .execute(conn)
                                .await?;
                        }
                        Ok(())
                    })
                    .await
                    .map_err(StoreError::from)
                }

                async fn retire_document(&self, id: DocumentId) -> StoreResult<()> {
                    let mut conn = self.conn().await?;
                    conn.$begin(async |conn| -> Result<(), TxError> {
                        diesel::delete(passages::table.filter(passages::document_id.eq(id.0)))
                            .execute(conn)
                            .await?;
                        let n = diesel::delete(documents::table.find(id.0))
                            .execute(conn)
                            .await?;
                        Ok(found(n)?)
                    })
                    .await
                    .map_err(StoreError::from)
                }

                async fn list_documents(&self) -> StoreResult<Vec<Document>> {
                    let mut conn = self.conn().await?;
                    let rows = documents::table
                        .select(DocumentRow::as_select())
                        .order(documents::title.asc())
                        .load(&mut *conn)
                        .await
                        .map_err(db_err)?;
                    Ok(rows.into_iter().map(Document::from).collect())
                }

                async fn all_passages(&self) -> StoreResult<Vec<Passage>> {
                    let mut conn = self.conn().await?;
                    let rows = passages::table
                        .select(PassageRow::as_select())
                        .order((passages::document_id.asc(), passages::ordinal.asc()))
                        .load(&mut *conn)
                        .await
                        .map_err(db_err)?;
                    Ok(rows.into_iter().map(Passage::from).collect())
                }
            }
        };
    };
}
