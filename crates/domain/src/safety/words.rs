//! From a message as people type it to the words the patterns are written in: sentences of
//! lower-case, accent-free tokens, with informal spellings, leetspeak ("m4t4r"), stretched
//! letters ("queroooo"), contractions ("don't") and a few emoji turned into standard words.

use super::phrase::Token;
use crate::text::fold_words;

/// Informal spellings and coded words, rewritten to what the patterns use. Both languages share
/// one table because people mix them.
const SPELLINGS: &[(&str, &str)] = &[
    // pt-BR chat spelling
    ("qro", "quero"),
    ("kero", "quero"),
    ("qero", "quero"),
    ("keru", "quero"),
    ("qria", "queria"),
    ("keria", "queria"),
    ("n", "nao"),
    ("naum", "nao"),
    ("nn", "nao"),
    ("pra", "para"),
    ("pro", "para o"),
    ("p", "para"),
    ("vc", "voce"),
    ("vcs", "voces"),
    ("q", "que"),
    ("oq", "o que"),
    ("pq", "porque"),
    ("mt", "muito"),
    ("mto", "muito"),
    ("mta", "muita"),
    ("msm", "mesmo"),
    ("tb", "tambem"),
    ("tbm", "tambem"),
    ("hj", "hoje"),
    ("dps", "depois"),
    ("td", "tudo"),
    ("tds", "todos"),
    ("ngm", "ninguem"),
    ("nd", "nada"),
    ("cmg", "comigo"),
    ("sdd", "saudade"),
    ("sdds", "saudades"),
    ("vdd", "verdade"),
    ("agr", "agora"),
    ("qnd", "quando"),
    ("qdo", "quando"),
    ("tava", "estava"),
    ("tou", "estou"),
    ("ta", "esta"),
    ("rmd", "remedio"),
    ("rmds", "remedios"),
    ("eh", "e"),
    ("m", "me"),
    ("d", "de"),
    ("kd", "cade"),
    ("vo", "vou"),
    ("dnv", "de novo"),
    ("ctz", "certeza"),
    ("mds", "meu deus"),
    ("sla", "sei la"),
    ("fds", "fim de semana"),
    ("amn", "amanha"),
    ("fzr", "fazer"),
    ("qr", "quer"),
    ("qlq", "qualquer"),
    ("cm", "com"),
    ("nois", "nos"),
    ("ninguen", "ninguem"),
    ("tbem", "tambem"),
    ("tendi", "entendi"),
    // English chat spelling and contractions (apostrophes are removed first)
    ("dont", "do not"),
    ("doesnt", "does not"),
    ("didnt", "did not"),
    ("cant", "can not"),
    ("cannot", "can not"),
    ("couldnt", "could not"),
    ("wont", "will not"),
    ("wouldnt", "would not"),
    ("isnt", "is not"),
    ("arent", "are not"),
    ("wasnt", "was not"),
    ("im", "i am"),
    ("ive", "i have"),
    ("id", "i would"),
    ("youre", "you are"),
    ("theyd", "they would"),
    ("theyre", "they are"),
    ("itd", "it would"),
    ("tonights", "tonight is"),
    ("todays", "today is"),
    ("thats", "that is"),
    ("its", "it is"),
    ("whats", "what is"),
    ("theres", "there is"),
    ("shes", "she is"),
    ("hes", "he is"),
    ("ill", "i will"),
    ("youll", "you will"),
    ("itll", "it will"),
    ("theyll", "they will"),
    ("havent", "have not"),
    ("hasnt", "has not"),
    ("hadnt", "had not"),
    ("shouldnt", "should not"),
    ("werent", "were not"),
    ("aint", "am not"),
    ("idk", "i do not know"),
    ("w", "with"),
    ("tbh", "honestly"),
    ("ngl", "honestly"),
    ("idc", "i do not care"),
    ("bf", "boyfriend"),
    ("gf", "girlfriend"),
    ("tmrw", "tomorrow"),
    ("tmr", "tomorrow"),
    ("2day", "today"),
    ("2morrow", "tomorrow"),
    ("b4", "before"),
    ("every1s", "everyones"),
    ("some1", "someone"),
    ("any1", "anyone"),
    ("sum1", "someone"),
    ("wanna", "want to"),
    ("gonna", "going to"),
    ("gotta", "got to"),
    ("u", "you"),
    ("ur", "your"),
    ("r", "are"),
    ("rn", "right now"),
    ("tn", "tonight"),
    ("tonite", "tonight"),
    ("2nite", "tonight"),
    ("pls", "please"),
    ("bc", "because"),
    ("cuz", "because"),
    ("abt", "about"),
    ("smth", "something"),
    ("every1", "everyone"),
    ("noone", "no one"),
    ("nobody", "no one"),
    // coded words for suicide and self-harm
    ("kms", "kill myself"),
    ("kys", "kill yourself"),
    ("qeru", "quero"),
    ("kro", "quero"),
    ("qer", "quer"),
    ("gon", "going to"),
    ("finna", "going to"),
    ("tryna", "trying to"),
    ("ion", "i do not"),
    ("bout", "about"),
    ("lowkey", "honestly"),
    ("imma", "i am going to"),
    ("ima", "i am going to"),
    ("lemme", "let me"),
    ("kmsl", "kill myself"),
    ("ctb", "suicide"),
    ("unalive", "kill"),
    ("unaliving", "killing"),
    ("unalived", "killed"),
    ("sewerslide", "suicide"),
    ("selfharm", "self harm"),
    ("sh", "self harm"),
    ("shing", "self harming"),
    ("sui", "suicidal"),
    ("selfharming", "self harming"),
    ("od", "overdose"),
    ("oding", "overdosing"),
    ("oded", "overdosed"),
];

