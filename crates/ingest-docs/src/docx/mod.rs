//! DOCX: the zip container is read part by part under a decompression budget, and the
//! WordprocessingML is walked as a stream of XML events (no DTDs, no entity expansion).

use crate::Limits;
use crate::text::{Sections, clean_inline};
use domain::library::{DocFormat, ExtractError, ExtractedDocument};
use std::collections::HashMap;
use std::io::Cursor;
use zip::ZipArchive;
mod container;
mod events;

use container::Parts;
use events::{Ev, attr, walk};

/// Paragraph style ids that are headings: by name ("Heading 1", "Título 1", "Title") or by
/// an outline level.
fn heading_styles(xml: &str) -> Result<HashMap<String, bool>, ExtractError> {
    let mut styles = HashMap::new();
    let mut current: Option<String> = None;
    walk("styles.xml", xml, |ev| {
        match ev {
            Ev::Open(name, e) => match name.as_str() {
                "style" => current = attr(&e, "styleId"),
                "name" => {
                    if let (Some(id), Some(val)) = (&current, attr(&e, "val")) {
                        let v = val.to_lowercase();
                        let heading = v.starts_with("heading")
                            || v.starts_with("título")
                            || v.starts_with("titulo")
                            || v == "title";
                        *styles.entry(id.clone()).or_insert(false) |= heading;
                    }
                }
                "outlineLvl" => {
                    let level = attr(&e, "val").and_then(|v| v.parse::<u8>().ok());
                    if let (Some(id), Some(l)) = (&current, level) {
                        *styles.entry(id.clone()).or_insert(false) |= l < 9;
                    }
                }
                _ => {}
            },
            Ev::Close(name) if name == "style" => current = None,
            _ => {}
        }
        Ok(())
    })?;
    Ok(styles)
}

fn looks_like_heading_id(id: &str) -> bool {
    let id = id.to_lowercase();
    id.starts_with("heading")
        || id.starts_with("titulo")
        || id.starts_with("ttulo")
        || id == "title"
}

/// A paragraph being read; text boxes put paragraphs inside paragraphs, hence a stack.
#[derive(Default)]
struct Para {
    text: String,
    heading: bool,
}

/// Walks a body part (document, footnotes) into `sections`.
fn read_body(
    part: &str,
    xml: &str,
    styles: &HashMap<String, bool>,
    sections: &mut Sections,
) -> Result<(), ExtractError> {
    let mut stack: Vec<Para> = Vec::new();
    let mut in_text = false;
    let mut in_ppr = 0usize;
    let mut fallback = 0usize;
    let mut table = 0usize;
    let mut row = String::new();
    let mut note: Option<String> = None;
    walk(part, xml, |ev| {
        match ev {
            Ev::Open(name, e) => match name.as_str() {
                // Alternate renderings of the same content would be read twice.
                "Fallback" => fallback += 1,
                _ if fallback > 0 => {}
                "p" => stack.push(Para::default()),
                "pPr" => in_ppr += 1,
                "t" => in_text = true,
                "tab" if in_ppr == 0 => push(&mut stack, "\t"),
                "br" | "cr" => push(&mut stack, "\n"),
                "noBreakHyphen" => push(&mut stack, "-"),
                "pStyle" if in_ppr > 0 => {
                    if let (Some(p), Some(id)) = (stack.last_mut(), attr(&e, "val")) {
                        p.heading = styles
                            .get(&id)
                            .copied()
                            .unwrap_or_else(|| looks_like_heading_id(&id));
                    }
                }
                "outlineLvl" if in_ppr > 0 => {
                    let level = attr(&e, "val").and_then(|v| v.parse::<u8>().ok());
                    if let (Some(p), Some(l)) = (stack.last_mut(), level) {
                        p.heading = l < 9;
                    }
                }
                "tbl" => table += 1,
                "footnote" | "endnote" => {
                    note = attr(&e, "id").filter(|id| id.parse::<i64>().is_ok_and(|n| n > 0));
                }
                _ => {}
            },
            Ev::Close(name) => match name.as_str() {
                "Fallback" => fallback = fallback.saturating_sub(1),
                _ if fallback > 0 => {}
                "t" => in_text = false,
                "pPr" => in_ppr = in_ppr.saturating_sub(1),
                "p" => {
                    let Some(para) = stack.pop() else {
                        return Ok(());
                    };
                    if table > 0 {
                        row.push_str(&para.text);
                        row.push(' ');
                    } else if para.heading && stack.is_empty() {
                        sections.heading(&para.text)?;
                    } else {
                        let text = match note.take() {
                            Some(id) => format!("[{id}] {}", para.text),
                            None => para.text,
                        };
                        sections.paragraph(&text)?;
                    }
                }
                "tc" => row.push('\t'),
                "tr" if table > 0 => {
                    sections.paragraph(&std::mem::take(&mut row))?;
                }
                "tbl" => table = table.saturating_sub(1),
                _ => {}
            },
            Ev::Text(t) if in_text && fallback == 0 => push(&mut stack, &t),
            Ev::Text(_) => {}
        }
        Ok(())
    })?;
    sections.paragraph(&row)
}

fn push(stack: &mut [Para], s: &str) {
    if let Some(p) = stack.last_mut() {
        p.text.push_str(s);
    }
}

