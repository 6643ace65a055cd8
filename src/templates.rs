//! Phone templates: loaded and compiled once at start, rendered per request.
//!
//! The shipped templates (`phone-templates/`) are compiled into the binary; an optional override
//! directory replaces or adds files by the same relative path. Each vendor writes one output
//! format, and each format has its own handlebars registry with its own escape function, because
//! handlebars allows one escape function per registry and HTML escaping would corrupt `.cfg`
//! files. Triple braces skip escaping, so templates that use them are refused at load.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use handlebars::Handlebars;
use include_dir::{Dir, include_dir};
use serde::Serialize;

use crate::vendors;

static SHIPPED: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/phone-templates");

const EXTENSION: &str = ".hbs";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// `key = value` lines (Yealink .cfg): values can never carry a line break.
    KeyValue,
    /// XML: text and attribute values are XML-escaped.
    Xml,
}

impl Format {
    pub fn content_type(self) -> &'static str {
        match self {
            Format::KeyValue => "text/plain; charset=utf-8",
            Format::Xml => "application/xml",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("template {file}: {message}")]
    Invalid { file: String, message: String },
    #[error("template directory {dir}: {source}")]
    Io {
        dir: PathBuf,
        source: std::io::Error,
    },
    #[error("template {0} is used by the model table but does not exist")]
    Missing(String),
}

#[derive(Debug, thiserror::Error)]
#[error("rendering {name}: {message}")]
pub struct RenderError {
    pub name: String,
    pub message: String,
}

/// The templates in use, replaced whole by a reload: a request renders with the set it
/// started with, so a reload never drops a connection or mixes old and new files.
pub struct LiveTemplates {
    current: std::sync::RwLock<std::sync::Arc<Templates>>,
    override_dir: Option<PathBuf>,
    /// Bumped at every reload: files rendered with an older set are stale (render_cache.rs).
    revision: std::sync::atomic::AtomicU64,
}

impl LiveTemplates {
    pub fn load(override_dir: Option<&Path>) -> Result<LiveTemplates, TemplateError> {
        Ok(LiveTemplates {
            current: std::sync::RwLock::new(std::sync::Arc::new(Templates::load(override_dir)?)),
            override_dir: override_dir.map(Path::to_path_buf),
            revision: Default::default(),
        })
    }

    pub fn revision(&self) -> u64 {
        self.revision.load(std::sync::atomic::Ordering::SeqCst)
    }

    pub fn current(&self) -> std::sync::Arc<Templates> {
        self.current.read().expect("template lock").clone()
    }

    pub fn render<T: Serialize>(&self, name: &str, context: &T) -> Result<String, RenderError> {
        self.current().render(name, context)
    }

    /// Loads the shipped and override templates again; on any error the templates in use stay.
    pub fn reload(&self) -> Result<std::sync::Arc<Templates>, TemplateError> {
        let fresh = std::sync::Arc::new(Templates::load(self.override_dir.as_deref())?);
        *self.current.write().expect("template lock") = fresh.clone();
        self.revision
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Ok(fresh)
    }
}

/// Where a template comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    Shipped,
    Override,
}

pub struct Templates {
    key_value: Handlebars<'static>,
    xml: Handlebars<'static>,
    names: BTreeMap<String, Format>,
    origins: BTreeMap<String, Origin>,
    /// SHA-256 (hex) of every template's name, file and text: nodes of a site compare it.
    digest: String,
}

impl Templates {
    /// Loads the shipped templates and, if given, the admin's overrides; every template that
    /// the model table names must exist afterwards.
    pub fn load(override_dir: Option<&Path>) -> Result<Templates, TemplateError> {
        let mut sources = BTreeMap::new();
        collect_shipped(&SHIPPED, &mut sources);
        if let Some(dir) = override_dir {
            collect_dir(dir, dir, &mut sources)?;
        }
        let mut templates = Templates {
            key_value: registry(Format::KeyValue),
            xml: registry(Format::Xml),
            names: BTreeMap::new(),
            origins: BTreeMap::new(),
            digest: digest_of(&sources),
        };
        for (name, (file, source)) in sources {
            templates.register(&name, &file, &source)?;
            let origin = if file == format!("phone-templates/{name}{EXTENSION}") {
                Origin::Shipped
            } else {
                Origin::Override
            };
            templates.origins.insert(name, origin);
        }
        templates.check_model_table()?;
        Ok(templates)
    }

