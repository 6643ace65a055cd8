//! Every word the console shows, in German and in English. A page takes a `&Texts` and reads
//! its fields, so a text missing in one language does not compile; a test renders every page in
//! both and fails on visible text that is the same in both outside a short list of names.

/// The console's languages, in the order `Accept-Language` ties are broken.
pub const LANGUAGES: [&str; 2] = ["de", "en"];

pub struct Texts {
    pub lang: &'static str,
    /// The other language's code and its name in itself, for the switch.
    pub other_lang: &'static str,
    pub other_lang_name: &'static str,
    pub switch_language: &'static str,
    pub console: &'static str,
    pub skip_to_content: &'static str,
    pub main_menu: &'static str,
    pub log_in: &'static str,
    pub log_in_title: &'static str,
    pub username: &'static str,
    pub password: &'static str,
    pub login_refused: &'static str,
    pub login_throttled: &'static str,
    pub log_out: &'static str,
    pub logged_in_as: &'static str,
    pub dashboard: &'static str,
    pub change_password: &'static str,
    pub change_password_required: &'static str,
    pub current_password: &'static str,
    pub new_password: &'static str,
    pub repeat_password: &'static str,
    pub password_rules: &'static str,
    pub passwords_differ: &'static str,
    pub password_changed: &'static str,
    pub save: &'static str,
    pub devices: &'static str,
    pub registered: &'static str,
    pub never_seen: &'static str,
    pub seen_last_day: &'static str,
    pub claimed: &'static str,
    pub model_mismatches: &'static str,
    pub firmware_outdated: &'static str,
    pub unregistered_knocking: &'static str,
    pub users: &'static super::users::UsersTexts,
    pub accounts: &'static super::account_pages::AccountsTexts,
    pub users_total: &'static str,
    pub users_locked: &'static str,
    pub users_with_pin: &'static str,
    pub users_logged_in: &'static str,
    pub security_events: &'static str,
    pub no_security_events: &'static str,
    pub when: &'static str,
    pub event: &'static str,
    pub source: &'static str,
    pub subject: &'static str,
    pub role: &'static str,
    pub forbidden: &'static str,
    pub not_found: &'static str,
    pub bad_request: &'static str,
    pub session_expired: &'static str,
    pub back_to_dashboard: &'static str,
    pub password_wrong_current: &'static str,
    pub password_length: &'static str,
    pub password_contains_name: &'static str,
    pub password_control_characters: &'static str,
    pub password_unchanged: &'static str,
    pub error_heading: &'static str,
    /// The name of each kind of audit record.
    pub event_kinds: &'static [(&'static str, &'static str)],
    pub audit: &'static super::audit::AuditTexts,
    pub mail: &'static super::mail::MailTexts,
    pub keys: &'static super::keys::KeysTexts,
    pub import: &'static super::import::ImportTexts,
    pub settings: &'static super::settings::SettingsTexts,
    pub device_area: &'static super::devices::DevicesTexts,
    pub totp: &'static super::totp::TotpTexts,
}

impl Texts {
    /// What a kind of event is called in this language; its stored name if it has none.
    pub fn event_kind<'a>(&self, kind: &'a str) -> &'a str {
        self.event_kinds
            .iter()
            .find(|(name, _)| *name == kind)
            .map_or(kind, |(_, text)| text)
    }
}

pub static DE: Texts = Texts {
    audit: &super::audit::texts::DE,
    mail: &super::mail::texts::DE,
    keys: &super::keys::texts::DE,
    import: &super::import::texts::DE,
    settings: &super::settings::texts::DE,
    device_area: &super::devices::texts::DE,
    totp: &super::totp::texts::DE,
    lang: "de",
    other_lang: "en",
    other_lang_name: "English",
    switch_language: "Sprache",
    console: "Verwaltung",
    skip_to_content: "Zum Inhalt springen",
    main_menu: "Hauptmenü",
    log_in: "Anmelden",
    log_in_title: "Anmeldung an der Verwaltung",
    username: "Benutzername",
    password: "Kennwort",
    login_refused: "Benutzername oder Kennwort falsch.",
    login_throttled: "Zu viele Fehlversuche von dieser Adresse. Bitte später erneut versuchen.",
    log_out: "Abmelden",
    logged_in_as: "Angemeldet als",
    dashboard: "Übersicht",
    change_password: "Kennwort ändern",
    change_password_required: "Bitte zuerst ein eigenes Kennwort festlegen.",
    current_password: "Bisheriges Kennwort",
    new_password: "Neues Kennwort",
    repeat_password: "Neues Kennwort wiederholen",
    password_rules: "Mindestens 12 Zeichen, ohne den Benutzernamen.",
    passwords_differ: "Die beiden neuen Kennwörter stimmen nicht überein.",
    password_changed: "Kennwort geändert. Andere Sitzungen wurden beendet.",
    save: "Speichern",
    devices: "Geräte",
    registered: "Registriert",
    never_seen: "Noch nie gemeldet",
    seen_last_day: "In den letzten 24 Stunden gemeldet",
    claimed: "Zugeordnet (Erstabruf erfolgt)",
    model_mismatches: "Abweichendes Modell",
    firmware_outdated: "Veraltete Firmware",
    unregistered_knocking: "Unbekannte Telefone, die anfragen",
    users: &super::users::texts::DE,
    accounts: &super::account_pages::texts::DE,
    users_total: "Angelegt",
    users_locked: "Gesperrt",
    users_with_pin: "Mit PIN",
    users_logged_in: "An einem Hot-Desk-Telefon angemeldet",
    security_events: "Letzte Sicherheitsereignisse",
    no_security_events: "Keine Sicherheitsereignisse.",
    when: "Zeitpunkt",
    event: "Ereignis",
    source: "Quelle",
    subject: "Betrifft",
    role: "Rolle",
    forbidden: "Dafür fehlt Ihrer Rolle die Berechtigung.",
    not_found: "Diese Seite gibt es nicht.",
    bad_request: "Die Anfrage war ungültig; es wurde nichts geändert.",
    session_expired: "Ihre Sitzung ist abgelaufen. Bitte erneut anmelden.",
    back_to_dashboard: "Zurück zur Übersicht",
    password_wrong_current: "Das bisherige Kennwort ist falsch.",
    password_length: "Das neue Kennwort muss 12 bis 128 Zeichen lang sein.",
    password_contains_name: "Das neue Kennwort darf den Benutzernamen nicht enthalten.",
    password_control_characters: "Das neue Kennwort darf keine Steuerzeichen enthalten.",
    password_unchanged: "Das neue Kennwort muss sich vom bisherigen unterscheiden.",
    error_heading: "Nicht möglich",
    event_kinds: super::event_kinds::DE,
};

