//! The templates of the TOTP pages.

use askama::Template;

use crate::console::pages::Who;
use crate::console::texts::Texts;

/// The holder's own page: whether the factor is set up, and the way to set it up or remove it.
#[derive(Template)]
#[template(path = "totp/status.html")]
pub struct StatusPage<'a> {
    pub t: &'a Texts,
    pub css: &'a str,
    pub who: Option<Who>,
    pub csrf: &'a str,
    pub enrolled: bool,
    pub required: bool,
    pub must_enrol: bool,
    pub notice: Option<&'a str>,
    pub message: Option<&'a str>,
}

/// The pending secret as a QR code (a `data:` URI of an SVG image) and as text, with the form
/// that confirms it.
#[derive(Template)]
#[template(path = "totp/enrol.html")]
pub struct EnrolPage<'a> {
    pub t: &'a Texts,
    pub css: &'a str,
    pub who: Option<Who>,
    pub csrf: &'a str,
    pub qr: &'a str,
    pub secret: &'a str,
    pub message: Option<&'a str>,
}

/// The login's second step.
#[derive(Template)]
#[template(path = "totp/code.html")]
pub struct CodePage<'a> {
    pub t: &'a Texts,
    pub css: &'a str,
    pub who: Option<Who>,
    pub csrf: &'a str,
    pub message: Option<&'a str>,
}
