//! The screen by category, on wordings written for these tests (the corpus in
//! `tests/crisis_corpus/` measures it more widely).

use super::*;

fn concern(text: &str) -> Concern {
    CrisisDetector::default().assess(text, &[]).concern
}

fn in_context(earlier: &[&str], text: &str) -> Concern {
    CrisisDetector::default().assess(text, earlier).concern
}

fn assert_all(expected: Concern, texts: &[&str]) {
    let detector = CrisisDetector::default();
    let wrong: Vec<(&str, Concern)> = texts
        .iter()
        .map(|t| (*t, detector.assess(t, &[]).concern))
        .filter(|(_, c)| *c != expected)
        .collect();
    assert!(wrong.is_empty(), "expected {expected:?}: {wrong:#?}");
}

#[test]
fn imminent_danger_in_both_languages() {
    assert_all(
        Concern::Imminent,
        &[
            "acabei de tomar a cartela inteira de rivotril",
            "to em cima do telhado agora",
            "hoje à noite eu vou acabar com isso",
            "I just swallowed the whole bottle of pills",
            "i'm standing on the bridge right now",
            "going to kill myself tonight",
            "the rope is ready",
        ],
    );
}

#[test]
fn first_person_risk_by_category() {
    assert_all(
        Concern::Risk,
        &[
            // past attempt, and the intent to try again
            "já tentei me matar duas vezes",
            "da próxima vez não vou falhar",
            "I attempted suicide when I was 19",
            // passive wish
            "queria dormir e não acordar nunca mais",
            "queria nunca ter nascido",
            "não quero mais estar aqui",
            "I wish I had never been born",
            "i don't want to exist anymore",
            // active ideation
            "ando pensando em suicídio",
            "vou me matar",
            "I keep thinking about ending my life",
            // method, intent, plan
            "pensei em pular do viaduto",
            "já escolhi a data",
            "I have a plan and a date",
            // preparation
            "escrevi cartas de despedida pra minha família",
            "tô juntando os comprimidos faz semanas",
            "I've been giving away my things to friends",
            // self-injury, recurrence included
            "me cortei de novo ontem",
            "voltei a me machucar",
            "I relapsed and cut again",
            "i burn myself when it gets bad",
            // burden and belonging
            "sou um peso pra minha família",
            "todo mundo ficaria melhor sem mim",
            "nobody would even notice if I was gone",
            "i'm just a burden to everyone",
        ],
    );
}

#[test]
fn informal_coded_and_mixed_language() {
    assert_all(
        Concern::Risk,
        &[
            "qro m0rr3r",
            "queroooo morrerrrr",
            "VOU ME MATAR",
            "vo me m4t4r",
            "i wanna kms",
            "thinking about unaliving myself",
            "i just want to die sabe, não aguento",
            "nao aguento mais viver assim",
        ],
    );
}

#[test]
fn idioms_third_parties_and_topics_are_not_first_person_risk() {
    assert_all(
        Concern::None,
        &[
            "morri de rir com esse vídeo",
            "to morrendo de fome, bora almoçar",
            "essa reunião vai me matar de tédio",
            "vamos matar a saudade no domingo",
            "cortei caminho pelo parque",
            "precisamos cortar gastos esse mês",
            "You're killing it at work!",
            "this commute is killing me",
            "I'm dying to see that movie",
            "my phone died again",
            "Setembro Amarelo é o mês de prevenção ao suicídio",
            "li uma reportagem sobre suicídio entre adolescentes",
            "I'm writing an essay on suicide prevention",
            "the movie is about a man who wants to die",
            "I'm not suicidal, just tired of my job",
            "nunca pensei em me matar",
        ],
    );
    assert_all(
        Concern::SomeoneElse,
        &[
            "minha irmã disse que quer se matar, o que eu faço?",
            "meu amigo anda se cortando",
            "my son told me he wants to kill himself",
            "how do I help a friend who is suicidal",
        ],
    );
}

#[test]
fn method_questions_are_risk_after_distress_only() {
    let distress = ["não aguento mais, nada vai melhorar"];
    assert_eq!(
        in_context(&distress, "qual a altura da ponte Rio-Niterói?"),
        Concern::Risk
    );
    let trip = ["vamos viajar pro Rio com as crianças"];
    assert_eq!(
        in_context(&trip, "qual a altura da ponte Rio-Niterói?"),
        Concern::None
    );
    assert_eq!(
        in_context(
            &["I can't take it anymore, there's no way out"],
            "how many sleeping pills would it take"
        ),
        Concern::Risk
    );
    assert_eq!(concern("what's the painless way to die"), Concern::Risk);
    assert_eq!(
        concern("how tall is the tallest building in town?"),
        Concern::None
    );
}

#[test]
fn distress_alone_is_ambiguous_and_after_a_crisis_it_stays_a_crisis() {
    assert_eq!(concern("não vejo saída pra minha vida"), Concern::Distress);
    assert_eq!(concern("I feel hopeless"), Concern::Distress);
    let crisis = ["quero morrer"];
    assert_eq!(in_context(&crisis, "nada vai mudar mesmo"), Concern::Risk);
    assert!(CrisisDetector::default().assess("ok", &crisis).after_crisis);
    let distress = CrisisDetector::default().assess("ok", &["não vejo saída pra minha vida"]);
    assert!(distress.after_distress && !distress.after_crisis);
    assert!(
        !CrisisDetector::default()
            .assess("ok", &["oi"])
            .after_distress
    );
}

#[test]
fn the_language_of_the_message_is_told() {
    let detector = CrisisDetector::default();
    assert_eq!(
        detector.assess("I want to die", &[]).language,
        Some(Locale::En)
    );
    assert_eq!(
        detector.assess("quero morrer", &[]).language,
        Some(Locale::PtBr)
    );
}

#[test]
fn a_long_message_is_screened_whole() {
    let filler = "Hoje o dia foi comprido e cansativo no trabalho. ".repeat(200);
    let text = format!("{filler} Não aguento mais, quero morrer. {filler}");
    assert!(text.chars().count() > 10_000);
    assert_eq!(concern(&text), Concern::Risk);
}
