//! HTML through html5ever's tokenizer: no tree is built, so memory stays linear in the
//! input and nesting is bounded by our own element stack.

use crate::Limits;
use crate::text::{Sections, clean_inline};
use domain::library::{DocFormat, ExtractError, ExtractedDocument};
use html5ever::TokenizerResult;
use html5ever::tendril::StrTendril;
use html5ever::tokenizer::states::RawKind;
use html5ever::tokenizer::{
    BufferQueue, Tag, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts,
};
use std::cell::RefCell;

/// Elements whose content is never shown as page text. (`head` is not one: its end tag
/// is optional, and what it holds is either hidden here or the title.)
const HIDDEN: &[&str] = &[
    "script", "style", "nav", "template", "noscript", "svg", "math", "textarea", "select",
    "iframe", "noembed", "noframes", "object",
];
/// Elements that never have content, or whose end tag is optional: not counted as nesting.
const UNNESTED: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
    "track", "wbr", "keygen", "p", "li", "dt", "dd", "tr", "td", "th", "option", "optgroup",
    "thead", "tbody", "tfoot", "colgroup", "caption", "rb", "rt", "rp", "html", "head", "body",
];
/// Elements that end the running paragraph.
const BLOCKS: &[&str] = &[
    "p",
    "div",
    "section",
    "article",
    "main",
    "header",
    "footer",
    "aside",
    "li",
    "ul",
    "ol",
    "dl",
    "dt",
    "dd",
    "table",
    "tr",
    "blockquote",
    "pre",
    "h4",
    "h5",
    "h6",
    "figure",
    "figcaption",
    "form",
    "address",
    "hr",
    "details",
    "summary",
    "fieldset",
    "legend",
    "body",
    "center",
];

#[derive(Default)]
struct State {
    sections: Option<Sections>,
    error: Option<ExtractError>,
    open: Vec<String>,
    hidden: usize,
    pre: usize,
    in_title: bool,
    title: String,
    first_h1: Option<String>,
    heading: Option<String>,
    paragraph: String,
    max_depth: usize,
}

struct Sink(RefCell<State>);

impl State {
    fn fail(&mut self, err: ExtractError) {
        if self.error.is_none() {
            self.error = Some(err);
        }
    }

    fn flush_paragraph(&mut self) {
        if self.paragraph.trim().is_empty() {
            self.paragraph.clear();
            return;
        }
        let para = std::mem::take(&mut self.paragraph);
        if let Some(Err(e)) = self.sections.as_mut().map(|s| s.paragraph(&para)) {
            self.fail(e);
        }
    }

    fn start(&mut self, tag: &Tag) -> TokenSinkResult<()> {
        let name: &str = &tag.name;
        if !UNNESTED.contains(&name) && !tag.self_closing {
            if self.open.len() >= self.max_depth {
                self.fail(ExtractError::Malformed(format!(
                    "HTML nested deeper than {} elements",
                    self.max_depth
                )));
                return TokenSinkResult::Continue;
            }
            self.open.push(name.to_owned());
        }
        if HIDDEN.contains(&name) {
            self.hidden += 1;
        }
        if self.hidden == 0 {
            if BLOCKS.contains(&name) {
                self.flush_paragraph();
            }
            match name {
                "br" => self.paragraph.push('\n'),
                "td" | "th" => self.paragraph.push('\t'),
                "pre" => self.pre += 1,
                "h1" | "h2" | "h3" => {
                    self.flush_paragraph();
                    self.heading = Some(String::new());
                }
                "title" => self.in_title = true,
                _ => {}
            }
        }
        match name {
            "script" => TokenSinkResult::RawData(RawKind::ScriptData),
            "style" | "xmp" | "iframe" | "noembed" | "noframes" | "noscript" => {
                TokenSinkResult::RawData(RawKind::Rawtext)
            }
            "title" | "textarea" => TokenSinkResult::RawData(RawKind::Rcdata),
            "plaintext" => TokenSinkResult::Plaintext,
            _ => TokenSinkResult::Continue,
        }
    }

    fn end(&mut self, tag: &Tag) {
        let name: &str = &tag.name;
        if let Some(pos) = self.open.iter().rposition(|n| n == name) {
            // Elements left open inside this one close with it, hidden ones included.
            for closed in self.open.drain(pos..) {
                if HIDDEN.contains(&closed.as_str()) {
                    self.hidden = self.hidden.saturating_sub(1);
                }
                if closed == "pre" {
                    self.pre = self.pre.saturating_sub(1);
                }
            }
        }
        match name {
            "title" => self.in_title = false,
            "h1" | "h2" | "h3" => {
                if let Some(h) = self.heading.take() {
                    let h = clean_inline(&h);
                    if name == "h1" && self.first_h1.is_none() && !h.is_empty() {
                        self.first_h1 = Some(h.clone());
                    }
                    if let Some(Err(e)) = self.sections.as_mut().map(|s| s.heading(&h)) {
                        self.fail(e);
                    }
                }
            }
            _ if self.hidden == 0 && BLOCKS.contains(&name) => self.flush_paragraph(),
            _ => {}
        }
    }

    fn characters(&mut self, text: &str) {
        if self.in_title {
            self.title.push_str(text);
        } else if self.hidden > 0 {
        } else if let Some(h) = self.heading.as_mut() {
            h.push_str(text);
        } else if self.pre > 0 {
            self.paragraph.push_str(text);
        } else {
            // Source line breaks are only spaces outside <pre>.
            self.paragraph
                .extend(text.chars().map(|c| if c == '\n' { ' ' } else { c }));
        }
    }
}

impl TokenSink for Sink {
    type Handle = ();

    fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
        let mut state = self.0.borrow_mut();
        if state.error.is_some() {
            return TokenSinkResult::Continue;
        }
        match token {
            Token::TagToken(tag) => match tag.kind {
                TagKind::StartTag => return state.start(&tag),
                TagKind::EndTag => state.end(&tag),
            },
            Token::CharacterTokens(text) => state.characters(&text),
            _ => {}
        }
        TokenSinkResult::Continue
    }
}

/// The page's encoding: BOM, then `<meta charset>` or `http-equiv` in the first bytes,
/// then UTF-8 if the bytes are valid UTF-8, else windows-1252 (what Latin-1 means on the web).
fn sniff_encoding(bytes: &[u8]) -> &'static encoding_rs::Encoding {
    if let Some((enc, _)) = encoding_rs::Encoding::for_bom(bytes) {
        return enc;
    }
    let head = bytes[..bytes.len().min(4096)].to_ascii_lowercase();
    let mut from = 0;
    while let Some(off) = find(&head[from..], b"<meta") {
        let start = from + off;
        let end = head[start..]
            .iter()
            .position(|&b| b == b'>')
            .map_or(head.len(), |e| start + e);
        let tag = &head[start..end];
        if let Some(c) = find(tag, b"charset") {
            let rest = &tag[c + 7..];
            let rest = rest.trim_ascii_start();
            if let Some(rest) = rest.strip_prefix(b"=") {
                let rest = rest.trim_ascii_start();
                let rest = rest
                    .strip_prefix(b"\"")
                    .or_else(|| rest.strip_prefix(b"'"))
                    .unwrap_or(rest);
                let label_end = rest
                    .iter()
                    .position(|&b| matches!(b, b'"' | b'\'' | b';' | b' ' | b'/' | b'>'))
                    .unwrap_or(rest.len());
                if let Some(enc) = encoding_rs::Encoding::for_label(&rest[..label_end]) {
                    // A page cannot really be UTF-16 if its meta tag was readable as ASCII.
                    return if enc == encoding_rs::UTF_16LE || enc == encoding_rs::UTF_16BE {
                        encoding_rs::UTF_8
                    } else {
                        enc
                    };
                }
            }
        }
        from = end;
    }
    if std::str::from_utf8(bytes).is_ok() {
        encoding_rs::UTF_8
    } else {
        encoding_rs::WINDOWS_1252
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

pub(crate) fn extract(bytes: &[u8], limits: &Limits) -> Result<ExtractedDocument, ExtractError> {
    let encoding = sniff_encoding(bytes);
    let (text, _, _) = encoding.decode(bytes);
    let sink = Sink(RefCell::new(State {
        sections: Some(Sections::new(limits)),
        max_depth: limits.max_html_depth,
        ..State::default()
    }));
    let tokenizer = Tokenizer::new(sink, TokenizerOpts::default());
    let queue = BufferQueue::default();
    queue.push_back(StrTendril::from(text.as_ref()));
    while let TokenizerResult::Script(()) = tokenizer.feed(&queue) {}
    tokenizer.end();
    let mut state = tokenizer.sink.0.into_inner();
    if let Some(h) = state.heading.take() {
        state.paragraph.push_str(&h);
    }
    state.flush_paragraph();
    if let Some(err) = state.error {
        return Err(err);
    }
    let title = Some(clean_inline(&state.title))
        .filter(|t| !t.is_empty())
        .or(state.first_h1);
    let blocks = state.sections.map(Sections::finish).unwrap_or_default();
    Ok(ExtractedDocument {
        title,
        format: DocFormat::Html,
        pages: 1,
        blocks,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text_of(html: &[u8]) -> (Option<String>, String) {
        let doc = extract(html, &Limits::default()).unwrap();
        let text = doc
            .blocks
            .iter()
            .map(|b| format!("[{}] {}", b.heading.clone().unwrap_or_default(), b.text))
            .collect::<Vec<_>>()
            .join("\n");
        (doc.title, text)
    }

    #[test]
    fn visible_text_with_headings_and_no_scripts() {
        let html = br#"<!doctype html><html><head><title>Sono &amp; sa&uacute;de</title>
            <style>p{color:red}</style><script>var x = "<p>no</p>";</script></head>
            <body><nav><a>Menu</a></nav><h1>Dormir bem</h1><p>Uma  rotina
            ajuda.<br>Sempre.</p><noscript>ligue o JS</noscript><template><p>x</p></template>
            <h2>Dicas</h2><ul><li>Luz baixa<li>Sem telas</ul><table><tr><td>a</td><td>b</td></tr></table></body></html>"#;
        let (title, text) = text_of(html);
        assert_eq!(title.as_deref(), Some("Sono & saúde"));
        assert_eq!(
            text,
            "[Dormir bem] Uma rotina ajuda.\nSempre.\n[Dicas] Luz baixa\n\nSem telas\n\na b"
        );
    }

    #[test]
    fn latin1_declared_and_sniffed() {
        let declared = b"<html><head><meta http-equiv='Content-Type' content='text/html; charset=iso-8859-1'></head><body><p>cora\xe7\xe3o</p>";
        assert!(text_of(declared).1.contains("coração"));
        let sniffed = b"<p>aten\xe7\xe3o</p>";
        assert!(text_of(sniffed).1.contains("atenção"));
    }

    #[test]
    fn head_and_body_end_tags_are_optional() {
        let (title, text) = text_of(b"<html><head><title>Sono</title><body><p>Durma bem.");
        assert_eq!(
            (title.as_deref(), text.as_str()),
            (Some("Sono"), "[] Durma bem.")
        );
    }

    #[test]
    fn deep_nesting_is_refused() {
        let html = "<div>".repeat(100_000);
        assert!(matches!(
            extract(html.as_bytes(), &Limits::default()),
            Err(ExtractError::Malformed(_))
        ));
    }
}