    fn register(&mut self, name: &str, file: &str, source: &str) -> Result<(), TemplateError> {
        let invalid = |message: String| TemplateError::Invalid {
            file: file.to_string(),
            message,
        };
        let vendor_id = name.split('/').next().unwrap_or_default();
        let vendor = vendors::by_id(vendor_id)
            .ok_or_else(|| invalid(format!("no vendor named {vendor_id:?} (first directory)")))?;
        if let Some(line) = unescaped_output_line(source) {
            return Err(invalid(format!(
                "line {line}: triple braces and {{{{& }}}} skip escaping and are not allowed"
            )));
        }
        // Hot-desk screens are XML whatever the vendor's config format.
        let format = if name.ends_with(".xml") || name.ends_with(".xhtml") {
            Format::Xml
        } else {
            vendor.format()
        };
        self.registry_mut(format)
            .register_template_string(name, source)
            .map_err(|e| invalid(describe_template_error(&e)))?;
        self.names.insert(name.to_string(), format);
        Ok(())
    }

    fn check_model_table(&self) -> Result<(), TemplateError> {
        for vendor in vendors::ALL {
            let used = vendor
                .models()
                .iter()
                .map(|row| row.template)
                .chain([vendor.default_device_template()])
                .chain(vendor.common_templates().iter().copied())
                .chain(vendor.hotdesk_screens().map(|screens| screens.template));
            for name in used {
                if !self.names.contains_key(name) {
                    return Err(TemplateError::Missing(name.to_string()));
                }
            }
        }
        Ok(())
    }

    pub fn render<T: Serialize>(&self, name: &str, context: &T) -> Result<String, RenderError> {
        let format = self.names.get(name).ok_or_else(|| RenderError {
            name: name.to_string(),
            message: "no such template".into(),
        })?;
        self.registry(*format)
            .render(name, context)
            .map_err(|e| RenderError {
                name: name.to_string(),
                message: e.to_string(),
            })
    }

    /// SHA-256 (hex) of the whole set, shipped and overrides.
    pub fn digest(&self) -> &str {
        &self.digest
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.names.keys().map(String::as_str)
    }

    /// Every template with its format and where it comes from.
    pub fn list(&self) -> Vec<(&str, Format, Origin)> {
        self.names
            .iter()
            .map(|(name, format)| (name.as_str(), *format, self.origins[name]))
            .collect()
    }

    fn registry(&self, format: Format) -> &Handlebars<'static> {
        match format {
            Format::KeyValue => &self.key_value,
            Format::Xml => &self.xml,
        }
    }

    fn registry_mut(&mut self, format: Format) -> &mut Handlebars<'static> {
        match format {
            Format::KeyValue => &mut self.key_value,
            Format::Xml => &mut self.xml,
        }
    }
}

fn registry(format: Format) -> Handlebars<'static> {
    let mut hb = Handlebars::new();
    hb.set_strict_mode(true);
    match format {
        Format::KeyValue => hb.register_escape_fn(escape_key_value),
        Format::Xml => hb.register_escape_fn(escape_xml),
    }
    hb
}

/// Input validation already refuses control characters; this is the second wall, so that no
/// value can ever start a new `key = value` line.
pub fn escape_key_value(value: &str) -> String {
    value
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '\u{2028}' | '\u{2029}'))
        .collect()
}

/// XML-escapes a value and drops characters XML 1.0 forbids (quick-xml passes them through).
pub fn escape_xml(value: &str) -> String {
    let legal: String = value.chars().filter(|c| !c.is_control()).collect();
    quick_xml::escape::escape(legal.as_str()).into_owned()
}

