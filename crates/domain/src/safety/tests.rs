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

/// Every text, alone, is (or is not) a crisis: for the families below, whose exact category
/// matters less than that the crisis answer is given.
fn assert_crisis(expected: bool, texts: &[&str]) {
    let detector = CrisisDetector::default();
    let wrong: Vec<(&str, Concern)> = texts
        .iter()
        .map(|t| (*t, detector.assess(t, &[]).concern))
        .filter(|(_, c)| (*c >= Concern::Risk) != expected)
        .collect();
    assert!(wrong.is_empty(), "expected crisis={expected}: {wrong:#?}");
}

#[test]
fn acts_in_progress_are_imminent() {
    assert_all(
        Concern::Imminent,
        &[
            "tô digitando isso de cima do telhado da escola",
            "bebi um copo de água sanitária agora há pouco",
            "misturei os calmantes com cachaça",
            "deixei o motor ligado e a garagem tá fechada",
            "a corda já tá no meu pescoço",
            "em cinco minutos eu me jogo",
            "the noose is around my neck",
            "i mixed my sleeping pills with whiskey",
            "finger on the trigger right now",
            "i'm texting you from the ledge of my building",
        ],
    );
}

#[test]
fn attempts_interrupted_aborted_and_survived() {
    assert_crisis(
        true,
        &[
            "minha tentativa foi em 2020 e ninguém sabe",
            "a corda arrebentou e eu caí no chão",
            "quase pulei do viaduto mês passado",
            "me acharam desmaiada no banheiro",
            "acordei na UTI depois do que fiz",
            "i woke up in the icu after the pills",
            "it wasn't an accident, i overdosed on purpose",
            "a stranger pulled me back from the railing",
            "i practiced tying a noose last week",
        ],
    );
}

#[test]
fn wishes_to_be_dead_said_sideways() {
    assert_crisis(
        true,
        &[
            "torço pro ônibus capotar quando volto do trabalho",
            "tenho inveja de quem já morreu",
            "se eu não acordar amanhã tudo bem",
            "só tô viva por causa da minha filha",
            "não tenho mais medo de morrer",
            "i keep hoping a truck hits me on my way home",
            "if i never wake up that's fine honestly",
            "the only reason i'm still alive is my dog",
            "i keep picturing my own funeral",
        ],
    );
}

#[test]
fn ideation_in_slang_and_code() {
    assert_crisis(
        true,
        &[
            "to pensando em ir de base",
            "quero dar ctrl+z na minha vida",
            "morrer parece a única saída",
            "tô com medo de fazer uma besteira",
            "vo me mata",
            "thinking about self deleting",
            "death feels like the only way out",
            "if i had the guts i'd do it",
        ],
    );
}

#[test]
fn means_at_hand_and_thinking_of_them() {
    assert_crisis(
        true,
        &[
            "o revólver do meu tio tá no armário e eu fico pensando em usar em mim",
            "fico imaginando eu me jogando da passarela",
            "sei onde meu pai guarda a arma",
            "i keep staring at the beam in the attic and thinking",
            "i wonder if my insulin would be enough",
            "i keep googling ways to overdose",
        ],
    );
}

#[test]
fn plans_with_a_when_or_a_bare_i_will_do_it() {
    assert_crisis(
        true,
        &[
            "quando meus pais viajarem eu faço",
            "meu plano é pular do viaduto",
            "ja sei como e quando",
            "esse vai ser meu último natal",
            "i know exactly when and how",
            "this will be my last birthday",
            "after graduation i'm ending it",
        ],
    );
}

#[test]
fn preparations_for_after() {
    assert_crisis(
        true,
        &[
            "tô guardando os remédios em vez de tomar",
            "já escolhi a música do meu velório",
            "comprei carvão e não é pra churrasco",
            "achei um lar novo pro meu gato porque não vou estar aqui",
            "gravei uns vídeos de despedida pra minha família",
            "i found a new home for my cat, i won't be around",
            "i've been hoarding my prescription instead of taking it",
            "i recorded goodbye videos for my kids",
        ],
    );
}

#[test]
fn self_injury_hidden_and_habitual() {
    assert_crisis(
        true,
        &[
            "uso pulseira pra ninguém ver os cortes",
            "soco a parede até sangrar",
            "apaguei o cigarro no meu braço",
            "tenho me cortado toda noite",
            "i wear hoodies so nobody sees my scars",
            "i put bandaids on my thighs every night",
            "i pressed a lighter on my wrist on purpose",
        ],
    );
}