fn core_title(xml: &str) -> Result<Option<String>, ExtractError> {
    let mut in_title = false;
    let mut title = String::new();
    walk("core.xml", xml, |ev| {
        match ev {
            Ev::Open(n, _) => in_title = n == "title",
            Ev::Close(_) => in_title = false,
            Ev::Text(t) if in_title => title.push_str(&t),
            Ev::Text(_) => {}
        }
        Ok(())
    })?;
    Ok(Some(clean_inline(&title)).filter(|t| !t.is_empty()))
}

pub(crate) fn extract(bytes: &[u8], limits: &Limits) -> Result<ExtractedDocument, ExtractError> {
    let archive = ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| ExtractError::Malformed(format!("not a readable zip archive: {e}")))?;
    let mut parts = Parts {
        archive,
        used: 0,
        limits,
    };
    let Some(document) = parts.read("word/document.xml")? else {
        return Err(ExtractError::Unsupported(
            "zip archive without word/document.xml: not a Word (.docx) document".into(),
        ));
    };
    let styles = match parts.read("word/styles.xml")? {
        Some(xml) => heading_styles(&xml)?,
        None => HashMap::new(),
    };
    let mut sections = Sections::new(limits);
    read_body("document.xml", &document, &styles, &mut sections)?;
    if let Some(notes) = parts.read("word/footnotes.xml")? {
        read_body("footnotes.xml", &notes, &styles, &mut sections)?;
    }
    let title = match parts.read("docProps/core.xml")? {
        Some(xml) => core_title(&xml)?,
        None => None,
    };
    let blocks = sections.finish();
    let title = title.or_else(|| blocks.iter().find_map(|b| b.heading.clone()));
    Ok(ExtractedDocument {
        title,
        format: DocFormat::Docx,
        pages: 1,
        blocks,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    const W: &str = r#"xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main""#;

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

    fn docx(body: &str) -> Vec<u8> {
        let doc =
            format!(r#"<?xml version="1.0"?><w:document {W}><w:body>{body}</w:body></w:document>"#);
        let styles = format!(
            r#"<w:styles {W}><w:style w:type="paragraph" w:styleId="Ttulo1"><w:name w:val="Título 1"/></w:style></w:styles>"#
        );
        let notes = format!(
            r#"<w:footnotes {W}><w:footnote w:type="separator" w:id="0"><w:p><w:r><w:separator/></w:r></w:p></w:footnote><w:footnote w:id="1"><w:p><w:r><w:t>Fonte: OMS.</w:t></w:r></w:p></w:footnote></w:footnotes>"#
        );
        zip_of(&[
            ("word/document.xml", doc.as_bytes()),
            ("word/styles.xml", styles.as_bytes()),
            ("word/footnotes.xml", notes.as_bytes()),
        ])
    }

    #[test]
    fn paragraphs_headings_tables_and_notes() {
        let body = r#"<w:p><w:pPr><w:pStyle w:val="Ttulo1"/><w:tabs><w:tab w:val="left"/></w:tabs></w:pPr><w:r><w:t>Estresse</w:t></w:r></w:p>
            <w:p><w:r><w:t xml:space="preserve">Pausas &amp; </w:t></w:r><w:r><w:t>respira&#231;&#xE3;o</w:t><w:tab/><w:t>ajudam</w:t><w:br/><w:t>sempre.</w:t></w:r><w:r><w:footnoteReference w:id="1"/></w:r></w:p>
            <w:tbl><w:tr><w:tc><w:p><w:r><w:t>Sinal</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>Ação</w:t></w:r></w:p></w:tc></w:tr></w:tbl>"#;
        let doc = extract(&docx(body), &Limits::default()).unwrap();
        assert_eq!(doc.title.as_deref(), Some("Estresse"));
        assert_eq!(doc.blocks.len(), 1);
        assert_eq!(doc.blocks[0].heading.as_deref(), Some("Estresse"));
        assert_eq!(
            doc.blocks[0].text,
            "Pausas & respiração ajudam\nsempre.\n\nSinal Ação\n\n[1] Fonte: OMS."
        );
    }

    #[test]
    fn dtd_and_custom_entities_are_refused() {
        let lol = format!(
            r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><w:document {W}><w:body><w:p><w:r><w:t>&lol2;</w:t></w:r></w:p></w:body></w:document>"#
        );
        let bytes = zip_of(&[("word/document.xml", lol.as_bytes())]);
        assert!(matches!(
            extract(&bytes, &Limits::default()),
            Err(ExtractError::Malformed(_))
        ));
    }

    #[test]
    fn zip_without_document_and_bombs() {
        let plain = zip_of(&[("readme.txt", b"hello")]);
        assert!(matches!(
            extract(&plain, &Limits::default()),
            Err(ExtractError::Unsupported(_))
        ));
        let zeros = vec![b' '; 4 * 1024 * 1024];
        let bomb = zip_of(&[("word/document.xml", &zeros)]);
        assert!(matches!(
            extract(&bomb, &Limits::default()),
            Err(ExtractError::TooLarge(_))
        ));
        let small = Limits {
            max_uncompressed_bytes: 300,
            ..Limits::default()
        };
        assert!(matches!(
            extract(&docx("<w:p/>"), &small),
            Err(ExtractError::TooLarge(_))
        ));
    }
}
