//! Every store port and the usage ledger, written once for any diesel-async connection.
//!
//! The invoking crate passes its store type, which must have an inherent
//! `async fn conn(&self) -> Result<impl DerefMut<Target = Conn>, StoreError>` and
//! `fn local_ledger(&self) -> &LocalLedger`, and must be `Clone` (a clone applies queued turns
//! in a task of its own, see [`crate::turn_queue`]); the connection type its transactions run
//! on, and its backend, `mysql` or `sqlite`, which decides
//! - how a write transaction opens: `immediate_transaction` on SQLite (takes the write lock up
//!   front, so two writers never deadlock on a lock upgrade) and `transaction` on MySQL (rows
//!   are locked in a fixed order inside the transaction);
//! - how a select locks the rows it reads for the rest of the transaction: `for_update` on
//!   MySQL, `already_locked` ([`crate::WholeDatabaseLock`]) on SQLite.
//!
//! A turn's writes use the statements of [`crate::statements`], which stay prepared; the ledger
//! steps of concurrent turns are applied together ([`crate::turn_queue`]).

#[macro_export]
macro_rules! impl_sql_stores {
    ($store:ty, $conn:ty, mysql) => {
        $crate::impl_sql_stores!(@impl $store, $conn, transaction, for_update);
    };
    ($store:ty, $conn:ty, sqlite) => {
        $crate::impl_sql_stores!(@impl $store, $conn, immediate_transaction, already_locked);
    };
    (@impl $store:ty, $conn:ty, $begin:ident, $lock:ident) => {
        const _: () = {
            use domain::budget::*;
            use domain::conversation::{ConversationStore, SealedMessage};
            use domain::library::{Document, LibraryStore, Passage};
            use domain::ports::*;
            use domain::*;
            use $crate::balances::BalanceSheet;
            use $crate::turn_queue::{DrainerSlot, TurnJob, TurnOutcome, outcome};
            use $crate::reexports::{metrics, tokio, tracing};
            use $crate::statements::{
                CounterAmounts, InsertRows, TopUpAmounts, UpsertRows, in_list,
            };
            use $crate::reexports::diesel::prelude::*;
            use $crate::reexports::diesel::{self, dsl};
            use $crate::reexports::diesel_async::{AsyncConnection, RunQueryDsl};
            use $crate::reexports::domain;
            use $crate::rows::*;
            use $crate::schema::*;
            use $crate::{TxError, db_err, ledger_err, retry_transient};
            // SQLite's `$lock` (MySQL's is diesel's `for_update`).
            #[allow(unused_imports)]
            use $crate::WholeDatabaseLock as _;

            impl Readiness for $store {
                async fn ping(&self) -> StoreResult<()> {
                    let mut conn = self.conn().await?;
                    diesel::select(dsl::sql::<diesel::sql_types::Integer>("1"))
                        .get_result::<i32>(&mut *conn)
                        .await
                        .map_err(db_err)?;
                    Ok(())
                }
            }

            impl UserStore for $store {
                async fn insert_user(&self, user: &User) -> StoreResult<()> {
                    let mut conn = self.conn().await?;
                    diesel::insert_into(users::table)
                        .values(UserRow::from(user))
                        .execute(&mut *conn)
                        .await
                        .map_err(db_err)?;
                    Ok(())
                }

                async fn user_by_id(&self, id: UserId) -> StoreResult<Option<User>> {
                    let mut conn = self.conn().await?;
                    let row = users::table
                        .find(id.0)
                        .select(UserRow::as_select())
                        .first(&mut *conn)
                        .await
                        .optional()
                        .map_err(db_err)?;
                    row.map(User::try_from).transpose()
                }

                async fn user_by_email(&self, email: &Email) -> StoreResult<Option<User>> {
                    let mut conn = self.conn().await?;
                    let row = users::table
                        .filter(users::email.eq(email.as_str()))
                        .select(UserRow::as_select())
                        .first(&mut *conn)
                        .await
                        .optional()
                        .map_err(db_err)?;
                    row.map(User::try_from).transpose()
                }

                async fn update_user(&self, user: &User) -> StoreResult<()> {
                    let mut conn = self.conn().await?;
                    let n = diesel::update(users::table.find(user.id.0))
                        .set(UserRow::from(user))
                        .execute(&mut *conn)
                        .await
                        .map_err(db_err)?;
                    if n == 0 {
                        Err(StoreError::NotFound)
                    } else {
                        Ok(())
                    }
                }

                async fn delete_user(&self, id: UserId) -> StoreResult<()> {
                    let mut conn = self.conn().await?;
                    conn.$begin(async |conn| -> Result<(), TxError> {
                        diesel::delete(sessions::table.filter(sessions::user_id.eq(id.0)))
                            .execute(conn)
                            .await?;
                        diesel::delete(messages::table.filter(messages::user_id.eq(id.0)))
                            .execute(conn)
                            .await?;
                        let n = diesel::delete(users::table.find(id.0))
                            .execute(conn)
                            .await?;
                        if n == 0 {
                            Err(TxError::Store(StoreError::NotFound))
                        } else {
                            Ok(())
                        }
                    })
                    .await
                    .map_err(StoreError::from)
                }

                async fn list_users(&self, query: &UserQuery) -> StoreResult<Vec<User>> {
                    let mut conn = self.conn().await?;
                    let mut q = users::table.select(UserRow::as_select()).into_boxed();
                    if let Some(company) = query.company_id {
                        q = q.filter(users::company_id.eq(company.0));
                    }
                    if let Some(search) = query
                        .search
                        .as_deref()
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                    {
                        let pattern = $crate::contains_pattern(&search.to_lowercase());
                        q = q.filter(
                            users::email
                                .like(pattern.clone())
                                .escape('\\')
                                .or(users::display_name.like(pattern).escape('\\')),
                        );
                    }
                    let rows = q
                        .order(users::email.asc())
                        .offset(to_i64(query.offset))
                        .limit(to_i64(query.limit.max(1)))
                        .load(&mut *conn)
                        .await
                        .map_err(db_err)?;
                    rows.into_iter().map(User::try_from).collect()
                }

                async fn count_users(&self) -> StoreResult<u64> {
                    let mut conn = self.conn().await?;
                    let n: i64 = users::table
                        .count()
                        .get_result(&mut *conn)
                        .await
                        .map_err(db_err)?;
                    Ok(to_u64(n))
                }

                async fn count_company_members(&self, company: CompanyId) -> StoreResult<u64> {
                    let mut conn = self.conn().await?;
                    let n: i64 = users::table
                        .filter(users::company_id.eq(company.0))
                        .count()
                        .get_result(&mut *conn)
                        .await
                        .map_err(db_err)?;
                    Ok(to_u64(n))
                }
            }

            impl CompanyStore for $store {
                async fn insert_company(&self, company: &Company) -> StoreResult<()> {
                    let mut conn = self.conn().await?;
                    diesel::insert_into(companies::table)
                        .values(CompanyRow::from(company))
                        .execute(&mut *conn)
                        .await
                        .map_err(db_err)?;
                    Ok(())
                }

                async fn company_by_id(&self, id: CompanyId) -> StoreResult<Option<Company>> {
                    let mut conn = self.conn().await?;
                    let row = companies::table
                        .find(id.0)
                        .select(CompanyRow::as_select())
                        .first(&mut *conn)
                        .await
                        .optional()
                        .map_err(db_err)?;
                    Ok(row.map(Company::from))
                }

                async fn update_company(&self, company: &Company) -> StoreResult<()> {
                    let mut conn = self.conn().await?;
                    let n = diesel::update(companies::table.find(company.id.0))
                        .set(CompanyRow::from(company))
                        .execute(&mut *conn)
                        .await
                        .map_err(db_err)?;
                    if n == 0 {
                        Err(StoreError::NotFound)
                    } else {
                        Ok(())
                    }
                }

                async fn delete_company(&self, id: CompanyId) -> StoreResult<()> {
                    let mut conn = self.conn().await?;
                    conn.$begin(async |conn| -> Result<(), TxError> {
                        let members: Vec<i64> = users::table
                            .filter(users::company_id.eq(id.0))
                            .select(users::id)
                            .load(conn)
                            .await?;
                        diesel::delete(sessions::table.filter(sessions::user_id.eq_any(&members)))
                            .execute(conn)
                            .await?;
                        diesel::delete(messages::table.filter(messages::user_id.eq_any(&members)))
                            .execute(conn)
                            .await?;
                        diesel::delete(users::table.filter(users::company_id.eq(id.0)))
                            .execute(conn)
                            .await?;
                        diesel::delete(invitations::table.filter(invitations::company_id.eq(id.0)))
                            .execute(conn)
                            .await?;
                        let n = diesel::delete(companies::table.find(id.0))
                            .execute(conn)
                            .await?;
                        if n == 0 {
                            Err(TxError::Store(StoreError::NotFound))
                        } else {
                            Ok(())
                        }
                    })
                    .await
                    .map_err(StoreError::from)
                }

                async fn list_companies(&self) -> StoreResult<Vec<Company>> {
                    let mut conn = self.conn().await?;
                    let rows = companies::table
                        .select(CompanyRow::as_select())
                        .order(companies::name.asc())
                        .load(&mut *conn)
                        .await
                        .map_err(db_err)?;
                    Ok(rows.into_iter().map(Company::from).collect())
                }
            }

            impl InvitationStore for $store {
                async fn insert_invitation(&self, invitation: &Invitation) -> StoreResult<()> {
                    let mut conn = self.conn().await?;
                    diesel::insert_into(invitations::table)
                        .values(InvitationRow::from(invitation))
                        .execute(&mut *conn)
                        .await
                        .map_err(db_err)?;
                    Ok(())
                }

                async fn invitation_by_hash(
                    &self,
                    token_hash: &str,
                ) -> StoreResult<Option<Invitation>> {
                    let mut conn = self.conn().await?;
                    let row = invitations::table
                        .find(token_hash)
                        .select(InvitationRow::as_select())
                        .first(&mut *conn)
                        .await
                        .optional()
                        .map_err(db_err)?;
                    row.map(Invitation::try_from).transpose()
                }

                async fn mark_invitation_accepted(
                    &self,
                    token_hash: &str,
                    at: chrono::DateTime<chrono::Utc>,
                ) -> StoreResult<bool> {
                    let mut conn = self.conn().await?;
                    // Conditional update: of two racing acceptances exactly one matches the row.
                    let n = diesel::update(
                        invitations::table
                            .filter(invitations::token_hash.eq(token_hash))
                            .filter(invitations::accepted_at.is_null()),
                    )
                    .set(invitations::accepted_at.eq(millis(at)))
                    .execute(&mut *conn)
                    .await
                    .map_err(db_err)?;
                    Ok(n == 1)
                }

                async fn invitations_of_company(
                    &self,
                    company: CompanyId,
                ) -> StoreResult<Vec<Invitation>> {
                    let mut conn = self.conn().await?;
                    let rows = invitations::table
                        .filter(invitations::company_id.eq(company.0))
                        .select(InvitationRow::as_select())
                        .order(invitations::created_at.desc())
                        .load(&mut *conn)
                        .await
                        .map_err(db_err)?;
                    rows.into_iter().map(Invitation::try_from).collect()
                }

                async fn delete_invitation(&self, token_hash: &str) -> StoreResult<()> {
                    let mut conn = self.conn().await?;
                    diesel::delete(invitations::table.find(token_hash))
                        .execute(&mut *conn)
                        .await
                        .map_err(db_err)?;
                    Ok(())
                }

                async fn purge_expired_invitations(
                    &self,
                    now: chrono::DateTime<chrono::Utc>,
                ) -> StoreResult<u64> {
                    let mut conn = self.conn().await?;
                    let n = diesel::delete(
                        invitations::table.filter(invitations::expires_at.lt(millis(now))),
                    )
                    .execute(&mut *conn)
                    .await
                    .map_err(db_err)?;
                    Ok(n as u64)
                }
            }

            impl SessionStore for $store {
                async fn insert_session(&self, session: &Session) -> StoreResult<()> {
                    let mut conn = self.conn().await?;
                    diesel::insert_into(sessions::table)
                        .values(SessionRow::from(session))
                        .execute(&mut *conn)
                        .await
                        .map_err(db_err)?;
                    Ok(())
                }

                async fn session_with_user(
                    &self,
                    token_hash: &str,
                ) -> StoreResult<Option<(Session, User)>> {
                    let mut conn = self.conn().await?;
                    let row = sessions::table
                        .inner_join(users::table.on(users::id.eq(sessions::user_id)))
                        .filter(sessions::token_hash.eq(token_hash))
                        .select((SessionRow::as_select(), UserRow::as_select()))
                        .first(&mut *conn)
                        .await
                        .optional()
                        .map_err(db_err)?;
                    row.map(|(session, user)| Ok((session.try_into()?, user.try_into()?)))
                        .transpose()
                }

                async fn session_with_recent_messages(
                    &self,
                    token_hash: &str,
                    limit: u64,
                ) -> StoreResult<Option<(Session, User, Vec<SealedMessage>)>> {
                    let mut conn = self.conn().await?;
                    // An inner join, which both databases answer by reading the newest rows of
                    // `messages_user` backwards and stopping at `limit`; with a left join (to
                    // keep the session of a person without messages) MariaDB reads and sorts
                    // the person's whole history. So that case, rare, takes a second query.
                    let rows: Vec<(SessionRow, UserRow, MessageRow)> = sessions::table
                        .inner_join(users::table.on(users::id.eq(sessions::user_id)))
                        .inner_join(messages::table.on(messages::user_id.eq(sessions::user_id)))
                        .filter(sessions::token_hash.eq(token_hash))
                        .order(messages::id.desc())
                        .limit(to_i64(limit.max(1)))
                        .select((
                            SessionRow::as_select(),
                            UserRow::as_select(),
                            MessageRow::as_select(),
                        ))
                        .load(&mut *conn)
                        .await
                        .map_err(db_err)?;
                    drop(conn);
                    let mut rows = rows.into_iter();
                    let Some((session, user, newest)) = rows.next() else {
                        return Ok(self
                            .session_with_user(token_hash)
                            .await?
                            .map(|(session, user)| (session, user, Vec::new())));
                    };
                    let recent = std::iter::once(newest)
                        .chain(rows.map(|(_, _, message)| message))
                        .map(SealedMessage::try_from)
                        .collect::<StoreResult<Vec<_>>>()?;
                    Ok(Some((session.try_into()?, user.try_into()?, recent)))
                }

                async fn delete_session(&self, token_hash: &str) -> StoreResult<()> {
                    let mut conn = self.conn().await?;
                    diesel::delete(sessions::table.find(token_hash))
                        .execute(&mut *conn)
                        .await
                        .map_err(db_err)?;
                    Ok(())
                }

                async fn delete_user_sessions(&self, user: UserId) -> StoreResult<u64> {
                    let mut conn = self.conn().await?;
                    let n = diesel::delete(sessions::table.filter(sessions::user_id.eq(user.0)))
                        .execute(&mut *conn)
                        .await
                        .map_err(db_err)?;
                    Ok(n as u64)
                }

                async fn purge_expired_sessions(
                    &self,
                    now: chrono::DateTime<chrono::Utc>,
                ) -> StoreResult<u64> {
                    let mut conn = self.conn().await?;
                    let n = diesel::delete(
                        sessions::table.filter(sessions::expires_at.le(millis(now))),
                    )
                    .execute(&mut *conn)
                    .await
                    .map_err(db_err)?;
                    Ok(n as u64)
                }
            }

            impl AuditLog for $store {
                async fn record(&self, entry: &AuditEntry) -> StoreResult<()> {
                    let mut conn = self.conn().await?;
                    diesel::insert_into(audit_log::table)
                        .values(AuditRow::from(entry))
                        .execute(&mut *conn)
                        .await
                        .map_err(db_err)?;
                    Ok(())
                }

                async fn recent(&self, offset: u64, limit: u64) -> StoreResult<Vec<AuditEntry>> {
                    let mut conn = self.conn().await?;
                    let rows = audit_log::table
                        .select(AuditRow::as_select())
                        .order((audit_log::at.desc(), audit_log::id.desc()))
                        .offset(to_i64(offset))
                        .limit(to_i64(limit.max(1)))
                        .load(&mut *conn)
                        .await
                        .map_err(db_err)?;
                    Ok(rows.into_iter().map(AuditEntry::from).collect())
                }
            }

            impl ConversationStore for $store {
                async fn insert_messages(&self, messages: &[SealedMessage]) -> StoreResult<()> {
                    let rows: Vec<MessageRow> = messages.iter().map(MessageRow::from).collect();
                    let mut conn = self.conn().await?;
                    // One statement per row: diesel has no multi-row insert for SQLite through the
                    // async wrapper, and a turn only ever stores two messages.
                    conn.$begin(async |conn| -> Result<(), TxError> {
                        for row in &rows {
                            diesel::insert_into(messages::table)
                                .values(row)
                                .execute(conn)
                                .await?;
                        }
                        Ok(())
                    })
                    .await
                    .map_err(StoreError::from)
                }

                async fn messages_page(
                    &self,
                    user: UserId,
                    before: Option<MessageId>,
                    limit: u64,
                ) -> StoreResult<Vec<SealedMessage>> {
                    let mut conn = self.conn().await?;
                    let mut q = messages::table
                        .filter(messages::user_id.eq(user.0))
                        .select(MessageRow::as_select())
                        .into_boxed();
                    if let Some(before) = before {
                        q = q.filter(messages::id.lt(before.0));
                    }
                    let rows = q
                        .order(messages::id.desc())
                        .limit(to_i64(limit.max(1)))
                        .load(&mut *conn)
                        .await
                        .map_err(db_err)?;
                    rows.into_iter().map(SealedMessage::try_from).collect()
                }

                async fn delete_messages(&self, user: UserId) -> StoreResult<u64> {
                    let mut conn = self.conn().await?;
                    let n = diesel::delete(messages::table.filter(messages::user_id.eq(user.0)))
                        .execute(&mut *conn)
                        .await
                        .map_err(db_err)?;
                    Ok(n as u64)
                }
            }

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
                        if n == 0 {
                            Err(TxError::Store(StoreError::NotFound))
                        } else {
                            Ok(())
                        }
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

            impl JobLeases for $store {
                async fn acquire_lease(
                    &self,
                    job: &str,
                    holder: &str,
                    now: chrono::DateTime<chrono::Utc>,
                    ttl: chrono::Duration,
                ) -> StoreResult<Option<String>> {
                    let mut conn = self.conn().await?;
                    let expires = millis(now + ttl);
                    let inserted = diesel::insert_or_ignore_into(job_leases::table)
                        .values((
                            job_leases::job.eq(job),
                            job_leases::holder.eq(holder),
                            job_leases::expires_at.eq(expires),
                            job_leases::progress.eq(""),
                        ))
                        .execute(&mut *conn)
                        .await
                        .map_err(db_err)?;
                    if inserted == 1 {
                        return Ok(Some(String::new()));
                    }
                    // Ours already, or its holder stopped renewing it: take it over.
                    let taken = diesel::update(
                        job_leases::table.filter(job_leases::job.eq(job)).filter(
                            job_leases::holder
                                .eq(holder)
                                .or(job_leases::expires_at.lt(millis(now))),
                        ),
                    )
                    .set((
                        job_leases::holder.eq(holder),
                        job_leases::expires_at.eq(expires),
                    ))
                    .execute(&mut *conn)
                    .await
                    .map_err(db_err)?;
                    if taken == 0 {
                        return Ok(None);
                    }
                    let cursor = job_leases::table
                        .find(job)
                        .select(job_leases::progress)
                        .first::<String>(&mut *conn)
                        .await
                        .map_err(db_err)?;
                    Ok(Some(cursor))
                }

                async fn save_progress(
                    &self,
                    job: &str,
                    holder: &str,
                    cursor: &str,
                    now: chrono::DateTime<chrono::Utc>,
                    ttl: chrono::Duration,
                ) -> StoreResult<bool> {
                    let mut conn = self.conn().await?;
                    let n = diesel::update(
                        job_leases::table
                            .filter(job_leases::job.eq(job))
                            .filter(job_leases::holder.eq(holder)),
                    )
                    .set((
                        job_leases::progress.eq(cursor),
                        job_leases::expires_at.eq(millis(now + ttl)),
                    ))
                    .execute(&mut *conn)
                    .await
                    .map_err(db_err)?;
                    Ok(n == 1)
                }

                async fn release_lease(&self, job: &str, holder: &str) -> StoreResult<()> {
                    let mut conn = self.conn().await?;
                    diesel::update(
                        job_leases::table
                            .filter(job_leases::job.eq(job))
                            .filter(job_leases::holder.eq(holder)),
                    )
                    .set(job_leases::expires_at.eq(0_i64))
                    .execute(&mut *conn)
                    .await
                    .map_err(db_err)?;
                    Ok(())
                }
            }

            impl SafetyCounter for $store {
                async fn count_crisis(&self, day: i64) -> StoreResult<()> {
                    let mut conn = self.conn().await?;
                    diesel::insert_or_ignore_into(safety_events::table)
                        .values((safety_events::day.eq(day), safety_events::count.eq(0_i64)))
                        .execute(&mut *conn)
                        .await
                        .map_err(db_err)?;
                    diesel::update(safety_events::table.find(day))
                        .set(safety_events::count.eq(safety_events::count + 1_i64))
                        .execute(&mut *conn)
                        .await
                        .map_err(db_err)?;
                    Ok(())
                }

                async fn crisis_total(&self, since_day: i64) -> StoreResult<u64> {
                    let mut conn = self.conn().await?;
                    // Summed here: SUM(BIGINT) is DECIMAL on MySQL, and there is one row a day.
                    let counts: Vec<i64> = safety_events::table
                        .filter(safety_events::day.ge(since_day))
                        .select(safety_events::count)
                        .load(&mut *conn)
                        .await
                        .map_err(db_err)?;
                    Ok(counts.into_iter().map(to_u64).sum())
                }
            }

            impl KeyValue for $store {
                async fn get_value(&self, name: &str) -> StoreResult<Option<Vec<u8>>> {
                    let mut conn = self.conn().await?;
                    kv::table
                        .find(name)
                        .select(kv::value)
                        .first::<Vec<u8>>(&mut *conn)
                        .await
                        .optional()
                        .map_err(db_err)
                }

                async fn put_value_once(&self, name: &str, value: &[u8]) -> StoreResult<bool> {
                    let mut conn = self.conn().await?;
                    let n = diesel::insert_or_ignore_into(kv::table)
                        .values((kv::name.eq(name), kv::value.eq(value)))
                        .execute(&mut *conn)
                        .await
                        .map_err(db_err)?;
                    Ok(n == 1)
                }
            }

            impl UsageReports for $store {
                async fn usage_by_person(
                    &self,
                    period: Period,
                ) -> StoreResult<std::collections::HashMap<UserId, u64>> {
                    use $crate::reexports::futures::TryStreamExt;
                    let mut conn = self.conn().await?;
                    // One range scan of the index on (period_key, subject, used), streamed.
                    // Company counters are skipped here, not in SQL: a filter on `subject`
                    // makes MySQL scan the primary key, every month of history included.
                    let rows = usage_counters::table
                        .filter(usage_counters::period_key.ge(period.key()))
                        .filter(usage_counters::period_key.lt(period.end.timestamp()))
                        .select((usage_counters::subject, usage_counters::used))
                        .load_stream::<(String, i64)>(&mut *conn)
                        .await
                        .map_err(db_err)?;
                    rows.map_err(db_err)
                        .try_fold(
                            std::collections::HashMap::new(),
                            async |mut usage, (subject, used)| {
                                // Several counters of one person in the month (billing
                                // periods): summed.
                                if let Some(Subject::User(id)) = Subject::parse_key(&subject) {
                                    *usage.entry(id).or_default() += to_u64(used);
                                }
                                Ok(usage)
                            },
                        )
                        .await
                }

                async fn company_members(
                    &self,
                    after: Option<CompanyId>,
                    limit: u64,
                ) -> StoreResult<Vec<CompanyMembers>> {
                    let mut conn = self.conn().await?;
                    let ids: Vec<i64> = companies::table
                        .filter(companies::id.gt(after.map_or(i64::MIN, |c| c.0)))
                        .select(companies::id)
                        .order(companies::id.asc())
                        .limit(to_i64(limit.max(1)))
                        .load(&mut *conn)
                        .await
                        .map_err(db_err)?;
                    // `as_slice`: diesel's `RunQueryDsl::first` would shadow the slice's.
                    let (Some(&first), Some(&last)) = (ids.as_slice().first(), ids.last()) else {
                        return Ok(Vec::new());
                    };
                    // Read from the index on (company_id, id, email, display_name, role) alone,
                    // already in report order.
                    let rows: Vec<(Option<i64>, i64, String, String, String)> = users::table
                        .filter(users::company_id.ge(first))
                        .filter(users::company_id.le(last))
                        .select((
                            users::company_id,
                            users::id,
                            users::email,
                            users::display_name,
                            users::role,
                        ))
                        .order((users::company_id.asc(), users::id.asc()))
                        .load(&mut *conn)
                        .await
                        .map_err(db_err)?;
                    let mut out: Vec<CompanyMembers> = ids
                        .iter()
                        .map(|&id| CompanyMembers {
                            company_id: CompanyId(id),
                            people: Vec::new(),
                        })
                        .collect();
                    let mut slot = 0;
                    for (company_id, user_id, email, display_name, role) in rows {
                        let Some(company_id) = company_id else {
                            continue;
                        };
                        while out.get(slot).is_some_and(|c| c.company_id.0 < company_id) {
                            slot += 1;
                        }
                        // A company created after the id query above: left for the next run.
                        let Some(company) =
                            out.get_mut(slot).filter(|c| c.company_id.0 == company_id)
                        else {
                            continue;
                        };
                        company.people.push(Member {
                            user_id: UserId(user_id),
                            role: Role::parse(&role).ok_or_else(|| {
                                StoreError::Unavailable(format!("unknown role {role}"))
                            })?,
                            email,
                            display_name,
                        });
                    }
                    Ok(out)
                }
            }

            impl $store {
                /// Creates the counter and top-up rows a reservation touches, outside the
                /// transaction: inside it, MySQL's shared locks from a duplicate-key insert could
                /// deadlock two transactions that then both want the row exclusively.
                async fn ensure_budget_rows(&self, lines: &[BudgetLine]) -> StoreResult<()> {
                    // Rows are never deleted: those known to exist need no insert.
                    let unknown = self.local_ledger().known_rows.unknown(lines);
                    if unknown.is_empty() {
                        return Ok(());
                    }
                    let mut conn = self.conn().await?;
                    for line in &unknown {
                        diesel::insert_or_ignore_into(usage_counters::table)
                            .values((
                                usage_counters::subject.eq(line.subject.key()),
                                usage_counters::period_key.eq(line.period.key()),
                                usage_counters::used.eq(0_i64),
                                usage_counters::reserved.eq(0_i64),
                            ))
                            .execute(&mut *conn)
                            .await
                            .map_err(db_err)?;
                        if line.may_use_topup {
                            diesel::insert_or_ignore_into(topups::table)
                                .values((
                                    topups::subject.eq(line.subject.key()),
                                    topups::balance.eq(0_i64),
                                    topups::reserved.eq(0_i64),
                                ))
                                .execute(&mut *conn)
                                .await
                                .map_err(db_err)?;
                        }
                    }
                    self.local_ledger().known_rows.remember(&unknown);
                    Ok(())
                }

                async fn reserve_alone(
                    &self,
                    request: &ReservationRequest,
                ) -> Result<Reservation, LedgerError> {
                    let mut lines = request.lines.clone();
                    lines.sort_by_key(|l| l.subject);
                    self.ensure_budget_rows(&lines).await.map_err(ledger_err)?;
                    Ok(retry_transient(|| self.try_reserve(request, &lines)).await?)
                }

                async fn settle_turn_alone(
                    &self,
                    reservation: &Reservation,
                    actual: u64,
                    rows: &[MessageRow; 2],
                    lines: &[BudgetLine],
                ) -> Result<SettledTurn, LedgerError> {
                    let known = Some(reservation.parts.as_slice());
                    Ok(retry_transient(|| {
                        self.try_settle(reservation.id, known, actual, Some(rows), lines)
                    })
                    .await?)
                }

                /// Queues a turn's ledger step, and starts a task to apply the queue if fewer
                /// than its drainers run (see [`crate::turn_queue`]). The task owns a clone of
                /// the store, so a caller that goes away cannot stop a group half-way.
                fn queue_turn_job(&self, job: TurnJob) {
                    if self.local_ledger().turns.push(job) {
                        let store = self.clone();
                        tokio::spawn(async move {
                            let mut slot = DrainerSlot::new(&store.local_ledger().turns);
                            while let Some(jobs) = slot.next_group() {
                                store.apply_turn_jobs(jobs).await;
                            }
                        });
                    }
                }

                /// Applies queued jobs: together when there are several and they can be,
                /// otherwise one by one, each as it would run alone.
                async fn apply_turn_jobs(&self, jobs: Vec<TurnJob>) {
                    let together = if jobs.len() > 1 {
                        self.apply_together(&jobs).await
                    } else {
                        None
                    };
                    // Operators see how well turns group: steps per group = together / groups.
                    let applied = if together.is_some() { "together" } else { "alone" };
                    metrics::counter!("ledger_turn_steps_total", "applied" => applied)
                        .increment(jobs.len() as u64);
                    if together.is_some() {
                        metrics::counter!("ledger_turn_groups_total").increment(1);
                    }
                    match together {
                        Some(outcomes) => {
                            for (job, outcome) in jobs.into_iter().zip(outcomes) {
                                self.answer_turn_job(job, outcome).await;
                            }
                        }
                        // Each caller hears as soon as its own job is done, not after the rest.
                        None => {
                            for job in jobs {
                                let outcome = self.apply_alone(&job).await;
                                self.answer_turn_job(job, outcome).await;
                            }
                        }
                    }
                }

                async fn answer_turn_job(&self, job: TurnJob, outcome: TurnOutcome) {
                    if let Some(orphan) = job.answer(outcome) {
                        // Its caller left: release it now rather than when its lease ends.
                        if let Err(e) = self.settle(orphan.id, 0).await {
                            tracing::warn!(error = %e, "releasing a reservation nobody awaits");
                        }
                    }
                }

                async fn apply_alone(&self, job: &TurnJob) -> TurnOutcome {
                    match job {
                        TurnJob::Reserve { request, .. } => {
                            TurnOutcome::Reserved(self.reserve_alone(request).await)
                        }
                        TurnJob::Settle { reservation, actual, exchange, lines, .. } => {
                            TurnOutcome::Settled(
                                self.settle_turn_alone(reservation, *actual, exchange, lines).await,
                            )
                        }
                    }
                }

                /// The outcomes of `jobs` applied together in one transaction, or `None` when
                /// they must be applied one by one.
                async fn apply_together(&self, jobs: &[TurnJob]) -> Option<Vec<TurnOutcome>> {
                    let lines: Vec<BudgetLine> = jobs
                        .iter()
                        .filter_map(|job| match job {
                            TurnJob::Reserve { request, .. } => Some(request.lines.iter()),
                            TurnJob::Settle { .. } => None,
                        })
                        .flatten()
                        .cloned()
                        .collect();
                    // Outside the transaction, as for one turn (see `ensure_budget_rows`).
                    self.ensure_budget_rows(&lines).await.ok()?;
                    match retry_transient(|| self.try_together(jobs)).await {
                        Ok(outcomes) => Some(outcomes),
                        Err(TxError::NotTogether(_)) => None,
                        Err(e) => {
                            tracing::warn!(error = %StoreError::from(e), "a group of turns failed; applying them one by one");
                            None
                        }
                    }
                }

                /// One transaction for `jobs`, applied in order by the rules of `try_reserve`
                /// and `try_settle`: all rows locked by one statement, each changed row written
                /// once, the reservations and the messages inserted by one statement each.
                async fn try_together(&self, jobs: &[TurnJob]) -> Result<Vec<TurnOutcome>, TxError> {
                    let mut conn = self.conn().await?;
                    conn.$begin(async |conn| -> Result<Vec<TurnOutcome>, TxError> {
                        let mut sheet = BalanceSheet::default();
                        let mut settled_ids = Vec::new();
                        let mut settled_rows = 0;
                        for job in jobs {
                            match job {
                                TurnJob::Reserve { request, .. } => {
                                    for line in &request.lines {
                                        sheet.want(line.subject, line.period.key(), line.may_use_topup);
                                    }
                                }
                                TurnJob::Settle { reservation, lines, .. } => {
                                    for part in &reservation.parts {
                                        sheet.want(part.subject, part.period_key, part.from_topup > 0);
                                    }
                                    for line in lines {
                                        sheet.want(line.subject, line.period.key(), line.may_use_topup);
                                    }
                                    settled_ids.push(reservation.id.0);
                                    settled_rows += reservation.parts.len();
                                }
                            }
                        }
                        if !sheet.one_period_per_subject() {
                            return Err(TxError::NotTogether("a subject in two periods"));
                        }
                        Self::lock_balances_together(conn, &mut sheet).await?;
                        if !sheet.all_found() {
                            return Err(TxError::NotTogether("a budget row is missing"));
                        }
                        if !settled_ids.is_empty() {
                            let deleted = diesel::delete(
                                reservations::table
                                    .filter(in_list(reservations::id, &settled_ids)),
                            )
                            .execute(conn)
                            .await?;
                            // Fewer rows means one was settled or reclaimed meanwhile: alone,
                            // that turn is told so and the others are not held up.
                            if deleted != settled_rows {
                                return Err(TxError::NotTogether("a reservation is gone"));
                            }
                        }
                        let mut outcomes = Vec::with_capacity(jobs.len());
                        let mut reservation_rows = Vec::new();
                        let mut message_rows = Vec::new();
                        for job in jobs {
                            outcomes.push(match job {
                                TurnJob::Reserve { request, .. } => {
                                    let mut lines = request.lines.clone();
                                    lines.sort_by_key(|l| l.subject);
                                    TurnOutcome::Reserved(match sheet.hold(request, &lines) {
                                        Ok(parts) => {
                                            reservation_rows.extend(
                                                parts.iter().map(|part| ReservationRow::of(request, part)),
                                            );
                                            Ok(Reservation {
                                                id: request.id,
                                                amount: request.amount,
                                                parts,
                                                expires_at: request.expires_at,
                                            })
                                        }
                                        Err(subject) => Err(LedgerError::InsufficientBudget { subject }),
                                    })
                                }
                                TurnJob::Settle { reservation, actual, exchange, lines, .. } => {
                                    for part in &reservation.parts {
                                        part.settle(*actual, sheet.of_part(part));
                                    }
                                    message_rows.extend(exchange.iter().cloned());
                                    TurnOutcome::Settled(Ok(SettledTurn {
                                        settled: !reservation.parts.is_empty(),
                                        balances: lines
                                            .iter()
                                            .map(|l| sheet.get(l.subject, l.period.key()))
                                            .collect(),
                                    }))
                                }
                            });
                        }
                        Self::write_changed(conn, &sheet).await?;
                        if !reservation_rows.is_empty() {
                            InsertRows(&reservation_rows).execute(conn).await?;
                        }
                        if !message_rows.is_empty() {
                            InsertRows(&message_rows).execute(conn).await?;
                        }
                        Ok(outcomes)
                    })
                    .await
                }

                /// Reads (and on MySQL locks) every row of `sheet` with one statement, in the
                /// order `lock_balances` takes them: by key and period, a counter and then its
                /// subject's top-up. Rows of a wanted subject in another wanted period come too,
                /// and are ignored.
                async fn lock_balances_together(
                    conn: &mut $conn,
                    sheet: &mut BalanceSheet,
                ) -> Result<(), TxError> {
                    let lines = sheet.lines();
                    let mut keys: Vec<&str> = lines.iter().map(|(key, _, _)| key.as_str()).collect();
                    let mut periods: Vec<i64> = lines.iter().map(|(_, period, _)| *period).collect();
                    keys.dedup();
                    periods.sort_unstable();
                    periods.dedup();
                    let rows: Vec<(String, i64, CounterRow, Option<TopUpRow>)> = usage_counters::table
                        .left_join(topups::table.on(topups::subject.eq(usage_counters::subject)))
                        .filter(in_list(usage_counters::subject, keys))
                        .filter(in_list(usage_counters::period_key, &periods))
                        .order((usage_counters::subject, usage_counters::period_key))
                        .select((
                            usage_counters::subject,
                            usage_counters::period_key,
                            CounterRow::as_select(),
                            Option::<TopUpRow>::as_select(),
                        ))
                        .$lock()
                        .load(conn)
                        .await?;
                    for (key, period_key, counter, topup) in rows {
                        sheet.set_counter(&key, period_key, counter);
                        if let Some(topup) = topup {
                            sheet.set_topup(&key, topup);
                        }
                    }
                    Ok(())
                }

                /// Reads (and on MySQL locks) every row of `sheet`, line by line in key order.
                async fn lock_balances(
                    conn: &mut $conn,
                    sheet: &mut BalanceSheet,
                ) -> Result<(), TxError> {
                    // One statement a line (a lone turn has one or two, and may settle in a
                    // period that has since rolled over); a line's counter and top-up together.
                    for (key, period_key, with_topup) in sheet.lines() {
                        let counter = usage_counters::table.find((&key, period_key));
                        if with_topup {
                            let row = counter
                                .left_join(
                                    topups::table.on(topups::subject.eq(usage_counters::subject)),
                                )
                                .select((CounterRow::as_select(), Option::<TopUpRow>::as_select()))
                                .$lock()
                                .first(conn)
                                .await
                                .optional()?;
                            if let Some((counter, topup)) = row {
                                sheet.set_counter(&key, period_key, counter);
                                if let Some(topup) = topup {
                                    sheet.set_topup(&key, topup);
                                }
                            }
                        } else {
                            let row = counter
                                .select(CounterRow::as_select())
                                .$lock()
                                .first(conn)
                                .await
                                .optional()?;
                            if let Some(counter) = row {
                                sheet.set_counter(&key, period_key, counter);
                            }
                        }
                    }
                    Ok(())
                }

                /// Writes back every row of `sheet` that a hold or a settlement changed: the
                /// counters with one statement, the top-ups with another.
                async fn write_changed(
                    conn: &mut $conn,
                    sheet: &BalanceSheet,
                ) -> Result<(), TxError> {
                    let (mut counters, mut topups) = (Vec::new(), Vec::new());
                    for (subject, period_key, counter, topup) in sheet.changed() {
                        if let Some((used, reserved)) = counter {
                            counters.push(CounterAmounts { subject, period_key, used, reserved });
                        }
                        if let Some((balance, reserved)) = topup {
                            topups.push(TopUpAmounts { subject, balance, reserved });
                        }
                    }
                    if !counters.is_empty() {
                        UpsertRows(&counters).execute(conn).await?;
                    }
                    if !topups.is_empty() {
                        UpsertRows(&topups).execute(conn).await?;
                    }
                    Ok(())
                }

                async fn try_reserve(
                    &self,
                    request: &ReservationRequest,
                    lines: &[BudgetLine],
                ) -> Result<Reservation, TxError> {
                    let mut conn = self.conn().await?;
                    conn.$begin(async |conn| -> Result<Reservation, TxError> {
                        let mut sheet = BalanceSheet::default();
                        for line in lines {
                            sheet.want(line.subject, line.period.key(), line.may_use_topup);
                        }
                        Self::lock_balances(conn, &mut sheet).await?;
                        if !sheet.all_found() {
                            // `ensure_budget_rows` made them: a missing one is a broken database.
                            return Err(TxError::Db(diesel::result::Error::NotFound));
                        }
                        let parts = sheet.hold(request, lines).map_err(TxError::Insufficient)?;
                        Self::write_changed(conn, &sheet).await?;
                        let rows: Vec<ReservationRow> =
                            parts.iter().map(|part| ReservationRow::of(request, part)).collect();
                        if !rows.is_empty() {
                            InsertRows(&rows).execute(conn).await?;
                        }
                        Ok(Reservation {
                            id: request.id,
                            amount: request.amount,
                            parts,
                            expires_at: request.expires_at,
                        })
                    })
                    .await
                }

                /// Settles reservation `id` (whose parts are `known` when the caller has them,
                /// read otherwise), stores the turn's `exchange` and reads the balances of
                /// `lines`, in one transaction.
                async fn try_settle(
                    &self,
                    id: ReservationId,
                    known: Option<&[ReservedPart]>,
                    actual: u64,
                    exchange: Option<&[MessageRow; 2]>,
                    lines: &[BudgetLine],
                ) -> Result<SettledTurn, TxError> {
                    let mut conn = self.conn().await?;
                    conn.$begin(async |conn| -> Result<SettledTurn, TxError> {
                        let parts = match known {
                            Some(parts) => parts.to_vec(),
                            None => reservations::table
                                .filter(reservations::id.eq(id.0))
                                .select(ReservationRow::as_select())
                                .load(conn)
                                .await?
                                .iter()
                                .map(ReservationRow::part)
                                .collect::<Result<Vec<_>, _>>()?,
                        };
                        let mut sheet = BalanceSheet::default();
                        for part in &parts {
                            sheet.want(part.subject, part.period_key, part.from_topup > 0);
                        }
                        for line in lines {
                            sheet.want(line.subject, line.period.key(), line.may_use_topup);
                        }
                        // The same lock order as `try_reserve`, or two turns could deadlock.
                        Self::lock_balances(conn, &mut sheet).await?;
                        // Deleting makes settle, release and reclaim race-free: whoever deletes
                        // the rows applies them; the others see nothing to do.
                        let deleted =
                            diesel::delete(reservations::table.filter(reservations::id.eq(id.0)))
                                .execute(conn)
                                .await?;
                        let settled = !parts.is_empty() && deleted == parts.len();
                        for part in parts.iter().filter(|_| settled) {
                            part.settle(actual, sheet.of_part(part));
                        }
                        Self::write_changed(conn, &sheet).await?;
                        if let Some(exchange) = exchange {
                            InsertRows(exchange).execute(conn).await?;
                        }
                        let balances = lines
                            .iter()
                            .map(|l| sheet.get(l.subject, l.period.key()))
                            .collect();
                        Ok(SettledTurn { settled, balances })
                    })
                    .await
                }
            }

            impl UsageLedger for $store {
                async fn reserve(
                    &self,
                    request: ReservationRequest,
                ) -> Result<Reservation, LedgerError> {
                    let (job, answer) = TurnJob::reserve(request);
                    self.queue_turn_job(job);
                    outcome(answer).await
                }

                async fn settle(
                    &self,
                    id: ReservationId,
                    actual: u64,
                ) -> Result<bool, LedgerError> {
                    let done = retry_transient(|| self.try_settle(id, None, actual, None, &[])).await?;
                    Ok(done.settled)
                }

                async fn settle_turn(
                    &self,
                    reservation: &Reservation,
                    actual: u64,
                    exchange: &[SealedMessage; 2],
                    lines: &[BudgetLine],
                ) -> Result<SettledTurn, LedgerError> {
                    let (job, answer) = TurnJob::settle(
                        reservation.clone(),
                        actual,
                        exchange.each_ref().map(MessageRow::from),
                        lines.to_vec(),
                    );
                    self.queue_turn_job(job);
                    outcome(answer).await
                }

                async fn reclaim_expired(
                    &self,
                    now: chrono::DateTime<chrono::Utc>,
                ) -> Result<u64, LedgerError> {
                    let ids: Vec<i64> = {
                        let mut conn = self.conn().await.map_err(ledger_err)?;
                        reservations::table
                            .filter(reservations::expires_at.lt(millis(now)))
                            .select(reservations::id)
                            .distinct()
                            .limit(10_000)
                            .load(&mut *conn)
                            .await
                            .map_err(|e| ledger_err(db_err(e)))?
                    };
                    let mut reclaimed = 0;
                    for id in ids {
                        if self.settle(ReservationId(id), 0).await? {
                            reclaimed += 1;
                        }
                    }
                    Ok(reclaimed)
                }

                async fn counter(
                    &self,
                    subject: Subject,
                    period_key: i64,
                ) -> Result<Counter, LedgerError> {
                    let mut conn = self.conn().await.map_err(ledger_err)?;
                    let row = usage_counters::table
                        .find((subject.key(), period_key))
                        .select(CounterRow::as_select())
                        .first(&mut *conn)
                        .await
                        .optional()
                        .map_err(|e| ledger_err(db_err(e)))?;
                    Ok(row.map(Counter::from).unwrap_or_default())
                }

                async fn topup(&self, subject: Subject) -> Result<TopUp, LedgerError> {
                    let mut conn = self.conn().await.map_err(ledger_err)?;
                    let row = topups::table
                        .find(subject.key())
                        .select(TopUpRow::as_select())
                        .first(&mut *conn)
                        .await
                        .optional()
                        .map_err(|e| ledger_err(db_err(e)))?;
                    Ok(row.map(TopUp::from).unwrap_or_default())
                }

                async fn add_topup(
                    &self,
                    subject: Subject,
                    tokens: i64,
                ) -> Result<TopUp, LedgerError> {
                    let key = subject.key();
                    {
                        let mut conn = self.conn().await.map_err(ledger_err)?;
                        diesel::insert_or_ignore_into(topups::table)
                            .values((
                                topups::subject.eq(&key),
                                topups::balance.eq(0_i64),
                                topups::reserved.eq(0_i64),
                            ))
                            .execute(&mut *conn)
                            .await
                            .map_err(|e| ledger_err(db_err(e)))?;
                    }
                    let mut conn = self.conn().await.map_err(ledger_err)?;
                    conn.$begin(async |conn| -> Result<TopUp, TxError> {
                        diesel::update(topups::table.find(&key))
                            .set(topups::reserved.eq(topups::reserved))
                            .execute(conn)
                            .await?;
                        let current: TopUpRow = topups::table
                            .find(&key)
                            .select(TopUpRow::as_select())
                            .first(conn)
                            .await?;
                        // Removing tokens (a refund) never takes the balance below what open turns
                        // hold, nor below zero.
                        let balance = (current.balance + tokens).max(current.reserved).max(0);
                        diesel::update(topups::table.find(&key))
                            .set(topups::balance.eq(balance))
                            .execute(conn)
                            .await?;
                        Ok(TopUp {
                            balance: to_u64(balance),
                            reserved: to_u64(current.reserved),
                        })
                    })
                    .await
                    .map_err(LedgerError::from)
                }

                async fn topups_of(
                    &self,
                    subjects: Vec<Subject>,
                ) -> Result<Vec<(Subject, TopUp)>, LedgerError> {
                    let keys: Vec<String> = subjects.iter().map(Subject::key).collect();
                    let mut conn = self.conn().await.map_err(ledger_err)?;
                    let mut out = Vec::new();
                    for batch in keys.chunks(1_000) {
                        let rows: Vec<(String, TopUpRow)> = topups::table
                            .filter(topups::subject.eq_any(batch))
                            .select((topups::subject, TopUpRow::as_select()))
                            .load(&mut *conn)
                            .await
                            .map_err(|e| ledger_err(db_err(e)))?;
                        out.extend(rows.into_iter().filter_map(|(key, row)| {
                            Subject::parse_key(&key).map(|subject| (subject, TopUp::from(row)))
                        }));
                    }
                    Ok(out)
                }

                async fn counters_in_period(
                    &self,
                    subjects: Vec<Subject>,
                    period_key: i64,
                ) -> Result<Vec<(Subject, Counter)>, LedgerError> {
                    let keys: Vec<String> = subjects.iter().map(Subject::key).collect();
                    let mut conn = self.conn().await.map_err(ledger_err)?;
                    let mut out = Vec::new();
                    for batch in keys.chunks(1_000) {
                        let rows: Vec<(String, i64, i64)> = usage_counters::table
                            .filter(usage_counters::period_key.eq(period_key))
                            .filter(usage_counters::subject.eq_any(batch))
                            .select((
                                usage_counters::subject,
                                usage_counters::used,
                                usage_counters::reserved,
                            ))
                            .load(&mut *conn)
                            .await
                            .map_err(|e| ledger_err(db_err(e)))?;
                        for (key, used, reserved) in rows {
                            if let Some(subject) = Subject::parse_key(&key) {
                                out.push((
                                    subject,
                                    Counter {
                                        used: to_u64(used),
                                        reserved: to_u64(reserved),
                                    },
                                ));
                            }
                        }
                    }
                    Ok(out)
                }
            }
        };
    };
}
