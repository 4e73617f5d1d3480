//! Resource dictionaries: which font a name means on a page or inside a form XObject, and
//! which form XObjects can be drawn from there.

use lopdf::{Dictionary, Document, Object, ObjectId, Stream};
use std::collections::{HashMap, HashSet};

/// Forms nested deeper than this are not followed (real files use one or two levels).
pub(super) const MAX_FORM_DEPTH: usize = 8;
/// Distinct forms whose fonts are collected per document.
const MAX_FORMS: usize = 10_000;

pub(super) type FontIndex = HashMap<*const Dictionary, usize>;

fn deref<'d>(doc: &'d Document, o: &'d Object) -> &'d Object {
    doc.dereference(o).map(|(_, o)| o).unwrap_or(o)
}

pub(super) fn sub_dict<'d>(
    doc: &'d Document,
    dict: &'d Dictionary,
    key: &[u8],
) -> Option<&'d Dictionary> {
    dict.get(key)
        .ok()
        .and_then(|o| deref(doc, o).as_dict().ok())
}

/// Every font dictionary met, each once, in the order first met.
#[derive(Default)]
pub(super) struct FontTable<'d> {
    pub fonts: Vec<&'d Dictionary>,
    pub index: FontIndex,
    forms_seen: HashSet<ObjectId>,
}

impl<'d> FontTable<'d> {
    pub(super) fn add(&mut self, font: &'d Dictionary) -> usize {
        let next = self.fonts.len();
        let i = *self.index.entry(std::ptr::from_ref(font)).or_insert(next);
        if i == next {
            self.fonts.push(font);
        }
        i
    }

    /// Registers the fonts of the forms reachable from `xobjects`, recursively.
    pub(super) fn add_forms(&mut self, doc: &'d Document, xobjects: &'d Dictionary, depth: usize) {
        if depth >= MAX_FORM_DEPTH {
            return;
        }
        for (_, value) in xobjects.iter() {
            let Object::Reference(id) = value else {
                continue;
            };
            if self.forms_seen.len() >= MAX_FORMS || !self.forms_seen.insert(*id) {
                continue;
            }
            let resources = form(doc, value).and_then(|s| sub_dict(doc, &s.dict, b"Resources"));
            let Some(resources) = resources else { continue };
            if let Some(fonts) = sub_dict(doc, resources, b"Font") {
                for (_, font) in fonts.iter() {
                    if let Ok(dict) = deref(doc, font).as_dict() {
                        self.add(dict);
                    }
                }
            }
            if let Some(inner) = sub_dict(doc, resources, b"XObject") {
                self.add_forms(doc, inner, depth + 1);
            }
        }
    }
}

/// The form XObject stream an entry of an `/XObject` dictionary points to, if it is one.
pub(super) fn form<'d>(doc: &'d Document, entry: &'d Object) -> Option<&'d Stream> {
    let stream = deref(doc, entry).as_stream().ok()?;
    let subtype = stream.dict.get(b"Subtype").and_then(Object::as_name).ok()?;
    (subtype == b"Form").then_some(stream)
}

/// Font names of a resource dictionary, resolved against the fonts registered beforehand.
pub(super) fn font_names(
    doc: &Document,
    resources: &Dictionary,
    index: &FontIndex,
) -> HashMap<Vec<u8>, usize> {
    let mut names = HashMap::new();
    if let Some(fonts) = sub_dict(doc, resources, b"Font") {
        for (name, font) in fonts.iter() {
            let dict = deref(doc, font).as_dict().ok();
            if let Some(&i) = dict.and_then(|d| index.get(&std::ptr::from_ref(d))) {
                names.insert(name.clone(), i);
            }
        }
    }
    names
}

/// The `/XObject` dictionary that applies to a page (its own resources or an ancestor's).
pub(super) fn page_xobjects(doc: &Document, page: ObjectId) -> Option<&Dictionary> {
    let (direct, referenced) = doc.get_page_resources(page).ok()?;
    direct
        .and_then(|d| sub_dict(doc, d, b"XObject"))
        .or_else(|| {
            referenced
                .iter()
                .find_map(|id| sub_dict(doc, doc.get_dictionary(*id).ok()?, b"XObject"))
        })
}
