//! contracts (being built).
