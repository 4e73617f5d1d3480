//! Outgoing e-mail (invitations) over SMTP with lettre, when `SMTP_URL` is set. Without it the
//! invitation link is shown to the manager to pass on, so nothing depends on mail being set up.

use crate::settings::Settings;
use domain::Locale;
use lettre::message::{Mailbox, header::ContentType};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("SMTP_URL: {0}")]
    Config(String),
    #[error("SMTP_FROM: {0}")]
    From(String),
    #[error("invalid recipient address: {0}")]
    Recipient(String),
    #[error("the e-mail could not be sent: {0}")]
    Send(String),
}

pub enum Mailer {
    Disabled,
    /// Boxed: the transport is large and the mailer lives once per process.
    Smtp(Box<Smtp>),
}

pub struct Smtp {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Mailer {
    /// `smtp://user:pass@host:587?tls=required`, `smtps://host:465`, or empty for no e-mail.
    pub fn from_settings(settings: &Settings) -> Result<Mailer, MailError> {
        let Some(url) = &settings.smtp_url else {
            return Ok(Mailer::Disabled);
        };
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url.as_str())
            // The URL may hold a password: say what is wrong without repeating it.
            .map_err(|e| MailError::Config(format!("not a valid SMTP URL ({e})")))?
            .build();
        let from = settings
            .smtp_from
            .parse()
            .map_err(|e: lettre::address::AddressError| MailError::From(e.to_string()))?;
        Ok(Mailer::Smtp(Box::new(Smtp { transport, from })))
    }

    pub fn is_enabled(&self) -> bool {
        matches!(self, Mailer::Smtp(_))
    }

    /// Sends the invitation link to `to`, in `locale`. `Ok(false)` when e-mail is not set up.
    pub async fn send_invitation(
        &self,
        to: &str,
        company: &str,
        link: &str,
        locale: Locale,
    ) -> Result<bool, MailError> {
        let Mailer::Smtp(smtp) = self else {
            return Ok(false);
        };
        let Smtp { transport, from } = smtp.as_ref();
        let (subject, body) = invitation_text(company, link, locale);
        let message = Message::builder()
            .from(from.clone())
            .to(to
                .parse()
                .map_err(|e: lettre::address::AddressError| MailError::Recipient(e.to_string()))?)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(body)
            .map_err(|e| MailError::Send(e.to_string()))?;
        transport
            .send(message)
            .await
            .map_err(|e| MailError::Send(e.to_string()))?;
        Ok(true)
    }
}

fn invitation_text(company: &str, link: &str, locale: Locale) -> (String, String) {
    match locale {
        Locale::PtBr => (
            format!("Convite para o BOTPSICOLOGO — {company}"),
            format!(
                "Olá!\n\n{company} convidou você para usar o BOTPSICOLOGO, um assistente de apoio \
                 psicológico. Para criar sua conta, abra o link abaixo (vale por 7 dias e pode ser \
                 usado uma vez):\n\n{link}\n\nSuas conversas são privadas: nem a empresa nem os \
                 administradores podem lê-las.\n"
            ),
        ),
        Locale::En => (
            format!("Invitation to BOTPSICOLOGO — {company}"),
            format!(
                "Hello!\n\n{company} invited you to BOTPSICOLOGO, a supportive psychology \
                 assistant. To create your account, open the link below (valid for 7 days, once):\
                 \n\n{link}\n\nYour conversations are private: neither the company nor the admins \
                 can read them.\n"
            ),
        ),
    }
}