/// Emoji that people use for the means or for death, as words.
const EMOJI: &[(char, &str)] = &[
    ('💊', " pills "),
    ('🔪', " knife "),
    ('🪢', " rope "),
    ('🩸', " blood "),
    ('🔫', " gun "),
    ('🪦', " die "),
    ('⚰', " die "),
];

/// Digits and symbols that stand for letters inside a word ("m4t4r", "su!c!d!o", "d13").
fn unleet(c: char) -> Option<char> {
    Some(match c {
        '4' | '@' => 'a',
        '3' => 'e',
        '1' | '!' => 'i',
        '0' => 'o',
        '5' | '$' => 's',
        '7' => 't',
        _ => return None,
    })
}

/// Units after a number: "50mg" and "10x" are amounts, not leetspeak.
const UNITS: &[&str] = &[
    "mg", "g", "ml", "kg", "m", "km", "h", "min", "x", "am", "pm", "st", "nd", "rd", "th", "mcg",
];

/// The message as sentences of tokens. Sentences end at `.`, `!`, `?`, `;` and line breaks,
/// so a negation or a person named in one sentence does not reach into the next.
pub fn sentences(text: &str) -> Vec<Vec<Token>> {
    let mut prepared = String::with_capacity(text.len() + 16);
    let chars: Vec<char> = text.chars().collect();
    let mut skip_s = false;
    for (i, &c) in chars.iter().enumerate() {
        if std::mem::take(&mut skip_s) && matches!(c, 's' | 'S') {
            continue;
        }
        let inside_word = |j: usize| chars.get(j).is_some_and(|c| c.is_alphanumeric());
        match c {
            // "pistol's out", "everyone's asleep": the 's goes, except in contractions the
            // spelling table knows ("it's", "that's").
            '\'' | '’' | '`' if possessive_s(&chars, i) => skip_s = true,
            '\'' | '’' | '`' => {}
            '@' | '$' | '!' if i > 0 && inside_word(i - 1) && inside_word(i + 1) => {
                prepared.push(unleet(c).unwrap_or(c));
            }
            // Letters spelled out one by one: "m-a-t-a-r", "d.i.e".
            '-' | '.' | '_' | '*' if spelled_out(&chars, i) => {}
            '.' | '!' | '?' | ';' | '\n' | '…' => prepared.push('\n'),
            c => match EMOJI.iter().find(|(e, _)| *e == c) {
                Some((_, word)) => prepared.push_str(word),
                None => prepared.push(c),
            },
        }
    }
    // "vó" (grandma) folds to "vo", which chat spelling uses for "vou": keep her apart.
    let prepared = grandma(&prepared);
    prepared
        .split('\n')
        .map(|sentence| {
            let mut tokens = Vec::new();
            for clause in sentence.split([',', ':', '–', '—', '(', ')']) {
                tokens.extend(fold_words(clause).into_iter().flat_map(|w| respell(&w)));
                if let Some(last) = tokens.last_mut() {
                    last.clause_end = true;
                }
            }
            tokens
        })
        .filter(|s| !s.is_empty())
        .collect()
}

