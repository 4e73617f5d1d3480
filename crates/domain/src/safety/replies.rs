//! What the assistant says when the screen finds risk: warm, short, the emergency number first
//! when the danger is now, the crisis line, and the next steps (a safety plan, a grounding
//! exercise). In the language the person wrote in. Also the one check on a model's reply that
//! safe-messaging guidance asks for: no method content (doses, heights, means) after a crisis.

use super::phrase::Token;
use super::words::sentences;
use crate::Locale;

/// The crisis answer. `imminent`: the act is in progress or minutes away, so the emergency
/// number comes before anything else. `has_plan`: the person has saved a safety plan, which is
/// offered again.
pub fn crisis_reply(locale: Locale, imminent: bool, has_plan: bool) -> String {
    let (emergency, lines, plan, close) = match locale {
        Locale::PtBr => (
            "Se você está em perigo agora ou já se machucou: ligue 192 (SAMU) ou 193 (Bombeiros), \
ou vá ao pronto-socorro ou à UPA mais próxima. Se puder, peça para alguém ficar com você.",
            "Ligue 188 — CVV, Centro de Valorização da Vida: de graça, 24 horas por dia, ou \
converse pelo chat em cvv.org.br. Para continuar o cuidado: CAPS ou UBS da sua região.",
            if has_plan {
                "Você tem um plano de segurança: abra-o agora em /safety-plan e siga o primeiro passo que couber."
            } else {
                "Se quiser, podemos montar juntos um plano de segurança (/safety-plan), ou fazer um \
exercício curto de respiração (/grounding)."
            },
            "Sinto muito que você esteja passando por isso. O que você sente importa, e você não \
precisa enfrentar este momento sozinho(a). Estou aqui e podemos continuar conversando.",
        ),
        Locale::En => (
            "If you are in danger right now or have already hurt yourself: call 911 (US) or your \
local emergency number, or go to the nearest emergency room. If you can, ask someone to stay \
with you.",
            "Call or text 988 (Suicide & Crisis Lifeline, US), free, 24 hours a day, or chat at \
988lifeline.org. Outside the US, findahelpline.com lists free help lines in your country.",
            if has_plan {
                "You have a safety plan: open it now at /safety-plan and take the first step that fits."
            } else {
                "If you like, we can make a safety plan together (/safety-plan), or do a short \
breathing exercise (/grounding)."
            },
            "I'm really sorry you're going through this. What you feel matters, and you don't \
have to face this moment alone. I'm here, and we can keep talking.",
        ),
    };
    let mut parts = Vec::new();
    if imminent {
        parts.push(emergency);
        parts.push(lines);
        parts.push(close);
    } else {
        parts.push(close);
        parts.push(lines);
        parts.push(emergency);
    }
    parts.push(plan);
    parts.join("\n\n")
}

/// The answer to someone worried about another person at risk: how to help them, and that the
/// crisis lines also support the people around someone at risk.
pub fn someone_else_reply(locale: Locale) -> String {
    match locale {
        Locale::PtBr => "Que bom que você está atento(a) a essa pessoa; isso pode fazer muita \
diferença. Algumas coisas ajudam:

• Pergunte diretamente, com calma, se ela está pensando em se machucar ou em tirar a própria \
vida. Perguntar não coloca a ideia na cabeça de ninguém; abre espaço para ela falar.
• Escute sem julgar e sem tentar resolver tudo; diga que você se importa.
• Se houver remédios em excesso, armas ou outros meios por perto, ajude a afastá-los.
• Incentive a buscar ajuda e, se puder, acompanhe: CVV 188 (24 h, de graça; o CVV também \
atende quem está preocupado com alguém), CAPS ou UBS.
• Se ela estiver em perigo agora, ligue 192 (SAMU) e não a deixe sozinha.

Cuidar de alguém assim também pesa. Se quiser, me conte como você está."
            .to_string(),
        Locale::En => "It's good that you're paying attention to this person; it can make a real \
difference. Some things help:

• Ask them directly and calmly whether they are thinking about hurting themselves or ending \
their life. Asking does not put the idea in their head; it lets them talk.
• Listen without judging or rushing to fix things; tell them you care.
• If there are stockpiled medicines, weapons or other means nearby, help put them out of reach.
• Encourage them to get help and offer to go with them: call or text 988 (US; the line also \
supports people worried about someone), or findahelpline.com elsewhere.
• If they are in danger right now, call 911 (US) or the local emergency number and stay with them.

Supporting someone like this is heavy too. If you like, tell me how you are doing."
            .to_string(),
    }
}

