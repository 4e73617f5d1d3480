#![no_main]
//! Raw bytes as an HTML page (charset sniffing included).

use domain::ports::TextExtractor;
use ingest_docs::Extractor;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = Extractor::default().extract("fuzz.html", data);
});