/// Contractions with 's that the spelling table expands; any other 's is dropped.
const S_CONTRACTIONS: &[&str] = &[
    "it", "that", "what", "there", "he", "she", "here", "who", "tonight", "today", "let", "where",
];

/// Whether the apostrophe at `i` starts a possessive or an "is" after a noun: "pistol's out".
fn possessive_s(chars: &[char], i: usize) -> bool {
    let is_s = chars.get(i + 1).is_some_and(|c| matches!(c, 's' | 'S'));
    let ends = !chars.get(i + 2).is_some_and(|c| c.is_alphanumeric());
    if !is_s || !ends || i == 0 {
        return false;
    }
    let start = chars[..i]
        .iter()
        .rposition(|c| !c.is_alphanumeric())
        .map_or(0, |p| p + 1);
    let word: String = chars[start..i].iter().collect::<String>().to_lowercase();
    !word.is_empty() && !S_CONTRACTIONS.contains(&word.as_str())
}

/// Whether the separator at `i` stands between single letters spelled out ("m-a-t-a-r").
fn spelled_out(chars: &[char], i: usize) -> bool {
    let letter = |j: usize| chars.get(j).is_some_and(|c| c.is_alphabetic());
    let single = |j: usize| letter(j) && !(j > 0 && letter(j - 1)) && !letter(j + 1);
    i > 0
        && single(i - 1)
        && single(i + 1)
        && (i >= 2 && chars[i - 2] == chars[i] || chars.get(i + 2) == Some(&chars[i]))
}