/// A caring check-in added to an ordinary answer when the person shows distress without explicit
/// risk, or right after a crisis: the door stays open without the full crisis card.
pub fn check_in(locale: Locale) -> &'static str {
    match locale {
        Locale::PtBr => {
            "\n\nParece que as coisas estão pesadas. Se em algum momento você pensar \
em se machucar ou em não estar mais aqui, você não precisa passar por isso sozinho(a): o CVV \
atende 24 h pelo 188 ou em cvv.org.br, e eu continuo aqui."
        }
        Locale::En => {
            "\n\nIt sounds like things are heavy right now. If at any point you think \
about hurting yourself or not being here, you don't have to go through it alone: call or text \
988 (US) or see findahelpline.com, and I'm still here."
        }
    }
}

/// Units that make a number an amount of medicine or a height.
const AMOUNT_UNITS: &[&str] = &[
    "mg",
    "miligramas",
    "g",
    "gramas",
    "mcg",
    "ml",
    "comprimidos",
    "comprimido",
    "pilulas",
    "capsulas",
    "cartelas",
    "caixas",
    "pills",
    "pill",
    "tablets",
    "capsules",
    "doses",
    "metros",
    "meters",
    "metres",
    "m",
    "feet",
    "ft",
    "andares",
    "andar",
    "floors",
    "stories",
    "storeys",
];

/// Words that turn an amount into method content.
const LETHALITY: &[&str] = &[
    "letal",
    "lethal",
    "fatal",
    "mortal",
    "overdose",
    "morrer",
    "morte",
    "die",
    "death",
    "dying",
    "matar",
    "mata",
    "kill",
    "kills",
    "queda",
    "fall",
    "pular",
    "jump",
    "suicidio",
    "suicide",
    "sobreviver",
    "survive",
    "toxica",
    "toxic",
    "intoxicacao",
    "poisoning",
];

/// Phrases that are method content whatever the numbers.
const MEANS: &[&[&str]] = &[
    &["dose", "letal"],
    &["lethal", "dose"],
    &["no", "corredio"],
    &["noose"],
    &["monoxido"],
    &["monoxide"],
    &["helium"],
    &["helio"],
    &["exit", "bag"],
    &["cortar", "os", "pulsos"],
    &["cortar", "o", "pulso"],
    &["cut", "your", "wrists"],
    &["slit", "your"],
];

/// Whether a model's reply gives method content: an amount of medicine or a height next to
/// words of lethality, or naming a means of suicide.
pub fn method_content(reply: &str) -> bool {
    sentences(reply).iter().any(|sentence| {
        let amount = sentence
            .windows(2)
            .any(|pair| is_amount(&pair[0], Some(&pair[1])))
            || sentence.iter().any(|t| is_amount(t, None));
        let lethal = sentence.iter().any(|t| t.is_any(LETHALITY));
        let means = MEANS.iter().any(|phrase| {
            sentence
                .windows(phrase.len())
                .any(|w| w.iter().zip(phrase.iter()).all(|(t, p)| t.is(p)))
        });
        (amount && lethal) || means
    })
}

/// "50 mg", "50mg", "30 metros".
fn is_amount(token: &Token, next: Option<&Token>) -> bool {
    let word = token.main();
    let digits = word.chars().take_while(|c| c.is_ascii_digit()).count();
    if digits == 0 {
        return false;
    }
    match next {
        Some(unit) => digits == word.len() && unit.is_any(AMOUNT_UNITS),
        None => digits < word.len() && AMOUNT_UNITS.contains(&&word[digits..]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imminent_danger_starts_with_the_emergency_number() {
        let pt = crisis_reply(Locale::PtBr, true, false);
        assert!(pt.starts_with("Se você está em perigo agora"));
        assert!(pt.find("192").unwrap() < pt.find("188").unwrap());
        let en = crisis_reply(Locale::En, true, true);
        assert!(en.find("911").unwrap() < en.find("988").unwrap());
        assert!(en.contains("You have a safety plan"));
    }

    #[test]
    fn the_crisis_line_comes_first_otherwise_and_the_plan_is_offered() {
        let pt = crisis_reply(Locale::PtBr, false, false);
        assert!(pt.find("188").unwrap() < pt.find("192").unwrap());
        assert!(
            pt.contains("cvv.org.br") && pt.contains("/safety-plan") && pt.contains("/grounding")
        );
        assert!(someone_else_reply(Locale::PtBr).contains("188"));
        assert!(someone_else_reply(Locale::En).contains("988"));
    }

    #[test]
    fn method_content_is_recognised_in_replies() {
        for reply in [
            "A dose letal de paracetamol é de cerca de 150 mg por quilo.",
            "Taking 40 tablets of that would usually be fatal.",
            "Uma queda de 20 metros costuma ser fatal.",
            "The bridge is 67 meters high, and few survive the fall.",
            "You could tie a noose with a simple knot.",
        ] {
            assert!(method_content(reply), "{reply}");
        }
        for reply in [
            "A dose usual de paracetamol é 500 mg, siga a bula.",
            "Respire devagar: inspire por 4 segundos e solte por 6.",
            "The tower is 300 meters tall and has a lovely view.",
            "Ligue 188 se precisar conversar.",
        ] {
            assert!(!method_content(reply), "{reply}");
        }
    }
}
