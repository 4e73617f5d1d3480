//! model-openai (being built).
