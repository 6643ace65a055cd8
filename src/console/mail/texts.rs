//! The outbox page's words.

pub struct MailTexts {
    pub title: &'static str,
    pub not_configured: &'static str,
    pub intro: &'static str,
    pub none: &'static str,
    pub queued_at: &'static str,
    pub recipient: &'static str,
    pub user: &'static str,
    pub test_heading: &'static str,
    pub test_address: &'static str,
    pub test_send: &'static str,
    pub test_queued: &'static str,
    pub bad_address: &'static str,
    pub older: &'static str,
    pub newest: &'static str,
}

pub static DE: MailTexts = MailTexts {
    title: "E-Mail",
    not_configured: "Der Server hat keine Mail-Einstellungen ([mail] in der Konfigurationsdatei); es wird keine E-Mail gesendet.",
    intro: "Jede E-Mail des Servers mit ihrem Zustand, die neueste zuerst. Gesendete und fehlgeschlagene werden nach einigen Tagen entfernt.",
    none: "Noch keine E-Mail.",
    queued_at: "Eingereiht",
    recipient: "Empfänger",
    user: "Benutzer",
    test_heading: "Testnachricht",
    test_address: "Empfängeradresse",
    test_send: "Testnachricht senden",
    test_queued: "Testnachricht in die Warteschlange gestellt.",
    bad_address: "Das ist keine gültige E-Mail-Adresse; es wurde nichts gesendet.",
    older: "Ältere",
    newest: "Neueste",
};

pub static EN: MailTexts = MailTexts {
    title: "Mail",
    not_configured: "The server has no mail settings ([mail] in the config file); no mail is sent.",
    intro: "Every mail of the server with its state, newest first. Sent and failed ones are removed after some days.",
    none: "No mail yet.",
    queued_at: "Queued",
    recipient: "Recipient",
    user: "User",
    test_heading: "Test mail",
    test_address: "Recipient address",
    test_send: "Send test mail",
    test_queued: "Test mail queued.",
    bad_address: "That is not a valid e-mail address; nothing was sent.",
    older: "Older",
    newest: "Newest",
};
