#![no_main]
//! DOCX: odd first byte feeds raw zip bytes; otherwise the input becomes the parts of a
//! well-formed zip (document, styles, footnotes split at NUL bytes), so the fuzzer
//! reaches the XML walker instead of stopping at zip checksums.

use domain::ports::TextExtractor;
use ingest_docs::Extractor;
use libfuzzer_sys::fuzz_target;
use std::io::{Cursor, Write};

const PARTS: [&str; 4] =
    ["word/document.xml", "word/styles.xml", "word/footnotes.xml", "docProps/core.xml"];

fn wrap(data: &[u8]) -> Option<Vec<u8>> {
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored);
    for (name, body) in PARTS.iter().zip(data.split(|&b| b == 0)) {
        zip.start_file(*name, opts).ok()?;
        zip.write_all(body).ok()?;
    }
    Some(zip.finish().ok()?.into_inner())
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    let extractor = Extractor::default();
    if mode & 1 == 1 {
        let _ = extractor.extract("fuzz.docx", rest);
    } else if let Some(zip) = wrap(rest) {
        let _ = extractor.extract("fuzz.docx", &zip);
    }
});
