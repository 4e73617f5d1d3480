//! persistence-sqlite (being built).
