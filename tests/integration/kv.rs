//! A strict parser for Yealink's `key = value` files, so tests compare what a phone would read
//! rather than text: the version line first, then only comments, blank lines, `key = value`
//! lines with well-formed keys, each key once, and (boot files) `include:config "file"` lines,
//! kept in order as `include:config[N]`.

use std::collections::BTreeMap;

pub fn parse(text: &str) -> Result<BTreeMap<String, String>, String> {
    let mut lines = text.split('\n');
    if lines.next() != Some("#!version:1.0.0.1") {
        return Err("first line must be #!version:1.0.0.1".into());
    }
    let mut map = BTreeMap::new();
    for (i, line) in lines.enumerate() {
        let n = i + 2;
        if line.contains('\r') || line.chars().any(|c| c.is_control()) {
            return Err(format!("line {n}: control character"));
        }
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(included) = line.strip_prefix("include:config ") {
            let file = included
                .strip_prefix('"')
                .and_then(|f| f.strip_suffix('"'))
                .filter(|f| !f.contains('"'))
                .ok_or_else(|| format!("line {n}: include without a quoted file"))?;
            let key = format!(
                "include:config[{}]",
                map.keys()
                    .filter(|k: &&String| k.starts_with("include:"))
                    .count()
            );
            map.insert(key, file.to_string());
            continue;
        }
        let (key, value) = line
            .split_once(" = ")
            .ok_or_else(|| format!("line {n}: not key = value: {line:?}"))?;
        let key_ok = !key.is_empty()
            && key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_');
        if !key_ok {
            return Err(format!("line {n}: malformed key {key:?}"));
        }
        if map.insert(key.to_string(), value.to_string()).is_some() {
            return Err(format!("line {n}: duplicate key {key}"));
        }
    }
    Ok(map)
}

#[test]
fn parser_is_strict() {
    assert!(parse("#!version:1.0.0.1\na = 1\n# c\n\nb.c_d = x y\n").is_ok());
    assert!(parse("a = 1\n").is_err());
    assert!(parse("#!version:1.0.0.1\na = 1\na = 2\n").is_err());
    assert!(parse("#!version:1.0.0.1\nnot a pair\n").is_err());
    assert!(parse("#!version:1.0.0.1\na b = 1\n").is_err());
    assert!(parse("#!version:1.0.0.1\na = 1\r\n").is_err());
}
