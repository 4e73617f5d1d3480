//! The offline responder: the model wired when no language model is configured. It answers with
//! the library passages the turn retrieved, quoted with their sources, and says plainly that no
//! language model is configured, so a fresh install can be tried end to end.

use domain::Locale;
use domain::model::{
    ChatRole, ModelError, ModelEvent, ModelRequest, ModelStream, RiskQuestion, RiskVerdict,
};
use domain::ports::ChatModel;
use domain::prompt::Source;
use domain::text::fold_words;

/// Passages quoted in one answer.
const QUOTED: usize = 3;
/// Longest quote, in characters; longer passages are cut at a sentence end.
const QUOTE_CHARS: usize = 600;

/// Stateless: the passages come with each request (the turn has already searched the library).
pub struct OfflineResponder;

impl OfflineResponder {
    /// The whole answer to `question`, quoting the first of `sources`, as the paragraphs it
    /// streams.
    pub fn answer(&self, question: &str, sources: &[Source]) -> Vec<String> {
        let locale = guess_locale(question);
        let sources = &sources[..sources.len().min(QUOTED)];
        let mut parts = vec![
            match (locale, sources.is_empty()) {
                (Locale::PtBr, false) => "Este servidor ainda não tem um modelo de linguagem configurado, então respondo com trechos da biblioteca que parecem ligados à sua mensagem:",
                (Locale::PtBr, true) => "Este servidor ainda não tem um modelo de linguagem configurado, e não encontrei na biblioteca trechos ligados à sua mensagem. Tente descrever o assunto com outras palavras (por exemplo: sono, ansiedade, estresse no trabalho, luto, comunicação).",
                (Locale::En, false) => "No language model is configured on this server yet, so here are passages from the library that seem related to your message:",
                (Locale::En, true) => "No language model is configured on this server yet, and I found no passages in the library related to your message. Try other words for the topic (for example: sleep, anxiety, stress at work, grief, communication).",
            }
            .to_string(),
        ];
        for source in sources {
            let label = match locale {
                Locale::PtBr => "Fonte",
                Locale::En => "Source",
            };
            parts.push(format!(
                "\n\n> {}\n— {label}: {}",
                quote(source),
                source.citation()
            ));
        }
        if !sources.is_empty() {
            parts.push(
                match locale {
                    Locale::PtBr => "\n\nSe o que você sente está intenso ou não passa, procure um profissional de saúde mental.",
                    Locale::En => "\n\nIf what you feel is intense or does not ease, please reach out to a mental-health professional.",
                }
                .to_string(),
            );
        }
        parts
    }
}

impl ChatModel for OfflineResponder {
    async fn stream(&self, request: ModelRequest) -> Result<ModelStream, ModelError> {
        let question = request
            .messages
            .iter()
            .rev()
            .find(|m| m.role == ChatRole::User)
            .map(|m| m.content.as_str())
            .unwrap_or_default();
        let events = self
            .answer(question, &request.sources)
            .into_iter()
            .map(|part| Ok(ModelEvent::Delta(part)))
            // No model ran, so there is no usage report: the turn is counted with the tokenizer.
            .chain(std::iter::once(Ok(ModelEvent::Done { usage: None })));
        Ok(Box::pin(futures::stream::iter(events)))
    }

    fn name(&self) -> String {
        "offline".into()
    }

    /// No model, no second opinion: the crisis screen's rules decide alone.
    async fn classify_risk(&self, _: &RiskQuestion) -> Result<RiskVerdict, ModelError> {
        Err(ModelError::Unavailable(
            "no language model is configured".into(),
        ))
    }
}

/// The passage text, cut after the last sentence that fits in [`QUOTE_CHARS`].
fn quote(source: &Source) -> String {
    let text = source.text.replace('\n', " ");
    if text.chars().count() <= QUOTE_CHARS {
        return text;
    }
    let cut: String = text.chars().take(QUOTE_CHARS).collect();
    match cut.rfind(['.', '!', '?']) {
        Some(end) if end > QUOTE_CHARS / 3 => cut[..=end].to_string(),
        _ => format!("{}…", cut.trim_end()),
    }
}

/// Portuguese unless the message reads as English (more English than Portuguese function words).
fn guess_locale(text: &str) -> Locale {
    const PT: &[&str] = &[
        "o", "a", "os", "as", "de", "do", "da", "que", "nao", "um", "uma", "para", "com", "eu",
        "meu", "minha", "estou", "como", "e", "por", "se", "muito", "mais",
    ];
    const EN: &[&str] = &[
        "the", "a", "an", "of", "to", "and", "i", "my", "is", "am", "are", "how", "what", "with",
        "for", "it", "not", "do", "can", "me", "in", "feel",
    ];
    let words = fold_words(text);
    let pt = words.iter().filter(|w| PT.contains(&w.as_str())).count();
    let en = words.iter().filter(|w| EN.contains(&w.as_str())).count();
    if en > pt { Locale::En } else { Locale::PtBr }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::model::ChatTurn;
    use futures::StreamExt;

    fn passage() -> Source {
        Source {
            title: "Sono e descanso".into(),
            page: Some(2),
            heading: None,
            text: "Manter horários regulares para dormir e acordar ajuda o corpo a regular o sono."
                .into(),
        }
    }

    #[tokio::test]
    async fn quotes_relevant_passages_with_sources_and_says_no_model_is_configured() {
        let request = ModelRequest {
            messages: vec![ChatTurn {
                role: ChatRole::User,
                content: "Não consigo dormir, o que faço com meu sono?".into(),
            }],
            sources: vec![passage(); 5],
            max_output_tokens: 100,
        };
        let events: Vec<_> = OfflineResponder
            .stream(request)
            .await
            .unwrap()
            .collect()
            .await;
        let text: String = events
            .iter()
            .filter_map(|e| match e {
                Ok(ModelEvent::Delta(t)) => Some(t.as_str()),
                _ => None,
            })
            .collect();
        assert!(text.contains("modelo de linguagem configurado"));
        assert!(text.contains("> Manter horários regulares"));
        assert!(text.contains("Fonte: Sono e descanso, p. 2"));
        // At most three of the turn's passages are quoted.
        assert_eq!(text.matches("Fonte:").count(), QUOTED);
        assert_eq!(events.last(), Some(&Ok(ModelEvent::Done { usage: None })));
    }

    #[test]
    fn says_so_when_nothing_matches_in_the_persons_language() {
        let answer = OfflineResponder
            .answer("How do I fix my bicycle?", &[])
            .concat();
        assert!(answer.contains("No language model is configured"));
        assert!(answer.contains("found no passages"));
    }

    #[test]
    fn long_passages_are_cut_at_a_sentence() {
        let long = Source {
            title: "T".into(),
            page: None,
            heading: None,
            text: "Uma frase curta e completa aqui. ".repeat(40),
        };
        let q = quote(&long);
        assert!(q.len() <= QUOTE_CHARS && q.ends_with('.'));
    }
}
