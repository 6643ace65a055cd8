//! The screens a phone shows during login, described once and rendered in each vendor's XML
//! browser dialect by its `hotdesk` template.

use serde::Serialize;

use crate::app::App;
use crate::respond::HttpResponse;
use crate::vendors::HotdeskDialect;

/// One input of a form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    pub name: &'static str,
    pub label: &'static str,
    /// Shown as dots while typed.
    pub secret: bool,
}

pub const EXTENSION: Field = Field {
    name: "ext",
    label: "Extension",
    secret: false,
};
pub const PIN: Field = Field {
    name: "pin",
    label: "PIN",
    secret: true,
};
pub const OLD_PIN: Field = Field {
    name: "old",
    label: "Current PIN",
    secret: true,
};
pub const NEW_PIN: Field = Field {
    name: "new",
    label: "New PIN",
    secret: true,
};
pub const NEW_PIN_AGAIN: Field = Field {
    name: "again",
    label: "New PIN again",
    secret: true,
};

pub enum Screen {
    /// A form submitted to `url` with the fields as query parameters. `carried` are values
    /// typed on earlier screens, for browsers that show one field per screen.
    Input {
        title: &'static str,
        url: String,
        fields: Vec<Field>,
        carried: Vec<(&'static str, String)>,
    },
    Message {
        title: &'static str,
        text: String,
        /// The phone should fetch its config now (after a login or logout).
        reload: bool,
    },
    Menu {
        title: &'static str,
        items: Vec<(&'static str, String)>,
    },
}

#[derive(Serialize)]
struct FieldContext {
    label: &'static str,
    /// The query parameter name; on one-field browsers it carries earlier values in front
    /// (`ext=1001&pin`), which Snom puts in front of its input token.
    param: String,
    secret: bool,
}

#[derive(Serialize)]
struct MenuItem {
    label: &'static str,
    url: String,
}

#[derive(Serialize, Default)]
struct ScreenContext {
    input: bool,
    message: bool,
    menu: bool,
    title: &'static str,
    text: String,
    url: String,
    fields: Vec<FieldContext>,
    items: Vec<MenuItem>,
    reload: bool,
}

fn context(screen: Screen) -> ScreenContext {
    match screen {
        Screen::Input {
            title,
            url,
            fields,
            carried,
        } => {
            let prefix: String = carried
                .iter()
                .map(|(name, value)| format!("{name}={value}&"))
                .collect();
            ScreenContext {
                input: true,
                title,
                url,
                fields: fields
                    .iter()
                    .map(|f| FieldContext {
                        label: f.label,
                        param: format!("{prefix}{}", f.name),
                        secret: f.secret,
                    })
                    .collect(),
                ..ScreenContext::default()
            }
        }
        Screen::Message {
            title,
            text,
            reload,
        } => ScreenContext {
            message: true,
            title,
            text,
            reload,
            ..ScreenContext::default()
        },
        Screen::Menu { title, items } => ScreenContext {
            menu: true,
            title,
            items: items
                .into_iter()
                .map(|(label, url)| MenuItem { label, url })
                .collect(),
            ..ScreenContext::default()
        },
    }
}

/// The screen as the phone's browser wants it; plain text where the dialect is not known.
pub fn respond(
    app: &App,
    dialect: Option<HotdeskDialect>,
    status: http::StatusCode,
    screen: Screen,
) -> HttpResponse {
    let (body, content_type) = match dialect {
        Some(d) => match app.templates.render(d.screens.template, &context(screen)) {
            Ok(body) => (body, d.screens.content_type),
            Err(e) => {
                tracing::error!(error = %e, "hot-desk screen failed to render");
                return crate::respond::text(
                    http::StatusCode::INTERNAL_SERVER_ERROR,
                    "internal error\n",
                );
            }
        },
        None => (plain(screen), "text/plain; charset=utf-8"),
    };
    let mut response = HttpResponse::new(bytes::Bytes::from(body).into());
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static(content_type),
    );
    headers.insert(
        http::header::CACHE_CONTROL,
        http::HeaderValue::from_static("no-store"),
    );
    response
}

fn plain(screen: Screen) -> String {
    match screen {
        Screen::Message { title, text, .. } => format!("{title}\n{text}\n"),
        Screen::Input { title, .. } | Screen::Menu { title, .. } => format!("{title}\n"),
    }
}
