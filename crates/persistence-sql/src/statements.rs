//! The writes of a chat turn as statements the connection keeps prepared.
//!
//! diesel marks every `UPDATE`, and on MySQL every `INSERT` of an `Insertable`, as unsafe to
//! cache (their SQL may change with the values), so on MySQL each one costs a prepare, an
//! execute and a close: three messages to the server instead of one. [`InsertRows`] and
//! [`UpsertRows`] write any number of rows of one table with one statement whose text depends
//! only on how many rows there are, so diesel prepares each shape once per connection: a turn
//! writes one counter and two messages; a group of turns, a few dozen of each.
//!
//! diesel's `eq_any` (`IN (…)`) is never cached either; [`in_list`] is the same condition with a
//! text that depends only on the (rounded up) number of values.

use diesel::QueryResult;
use diesel::backend::Backend;
use diesel::expression::{AppearsOnTable, Expression, ValidGrouping};
use diesel::mysql::Mysql;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::serialize::ToSql;
use diesel::sql_types::{BigInt, Binary, Bool, HasSqlType, Text};
use diesel::sqlite::Sqlite;

/// A value of a row to insert, bound to its column's `?`.
pub enum Value<'a> {
    Int(&'a i64),
    Text(&'a str),
    Bytes(&'a [u8]),
}

/// A row [`InsertRows`] can insert.
pub trait InsertableRow {
    /// `INSERT INTO table (columns…) VALUES `, the text before the rows.
    const INSERT: &'static str;
    /// The row's values, in the order of the columns.
    fn values(&self) -> Vec<Value<'_>>;
}

/// Rows of one table inserted by one statement.
#[derive(Debug, Clone, Copy)]
pub struct InsertRows<'a, R>(pub &'a [R]);

/// A row [`UpsertRows`] can write: what its columns become when the row is there already, in
/// each dialect.
pub trait UpsertableRow: InsertableRow {
    const ON_DUPLICATE_MYSQL: &'static str;
    const ON_CONFLICT_SQLITE: &'static str;
}

/// How a backend says "or update the row that is there".
pub trait UpsertDialect {
    fn update_clause<R: UpsertableRow>() -> &'static str;
}

impl UpsertDialect for Mysql {
    fn update_clause<R: UpsertableRow>() -> &'static str {
        R::ON_DUPLICATE_MYSQL
    }
}

impl UpsertDialect for Sqlite {
    fn update_clause<R: UpsertableRow>() -> &'static str {
        R::ON_CONFLICT_SQLITE
    }
}

/// Rows of one table written by one statement: each is inserted, or replaces the row with its
/// key. The ledger only sets rows it has read under lock, so in practice this sets many rows'
/// amounts at once, which a plain `UPDATE` can do for one row only.
#[derive(Debug, Clone, Copy)]
pub struct UpsertRows<'a, R>(pub &'a [R]);

/// `INSERT INTO … VALUES (…), (…)` with every value bound.
fn walk_rows<'b, R, DB>(rows: &'b [R], out: &mut AstPass<'_, 'b, DB>) -> QueryResult<()>
where
    R: InsertableRow,
    DB: Backend + HasSqlType<BigInt> + HasSqlType<Text> + HasSqlType<Binary>,
    i64: ToSql<BigInt, DB>,
    str: ToSql<Text, DB>,
    [u8]: ToSql<Binary, DB>,
{
    out.push_sql(R::INSERT);
    for (i, row) in rows.iter().enumerate() {
        out.push_sql(if i == 0 { "(" } else { ", (" });
        for (j, value) in row.values().into_iter().enumerate() {
            if j > 0 {
                out.push_sql(", ");
            }
            match value {
                Value::Int(v) => out.push_bind_param::<BigInt, i64>(v)?,
                Value::Text(v) => out.push_bind_param::<Text, str>(v)?,
                Value::Bytes(v) => out.push_bind_param::<Binary, [u8]>(v)?,
            }
        }
        out.push_sql(")");
    }
    Ok(())
}

impl<R, DB> QueryFragment<DB> for InsertRows<'_, R>
where
    R: InsertableRow,
    DB: Backend + HasSqlType<BigInt> + HasSqlType<Text> + HasSqlType<Binary>,
    i64: ToSql<BigInt, DB>,
    str: ToSql<Text, DB>,
    [u8]: ToSql<Binary, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        walk_rows(self.0, &mut out)
    }
}

