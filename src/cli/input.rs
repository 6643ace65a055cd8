//! What the CLI reads from its user besides flags: secrets from standard input (never from
//! argv, where every user of the machine and the shell history see them), and the
//! confirmation of destructive commands.

use std::io::{self, BufRead, IsTerminal, Write};

/// The first line of standard input, without surrounding whitespace; `what` names it in an
/// error.
pub fn secret_line(what: &str) -> Result<String, String> {
    let mut line = String::new();
    io::stdin()
        .read_line(&mut line)
        .map_err(|e| format!("reading the {what} from standard input: {e}"))?;
    Ok(line.trim().to_string())
}

/// Tells, on standard error, that a secret given as `flag` on the command line is exposed.
pub fn warn_secret_in_argv(flag: &str, instead: &str) {
    eprintln!("warning: {flag} is visible in the process list and shell history; use {instead}");
}

/// Asks "`What`? [y/N]" when standard input is a terminal; otherwise only `yes` (--yes)
/// confirms. `what` is a lower-case action such as "delete 3 users".
pub fn confirm(what: &str, yes: bool) -> Result<(), String> {
    if yes {
        return Ok(());
    }
    let stdin = io::stdin();
    if !stdin.is_terminal() {
        return Err(format!(
            "refusing to {what} without confirmation: standard input is not a terminal; add --yes"
        ));
    }
    ask(what, &mut stdin.lock(), &mut io::stderr())
}

fn ask(what: &str, answer: &mut impl BufRead, prompt: &mut impl Write) -> Result<(), String> {
    let mut question = what.to_string();
    if let Some(first) = question.get_mut(..1) {
        first.make_ascii_uppercase();
    }
    write!(prompt, "{question}? [y/N] ")
        .and_then(|()| prompt.flush())
        .map_err(|e| e.to_string())?;
    let mut line = String::new();
    answer.read_line(&mut line).map_err(|e| e.to_string())?;
    match line.trim().to_ascii_lowercase().as_str() {
        "y" | "yes" => Ok(()),
        _ => Err("not confirmed; nothing was changed".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answered(text: &str) -> (Result<(), String>, String) {
        let mut prompt = Vec::new();
        let result = ask("delete 2 users", &mut text.as_bytes(), &mut prompt);
        (result, String::from_utf8(prompt).unwrap())
    }

    #[test]
    fn only_yes_confirms() {
        let (result, prompt) = answered("y\n");
        assert_eq!(prompt, "Delete 2 users? [y/N] ");
        assert!(result.is_ok());
        assert!(answered("YES\n").0.is_ok());
        for no in ["\n", "", "n\n", "no\n", "yy\n"] {
            let (result, _) = answered(no);
            assert!(result.unwrap_err().contains("not confirmed"), "{no:?}");
        }
    }

    #[test]
    fn yes_needs_no_terminal() {
        assert!(confirm("delete 2 users", true).is_ok());
    }
}
