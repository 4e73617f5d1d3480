//! PDFs built here with lopdf, so that encodings, kerning and limits are tested without
//! any external tool.

use domain::library::ExtractError;
use domain::ports::TextExtractor;
use ingest_docs::{Extractor, Limits};
use lopdf::content::{Content, Operation};
use lopdf::{Dictionary, Document, Object, Stream, dictionary};

fn build(fonts: Dictionary, pages: &[Vec<Operation>], compress: bool) -> Vec<u8> {
    build_with(|_| dictionary! { "Font" => fonts }, pages, compress)
}

/// `resources` may add indirect objects (streams must be indirect) to the document.
fn build_with(
    resources: impl FnOnce(&mut Document) -> Dictionary,
    pages: &[Vec<Operation>],
    compress: bool,
) -> Vec<u8> {
    let mut doc = Document::with_version("1.5");
    let resources = resources(&mut doc);
    let pages_id = doc.new_object_id();
    let resources_id = doc.add_object(resources);
    let mut kids = Vec::new();
    for ops in pages {
        let mut stream = Stream::new(
            dictionary! {},
            Content {
                operations: ops.clone(),
            }
            .encode()
            .unwrap(),
        );
        if compress {
            stream.compress().unwrap();
        }
        let content_id = doc.add_object(stream);
        let page_id = doc.add_object(dictionary! {
            "Type" => "Page", "Parent" => pages_id, "Contents" => content_id,
        });
        kids.push(page_id.into());
    }
    let count = kids.len() as i64;
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages", "Kids" => kids, "Count" => count, "Resources" => resources_id,
            "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
        }),
    );
    let catalog_id = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog_id);
    let mut out = Vec::new();
    doc.save_to(&mut out).unwrap();
    out
}

fn line(font: &str, x: i64, y: i64, shown: Object) -> Vec<Operation> {
    let op = if matches!(shown, Object::Array(_)) {
        "TJ"
    } else {
        "Tj"
    };
    vec![
        Operation::new("BT", vec![]),
        Operation::new("Tf", vec![font.into(), 12.into()]),
        Operation::new("Td", vec![x.into(), y.into()]),
        Operation::new(op, vec![shown]),
        Operation::new("ET", vec![]),
    ]
}

fn text_of(bytes: &[u8]) -> String {
    let doc = Extractor::default()
        .extract("synthetic.pdf", bytes)
        .unwrap();
    doc.blocks
        .iter()
        .map(|b| b.text.as_str())
        .collect::<Vec<_>>()
        .join("\n--\n")
}

fn bytes(b: &[u8]) -> Object {
    Object::String(b.to_vec(), lopdf::StringFormat::Literal)
}

#[test]
fn standard_encodings_keep_portuguese_accents() {
    let fonts = dictionary! {
        "F1" => dictionary! { "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica", "Encoding" => "WinAnsiEncoding" },
        "F2" => dictionary! { "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Times-Roman", "Encoding" => "MacRomanEncoding" },
    };
    let mut ops = line("F1", 72, 700, bytes(b"cora\xe7\xe3o e aten\xe7\xe3o"));
    // MacRoman: ç = 0x8D, ã = 0x8B, ô = 0x99.
    ops.extend(line("F2", 72, 686, bytes(b"a\x8D\x8Bo no \x99nibus")));
    assert_eq!(
        text_of(&build(fonts, &[ops], true)),
        "coração e atenção\nação no ônibus"
    );
}

#[test]
fn kerning_and_positioning_make_or_omit_spaces() {
    let fonts = dictionary! {
        "F1" => dictionary! { "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica", "Encoding" => "WinAnsiEncoding" },
    };
    // Small adjustments are kerning inside a word; a large one is a word gap.
    let tj = Object::Array(vec![
        bytes(b"Resp"),
        (-30).into(),
        bytes(b"irar"),
        (-400).into(),
        bytes(b"fundo"),
    ]);
    let mut ops = line("F1", 72, 700, tj);
    // Two runs placed apart by Td on the same baseline are two words.
    ops.extend(line("F1", 72, 686, bytes(b"sem")));
    ops.extend(line("F1", 100, 686, bytes(b"pressa")));
    assert_eq!(
        text_of(&build(fonts, &[ops], false)),
        "Respirar fundo\nsem pressa"
    );
}

