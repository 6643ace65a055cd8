//! Reads back the XML formats whose repeated elements are told apart by an `ID`: Gigaset's
//! N510 `<SYMB_ITEM ID="...">` and Fanvil's old `<SIP_Line_List_Entry><ID>SIP1</ID>…`. Each
//! leaf becomes one `path = value` entry, an element named by its `ID` attribute or child
//! (`SYMB_ITEM[BS_IP_Data1.aucS_SIP_PASSWORD]@value`, `SIP_Line_List_Entry[SIP1]/Register_User`);
//! other attributes are `@name` entries. A key appearing twice is an error, as in `xmlflat`.

use std::collections::BTreeMap;

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

#[derive(Default)]
struct Element {
    name: String,
    attributes: Vec<(String, String)>,
    children: Vec<Element>,
    text: String,
}

pub fn flatten(xml: &str) -> Result<BTreeMap<String, String>, String> {
    let root = parse(xml)?;
    let mut map = BTreeMap::new();
    walk(&root, "", &mut map)?;
    Ok(map)
}

fn parse(xml: &str) -> Result<Element, String> {
    let mut reader = Reader::from_str(xml);
    let mut stack: Vec<Element> = Vec::new();
    let mut root = None;
    loop {
        match reader.read_event().map_err(|e| e.to_string())? {
            Event::Start(e) => stack.push(element(&e)?),
            Event::Empty(e) => {
                let leaf = element(&e)?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(leaf),
                    None => root = Some(leaf),
                }
            }
            Event::Text(t) => {
                let text = t.decode().map_err(|e| e.to_string())?;
                if let Some(open) = stack.last_mut() {
                    open.text.push_str(&text);
                }
            }
            Event::GeneralRef(r) => {
                let open = stack.last_mut().ok_or("reference outside the root")?;
                let name = r.decode().map_err(|e| e.to_string())?;
                open.text.push(match name.as_ref() {
                    "amp" => '&',
                    "lt" => '<',
                    "gt" => '>',
                    "quot" => '"',
                    "apos" => '\'',
                    other => return Err(format!("unknown entity &{other};")),
                });
            }
            Event::End(_) => {
                let done = stack.pop().ok_or("unbalanced end tag")?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(done),
                    None => root = Some(done),
                }
            }
            Event::DocType(_) => return Err("a DTD".into()),
            Event::Eof => break,
            _ => {}
        }
    }
    root.ok_or_else(|| "no root element".into())
}

fn element(e: &BytesStart<'_>) -> Result<Element, String> {
    let mut attributes = Vec::new();
    for attribute in e.attributes() {
        let attribute = attribute.map_err(|e| e.to_string())?;
        attributes.push((
            String::from_utf8_lossy(attribute.key.as_ref()).into_owned(),
            attribute
                .unescape_value()
                .map_err(|e| e.to_string())?
                .into_owned(),
        ));
    }
    Ok(Element {
        name: String::from_utf8_lossy(e.name().as_ref()).into_owned(),
        attributes,
        ..Element::default()
    })
}

/// The element's `ID` attribute, else the text of its `<ID>` child.
fn id(element: &Element) -> Option<String> {
    element
        .attributes
        .iter()
        .find(|(name, _)| name == "ID")
        .map(|(_, value)| value.clone())
        .or_else(|| {
            element
                .children
                .iter()
                .find(|child| child.name == "ID" && child.children.is_empty())
                .map(|child| child.text.trim().to_string())
        })
}

fn walk(element: &Element, parent: &str, map: &mut BTreeMap<String, String>) -> Result<(), String> {
    let segment = match id(element) {
        Some(id) => format!("{}[{id}]", element.name),
        None => element.name.clone(),
    };
    let key = if parent.is_empty() {
        segment
    } else {
        format!("{parent}/{segment}")
    };
    for (name, value) in element.attributes.iter().filter(|(name, _)| name != "ID") {
        insert(map, format!("{key}@{name}"), value.clone())?;
    }
    let children: Vec<&Element> = element.children.iter().filter(|c| c.name != "ID").collect();
    if children.is_empty() && element.attributes.is_empty() {
        insert(map, key.clone(), element.text.trim().to_string())?;
    } else if !element.text.trim().is_empty() {
        return Err(format!("{key}: text mixed with elements"));
    }
    for child in children {
        walk(child, &key, map)?;
    }
    Ok(())
}

fn insert(map: &mut BTreeMap<String, String>, key: String, value: String) -> Result<(), String> {
    match map.insert(key.clone(), value) {
        Some(_) => Err(format!("duplicate setting {key}")),
        None => Ok(()),
    }
}

#[test]
fn entries_are_named_by_their_id() {
    let map = flatten(
        r#"<?xml version="1.0"?><R><L><E><ID>SIP1</ID><U>a &amp; b</U></E><E><ID>SIP2</ID><U/></E></L><S ID="x.y" value='"v"'/></R>"#,
    )
    .unwrap();
    assert_eq!(map["R/L/E[SIP1]/U"], "a & b");
    assert_eq!(map["R/L/E[SIP2]/U"], "");
    assert_eq!(map["R/S[x.y]@value"], "\"v\"");
    assert!(
        flatten("<R><E><ID>1</ID></E><E><ID>1</ID></E></R>").is_err(),
        "duplicates"
    );
    assert!(
        flatten("<R><E><ID>1</ID><U/></E><E><ID>1</ID><U/></E></R>").is_err(),
        "duplicates"
    );
    assert!(
        flatten("<R><S ID=\"a\" v=\"1\"/><S ID=\"a\" v=\"2\"/></R>").is_err(),
        "duplicates"
    );
}