#[test]
fn burden_in_any_tense() {
    assert_crisis(
        true,
        &[
            "meus filhos mereciam uma mãe melhor do que eu",
            "eles iam ficar em paz se eu sumisse",
            "ninguém ia no meu enterro",
            "nobody would come to my funeral",
            "my kids would be better off with the insurance money",
            "life would be easier for everyone without me",
        ],
    );
}

#[test]
fn questions_about_dying_alone_or_after_distress() {
    assert_crisis(
        true,
        &[
            "tem jeito de morrer sem dor?",
            "quantos comprimidos de zolpidem matam?",
            "what's the best way to go without pain",
            "how long does it take to die from drowning",
        ],
    );
    assert!(
        in_context(
            &["to no meu limite"],
            "quantas cartelas de paracetamol fazem mal?"
        ) >= Concern::Risk
    );
    assert!(in_context(&["nobody cares about me"], "does drowning hurt?") >= Concern::Risk);
}

#[test]
fn a_retraction_after_risk_stays_a_crisis() {
    assert!(in_context(&["vou me matar hoje"], "esquece, foi brincadeira") >= Concern::Risk);
    assert!(in_context(&["i want to die"], "you misunderstood, i'm fine") >= Concern::Risk);
    assert_eq!(
        in_context(&["vamos viajar sábado"], "esquece, foi brincadeira"),
        Concern::None
    );
}

#[test]
fn hyperbole_errands_and_other_people_stay_calm() {
    assert_crisis(
        false,
        &[
            "quero morrer kkkk esqueci a chave de novo",
            "vou me jogar nessa pizza",
            "quase me matei de rir",
            "comprei corda pro varal",
            "me queimei cozinhando",
            "faltam 3 dias pra viagem",
            "vou embora de vez pra Portugal em março",
            "não aguento mais esse trânsito",
            "minha vó sempre dizia que queria morrer dormindo",
            "um amigo me mandou mensagem dizendo que queria dormir e não acordar",
            "i'd rather die than wear that sweater",
            "ready to jump into the weekend",
            "i burned myself cooking dinner",
            "my dog ate chocolate, what's the lethal dose for a dog?",
            "today is my last day at work",
            "i'm not having any thoughts of hurting myself, just stressed",
            "what are the warning signs of suicide in teens?",
            "qual a diferença entre autolesão e tentativa de suicídio?",
        ],
    );
}

#[test]
fn regional_and_register_variety() {
    assert_crisis(
        true,
        &[
            "bah, tô na beira da represa e já entrei até a cintura",
            "uai, vou ir de base hoje, sô",
            "Tenho histórico de tentativa de autoextermínio",
            "ando a pensar em pôr termo à vida",
            "had a go at it last spring and ended up in A&E",
            "ion even know, been thinkin bout endin it all",
            "ain't nobody gon miss me",
            "pls i want 2 die",
            "vou me m-a-t-a-r",
            "the rifle's out on the table, loaded",
            "fiz besteira ano passado e fui parar na UTI",
            "i measured how high my balcony is",
            "não mereço estar aqui",
            "if i die i die, whatever",
        ],
    );
    assert_crisis(
        false,
        &[
            "what does 'unalive' mean? my daughter keeps saying it",
            "como falar com meu pai sobre suicídio?",
            "lost two friends to suicide last year and i still miss them",
            "my 12 year old searched 'how to die painlessly', how do i talk to him?",
            "how do i talk to my teen about self harm",
        ],
    );
}

#[test]
fn after_a_crisis_taking_it_back_keeps_the_crisis_answer_and_a_new_topic_goes_on() {
    let detector = CrisisDetector::default();
    let crisis = "quero morrer".to_string();
    let later = "obrigada pela resposta".to_string();
    // Right after the crisis, whatever comes next.
    assert!(detector.assess("ok", &[crisis.as_str()]).is_crisis());
    // Later on, playing it down keeps it; another subject goes on, carefully.
    for retraction in ["esquece, tô bem", "era brincadeira", "forget it, I'm fine"] {
        let judged = detector.assess(retraction, &[crisis.as_str(), later.as_str()]);
        assert!(judged.is_crisis(), "{retraction}");
    }
    let judged = detector.assess(
        "podemos falar do meu sono?",
        &[crisis.as_str(), later.as_str()],
    );
    assert!(!judged.is_crisis() && judged.after_crisis);
}