const CMAP: &str = "/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n\
/CMapName /Test-UCS def /CMapType 2 def\n\
1 begincodespacerange <0000> <FFFF> endcodespacerange\n\
9 beginbfchar\n<0001> <0063>\n<0002> <006F>\n<0003> <0072>\n<0004> <0061>\n<0005> <00E7>\n\
<0006> <00E3>\n<0007> <FB01>\n<0008> <006D>\n<0009> <0020>\nendbfchar\n\
endcmap CMapName currentdict /CMap defineresource pop end end\n";

#[test]
fn identity_h_fonts_decode_through_to_unicode_and_expand_ligatures() {
    let fonts = |doc: &mut Document| {
        let to_unicode = doc.add_object(Stream::new(dictionary! {}, CMAP.as_bytes().to_vec()));
        let fonts = dictionary! {
        "F1" => dictionary! {
            "Type" => "Font", "Subtype" => "Type0", "BaseFont" => "ABCDEF+DejaVuSans",
            "Encoding" => "Identity-H",
            "DescendantFonts" => vec![Object::Dictionary(dictionary! {
                "Type" => "Font", "Subtype" => "CIDFontType2", "BaseFont" => "ABCDEF+DejaVuSans",
                "DW" => 600, "W" => vec![9.into(), vec![Object::Integer(300)].into()],
            })],
            "ToUnicode" => to_unicode,
        },
        };
        dictionary! { "Font" => fonts }
    };
    let glyphs: Vec<u8> = [1u8, 2, 3, 4, 5, 6, 2, 9, 7, 8]
        .iter()
        .flat_map(|g| [0, *g])
        .collect();
    let ops = line(
        "F1",
        72,
        700,
        Object::String(glyphs, lopdf::StringFormat::Hexadecimal),
    );
    assert_eq!(text_of(&build_with(fonts, &[ops], true)), "coração fim");
}

#[test]
fn limits_on_pages_and_decompressed_content() {
    let fonts = dictionary! {
        "F1" => dictionary! { "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica" },
    };
    let page = line("F1", 72, 700, bytes(b"page"));
    let three = build(
        fonts.clone(),
        &[page.clone(), page.clone(), page.clone()],
        true,
    );
    let two_pages = Extractor::new(Limits {
        max_pages: 2,
        ..Limits::default()
    });
    assert!(matches!(
        two_pages.extract("a.pdf", &three),
        Err(ExtractError::TooLarge(_))
    ));
    let doc = Extractor::default().extract("a.pdf", &three).unwrap();
    assert_eq!(
        (doc.pages, doc.blocks.len(), doc.blocks[2].page),
        (3, 3, Some(3))
    );

    // A content stream that inflates far past the budget.
    let mut bomb = page.clone();
    bomb.push(Operation::new(
        "Tj",
        vec![Object::string_literal(vec![b' '; 8 << 20])],
    ));
    let bytes = build(fonts, &[bomb], true);
    assert!(bytes.len() < 1 << 20, "compressed bomb should be small");
    let tight = Extractor::new(Limits {
        max_uncompressed_bytes: 1 << 20,
        ..Limits::default()
    });
    assert!(matches!(
        tight.extract("bomb.pdf", &bytes),
        Err(ExtractError::TooLarge(_))
    ));
}

#[test]
fn text_inside_form_xobjects_is_read() {
    let resources = |doc: &mut Document| {
        let font = dictionary! { "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica", "Encoding" => "WinAnsiEncoding" };
        let inner = Content {
            operations: line("F9", 0, 0, bytes(b"dentro do formul\xe1rio")),
        };
        let mut form = Stream::new(
            dictionary! {
                "Type" => "XObject", "Subtype" => "Form",
                "BBox" => vec![0.into(), 0.into(), 500.into(), 100.into()],
                "Matrix" => vec![1.into(), 0.into(), 0.into(), 1.into(), 72.into(), 600.into()],
                "Resources" => dictionary! { "Font" => dictionary! { "F9" => font } },
            },
            inner.encode().unwrap(),
        );
        form.compress().unwrap();
        let form_id = doc.add_object(form);
        dictionary! { "Font" => dictionary! {}, "XObject" => dictionary! { "Fm1" => form_id } }
    };
    let ops = vec![
        Operation::new("q", vec![]),
        Operation::new("Do", vec!["Fm1".into()]),
        Operation::new("Q", vec![]),
    ];
    assert_eq!(
        text_of(&build_with(resources, &[ops], true)),
        "dentro do formulário"
    );
}
