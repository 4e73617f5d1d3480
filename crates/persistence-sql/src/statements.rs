//! The writes of a chat turn as statements of fixed text, which the connection keeps prepared.
//!
//! diesel marks every `UPDATE`, and on MySQL every `INSERT` of an `Insertable`, as unsafe to
//! cache (their SQL may change with the values), so on MySQL each one costs a prepare, an
//! execute and a close: three messages to the server instead of one. A turn writes a handful of
//! rows; these statements have one text each, so diesel prepares them once per connection.

use diesel::QueryResult;
use diesel::backend::Backend;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::serialize::ToSql;
use diesel::sql_types::{BigInt, Binary, HasSqlType, Text};

/// How many `?` a statement's text has (checked against its fields at compile time).
const fn placeholders(sql: &str) -> usize {
    let bytes = sql.as_bytes();
    let (mut i, mut n) = (0, 0);
    while i < bytes.len() {
        if bytes[i] == b'?' {
            n += 1;
        }
        i += 1;
    }
    n
}

/// A statement of fixed text whose `?` take the fields, in order.
macro_rules! fixed_statement {
    ($(#[$doc:meta])* $name:ident = $sql:literal { $($field:ident: $ty:ty as $st:ty),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy)]
        pub struct $name<'a> {
            $(pub $field: $ty),+
        }

        const _: () = assert!(placeholders($sql) == [$(stringify!($field)),+].len());

        impl<'a, DB> QueryFragment<DB> for $name<'a>
        where
            DB: Backend $(+ HasSqlType<$st>)+,
            $($ty: ToSql<$st, DB>),+
        {
            fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
                let mut text = $sql.split('?');
                out.push_sql(text.next().unwrap_or_default());
                $(
                    out.push_bind_param::<$st, $ty>(&self.$field)?;
                    out.push_sql(text.next().unwrap_or_default());
                )+
                Ok(())
            }
        }

        impl<'a> QueryId for $name<'a> {
            type QueryId = $name<'static>;
            const HAS_STATIC_QUERY_ID: bool = true;
        }
    };
}

fixed_statement! {
    /// Sets one usage counter (rows are read under lock first).
    SetCounter = "UPDATE usage_counters SET used = ?, reserved = ? WHERE subject = ? AND period_key = ?" {
        used: i64 as BigInt,
        reserved: i64 as BigInt,
        subject: &'a str as Text,
        period_key: i64 as BigInt,
    }
}

fixed_statement! {
    /// Sets one top-up (rows are read under lock first).
    SetTopUp = "UPDATE topups SET balance = ?, reserved = ? WHERE subject = ?" {
        balance: i64 as BigInt,
        reserved: i64 as BigInt,
        subject: &'a str as Text,
    }
}

fixed_statement! {
    /// One part of a reservation.
    InsertReservation = "INSERT INTO reservations (id, subject, period_key, from_allowance, from_topup, amount, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)" {
        id: i64 as BigInt,
        subject: &'a str as Text,
        period_key: i64 as BigInt,
        from_allowance: i64 as BigInt,
        from_topup: i64 as BigInt,
        amount: i64 as BigInt,
        expires_at: i64 as BigInt,
    }
}

fixed_statement! {
    /// A turn's question and reply.
    InsertExchange = "INSERT INTO messages (id, user_id, author, sealed, created_at, tokens) VALUES (?, ?, ?, ?, ?, ?), (?, ?, ?, ?, ?, ?)" {
        question_id: i64 as BigInt,
        question_user_id: i64 as BigInt,
        question_author: &'a str as Text,
        question_sealed: &'a [u8] as Binary,
        question_created_at: i64 as BigInt,
        question_tokens: i64 as BigInt,
        reply_id: i64 as BigInt,
        reply_user_id: i64 as BigInt,
        reply_author: &'a str as Text,
        reply_sealed: &'a [u8] as Binary,
        reply_created_at: i64 as BigInt,
        reply_tokens: i64 as BigInt,
    }
}

impl<'a> InsertExchange<'a> {
    pub fn of(question: &'a crate::rows::MessageRow, reply: &'a crate::rows::MessageRow) -> Self {
        InsertExchange {
            question_id: question.id,
            question_user_id: question.user_id,
            question_author: &question.author,
            question_sealed: &question.sealed,
            question_created_at: question.created_at,
            question_tokens: question.tokens,
            reply_id: reply.id,
            reply_user_id: reply.user_id,
            reply_author: &reply.author,
            reply_sealed: &reply.sealed,
            reply_created_at: reply.created_at,
            reply_tokens: reply.tokens,
        }
    }
}

impl<'a> From<&'a crate::rows::ReservationRow> for InsertReservation<'a> {
    fn from(r: &'a crate::rows::ReservationRow) -> Self {
        InsertReservation {
            id: r.id,
            subject: &r.subject,
            period_key: r.period_key,
            from_allowance: r.from_allowance,
            from_topup: r.from_topup,
            amount: r.amount,
            expires_at: r.expires_at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_counted() {
        assert_eq!(placeholders("UPDATE t SET a = ?, b = ? WHERE c = ?"), 3);
        assert_eq!(placeholders("SELECT 1"), 0);
    }

    #[test]
    fn binds_land_in_the_placeholders() {
        let sql = diesel::debug_query::<diesel::sqlite::Sqlite, _>(&SetTopUp {
            balance: 5,
            reserved: 2,
            subject: "c:7",
        })
        .to_string();
        assert_eq!(
            sql,
            r#"UPDATE topups SET balance = ?, reserved = ? WHERE subject = ? -- binds: [5, 2, "c:7"]"#
        );
    }
}
