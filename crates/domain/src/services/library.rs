//! Library ingestion use case (being built).