/// "vó" and "Vó" as whole words become "avó".
fn grandma(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len() + 4);
    let letter = |j: Option<&char>| j.is_some_and(|c| c.is_alphanumeric());
    let mut i = 0;
    while i < chars.len() {
        let word_start = i == 0 || !letter(chars.get(i - 1));
        if word_start
            && matches!(chars[i], 'v' | 'V')
            && chars.get(i + 1) == Some(&'ó')
            && !letter(chars.get(i + 2))
        {
            out.push_str("avó");
            i += 2;
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

/// One folded word as tokens: leetspeak undone, stretched letters shortened, informal spellings
/// rewritten (some become two words: "kms" → "kill myself").
fn respell(word: &str) -> Vec<Token> {
    let word = decode_leet(word);
    let once = squeeze(&word, 1);
    let twice = squeeze(&word, 2);
    if let Some((_, standard)) = SPELLINGS.iter().find(|(informal, _)| *informal == once) {
        let mut tokens: Vec<Token> = standard.split(' ').map(Token::new).collect();
        // A one-word coded form ("unalive" → "kill") stays matchable as itself too.
        if let [only] = tokens.as_mut_slice() {
            only.forms.push(once.clone());
        }
        return tokens;
    }
    let mut forms = vec![once.clone()];
    // Dropped g: "thinkin", "endin", "hopin" are also "thinking", "ending", "hoping".
    if once.len() >= 4 && once.ends_with("in") && once.is_ascii() {
        forms.push(format!("{once}g"));
    }
    // "2" and "4" stand for "to" and "for" in chat ("i want 2 die").
    match once.as_str() {
        "2" => forms.push("to".into()),
        "4" => forms.push("for".into()),
        _ => {}
    }
    if twice != once {
        forms.push(twice);
    }
    // "3m" reads as three metres and as "em": keep both.
    if word.chars().any(|c| c.is_ascii_digit()) {
        let letters: String = word.chars().map(|c| unleet(c).unwrap_or(c)).collect();
        let letters = squeeze(&letters, 1);
        if !forms.contains(&letters) {
            forms.push(letters);
        }
    }
    vec![Token {
        forms,
        clause_end: false,
    }]
}

fn decode_leet(word: &str) -> String {
    let has_letter = word.chars().any(|c| c.is_alphabetic());
    let has_digit = word.chars().any(|c| c.is_ascii_digit());
    if !has_letter || !has_digit {
        return word.to_string();
    }
    let digits_end = word.find(|c: char| !c.is_ascii_digit()).unwrap_or(0);
    if digits_end > 0 && UNITS.contains(&&word[digits_end..]) {
        return word.to_string();
    }
    word.chars().map(|c| unleet(c).unwrap_or(c)).collect()
}

/// Runs of three or more of the same letter shrink to `keep`: people stretch words for emphasis.
fn squeeze(word: &str, keep: usize) -> String {
    let chars: Vec<char> = word.chars().collect();
    let mut out = String::with_capacity(word.len());
    let mut i = 0;
    while i < chars.len() {
        let run = chars[i..].iter().take_while(|&&c| c == chars[i]).count();
        let kept = if run >= 3 { keep } else { run };
        out.extend(std::iter::repeat_n(chars[i], kept));
        i += run;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn main_forms(text: &str) -> Vec<Vec<String>> {
        sentences(text)
            .into_iter()
            .map(|s| s.iter().map(|t| t.main().to_string()).collect())
            .collect()
    }

    #[test]
    fn informal_spelling_leetspeak_and_stretched_letters() {
        assert_eq!(main_forms("Qro m0rr3r!!!"), [["quero", "morrer"]]);
        assert_eq!(main_forms("vou me m4t4r"), [["vou", "me", "matar"]]);
        assert_eq!(main_forms("su!c!d!o"), [["suicidio"]]);
        assert_eq!(
            main_forms("I don't wanna"),
            [["i", "do", "not", "want", "to"]]
        );
        assert_eq!(main_forms("queroooo"), [["quero"]]);
        assert_eq!(
            main_forms("i want to kms"),
            [["i", "want", "to", "kill", "myself"]]
        );
    }

    #[test]
    fn amounts_are_not_leetspeak_and_emoji_become_words() {
        assert_eq!(main_forms("50mg"), [["50mg"]]);
        assert_eq!(main_forms("a cartela 💊"), [["a", "cartela", "pills"]]);
    }

    #[test]
    fn sentences_split_at_punctuation_and_line_breaks() {
        assert_eq!(main_forms("não. quero\nmorrer?").len(), 3);
    }

    #[test]
    fn spelled_out_letters_possessives_and_dropped_g() {
        assert_eq!(main_forms("vou me m-a-t-a-r"), [["vou", "me", "matar"]]);
        assert_eq!(main_forms("the pistol's out"), [["the", "pistol", "out"]]);
        assert_eq!(main_forms("it's late"), [["it", "is", "late"]]);
        assert!(sentences("thinkin")[0][0].is("thinking"));
        assert!(sentences("unalive")[0][0].is("unalive"));
        assert_eq!(main_forms("minha vó"), [["minha", "avo"]]);
    }

    #[test]
    fn stretched_letters_keep_a_doubled_form() {
        let t = &sentences("killll")[0][0];
        assert!(t.is("kil") && t.is("kill"));
        assert_eq!(squeeze("morrerrr", 1), "morrer");
        assert_eq!(squeeze("aaa", 1), "a");
    }
}
