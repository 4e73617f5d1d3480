//! persistence-mysql (being built).
