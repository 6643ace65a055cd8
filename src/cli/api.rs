//! The admin API seen from the CLI: JSON over HTTPS with the admin token, and an error
//! message from every refused request.

use http::Method;
use serde_json::Value;

use crate::client::{Client, Reply};
use crate::config::Config;

pub struct Api {
    client: Client,
    token: String,
}

impl Api {
    /// Reads the token (DESKPROV_TOKEN, else the token file) and trusts the server's
    /// certificate; connects at the first request.
    pub fn connect(config: &Config) -> Result<Api, String> {
        let token = match std::env::var("DESKPROV_TOKEN") {
            Ok(token) if !token.trim().is_empty() => token.trim().to_string(),
            _ => read_token_file(config)?,
        };
        let mut address = config.server.admin_listen;
        if address.ip().is_unspecified() {
            address.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
        }
        let cert = config.server.certs_dir.join(crate::tls::CERT_FILE);
        let client =
            Client::trusting_file(address, "localhost", &cert).map_err(|e| e.to_string())?;
        Ok(Api { client, token })
    }

    /// A JSON request; `Err` with the server's message when it is refused. A list is
    /// followed to its last page.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Reply, String> {
        if method == Method::GET {
            return self.get_every_page(path).await;
        }
        let body = body.map(|b| serde_json::to_vec(&b).expect("JSON serialises"));
        self.send(method, path, "application/json", body).await
    }

    /// A list answer (`{"items": [...], "next": ...}`) followed to its last page (unless the
    /// path sets a limit), its items joined into one array; any other answer as it is.
    async fn get_every_page(&self, path: &str) -> Result<Reply, String> {
        let mut reply = self
            .send(Method::GET, path, "application/json", None)
            .await?;
        let mut page = reply.json();
        let Some(mut items) = page.get("items").and_then(Value::as_array).cloned() else {
            return Ok(reply);
        };
        let separator = if path.contains('?') { '&' } else { '?' };
        // An explicit limit asks for that many, one page.
        let follow = !path.contains("limit=");
        while let Some(next) = page.get("next").and_then(Value::as_str).filter(|_| follow) {
            let more = format!("{path}{separator}after={}", encode(next));
            page = self
                .send(Method::GET, &more, "application/json", None)
                .await?
                .json();
            let more_items = page.get("items").and_then(Value::as_array);
            items.extend(more_items.cloned().unwrap_or_default());
        }
        reply.body = serde_json::to_vec(&Value::Array(items))
            .expect("JSON serialises")
            .into();
        Ok(reply)
    }

    pub async fn send(
        &self,
        method: Method,
        path: &str,
        content_type: &str,
        body: Option<Vec<u8>>,
    ) -> Result<Reply, String> {
        let auth = format!("Bearer {}", self.token);
        let mut headers = vec![("authorization", auth.as_str())];
        if body.is_some() {
            headers.push(("content-type", content_type));
        }
        let reply = self
            .client
            .send(method, path, &headers, body)
            .await
            .map_err(|e| e.to_string())?;
        if reply.status.is_success() {
            Ok(reply)
        } else {
            Err(refusal(&reply))
        }
    }
}

fn read_token_file(config: &Config) -> Result<String, String> {
    let path = config.token_file();
    let token = std::fs::read_to_string(&path).map_err(|e| {
        format!(
            "reading the admin token from {}: {e} (or set DESKPROV_TOKEN)",
            path.display()
        )
    })?;
    Ok(token.trim().to_string())
}

/// The server's `{"error": ...}` (or its whole body) and the status code.
fn refusal(reply: &Reply) -> String {
    let message = reply
        .json()
        .get("error")
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| reply.text());
    format!("{} ({})", message, reply.status.as_u16())
}

/// Percent-encodes a path segment or a query value.
pub fn encode(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// `?k=v&...` of the pairs that have a value, values percent-encoded; empty when none has.
pub fn query_string(pairs: &[(&str, Option<String>)]) -> String {
    let encoded: Vec<String> = pairs
        .iter()
        .filter_map(|(key, value)| value.as_ref().map(|v| format!("{key}={}", encode(v))))
        .collect();
    if encoded.is_empty() {
        return String::new();
    }
    format!("?{}", encoded.join("&"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_string_skips_missing_values_and_encodes_the_rest() {
        assert_eq!(query_string(&[("a", None)]), "");
        assert_eq!(
            query_string(&[
                ("a", Some("x y".into())),
                ("b", None),
                ("c", Some("1".into()))
            ]),
            "?a=x%20y&c=1"
        );
    }
}
