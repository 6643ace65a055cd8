//! Host names, `host:port` proxies and http(s) URLs as settings hold them: checked, so nothing
//! that could end a config value or a line reaches a template.

use super::InvalidInput;

/// `host:port` or `[v6]:port` split; `None` when no port is given.
pub fn split_host_port(value: &str) -> Option<(&str, u16)> {
    if let Some(rest) = value.strip_prefix('[') {
        let (host, port) = rest.split_once("]:")?;
        return Some((host, port.parse().ok()?));
    }
    let (host, port) = value.split_once(':')?;
    if host.contains(':') || port.contains(':') {
        return None;
    }
    Some((host, port.parse().ok()?))
}

/// `host`, `host:port` or `[v6]:port`, the host lower-cased.
pub fn parse_proxy(field: &'static str, value: &str) -> Result<String, InvalidInput> {
    let invalid = || InvalidInput::new(field, "must be host, host:port or [IPv6]:port");
    let has_port = value.starts_with('[') || value.matches(':').count() == 1;
    if !has_port {
        return parse_host(field, value);
    }
    let (host, port) = split_host_port(value).ok_or_else(invalid)?;
    if port == 0 {
        return Err(invalid());
    }
    let host = parse_host(field, host)?;
    Ok(if value.starts_with('[') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    })
}

/// An http(s) URL of URL characters only: nothing that could end a config value or a line.
pub fn parse_url(field: &'static str, value: &str) -> Result<String, InvalidInput> {
    let lower = value.to_ascii_lowercase();
    let scheme_ok = lower.starts_with("https://") || lower.starts_with("http://");
    let allowed = |b: u8| b.is_ascii_alphanumeric() || b"-._~:/?#[]@!$&()*+,;=%".contains(&b);
    if !scheme_ok || value.len() > 512 || !value.bytes().all(allowed) {
        return Err(InvalidInput::new(
            field,
            "must be an http:// or https:// URL of at most 512 URL characters",
        ));
    }
    let host = value.split("://").nth(1).unwrap_or("");
    if host.is_empty() || host.starts_with('/') {
        return Err(InvalidInput::new(field, "must name a host"));
    }
    let authority = host.split(['/', '?', '#']).next().unwrap_or("");
    if authority.contains('@') {
        // URLs in settings reach common files, which any phone (or anyone) may fetch.
        return Err(InvalidInput::new(
            field,
            "must not carry credentials (user:password@): the URL goes into files anyone may fetch",
        ));
    }
    Ok(value.to_string())
}

/// A DNS name, IPv4 address or bracket-less IPv6 address: nothing that could end a config value.
pub fn parse_host(field: &'static str, value: &str) -> Result<String, InvalidInput> {
    let allowed = |b: u8| b.is_ascii_alphanumeric() || b"-.:_".contains(&b);
    if value.is_empty() || value.len() > 253 || !value.bytes().all(allowed) {
        return Err(InvalidInput::new(
            field,
            "must be a host name or IP address",
        ));
    }
    Ok(value.to_ascii_lowercase())
}
