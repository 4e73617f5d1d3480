//! Font decoding (bytes to Unicode) and glyph widths, which the layout needs to tell
//! where one word ends and the next begins.

use super::std_widths;
use lopdf::{Dictionary, Document, Encoding, Object};

fn num(o: &Object) -> Option<f64> {
    match o {
        Object::Integer(i) => Some(*i as f64),
        Object::Real(r) => Some(f64::from(*r)),
        _ => None,
    }
}

pub(super) fn number(o: &Object) -> Option<f64> {
    num(o).filter(|n| n.is_finite())
}

fn deref<'a>(doc: &'a Document, o: &'a Object) -> &'a Object {
    doc.dereference(o).map(|(_, o)| o).unwrap_or(o)
}

fn array<'a>(doc: &'a Document, dict: &'a Dictionary, key: &[u8]) -> Option<&'a Vec<Object>> {
    dict.get(key)
        .ok()
        .map(|o| deref(doc, o))
        .and_then(|o| o.as_array().ok())
}

fn dict<'a>(doc: &'a Document, o: &'a Object) -> Option<&'a Dictionary> {
    deref(doc, o).as_dict().ok()
}

/// A copy of a font dictionary in which `/ToUnicode`, when present, wins over `/Encoding`
/// (lopdf prefers `/Encoding`, but producers that write both mean the map to be used).
pub(super) fn prefer_to_unicode(font: &Dictionary) -> Dictionary {
    let mut copy = font.clone();
    if copy.has(b"ToUnicode") {
        copy.remove(b"Encoding");
    }
    copy
}

/// Everything needed to turn a shown string into text and an advance.
pub(super) struct Font<'a> {
    encoding: Option<Encoding<'a>>,
    /// Type0 fonts here use two-byte codes (Identity-H and the like).
    two_byte: bool,
    first_char: u32,
    widths: Vec<f64>,
    /// CID width ranges `(first, last, width)`, sorted by `first`.
    cid_widths: Vec<(u32, u32, f64)>,
    default_width: f64,
    /// Glyph-space to text-space scale (1/1000 except for Type3 fonts).
    scale: f64,
}

impl<'a> Font<'a> {
    pub(super) fn new(
        doc: &'a Document,
        original: &'a Dictionary,
        decoding: &'a Dictionary,
    ) -> Self {
        let encoding = decoding.get_font_encoding(doc).ok();
        let subtype = original
            .get(b"Subtype")
            .and_then(Object::as_name)
            .unwrap_or(b"");
        let two_byte = subtype == b"Type0";
        let base = original
            .get(b"BaseFont")
            .and_then(Object::as_name)
            .unwrap_or(b"");
        let mono = base.windows(7).any(|w| w.eq_ignore_ascii_case(b"courier"));
        let mut font = Font {
            encoding,
            two_byte,
            first_char: 0,
            widths: Vec::new(),
            cid_widths: Vec::new(),
            // Standard fonts may come without widths: an average advance keeps gaps sane.
            default_width: if mono { 600.0 } else { 500.0 },
            scale: 0.001,
        };
        if two_byte {
            font.default_width = 1000.0;
            let descendant = array(doc, original, b"DescendantFonts")
                .and_then(|a| a.first())
                .and_then(|o| dict(doc, o));
            if let Some(cid) = descendant {
                if let Some(dw) = cid.get(b"DW").ok().and_then(num) {
                    font.default_width = dw;
                }
                if let Some(w) = array(doc, cid, b"W") {
                    font.cid_widths = parse_cid_widths(doc, w);
                }
            }
        } else {
            font.first_char = original
                .get(b"FirstChar")
                .ok()
                .and_then(num)
                .map_or(0, |f| f.clamp(0.0, 255.0) as u32);
            if let Some(w) = array(doc, original, b"Widths") {
                font.widths = w
                    .iter()
                    .map(|o| num(deref(doc, o)).unwrap_or(0.0))
                    .collect();
            } else if let Some(table) = std_widths::for_base_font(base) {
                font.first_char = 0;
                font.widths = table.iter().map(|&w| f64::from(w)).collect();
            }
            let missing = original
                .get(b"FontDescriptor")
                .ok()
                .and_then(|o| dict(doc, o))
                .and_then(|d| d.get(b"MissingWidth").ok().and_then(num));
            if let Some(m) = missing.filter(|m| *m > 0.0) {
                font.default_width = m;
            }
            if subtype == b"Type3"
                && let Some(m) = array(doc, original, b"FontMatrix")
                    .and_then(|a| a.first())
                    .and_then(num)
            {
                font.scale = m;
            }
        }
        font
    }

    pub(super) fn two_byte(&self) -> bool {
        self.two_byte
    }

    /// Width of one code in text-space units per unit of font size.
    pub(super) fn width(&self, code: u32) -> f64 {
        let w = if self.two_byte {
            let i = self
                .cid_widths
                .partition_point(|(first, _, _)| *first <= code);
            match i.checked_sub(1).and_then(|i| self.cid_widths.get(i)) {
                Some((_, last, w)) if code <= *last => *w,
                _ => self.default_width,
            }
        } else {
            code.checked_sub(self.first_char)
                .and_then(|i| self.widths.get(i as usize))
                .copied()
                .filter(|w| *w > 0.0)
                .unwrap_or(self.default_width)
        };
        w * self.scale
    }

    pub(super) fn decode(&self, bytes: &[u8]) -> String {
        let decoded = self
            .encoding
            .as_ref()
            .and_then(|e| e.bytes_to_string(bytes).ok());
        match decoded {
            Some(s) => s
                .chars()
                .filter(|&c| c != '\u{FFFD}' && c != '\0')
                .collect(),
            // An unknown simple encoding is nearly always a Latin one.
            None if !self.two_byte => bytes.iter().map(|&b| char::from(b)).collect(),
            None => String::new(),
        }
    }
}

/// Parses a CIDFont `/W` array: `c [w1 w2 …]` and `c_first c_last w` entries.
fn parse_cid_widths(doc: &Document, w: &[Object]) -> Vec<(u32, u32, f64)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < w.len() {
        let Some(first) = num(deref(doc, &w[i])) else {
            break;
        };
        let first = first.max(0.0) as u32;
        match w.get(i + 1).map(|o| deref(doc, o)) {
            Some(Object::Array(ws)) => {
                for (k, o) in ws.iter().enumerate() {
                    let code = first.saturating_add(k as u32);
                    out.push((code, code, num(deref(doc, o)).unwrap_or(0.0)));
                }
                i += 2;
            }
            Some(last) => {
                let (Some(last), Some(width)) =
                    (num(last), w.get(i + 2).and_then(|o| num(deref(doc, o))))
                else {
                    break;
                };
                out.push((first, last.max(0.0) as u32, width));
                i += 3;
            }
            None => break,
        }
    }
    out.sort_by_key(|(first, _, _)| *first);
    out
}
