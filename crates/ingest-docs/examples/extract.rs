//! Prints what the extractor reads from each file given: `cargo run -p ingest-docs
//! --example extract -- FILE...`.

use domain::ports::TextExtractor;
use ingest_docs::Extractor;

fn main() {
    let extractor = Extractor::default();
    for path in std::env::args().skip(1) {
        println!("==> {path}");
        match std::fs::read(&path) {
            Ok(bytes) => match extractor.extract(&path, &bytes) {
                Ok(doc) => {
                    println!(
                        "title: {:?}, format: {:?}, pages: {}",
                        doc.title, doc.format, doc.pages
                    );
                    for b in doc.blocks {
                        println!("--- page {:?} heading {:?}\n{}", b.page, b.heading, b.text);
                    }
                }
                Err(e) => println!("error: {e}"),
            },
            Err(e) => println!("cannot read: {e}"),
        }
    }
}
