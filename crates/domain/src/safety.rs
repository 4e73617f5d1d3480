//! Crisis-risk detection (being built).
