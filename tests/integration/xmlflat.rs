//! Reads an XML config back the way a phone would see its settings: every leaf element and
//! every attribute becomes one `path = value` entry, elements named by their identifying
//! attributes (`user_name[idx=1]`, `param[name=SipAccount.00001.AuthName]`). A key appearing
//! twice is an error, so an injected duplicate setting fails as surely as an injected new one.
//! DTDs are refused: deskprov never writes one.

use std::collections::BTreeMap;

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

/// Attributes that name an element rather than configure it.
const IDENTIFYING: &[&str] = &["idx", "index", "name"];

struct Frame {
    key: String,
    text: String,
    has_children: bool,
}

pub fn flatten(xml: &str) -> Result<BTreeMap<String, String>, String> {
    let mut reader = Reader::from_str(xml);
    let mut stack: Vec<Frame> = Vec::new();
    let mut map = BTreeMap::new();
    let mut seen_root = false;
    loop {
        let event = reader
            .read_event()
            .map_err(|e| format!("at {}: {e}", reader.buffer_position()))?;
        if matches!(event, Event::Start(_) | Event::Empty(_)) && stack.is_empty() {
            if seen_root {
                return Err("more than one root element".into());
            }
            seen_root = true;
        }
        match event {
            Event::Start(e) => {
                let key = element_key(&stack, &e)?;
                attributes(&key, &e, &mut map)?;
                if let Some(parent) = stack.last_mut() {
                    parent.has_children = true;
                }
                stack.push(Frame {
                    key,
                    text: String::new(),
                    has_children: false,
                });
            }
            Event::Empty(e) => {
                let key = element_key(&stack, &e)?;
                let had_attributes = attributes(&key, &e, &mut map)?;
                if let Some(parent) = stack.last_mut() {
                    parent.has_children = true;
                }
                if !had_attributes {
                    insert(&mut map, key, String::new())?;
                }
            }
            Event::Text(t) => {
                let text = t.decode().map_err(|e| e.to_string())?;
                match stack.last_mut() {
                    Some(frame) => frame.text.push_str(&text),
                    None if text.trim().is_empty() => {}
                    None => return Err("text outside the root".into()),
                }
            }
            Event::CData(c) => {
                let frame = stack.last_mut().ok_or("CDATA outside the root")?;
                frame.text.push_str(&String::from_utf8_lossy(&c));
            }
            Event::GeneralRef(r) => {
                let frame = stack.last_mut().ok_or("reference outside the root")?;
                frame.text.push(resolve(&r)?);
            }
            Event::End(_) => {
                let frame = stack.pop().ok_or("unbalanced end tag")?;
                if !frame.has_children {
                    insert(&mut map, frame.key, frame.text.trim().to_string())?;
                } else if !frame.text.trim().is_empty() {
                    return Err(format!("{}: text mixed with elements", frame.key));
                }
            }
            Event::DocType(_) => return Err("a DTD".into()),
            Event::Eof => break,
            Event::Decl(_) | Event::Comment(_) | Event::PI(_) => {}
        }
    }
    if !stack.is_empty() {
        return Err("unclosed elements".into());
    }
    Ok(map)
}

/// The first element called `name`, tags included, as found by quick-xml: to flatten one
/// section of a config whose other parts repeat elements without identifying attributes
/// (Fanvil's old format names its list entries by an `<ID>` child).
pub fn element<'a>(xml: &'a str, name: &str) -> Option<&'a str> {
    let mut reader = Reader::from_str(xml);
    let mut start = None;
    let mut depth = 0usize;
    loop {
        let before = reader.buffer_position() as usize;
        match reader.read_event().ok()? {
            Event::Start(e) if start.is_none() && e.name().as_ref() == name.as_bytes() => {
                start = Some(before);
            }
            Event::Start(e) if e.name().as_ref() == name.as_bytes() => depth += 1,
            Event::Empty(e) if start.is_none() && e.name().as_ref() == name.as_bytes() => {
                return Some(&xml[before..reader.buffer_position() as usize]);
            }
            Event::End(e) if start.is_some() && e.name().as_ref() == name.as_bytes() => {
                if depth == 0 {
                    return Some(&xml[start?..reader.buffer_position() as usize]);
                }
                depth -= 1;
            }
            Event::Eof => return None,
            _ => {}
        }
    }
}

fn element_key(stack: &[Frame], e: &BytesStart<'_>) -> Result<String, String> {
    let name = String::from_utf8(e.name().as_ref().to_vec()).map_err(|e| e.to_string())?;
    let mut ids = Vec::new();
    for attribute in e.attributes() {
        let attribute = attribute.map_err(|e| e.to_string())?;
        let key = String::from_utf8_lossy(attribute.key.as_ref()).into_owned();
        let identifying = IDENTIFYING.contains(&key.as_str()) || (name == "oper" && key == "value");
        if identifying {
            ids.push(format!(
                "{key}={}",
                attribute.unescape_value().map_err(|e| e.to_string())?
            ));
        }
    }
    let segment = if ids.is_empty() {
        name
    } else {
        format!("{name}[{}]", ids.join(","))
    };
    Ok(match stack.last() {
        Some(parent) => format!("{}/{segment}", parent.key),
        None => segment,
    })
}

/// Inserts the non-identifying attributes; whether there were any.
fn attributes(
    key: &str,
    e: &BytesStart<'_>,
    map: &mut BTreeMap<String, String>,
) -> Result<bool, String> {
    let element = String::from_utf8_lossy(e.name().as_ref()).into_owned();
    let mut any = false;
    for attribute in e.attributes() {
        let attribute = attribute.map_err(|e| e.to_string())?;
        let name = String::from_utf8_lossy(attribute.key.as_ref()).into_owned();
        let identifying =
            IDENTIFYING.contains(&name.as_str()) || (element == "oper" && name == "value");
        if !identifying {
            let value = attribute
                .unescape_value()
                .map_err(|e| e.to_string())?
                .into_owned();
            insert(map, format!("{key}@{name}"), value)?;
            any = true;
        }
    }
    Ok(any)
}

fn resolve(r: &quick_xml::events::BytesRef<'_>) -> Result<char, String> {
    if r.is_char_ref() {
        return r
            .resolve_char_ref()
            .map_err(|e| e.to_string())?
            .ok_or_else(|| "bad character reference".into());
    }
    match r.decode().map_err(|e| e.to_string())?.as_ref() {
        "amp" => Ok('&'),
        "lt" => Ok('<'),
        "gt" => Ok('>'),
        "quot" => Ok('"'),
        "apos" => Ok('\''),
        other => Err(format!("unknown entity &{other};")),
    }
}

fn insert(map: &mut BTreeMap<String, String>, key: String, value: String) -> Result<(), String> {
    match map.insert(key.clone(), value) {
        Some(_) => Err(format!("duplicate setting {key}")),
        None => Ok(()),
    }
}

#[test]
fn flattener_is_strict() {
    let map = flatten(r#"<?xml version="1.0"?><settings><a idx="1" perm="R">x &amp; y</a><b v="1"/><c/></settings>"#).unwrap();
    assert_eq!(map["settings/a[idx=1]"], "x & y");
    assert_eq!(map["settings/a[idx=1]@perm"], "R");
    assert_eq!(map["settings/b@v"], "1");
    assert_eq!(map["settings/c"], "");
    assert!(flatten("<a><b>1</b><b>2</b></a>").is_err(), "duplicates");
    assert!(flatten("<a><b>1</a>").is_err(), "mismatched");
    assert!(
        flatten(r#"<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>"#).is_err(),
        "DTD"
    );
    assert!(flatten("<a/><b/>").is_err(), "two roots");
}
