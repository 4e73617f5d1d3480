//! The committed demo library (`files/`) extracts completely: every file against its
//! Markdown source, with titles, and headings where the format has them.

mod common;

use domain::library::DocFormat;
use domain::ports::TextExtractor;
use ingest_docs::Extractor;

#[test]
fn every_sample_file_matches_its_source() {
    let files = common::crate_dir().join("../../files");
    let mut seen = std::collections::BTreeSet::new();
    for entry in std::fs::read_dir(&files).expect("files/") {
        let path = entry.expect("entry").path();
        let Some(ext) = path.extension().and_then(|e| e.to_str()) else {
            continue;
        };
        if !["pdf", "docx", "html"].contains(&ext) {
            continue;
        }
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("name")
            .to_owned();
        let md = std::fs::read_to_string(files.join("../library-src").join(format!("{stem}.md")))
            .expect("source");
        let name = path.file_name().and_then(|n| n.to_str()).expect("name");
        let doc = Extractor::default()
            .extract(name, &std::fs::read(&path).expect("read"))
            .expect(name);
        let mut text = String::new();
        for b in &doc.blocks {
            text.push_str(b.heading.as_deref().unwrap_or(""));
            text.push('\n');
            text.push_str(&b.text);
            text.push('\n');
        }
        let (p, r) = common::precision_recall(
            &common::words(&text),
            &common::words(&common::known_text(&md)),
        );
        let headings = doc.blocks.iter().filter(|b| b.heading.is_some()).count();
        println!(
            "{name:32} {:?} title {:?} blocks {} headings {headings} precision {p:.4} recall {r:.4}",
            doc.format,
            doc.title,
            doc.blocks.len()
        );
        assert!(doc.title.is_some(), "{name} has no title");
        assert!(r >= 0.99, "{name}: recall {r}");
        // Headings are kept apart from the text in DOCX and HTML, so words are counted once.
        assert!(p >= 0.99, "{name}: precision {p}");
        if doc.format != DocFormat::Pdf {
            assert!(headings >= 4, "{name}: only {headings} headings");
        }
        seen.insert(doc.format.as_str());
    }
    assert!(seen.contains("pdf") && seen.contains("docx") && seen.contains("html"));
}
