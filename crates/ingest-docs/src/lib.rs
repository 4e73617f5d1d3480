//! ingest-docs (being built).
