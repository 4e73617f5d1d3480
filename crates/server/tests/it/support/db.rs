//! Reads a server's SQLite database directly, read-only, to see what requests changed: every row
//! of every table, not just what the pages choose to show.

use diesel::prelude::*;
use diesel::sql_types::Text;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

#[derive(QueryableByName)]
struct Line {
    #[diesel(sql_type = Text)]
    line: String,
}

/// Every table's rows, each row as the SQL literals of its columns (`quote()`, so blobs and
/// NULLs compare exactly) separated by [`SEPARATOR`], sorted.
#[derive(Debug, PartialEq, Eq)]
pub struct Snapshot {
    pub columns: BTreeMap<String, Vec<String>>,
    pub rows: BTreeMap<String, Vec<String>>,
}

const SEPARATOR: char = '\u{1f}';

/// What changed in one table: rows gone and rows new (an updated row is both).
#[derive(Debug, Default)]
pub struct TableChange {
    pub removed: Vec<String>,
    pub added: Vec<String>,
}

impl Snapshot {
    /// Every row of every table of the database at `db`, opened read-only.
    pub fn take(db: &Path) -> Snapshot {
        let url = format!("file:{}?mode=ro", db.display());
        let mut conn = SqliteConnection::establish(&url).expect("open the database read-only");
        let mut lines = |sql: String| -> Vec<String> {
            let rows: Vec<Line> = diesel::sql_query(&sql)
                .load(&mut conn)
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
            rows.into_iter().map(|r| r.line).collect()
        };
        let tables = lines("SELECT name AS line FROM sqlite_master WHERE type = 'table'".into());
        let mut snapshot = Snapshot {
            columns: BTreeMap::new(),
            rows: BTreeMap::new(),
        };
        for table in tables {
            let columns = lines(format!(
                "SELECT name AS line FROM pragma_table_info('{table}')"
            ));
            let row = columns
                .iter()
                .map(|c| format!("quote(\"{c}\")"))
                .collect::<Vec<_>>()
                .join(&format!(" || char({}) || ", u32::from(SEPARATOR)));
            let mut rows = lines(format!("SELECT {row} AS line FROM \"{table}\""));
            rows.sort();
            snapshot.rows.insert(table.clone(), rows);
            snapshot.columns.insert(table, columns);
        }
        snapshot
    }

    /// The value of `column` in `row` (one of `table`'s rows), as an SQL literal.
    pub fn field<'r>(&self, table: &str, row: &'r str, column: &str) -> &'r str {
        let index = self.columns[table]
            .iter()
            .position(|c| c == column)
            .unwrap_or_else(|| panic!("{table} has no {column}"));
        row.split(SEPARATOR).nth(index).unwrap_or_default()
    }

    /// The tables whose rows differ in `after`, with the rows that differ.
    pub fn changes(&self, after: &Snapshot) -> BTreeMap<String, TableChange> {
        let names: BTreeSet<&String> = self.rows.keys().chain(after.rows.keys()).collect();
        let empty = Vec::new();
        let mut changes = BTreeMap::new();
        for name in names {
            let before: BTreeSet<&String> = self.rows.get(name).unwrap_or(&empty).iter().collect();
            let now: BTreeSet<&String> = after.rows.get(name).unwrap_or(&empty).iter().collect();
            if before != now {
                let change = TableChange {
                    removed: before.difference(&now).map(|r| r.to_string()).collect(),
                    added: now.difference(&before).map(|r| r.to_string()).collect(),
                };
                changes.insert(name.clone(), change);
            }
        }
        changes
    }
}
