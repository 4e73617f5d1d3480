//! ratelimit-redis (being built).
