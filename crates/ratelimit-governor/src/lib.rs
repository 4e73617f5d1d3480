//! ratelimit-governor (being built).
