//! persistence-sql (being built).