pub static EN: Texts = Texts {
    audit: &super::audit::texts::EN,
    mail: &super::mail::texts::EN,
    keys: &super::keys::texts::EN,
    import: &super::import::texts::EN,
    settings: &super::settings::texts::EN,
    device_area: &super::devices::texts::EN,
    totp: &super::totp::texts::EN,
    lang: "en",
    other_lang: "de",
    other_lang_name: "Deutsch",
    switch_language: "Language",
    console: "Console",
    skip_to_content: "Skip to content",
    main_menu: "Main menu",
    log_in: "Log in",
    log_in_title: "Log in to the console",
    username: "User name",
    password: "Password",
    login_refused: "Wrong user name or password.",
    login_throttled: "Too many failed attempts from this address. Please try again later.",
    log_out: "Log out",
    logged_in_as: "Logged in as",
    dashboard: "Dashboard",
    change_password: "Change password",
    change_password_required: "Please set a password of your own first.",
    current_password: "Current password",
    new_password: "New password",
    repeat_password: "Repeat the new password",
    password_rules: "At least 12 characters, not containing the user name.",
    passwords_differ: "The two new passwords differ.",
    password_changed: "Password changed. Other sessions were ended.",
    save: "Save",
    devices: "Devices",
    registered: "Registered",
    never_seen: "Never seen",
    seen_last_day: "Seen in the last 24 hours",
    claimed: "Claimed (first fetch done)",
    model_mismatches: "Model mismatches",
    firmware_outdated: "Outdated firmware",
    unregistered_knocking: "Unregistered phones knocking",
    users: &super::users::texts::EN,
    accounts: &super::account_pages::texts::EN,
    users_total: "Created",
    users_locked: "Locked",
    users_with_pin: "With a PIN",
    users_logged_in: "Logged in at a hot desk",
    security_events: "Latest security events",
    no_security_events: "No security events.",
    when: "When",
    event: "Event",
    source: "Source",
    subject: "Concerns",
    role: "Role",
    forbidden: "Your role may not do this.",
    not_found: "There is no such page.",
    bad_request: "The request was not valid; nothing was changed.",
    session_expired: "Your session has expired. Please log in again.",
    back_to_dashboard: "Back to the dashboard",
    password_wrong_current: "The current password is wrong.",
    password_length: "The new password must be 12 to 128 characters long.",
    password_contains_name: "The new password must not contain the user name.",
    password_control_characters: "The new password must not contain control characters.",
    password_unchanged: "The new password must differ from the current one.",
    error_heading: "Not possible",
    event_kinds: super::event_kinds::EN,
};

pub fn of(language: &str) -> &'static Texts {
    match language {
        "de" => &DE,
        _ => &EN,
    }
}

/// The console language an `Accept-Language` header prefers (by q-value, then order); English
/// when it names neither.
pub fn from_accept_language(header: Option<&str>) -> &'static str {
    let Some(header) = header else {
        return "en";
    };
    let mut best: Option<(f32, usize, &'static str)> = None;
    for (index, item) in header.split(',').take(32).enumerate() {
        let mut parts = item.trim().split(';');
        let tag = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let primary = tag.split('-').next().unwrap_or("");
        let Some(lang) = LANGUAGES.iter().find(|l| **l == primary) else {
            continue;
        };
        let q = parts
            .find_map(|p| p.trim().strip_prefix("q=").map(str::to_string))
            .and_then(|q| q.parse::<f32>().ok())
            .unwrap_or(1.0);
        if q <= 0.0 {
            continue;
        }
        let better = match best {
            None => true,
            Some((best_q, best_index, _)) => q > best_q || (q == best_q && index < best_index),
        };
        if better {
            best = Some((q, index, lang));
        }
    }
    best.map_or("en", |(_, _, lang)| lang)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_of_audit_record_has_a_name_in_both_languages() {
        for kind in crate::audit::Kind::ALL {
            for texts in [&DE, &EN] {
                assert_ne!(
                    texts.event_kind(kind.as_str()),
                    kind.as_str(),
                    "{kind:?} in {}",
                    texts.lang
                );
            }
        }
    }

    #[test]
    fn the_browsers_preference_picks_the_language() {
        assert_eq!(from_accept_language(Some("de-DE,de;q=0.9,en;q=0.8")), "de");
        assert_eq!(from_accept_language(Some("en-US,en;q=0.9,de;q=0.8")), "en");
        assert_eq!(from_accept_language(Some("fr-FR,de;q=0.5")), "de");
        assert_eq!(from_accept_language(Some("de;q=0.2,en;q=0.7")), "en");
        assert_eq!(from_accept_language(Some("de;q=0,fr")), "en");
        assert_eq!(from_accept_language(Some("")), "en");
        assert_eq!(from_accept_language(None), "en");
    }
}
