//! A content-stream interpreter that only follows text: where each shown string starts
//! and ends on the page, and what it says.

use super::fonts::{Font, number};
use super::resources::{self, FontIndex, MAX_FORM_DEPTH};
use lopdf::content::Content;
use lopdf::{Dictionary, Document, Object};
use std::collections::HashMap;

/// One shown string, placed in page space.
#[derive(Debug, Clone)]
pub(super) struct Run {
    pub x0: f64,
    pub x1: f64,
    pub y: f64,
    pub size: f64,
    pub text: String,
}

type Matrix = [f64; 6];
const IDENTITY: Matrix = [1.0, 0.0, 0.0, 1.0, 0.0, 0.0];
/// `q` nesting kept; deeper saves are ignored rather than grown without bound.
const MAX_SAVES: usize = 64;

fn mul(a: &Matrix, b: &Matrix) -> Matrix {
    [
        a[0] * b[0] + a[1] * b[2],
        a[0] * b[1] + a[1] * b[3],
        a[2] * b[0] + a[3] * b[2],
        a[2] * b[1] + a[3] * b[3],
        a[4] * b[0] + a[5] * b[2] + b[4],
        a[4] * b[1] + a[5] * b[3] + b[5],
    ]
}

fn translate(tx: f64, ty: f64) -> Matrix {
    [1.0, 0.0, 0.0, 1.0, tx, ty]
}

#[derive(Clone)]
struct GState {
    ctm: Matrix,
    font: Option<usize>,
    size: f64,
    char_spacing: f64,
    word_spacing: f64,
    h_scale: f64,
    leading: f64,
    rise: f64,
}

/// Where names resolve: the page's resources, or a form XObject's while it is drawn.
pub(super) struct Scope<'d> {
    pub fonts: HashMap<Vec<u8>, usize>,
    pub xobjects: Option<&'d Dictionary>,
}

/// What one page may still spend: operators run and bytes decompressed for its forms.
pub(super) struct Budget {
    pub ops: usize,
    pub bytes: usize,
}

pub(super) struct Interpreter<'f, 'd> {
    doc: &'d Document,
    fonts: &'f [Font<'d>],
    index: &'f FontIndex,
    scope: Scope<'d>,
    budget: Budget,
    bytes_at_start: usize,
    depth: usize,
    gs: GState,
    saved: Vec<GState>,
    tm: Matrix,
    tlm: Matrix,
    pub runs: Vec<Run>,
}

