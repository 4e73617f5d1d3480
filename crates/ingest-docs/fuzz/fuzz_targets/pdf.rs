#![no_main]
//! Raw bytes as a PDF. libfuzzer's panic hook aborts, so panics the extractor would catch
//! still show up here as crashes.

use domain::ports::TextExtractor;
use ingest_docs::{Extractor, Limits};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = Limits { max_uncompressed_bytes: 32 << 20, ..Limits::default() };
    let _ = Extractor::new(limits).extract("fuzz.pdf", data);
});
