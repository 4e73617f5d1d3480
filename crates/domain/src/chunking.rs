//! Chunking extracted text into passages (being built).