impl<'f, 'd> Interpreter<'f, 'd> {
    pub(super) fn new(
        doc: &'d Document,
        fonts: &'f [Font<'d>],
        index: &'f FontIndex,
        scope: Scope<'d>,
        budget: Budget,
    ) -> Self {
        Interpreter {
            doc,
            fonts,
            index,
            scope,
            bytes_at_start: budget.bytes,
            budget,
            depth: 0,
            gs: GState {
                ctm: IDENTITY,
                font: None,
                size: 0.0,
                char_spacing: 0.0,
                word_spacing: 0.0,
                h_scale: 1.0,
                leading: 0.0,
                rise: 0.0,
            },
            saved: Vec::new(),
            tm: IDENTITY,
            tlm: IDENTITY,
            runs: Vec::new(),
        }
    }

    /// Runs the operations of one content stream; a syntax error ends the stream but keeps
    /// the text read so far.
    pub(super) fn run(&mut self, content: &[u8]) {
        for op in Content::decode_iter(content) {
            let Ok(op) = op else { break };
            if self.budget.ops == 0 {
                break;
            }
            self.budget.ops -= 1;
            self.op(&op.operator, &op.operands);
        }
    }

    /// Bytes decompressed for forms so far.
    pub(super) fn bytes_spent(&self) -> usize {
        self.bytes_at_start.saturating_sub(self.budget.bytes)
    }

    /// Draws a form XObject: its content runs with its own matrix and resources, and the
    /// graphics state comes back as it was.
    fn form(&mut self, name: &[u8]) {
        if self.depth >= MAX_FORM_DEPTH {
            return;
        }
        let doc = self.doc;
        let entry = self.scope.xobjects.and_then(|x| x.get(name).ok());
        let Some(stream) = entry.and_then(|e| resources::form(doc, e)) else {
            return;
        };
        let content = if stream.dict.has(b"Filter") {
            match stream.decompressed_content_with_limit(self.budget.bytes) {
                Ok(content) => content,
                Err(_) => return,
            }
        } else {
            stream.content.clone()
        };
        self.budget.bytes = self.budget.bytes.saturating_sub(content.len());
        let form_matrix = stream
            .dict
            .get(b"Matrix")
            .ok()
            .and_then(|m| m.as_array().ok())
            .and_then(|a| matrix(a))
            .unwrap_or(IDENTITY);
        let inner = resources::sub_dict(doc, &stream.dict, b"Resources").map(|r| Scope {
            fonts: resources::font_names(doc, r, self.index),
            xobjects: resources::sub_dict(doc, r, b"XObject"),
        });
        let outer_scope = inner.map(|s| std::mem::replace(&mut self.scope, s));
        let (gs, saved, tm, tlm) = (
            self.gs.clone(),
            std::mem::take(&mut self.saved),
            self.tm,
            self.tlm,
        );
        self.gs.ctm = mul(&form_matrix, &self.gs.ctm);
        self.depth += 1;
        self.run(&content);
        self.depth -= 1;
        (self.gs, self.saved, self.tm, self.tlm) = (gs, saved, tm, tlm);
        if let Some(scope) = outer_scope {
            self.scope = scope;
        }
    }

    fn op(&mut self, operator: &str, args: &[Object]) {
        let n = |i: usize| args.get(i).and_then(number);
        match operator {
            "q" if self.saved.len() < MAX_SAVES => self.saved.push(self.gs.clone()),
            "Q" => {
                if let Some(gs) = self.saved.pop() {
                    self.gs = gs;
                }
            }
            "cm" => {
                if let Some(m) = matrix(args) {
                    self.gs.ctm = mul(&m, &self.gs.ctm);
                }
            }
            "BT" => {
                self.tm = IDENTITY;
                self.tlm = IDENTITY;
            }
            "Tf" => {
                self.gs.font = args
                    .first()
                    .and_then(|o| o.as_name().ok())
                    .and_then(|n| self.scope.fonts.get(n).copied());
                self.gs.size = n(1).unwrap_or(0.0);
            }
            "Tc" => self.gs.char_spacing = n(0).unwrap_or(0.0),
            "Tw" => self.gs.word_spacing = n(0).unwrap_or(0.0),
            "Tz" => self.gs.h_scale = n(0).unwrap_or(100.0) / 100.0,
            "TL" => self.gs.leading = n(0).unwrap_or(0.0),
            "Ts" => self.gs.rise = n(0).unwrap_or(0.0),
            "Td" => self.next_line(n(0).unwrap_or(0.0), n(1).unwrap_or(0.0)),
            "TD" => {
                let ty = n(1).unwrap_or(0.0);
                self.gs.leading = -ty;
                self.next_line(n(0).unwrap_or(0.0), ty);
            }
            "Tm" => {
                if let Some(m) = matrix(args) {
                    self.tm = m;
                    self.tlm = m;
                }
            }
            "T*" => self.next_line(0.0, -self.gs.leading),
            "Tj" => self.show_operand(args.first()),
            "'" => {
                self.next_line(0.0, -self.gs.leading);
                self.show_operand(args.first());
            }
            "\"" => {
                self.gs.word_spacing = n(0).unwrap_or(0.0);
                self.gs.char_spacing = n(1).unwrap_or(0.0);
                self.next_line(0.0, -self.gs.leading);
                self.show_operand(args.get(2));
            }
            "Do" => {
                if let Some(name) = args.first().and_then(|o| o.as_name().ok()) {
                    self.form(name);
                }
            }
            "TJ" => {
                let Some(Object::Array(items)) = args.first() else {
                    return;
                };
                for item in items {
                    match item {
                        Object::String(bytes, _) => self.show(bytes),
                        other => {
                            if let Some(adj) = number(other) {
                                let tx = -adj / 1000.0 * self.gs.size * self.gs.h_scale;
                                self.tm = mul(&translate(tx, 0.0), &self.tm);
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }

    fn next_line(&mut self, tx: f64, ty: f64) {
        self.tlm = mul(&translate(tx, ty), &self.tlm);
        self.tm = self.tlm;
    }

    fn show_operand(&mut self, arg: Option<&Object>) {
        if let Some(Object::String(bytes, _)) = arg {
            self.show(bytes);
        }
    }

    fn show(&mut self, bytes: &[u8]) {
        let Some(font) = self.gs.font.and_then(|i| self.fonts.get(i)) else {
            return;
        };
        let gs = &self.gs;
        let start = mul(&translate(0.0, gs.rise), &mul(&self.tm, &gs.ctm));
        let mut advance = 0.0;
        let mut add = |code: u32, single_byte_space: bool| {
            let spacing = gs.char_spacing
                + if single_byte_space {
                    gs.word_spacing
                } else {
                    0.0
                };
            advance += (font.width(code) * gs.size + spacing) * gs.h_scale;
        };
        if font.two_byte() {
            for pair in bytes.chunks(2) {
                let code = pair.iter().fold(0u32, |acc, &b| acc << 8 | u32::from(b));
                add(code, false);
            }
        } else {
            for &b in bytes {
                add(u32::from(b), b == b' ');
            }
        }
        self.tm = mul(&translate(advance, 0.0), &self.tm);
        let end = mul(&translate(0.0, gs.rise), &mul(&self.tm, &gs.ctm));
        let text = font.decode(bytes);
        if text.is_empty() {
            return;
        }
        let size = (gs.size * start[2].hypot(start[3])).abs();
        self.runs.push(Run {
            x0: start[4],
            x1: end[4],
            y: start[5],
            size: if size.is_finite() && size > 0.1 {
                size
            } else {
                1.0
            },
            text,
        });
    }
}

fn matrix(args: &[Object]) -> Option<Matrix> {
    if args.len() < 6 {
        return None;
    }
    let mut m = IDENTITY;
    for (slot, arg) in m.iter_mut().zip(args) {
        *slot = number(arg)?;
    }
    Some(m)
}
