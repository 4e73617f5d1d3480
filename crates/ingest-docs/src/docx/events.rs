//! WordprocessingML as a stream of reduced XML events (no DTDs, no entity expansion).

use domain::library::ExtractError;
use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};

pub(super) fn xml_error(part: &str, e: impl std::fmt::Display) -> ExtractError {
    ExtractError::Malformed(format!("{part}: {e}"))
}

pub(super) fn attr(e: &BytesStart, local: &str) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.local_name().as_ref() == local)
        .map(|a| {
            a.normalized_value(XmlVersion::Implicit1_0)
                .map(|v| v.into_owned())
                .unwrap_or_else(|_| a.value.to_string())
        })
}

/// One XML event reduced to what the walkers need.
pub(super) enum Ev {
    Open(String, BytesStart<'static>),
    Close(String),
    Text(String),
}

/// Drives `each` over the events of one part. A DTD is refused outright: Word never
/// writes one, and it is how entity-expansion bombs get in.
pub(super) fn walk(
    part: &str,
    xml: &str,
    mut each: impl FnMut(Ev) -> Result<(), ExtractError>,
) -> Result<(), ExtractError> {
    let mut reader = Reader::from_str(xml);
    loop {
        let ev = reader.read_event().map_err(|e| xml_error(part, e))?;
        match ev {
            Event::Start(e) => each(Ev::Open(e.local_name().as_ref().to_owned(), e.into_owned()))?,
            Event::Empty(e) => {
                let name = e.local_name().as_ref().to_owned();
                each(Ev::Open(name.clone(), e.into_owned()))?;
                each(Ev::Close(name))?;
            }
            Event::End(e) => each(Ev::Close(e.local_name().as_ref().to_owned()))?,
            Event::Text(t) => each(Ev::Text(t.xml10_content().into_owned()))?,
            Event::CData(t) => each(Ev::Text(t.into_inner().into_owned()))?,
            Event::GeneralRef(r) => {
                let c = match r.resolve_char_ref() {
                    Ok(Some(c)) => Some(c),
                    Ok(None) => match r.as_ref() {
                        "lt" => Some('<'),
                        "gt" => Some('>'),
                        "amp" => Some('&'),
                        "quot" => Some('"'),
                        "apos" => Some('\''),
                        // Custom entities are never expanded.
                        _ => None,
                    },
                    Err(_) => None,
                };
                if let Some(c) = c {
                    each(Ev::Text(c.to_string()))?;
                }
            }
            Event::DocType(_) => {
                return Err(ExtractError::Malformed(format!(
                    "{part} declares a DTD, which a Word document never does"
                )));
            }
            Event::Eof => return Ok(()),
            _ => {}
        }
    }
}
