//! What the model is told: the default supportive-psychology system prompt (pt-BR and en,
//! overridable per company by the platform admin) and how library passages are cited.

use crate::Locale;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

const PROMPT_PT_BR: &str = "\
Você é um assistente de apoio psicológico de uma plataforma de bem-estar. Responda em português do \
Brasil, com calor humano e linguagem simples.
Como você conversa:
- Primeiro acolha e valide o que a pessoa sente; só depois, se fizer sentido, ofereça sugestões.
- Prefira perguntas abertas a respostas prontas; ajude a pessoa a encontrar os próprios caminhos.
- Use os princípios da comunicação não violenta: observe sem julgar, nomeie sentimentos e \
necessidades, faça pedidos claros.
- Nunca faça diagnósticos, nunca prescreva medicamentos e não se apresente como psicólogo.
- Quando o sofrimento for intenso, persistente ou houver risco, recomende com delicadeza procurar um \
profissional de saúde mental; em emergência, o CVV (188, cvv.org.br) ou o SAMU (192).
- Baseie-se nos trechos da biblioteca quando forem relevantes e diga de qual fonte veio a ideia; se \
não souber, diga que não sabe.
- Seja breve: poucas frases, uma pergunta por vez.";

const PROMPT_EN: &str = "\
You are a psychological support assistant on a wellbeing platform. Answer in English, warmly and \
in plain words.
How you talk:
- First acknowledge and validate what the person feels; only then, if it helps, offer suggestions.
- Prefer open questions to ready-made answers; help the person find their own way.
- Use non-violent communication: observe without judging, name feelings and needs, make clear \
requests.
- Never diagnose, never prescribe medication, and do not present yourself as a psychologist.
- When distress is intense, lasting or there is any risk, gently recommend a mental-health \
professional; in an emergency, call or text 988 (US) or the local emergency number.
- Ground your answer in the library passages when relevant and say which source an idea came \
from; if you do not know, say so.
- Be brief: a few sentences, one question at a time.";

pub fn default_system_prompt(locale: Locale) -> &'static str {
    match locale {
        Locale::PtBr => PROMPT_PT_BR,
        Locale::En => PROMPT_EN,
    }
}

/// A library passage offered to the model and shown to the person as a source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Source {
    pub title: String,
    pub page: Option<u32>,
    pub heading: Option<String>,
    pub text: String,
}

impl Source {
    /// `Title, p. 3` / `Title — Heading`, as cited to the person.
    pub fn citation(&self) -> String {
        let mut cite = self.title.clone();
        // A document's first heading is often its title: cite it once.
        if let Some(heading) = self.heading.as_ref().filter(|h| **h != self.title) {
            cite.push_str(" — ");
            cite.push_str(heading);
        }
        if let Some(page) = self.page {
            cite.push_str(&format!(", p. {page}"));
        }
        cite
    }
}

/// The system message: the prompt, then the numbered passages the model may draw on.
pub fn system_message(prompt: &str, sources: &[Source], locale: Locale) -> String {
    system_message_parts(prompt, sources, locale).concat()
}

/// [`system_message`] in pieces: the prompt, the passages' header, and for each passage its
/// numbered citation line and its text. A turn's passages are a new combination almost every
/// time, but each passage (and the prompt) recurs, so counting the pieces with a cached counter
/// tokenizes only what is new. Every piece but the first starts with a line break, where the
/// tokenizer splits anyway, so the pieces' counts add up to the whole message's, give or take
/// the few tokens that punctuation and line breaks at a seam would have shared (see the test).
pub fn system_message_parts<'a>(
    prompt: &'a str,
    sources: &'a [Source],
    locale: Locale,
) -> Vec<Cow<'a, str>> {
    let mut parts = vec![Cow::Borrowed(prompt)];
    if sources.is_empty() {
        return parts;
    }
    parts.push(Cow::Borrowed(match locale {
        Locale::PtBr => "\n\nTrechos da biblioteca que podem ajudar (cite a fonte pelo número):",
        Locale::En => "\n\nLibrary passages that may help (cite the source by number):",
    }));
    for (i, source) in sources.iter().enumerate() {
        parts.push(Cow::Owned(format!(
            "\n\n[{}] {}\n",
            i + 1,
            source.citation()
        )));
        parts.push(Cow::Borrowed(&source.text));
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn citations_and_system_message() {
        let source = Source {
            title: "Sono e ansiedade".into(),
            page: Some(3),
            heading: Some("Higiene do sono".into()),
            text: "Manter horários regulares ajuda.".into(),
        };
        assert_eq!(
            source.citation(),
            "Sono e ansiedade — Higiene do sono, p. 3"
        );
        let msg = system_message("P", std::slice::from_ref(&source), Locale::PtBr);
        assert!(msg.starts_with("P\n\nTrechos"));
        assert!(msg.contains("[1] Sono e ansiedade"));
        assert_eq!(system_message("P", &[], Locale::En), "P");
        assert!(default_system_prompt(Locale::PtBr).contains("CVV"));
        assert!(default_system_prompt(Locale::En).contains("988"));
    }
}
