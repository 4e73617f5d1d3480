//! Hostile and broken files: each gets a clear error, none panics.

mod common;

use domain::library::ExtractError;
use domain::ports::TextExtractor;
use ingest_docs::Extractor;
use std::io::{Cursor, Write};

fn extract(name: &str, bytes: &[u8]) -> Result<domain::library::ExtractedDocument, ExtractError> {
    let result = Extractor::default().extract(name, bytes);
    println!("{name:28} -> {:?}", result.as_ref().map(|d| d.blocks.len()));
    result
}

fn zip_of(parts: &[(&str, &[u8])]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, body) in parts {
        zip.start_file(*name, opts).unwrap();
        zip.write_all(body).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

#[test]
fn corrupt_and_empty_pdfs_are_malformed() {
    let mut junk = b"%PDF-1.7\n".to_vec();
    junk.extend((0..20_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8));
    assert!(matches!(
        extract("corrupt.pdf", &junk),
        Err(ExtractError::Malformed(_))
    ));
    assert!(matches!(
        extract("header-only.pdf", b"%PDF-1.4\n%%EOF"),
        Err(ExtractError::Malformed(_))
    ));
    assert!(matches!(
        extract("empty.pdf", b""),
        Err(ExtractError::Unsupported(_))
    ));
}

#[test]
fn tool_made_bad_pdfs() {
    let Some(dir) = common::fixture_dir() else {
        return;
    };
    let read = |name: &str| std::fs::read(dir.join(name)).unwrap();
    assert_eq!(
        extract("encrypted.pdf", &read("encrypted.pdf")),
        Err(ExtractError::NoText)
    );
    assert_eq!(
        extract("image-only.pdf", &read("image-only.pdf")),
        Err(ExtractError::NoText)
    );
    let good = read("lo/luto-e-perda.pdf");
    for percent in [10, 50, 90, 99] {
        let cut = &good[..good.len() * percent / 100];
        let result = extract(&format!("truncated-{percent}.pdf"), cut);
        // lopdf rebuilds what it can; what it cannot read is reported, never a panic.
        match result {
            Ok(doc) => assert!(doc.blocks.iter().all(|b| !b.text.is_empty())),
            Err(e) => assert!(
                matches!(e, ExtractError::Malformed(_) | ExtractError::NoText),
                "{e}"
            ),
        }
    }
}

#[test]
fn zip_bomb_docx_is_refused_while_reading() {
    // 64 MiB of spaces deflate to about 64 KiB: far past the ratio limit.
    let spaces = vec![b' '; 64 << 20];
    let bomb = zip_of(&[("word/document.xml", &spaces)]);
    assert!(bomb.len() < 1 << 20);
    assert!(matches!(
        extract("bomb.docx", &bomb),
        Err(ExtractError::TooLarge(_))
    ));
}

#[test]
fn billion_laughs_docx_fails_cleanly() {
    let mut dtd = String::from("<!DOCTYPE w:document [<!ENTITY lol0 \"lol\">");
    for i in 1..10 {
        let prev = format!("&lol{};", i - 1).repeat(10);
        dtd.push_str(&format!("<!ENTITY lol{i} \"{prev}\">"));
    }
    dtd.push(']');
    dtd.push('>');
    let xml = format!(
        "<?xml version=\"1.0\"?>{dtd}<w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\"><w:body><w:p><w:r><w:t>&lol9;</w:t></w:r></w:p></w:body></w:document>"
    );
    let docx = zip_of(&[("word/document.xml", xml.as_bytes())]);
    assert!(matches!(
        extract("lol.docx", &docx),
        Err(ExtractError::Malformed(_))
    ));
}

#[test]
fn deep_html_and_mislabelled_files() {
    let deep = "<div>".repeat(100_000) + "text" + &"</div>".repeat(100_000);
    assert!(matches!(
        extract("deep.html", deep.as_bytes()),
        Err(ExtractError::Malformed(_))
    ));
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
    assert!(matches!(
        extract("photo.html", png),
        Err(ExtractError::Unsupported(_))
    ));
    let zip = zip_of(&[("notes.txt", b"just a zip")]);
    assert!(matches!(
        extract("notes.docx", &zip),
        Err(ExtractError::Unsupported(_))
    ));
    let ole = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0, 0];
    assert!(matches!(
        extract("old.docx", &ole),
        Err(ExtractError::Unsupported(_))
    ));
    assert!(matches!(
        extract("fake.docx", b"plain text"),
        Err(ExtractError::Unsupported(_))
    ));
    assert!(matches!(
        extract("truncated.docx", &zip[..zip.len() / 2]),
        Err(ExtractError::Malformed(_))
    ));
    assert_eq!(extract("empty.txt", b"   \n\n"), Err(ExtractError::NoText));
    assert!(matches!(
        extract(
            "page.html",
            b"<html><body><script>x()</script></body></html>"
        ),
        Err(ExtractError::NoText)
    ));
}