impl<R, DB> QueryFragment<DB> for UpsertRows<'_, R>
where
    R: UpsertableRow,
    DB: Backend + UpsertDialect + HasSqlType<BigInt> + HasSqlType<Text> + HasSqlType<Binary>,
    i64: ToSql<BigInt, DB>,
    str: ToSql<Text, DB>,
    [u8]: ToSql<Binary, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        walk_rows(self.0, &mut out)?;
        out.push_sql(DB::update_clause::<R>());
        Ok(())
    }
}

// Not static: the text, and so the prepared statement, changes with the number of rows.
impl<R> QueryId for InsertRows<'_, R> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<R> QueryId for UpsertRows<'_, R> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

/// `column IN (?, …)` that diesel keeps prepared: see [`in_list`].
#[derive(Debug, Clone)]
pub struct InList<'a, C, T: ?Sized> {
    column: C,
    values: Vec<&'a T>,
}

/// `column IN (values…)`, as a filter. The list is padded to the next power of two by repeating
/// its last value, which changes nothing in an `IN`, so a connection keeps at most a handful of
/// shapes prepared however the number of values varies. No values matches no row.
pub fn in_list<'a, C, T: ?Sized + 'a>(
    column: C,
    values: impl IntoIterator<Item = &'a T>,
) -> InList<'a, C, T> {
    let mut values: Vec<&T> = values.into_iter().collect();
    if let Some(&last) = values.last() {
        values.resize(values.len().next_power_of_two(), last);
    }
    InList { column, values }
}

impl<C, T: ?Sized> Expression for InList<'_, C, T> {
    type SqlType = Bool;
}

impl<C: AppearsOnTable<QS>, T: ?Sized, QS> AppearsOnTable<QS> for InList<'_, C, T> {}

impl<C: ValidGrouping<GB>, T: ?Sized, GB> ValidGrouping<GB> for InList<'_, C, T> {
    type IsAggregate = C::IsAggregate;
}

impl<C, T, DB> QueryFragment<DB> for InList<'_, C, T>
where
    C: Expression + QueryFragment<DB>,
    T: ?Sized + ToSql<C::SqlType, DB>,
    DB: Backend + HasSqlType<C::SqlType>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        if self.values.is_empty() {
            out.push_sql("1 = 0");
            return Ok(());
        }
        self.column.walk_ast(out.reborrow())?;
        out.push_sql(" IN (");
        for (i, value) in self.values.iter().enumerate() {
            if i > 0 {
                out.push_sql(", ");
            }
            out.push_bind_param::<C::SqlType, T>(*value)?;
        }
        out.push_sql(")");
        Ok(())
    }
}

impl<C, T: ?Sized> QueryId for InList<'_, C, T> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

/// The amounts a usage counter is set to.
#[derive(Debug, Clone, Copy)]
pub struct CounterAmounts<'a> {
    pub subject: &'a str,
    pub period_key: i64,
    pub used: i64,
    pub reserved: i64,
}

impl InsertableRow for CounterAmounts<'_> {
    const INSERT: &'static str =
        "INSERT INTO usage_counters (subject, period_key, used, reserved) VALUES ";
    fn values(&self) -> Vec<Value<'_>> {
        vec![
            Value::Text(self.subject),
            Value::Int(&self.period_key),
            Value::Int(&self.used),
            Value::Int(&self.reserved),
        ]
    }
}

impl UpsertableRow for CounterAmounts<'_> {
    const ON_DUPLICATE_MYSQL: &'static str =
        " ON DUPLICATE KEY UPDATE used = VALUES(used), reserved = VALUES(reserved)";
    const ON_CONFLICT_SQLITE: &'static str = " ON CONFLICT (subject, period_key) DO UPDATE \
        SET used = excluded.used, reserved = excluded.reserved";
}

/// The amounts a top-up is set to.
#[derive(Debug, Clone, Copy)]
pub struct TopUpAmounts<'a> {
    pub subject: &'a str,
    pub balance: i64,
    pub reserved: i64,
}

impl InsertableRow for TopUpAmounts<'_> {
    const INSERT: &'static str = "INSERT INTO topups (subject, balance, reserved) VALUES ";
    fn values(&self) -> Vec<Value<'_>> {
        vec![
            Value::Text(self.subject),
            Value::Int(&self.balance),
            Value::Int(&self.reserved),
        ]
    }
}

