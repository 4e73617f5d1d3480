//! Extraction quality on fixtures generated from the known texts of `library-src`: word
//! precision and recall (printed per file) must reach 0.99, and words must come in order.

mod common;

use common::*;
use domain::library::ExtractedDocument;
use domain::ports::TextExtractor;
use ingest_docs::Extractor;
use std::path::Path;

const MIN_SCORE: f64 = 0.99;
const MIN_ORDER: f64 = 0.97;

fn all_text(doc: &ExtractedDocument) -> String {
    let mut out = String::new();
    for b in &doc.blocks {
        if let Some(h) = &b.heading
            && h != &b.text
        {
            out.push_str(h);
            out.push('\n');
        }
        out.push_str(&b.text);
        out.push('\n');
    }
    out
}

/// Scores one fixture, printing a line; returns a failure message if below the bar.
fn score(name: &str, bytes: &[u8], known: &str) -> Option<String> {
    let doc = match Extractor::default().extract(name, bytes) {
        Ok(doc) => doc,
        Err(e) => return Some(format!("{name}: extraction failed: {e}")),
    };
    let got = words(&all_text(&doc));
    let want = words(known);
    let (p, r) = precision_recall(&got, &want);
    let order = order_score(&got, &want);
    println!(
        "{name:48} precision {p:.4}  recall {r:.4}  order {order:.4}  ({} words)",
        want.len()
    );
    (p < MIN_SCORE || r < MIN_SCORE || order < MIN_ORDER).then(|| {
        format!(
            "{name}: precision {p:.4} recall {r:.4} order {order:.4}\n{}",
            all_text(&doc)
        )
    })
}

fn to_html(md: &str, latin1_decl: bool) -> String {
    let mut body = String::new();
    for block in md.split("\n\n") {
        let block = block.trim();
        let esc = block.replace('&', "&amp;").replace('<', "&lt;");
        if let Some(h) = esc.strip_prefix("## ") {
            body.push_str(&format!("<h2>{h}</h2>\n"));
        } else if let Some(h) = esc.strip_prefix("# ") {
            body.push_str(&format!("<h1>{h}</h1>\n"));
        } else if !esc.is_empty() {
            body.push_str(&format!("<p>{}</p>\n", esc.replace('\n', " ")));
        }
    }
    let meta = if latin1_decl {
        r#"<meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1">"#
    } else {
        r#"<meta charset="utf-8">"#
    };
    format!(
        "<!DOCTYPE html><html><head>{meta}<title>Biblioteca</title><style>p {{ margin: 0 }}</style>\
         <script>document.write('<p>hidden</p>')</script></head><body><nav><a href='/'>Início</a></nav>\
         {body}<noscript>Ative o JavaScript</noscript></body></html>"
    )
}

#[test]
fn text_markdown_and_html_fixtures() {
    let mut failures = Vec::new();
    for src in sources() {
        let md = std::fs::read_to_string(&src).expect("source");
        let known = known_text(&md);
        let stem = src
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("doc")
            .to_owned();
        let utf8 = to_html(&md, false)
            .replace('ã', "&atilde;")
            .replace('é', "&#233;");
        let latin = encoding_rs::WINDOWS_1252
            .encode(&to_html(&md, true))
            .0
            .into_owned();
        let sniffed = encoding_rs::WINDOWS_1252
            .encode(&to_html(&md, false).replace(r#"<meta charset="utf-8">"#, ""))
            .0
            .into_owned();
        let cases: [(String, Vec<u8>); 5] = [
            (format!("{stem}.md"), md.clone().into_bytes()),
            (format!("{stem}.txt"), known.clone().into_bytes()),
            (format!("{stem}-utf8.html"), utf8.into_bytes()),
            (format!("{stem}-latin1.html"), latin),
            (format!("{stem}-sniffed-latin1.html"), sniffed),
        ];
        for (name, bytes) in cases {
            failures.extend(score(&name, &bytes, &known));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

fn tool_made(dir: &Path, relative: &str, known: &str) -> Option<String> {
    let path = dir.join(relative);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let known = std::fs::read_to_string(dir.join(known)).expect("known text");
    score(relative, &bytes, &known)
}

#[test]
fn pdf_and_docx_fixtures() {
    let Some(dir) = fixture_dir() else { return };
    let mut failures = Vec::new();
    for src in sources() {
        let stem = src
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("doc")
            .to_owned();
        for variant in ["", "-2col"] {
            let known = format!("{stem}{variant}.known.txt");
            failures.extend(tool_made(dir, &format!("{stem}{variant}.docx"), &known));
            failures.extend(tool_made(dir, &format!("lo/{stem}{variant}.pdf"), &known));
            let rl_known = format!("{stem}-rl{variant}.known.txt");
            failures.extend(tool_made(
                dir,
                &format!("{stem}-rl{variant}.pdf"),
                &rl_known,
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