/// The 1-based line of the first `{{{` or `{{&`, if any.
fn unescaped_output_line(source: &str) -> Option<usize> {
    source
        .lines()
        .position(|line| line.contains("{{{") || line.contains("{{&") || line.contains("{{~{"))
        .map(|i| i + 1)
}

fn describe_template_error(e: &handlebars::TemplateError) -> String {
    match e.pos() {
        Some((line, column)) => format!("line {line}, column {column}: {}", e.reason()),
        None => e.reason().to_string(),
    }
}

/// Template name: the relative path without `.hbs` (`yealink/desk.cfg`).
fn template_name(relative: &str) -> Option<String> {
    relative.strip_suffix(EXTENSION).map(str::to_string)
}

fn collect_shipped(dir: &Dir<'static>, out: &mut BTreeMap<String, (String, String)>) {
    for file in dir.files() {
        let relative = file.path().to_string_lossy().replace('\\', "/");
        if let (Some(name), Some(text)) = (template_name(&relative), file.contents_utf8()) {
            out.insert(
                name,
                (format!("phone-templates/{relative}"), text.to_string()),
            );
        }
    }
    for sub in dir.dirs() {
        collect_shipped(sub, out);
    }
}

fn digest_of(sources: &BTreeMap<String, (String, String)>) -> String {
    let mut context = ring::digest::Context::new(&ring::digest::SHA256);
    for (name, (file, source)) in sources {
        for part in [name, file, source] {
            context.update(part.as_bytes());
            context.update(&[0]);
        }
    }
    crate::backup::hex(context.finish().as_ref())
}

fn collect_dir(
    root: &Path,
    dir: &Path,
    out: &mut BTreeMap<String, (String, String)>,
) -> Result<(), TemplateError> {
    let io = |source| TemplateError::Io {
        dir: dir.to_path_buf(),
        source,
    };
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(io)?
        .collect::<Result<_, _>>()
        .map_err(io)?;
    entries.sort_by_key(|e| e.path());
    for entry in entries {
        let path = entry.path();
        if entry.file_type().map_err(io)?.is_dir() {
            collect_dir(root, &path, out)?;
            continue;
        }
        let relative = path
            .strip_prefix(root)
            .unwrap_or(&path)
            .to_string_lossy()
            .replace('\\', "/");
        if let Some(name) = template_name(&relative) {
            let text = std::fs::read_to_string(&path).map_err(io)?;
            out.insert(name, (path.display().to_string(), text));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_templates_load() {
        let t = Templates::load(None).unwrap();
        assert!(t.names().any(|n| n == "yealink/desk.cfg"));
    }

    #[test]
    fn escapes() {
        assert_eq!(escape_key_value("a\r\nb = c\0"), "ab = c");
        assert_eq!(escape_xml("x&<y/>\"'\u{1}"), "x&amp;&lt;y/&gt;&quot;&apos;");
    }

    #[test]
    fn broken_override_names_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("yealink")).unwrap();
        std::fs::write(
            dir.path().join("yealink/desk.cfg.hbs"),
            "ok\nok\n{{#each lines}}\n",
        )
        .unwrap();
        let err = Templates::load(Some(dir.path())).err().unwrap().to_string();
        assert!(err.contains("yealink/desk.cfg.hbs"), "{err}");
        assert!(err.contains("line"), "{err}");
    }

    #[test]
    fn triple_braces_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("yealink")).unwrap();
        std::fs::write(
            dir.path().join("yealink/desk.cfg.hbs"),
            "a\nx = {{{raw}}}\n",
        )
        .unwrap();
        let err = Templates::load(Some(dir.path())).err().unwrap().to_string();
        assert!(err.contains("line 2"), "{err}");
    }

    #[test]
    fn unknown_vendor_directory_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("acme")).unwrap();
        std::fs::write(dir.path().join("acme/x.cfg.hbs"), "x").unwrap();
        assert!(Templates::load(Some(dir.path())).is_err());
    }
}