impl UpsertableRow for TopUpAmounts<'_> {
    const ON_DUPLICATE_MYSQL: &'static str =
        " ON DUPLICATE KEY UPDATE balance = VALUES(balance), reserved = VALUES(reserved)";
    const ON_CONFLICT_SQLITE: &'static str = " ON CONFLICT (subject) DO UPDATE \
        SET balance = excluded.balance, reserved = excluded.reserved";
}

impl InsertableRow for crate::rows::ReservationRow {
    const INSERT: &'static str = "INSERT INTO reservations (id, subject, period_key, \
        from_allowance, from_topup, amount, expires_at) VALUES ";
    fn values(&self) -> Vec<Value<'_>> {
        vec![
            Value::Int(&self.id),
            Value::Text(&self.subject),
            Value::Int(&self.period_key),
            Value::Int(&self.from_allowance),
            Value::Int(&self.from_topup),
            Value::Int(&self.amount),
            Value::Int(&self.expires_at),
        ]
    }
}

impl InsertableRow for crate::rows::MessageRow {
    const INSERT: &'static str =
        "INSERT INTO messages (id, user_id, author, sealed, created_at, tokens) VALUES ";
    fn values(&self) -> Vec<Value<'_>> {
        vec![
            Value::Int(&self.id),
            Value::Int(&self.user_id),
            Value::Text(&self.author),
            Value::Bytes(&self.sealed),
            Value::Int(&self.created_at),
            Value::Int(&self.tokens),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_inserted_by_one_statement() {
        let row = |id| crate::rows::ReservationRow {
            id,
            subject: "u:1".into(),
            period_key: 2,
            from_allowance: 3,
            from_topup: 4,
            amount: 7,
            expires_at: 9,
        };
        let rows = [row(1), row(5)];
        let sql = diesel::debug_query::<Sqlite, _>(&InsertRows(&rows)).to_string();
        assert_eq!(
            sql,
            "INSERT INTO reservations (id, subject, period_key, from_allowance, from_topup, \
             amount, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?), (?, ?, ?, ?, ?, ?, ?) \
             -- binds: [1, \"u:1\", 2, 3, 4, 7, 9, 5, \"u:1\", 2, 3, 4, 7, 9]"
        );
    }

    #[test]
    fn in_lists_round_up_to_a_power_of_two_with_their_last_value() {
        use crate::schema::reservations;
        use diesel::prelude::*;
        let ids = [4_i64, 8, 15];
        let query = reservations::table
            .filter(in_list(reservations::id, &ids))
            .select(reservations::id);
        assert_eq!(
            diesel::debug_query::<Sqlite, _>(&query).to_string(),
            "SELECT `reservations`.`id` FROM `reservations` WHERE `reservations`.`id` IN \
             (?, ?, ?, ?) -- binds: [4, 8, 15, 15]"
        );
        // Unlike `eq_any`, which asks for a new prepared statement every time.
        assert!(QueryFragment::<Sqlite>::is_safe_to_cache_prepared(&query, &Sqlite).unwrap());
        let none: [i64; 0] = [];
        let query = reservations::table
            .filter(in_list(reservations::id, &none))
            .select(reservations::id);
        assert_eq!(
            diesel::debug_query::<Sqlite, _>(&query).to_string(),
            "SELECT `reservations`.`id` FROM `reservations` WHERE 1 = 0 -- binds: []"
        );
    }

    #[test]
    fn upserts_speak_each_dialect() {
        let rows = [
            CounterAmounts {
                subject: "u:1",
                period_key: 2,
                used: 3,
                reserved: 4,
            },
            CounterAmounts {
                subject: "c:5",
                period_key: 2,
                used: 6,
                reserved: 7,
            },
        ];
        let values = "INSERT INTO usage_counters (subject, period_key, used, reserved) \
                      VALUES (?, ?, ?, ?), (?, ?, ?, ?)";
        assert_eq!(
            diesel::debug_query::<Sqlite, _>(&UpsertRows(&rows)).to_string(),
            format!(
                "{values} ON CONFLICT (subject, period_key) DO UPDATE SET used = excluded.used, \
                 reserved = excluded.reserved -- binds: [\"u:1\", 2, 3, 4, \"c:5\", 2, 6, 7]"
            )
        );
        let mysql = diesel::debug_query::<Mysql, _>(&UpsertRows(&rows)).to_string();
        assert!(
            mysql.starts_with(&format!(
                "{values} ON DUPLICATE KEY UPDATE used = VALUES(used), reserved = VALUES(reserved)"
            )),
            "{mysql}"
        );
    }
}
