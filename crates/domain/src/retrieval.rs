//! Passage retrieval (being built).
