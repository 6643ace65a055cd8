//! The name of every kind of audit record in each language (`audit::Kind` names), for the
//! dashboard's security events and the audit trail.

pub static DE: &[(&str, &str)] = &[
    ("admin_auth_failure", "Falsches API-Token"),
    (
        "admin_blocked",
        "Adresse wegen falscher API-Tokens gesperrt",
    ),
    ("claim_contested", "Erstabruf angefochten"),
    ("config_refused", "Konfiguration verweigert"),
    ("model_mismatch", "Abweichendes Modell gemeldet"),
    ("certificate_mismatch", "Zertifikat passt nicht zum Gerät"),
    (
        "untrusted_certificate",
        "Nicht vertrauenswürdiges Zertifikat",
    ),
    ("source_banned", "Quelle gesperrt"),
    ("unknown_login_token", "Unbekannter Anmelde-Link"),
    ("login_failure", "Hot-Desk-Anmeldung fehlgeschlagen"),
    ("login_refused", "Hot-Desk-Anmeldung abgewiesen"),
    ("login_lockout", "Hot-Desk-Anmeldung vorübergehend gesperrt"),
    (
        "console_login_failure",
        "Anmeldung an der Verwaltung fehlgeschlagen",
    ),
    (
        "console_throttled",
        "Anmeldungen von einer Adresse gebremst",
    ),
    (
        "events_suppressed",
        "Gleichartige Ereignisse zusammengefasst",
    ),
    ("admin_change", "Änderung durch die Verwaltung"),
    ("device_claimed", "Gerät zugeordnet (Erstabruf)"),
    ("model_filled_in", "Modell beim Abruf eingetragen"),
    ("hotdesk_login", "Hot-Desk-Anmeldung"),
    ("hotdesk_logout", "Hot-Desk-Abmeldung"),
    ("pin_changed", "PIN geändert"),
    ("secret_read", "Geheimnis gelesen"),
    ("console_login", "Anmeldung an der Verwaltung"),
    ("console_logout", "Abmeldung von der Verwaltung"),
    ("password_changed", "Kennwort geändert"),
];

pub static EN: &[(&str, &str)] = &[
    ("admin_auth_failure", "Wrong API token"),
    ("admin_blocked", "Address blocked for wrong API tokens"),
    ("claim_contested", "Claim contested"),
    ("config_refused", "Config refused"),
    ("model_mismatch", "Another model reported"),
    (
        "certificate_mismatch",
        "Certificate does not match the device",
    ),
    ("untrusted_certificate", "Untrusted certificate"),
    ("source_banned", "Source banned"),
    ("unknown_login_token", "Unknown login link"),
    ("login_failure", "Hot-desk login failed"),
    ("login_refused", "Hot-desk login refused"),
    ("login_lockout", "Hot-desk logins locked for a while"),
    ("console_login_failure", "Console login failed"),
    (
        "console_throttled",
        "Console logins from an address throttled",
    ),
    ("events_suppressed", "Similar events summed up"),
    ("admin_change", "Change by an admin"),
    ("device_claimed", "Device claimed (first fetch)"),
    ("model_filled_in", "Model filled in at a fetch"),
    ("hotdesk_login", "Hot-desk login"),
    ("hotdesk_logout", "Hot-desk logout"),
    ("pin_changed", "PIN changed"),
    ("secret_read", "Secret read"),
    ("console_login", "Console login"),
    ("console_logout", "Console logout"),
    ("password_changed", "Password changed"),
];
