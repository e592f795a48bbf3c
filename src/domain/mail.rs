//! The emails the service sends, as plain text plus a simple HTML part. Each carries
//! at most the one single-use code it exists for, never a password, token or secret.

use super::events::EventKind;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// A verification code lives a day: people read mail later than they log in.
pub const VERIFY_TTL: i64 = 24 * 3600;

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn mail(to: &str, subject: &str, paragraphs: &[&str]) -> Mail {
    let mut html = String::from("<!doctype html><html><body>");
    for p in paragraphs {
        html.push_str("<p>");
        html.push_str(&escape(p));
        html.push_str("</p>");
    }
    html.push_str("</body></html>");
    Mail {
        to: to.to_owned(),
        subject: subject.to_owned(),
        text: paragraphs.join("\n\n") + "\n",
        html,
    }
}

/// Sent when an address is given (registration): the code proves it, once.
pub fn verification(to: &str, public_url: &str, code: &str) -> Mail {
    let link = format!("{public_url}/#verify_email={code}");
    mail(
        to,
        "Confirm your email address",
        &[
            "Someone (hopefully you) gave this address to an Edge Login account.",
            &format!("To confirm it, open {link} or enter this code: {code}"),
            "The code works once, for 24 hours. If this was not you, ignore this message.",
        ],
    )
}

/// A reset code lives half an hour: whoever can read the mailbox can use it.
pub const RESET_TTL: i64 = 30 * 60;

/// Sent on `POST /v1/password/forgot`: the code sets a new password, once; with 2FA on,
/// only together with a fresh second factor.
pub fn reset(to: &str, public_url: &str, username: &str, code: &str) -> Mail {
    let link = format!("{public_url}/#reset_password={code}");
    mail(
        to,
        "Reset your password",
        &[
            &format!("Someone (hopefully you) asked to reset the password of the Edge Login account {username}."),
            &format!("To choose a new one, open {link} or enter this code: {code}"),
            "The code works once, for 30 minutes, and signs you in nowhere: after the reset every session ends and you log in with the new password (and your second factor, if you use one). If this was not you, ignore this message; your password stays as it is.",
        ],
    )
}

/// The notice for a security event, if the event deserves one.
pub fn notice(to: &str, kind: EventKind, ip: Option<&str>) -> Option<Mail> {
    let what = match kind {
        EventKind::NewDeviceLogin => "A new device signed in to your account",
        EventKind::TotpEnabled => "An authenticator app was added as your second factor",
        EventKind::TotpDisabled => "Two-factor authentication was turned off",
        EventKind::RecoveryCodesRegenerated => "Your recovery codes were replaced",
        EventKind::RecoveryCodeUsed => "A recovery code was used to sign in",
        EventKind::PasswordChanged => "Your password was changed",
        EventKind::PasswordReset => "Your password was reset with a code sent to this address",
        EventKind::EmailVerified => "This address was confirmed for your account",
        EventKind::EmailChanged => "Your account's email address was changed to another one",
        EventKind::AccountDeleted => "Your account was deleted",
        _ => return None,
    };
    let from = ip.map_or(String::new(), |ip| format!(" (from {ip})"));
    Some(mail(
        to,
        what,
        &[
            &format!("{what}{from}."),
            "If this was you, there is nothing to do. If not, change your password and review your sessions and security events.",
        ],
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_links_reach_both_parts() {
        let m = verification("a@example.com", "https://login.example", "evc_abc");
        assert!(m
            .text
            .contains("https://login.example/#verify_email=evc_abc"));
        assert!(m.html.contains("evc_abc"));
        assert_eq!(m.to, "a@example.com");
    }

    #[test]
    fn a_reset_mail_names_the_account_and_carries_only_its_code() {
        let m = reset("a@example.com", "https://login.example", "olga", "rst_abc");
        assert!(m
            .text
            .contains("https://login.example/#reset_password=rst_abc"));
        assert!(m.text.contains("olga") && m.html.contains("rst_abc"));
        assert!(m.text.contains("30 minutes"));
        assert!(!m.text.contains("evc_"));
    }

    #[test]
    fn html_is_escaped_and_only_security_events_send_notices() {
        let n = notice(
            "a@example.com",
            EventKind::PasswordChanged,
            Some("<script>"),
        )
        .unwrap();
        assert!(n.html.contains("&lt;script&gt;") && !n.html.contains("<script>"));
        assert!(notice("a@example.com", EventKind::LoginFailed, None).is_none());
        assert!(notice("a@example.com", EventKind::LoginSucceeded, None).is_none());
    }
}
