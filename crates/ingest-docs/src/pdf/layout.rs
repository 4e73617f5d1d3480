//! From placed runs to reading-order text: runs on one baseline become segments, a
//! column gutter (if any) reorders them column by column, and lines are joined with
//! spaces, line breaks, paragraph breaks and de-hyphenation.

use super::content::Run;

/// Gap (in font sizes) above which two runs on a line are separate words.
const SPACE_GAP: f64 = 0.15;
/// Gap (in font sizes) above which two runs on a line belong to different columns/cells.
const COLUMN_GAP: f64 = 2.0;
/// Column detection is quadratic in segments; pages beyond this keep stream order.
const MAX_SEGMENTS_FOR_COLUMNS: usize = 3000;
/// Gutter positions tried per page.
const MAX_CANDIDATES: usize = 200;

#[derive(Debug, Clone)]
struct Segment {
    x0: f64,
    x1: f64,
    y: f64,
    size: f64,
    text: String,
}

fn same_baseline(a_y: f64, a_size: f64, b_y: f64, b_size: f64) -> bool {
    (a_y - b_y).abs() < 0.4 * a_size.min(b_size)
}

fn segments(runs: &[Run]) -> Vec<Segment> {
    let mut out: Vec<Segment> = Vec::new();
    for run in runs {
        if let Some(cur) = out.last_mut() {
            let gap = run.x0 - cur.x1;
            let size = cur.size.min(run.size);
            if same_baseline(cur.y, cur.size, run.y, run.size)
                && gap > -size
                && gap < COLUMN_GAP * size.max(cur.size)
            {
                let spaced = cur.text.ends_with(char::is_whitespace)
                    || run.text.starts_with(char::is_whitespace);
                if gap > SPACE_GAP * size && !spaced {
                    cur.text.push(' ');
                }
                cur.text.push_str(&run.text);
                cur.x1 = cur.x1.max(run.x1);
                continue;
            }
        }
        out.push(Segment {
            x0: run.x0.min(run.x1),
            x1: run.x0.max(run.x1),
            y: run.y,
            size: run.size,
            text: run.text.clone(),
        });
    }
    out.retain(|s| !s.text.trim().is_empty());
    out
}

/// Finds an x that text columns leave free: few segments cross it, several sit on each
/// side, and the two sides share vertical space (so they are side by side, not stacked).
fn gutter(segs: &[Segment]) -> Option<f64> {
    if segs.len() < 6 || segs.len() > MAX_SEGMENTS_FOR_COLUMNS {
        return None;
    }
    let min_x = segs.iter().map(|s| s.x0).fold(f64::INFINITY, f64::min);
    let max_x = segs.iter().map(|s| s.x1).fold(f64::NEG_INFINITY, f64::max);
    let width = max_x - min_x;
    if width.is_nan() || width <= 0.0 {
        return None;
    }
    let (lo, hi) = (min_x + 0.2 * width, max_x - 0.2 * width);
    // Candidates just right of where segments end, de-duplicated and capped so a hostile
    // page costs at most MAX_CANDIDATES passes over its segments.
    let mut candidates: Vec<f64> = segs
        .iter()
        .map(|s| (s.x1 + 0.5).round())
        .filter(|x| *x > lo && *x < hi)
        .collect();
    candidates.sort_by(f64::total_cmp);
    candidates.dedup();
    let step = candidates.len().div_ceil(MAX_CANDIDATES).max(1);
    let mut best: Option<(usize, f64)> = None;
    for &x in candidates.iter().step_by(step) {
        let crossing = segs.iter().filter(|t| t.x0 < x && t.x1 > x).count();
        if best.is_none_or(|(c, _)| crossing < c) {
            best = Some((crossing, x));
        }
    }
    let (crossing, x) = best?;
    let left: Vec<&Segment> = segs.iter().filter(|s| s.x1 <= x).collect();
    let right: Vec<&Segment> = segs.iter().filter(|s| s.x0 >= x).collect();
    let span = |side: &[&Segment]| {
        side.iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), s| {
                (lo.min(s.y), hi.max(s.y))
            })
    };
    let ((l_lo, l_hi), (r_lo, r_hi)) = (span(&left), span(&right));
    let side_by_side = l_lo.max(r_lo) < l_hi.min(r_hi);
    (crossing * 10 <= segs.len() && left.len() >= 3 && right.len() >= 3 && side_by_side)
        .then_some(x)
}

/// Stream order, unless the page has two columns: then top to bottom, the left column
/// before the right one between any full-width lines (titles, footers).
fn reading_order(segs: Vec<Segment>) -> Vec<Segment> {
    let Some(x) = gutter(&segs) else { return segs };
    let mut sorted = segs;
    // Half-point buckets keep stream order among runs on one baseline.
    sorted.sort_by_key(|s| -(s.y * 2.0).round() as i64);
    let (mut out, mut left, mut right) = (Vec::new(), Vec::new(), Vec::new());
    for s in sorted {
        // Estimated widths can overshoot a little: only a clear crossing is full-width.
        let slack = 0.5 * s.size;
        if s.x1 <= x + slack {
            left.push(s);
        } else if s.x0 >= x - slack {
            right.push(s);
        } else {
            out.append(&mut left);
            out.append(&mut right);
            out.push(s);
        }
    }
    out.append(&mut left);
    out.append(&mut right);
    out
}

/// Words that keep their hyphen at a line end: compound prefixes and pt-BR clitics.
fn keeps_hyphen(before: &str, after: &str) -> bool {
    const PREFIXES: &[&str] = &[
        "bem", "mal", "pré", "pós", "pró", "ex", "vice", "recém", "além", "sem", "self", "well",
        "non", "long", "short",
    ];
    const CLITICS: &[&str] = &[
        "se", "me", "te", "lhe", "lhes", "nos", "vos", "o", "a", "os", "as", "lo", "la", "los",
        "las", "no", "na", "nas",
    ];
    let prefix = before
        .rsplit(|c: char| !c.is_alphabetic())
        .next()
        .unwrap_or("")
        .to_lowercase();
    let next: String = after.chars().take_while(|c| c.is_alphabetic()).collect();
    PREFIXES.contains(&prefix.as_str()) || CLITICS.contains(&next.to_lowercase().as_str())
}

fn join_hyphenated(out: &mut String, next: &str) -> bool {
    let trimmed = out.trim_end();
    let Some(stem) = trimmed.strip_suffix(['-', '\u{00AD}', '\u{2010}']) else {
        return false;
    };
    let letter_before = stem.chars().next_back().is_some_and(char::is_alphabetic);
    let lower_after = next
        .trim_start()
        .chars()
        .next()
        .is_some_and(char::is_lowercase);
    if !letter_before || !lower_after || keeps_hyphen(stem, next.trim_start()) {
        return false;
    }
    out.truncate(stem.len());
    out.push_str(next.trim_start());
    true
}

pub(super) fn page_text(runs: &[Run]) -> String {
    let mut out = String::new();
    let mut prev: Option<Segment> = None;
    for s in reading_order(segments(runs)) {
        match &prev {
            None => out.push_str(&s.text),
            Some(p) if same_baseline(p.y, p.size, s.y, s.size) && s.x0 >= p.x1 - p.size => {
                out.push(' ');
                out.push_str(&s.text);
            }
            Some(p) => {
                if !join_hyphenated(&mut out, &s.text) {
                    let drop = p.y - s.y;
                    let para = drop < 0.0 || drop > 1.6 * p.size.max(s.size);
                    out.push_str(if para { "\n\n" } else { "\n" });
                    out.push_str(&s.text);
                }
            }
        }
        prev = Some(s);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(x0: f64, x1: f64, y: f64, text: &str) -> Run {
        Run {
            x0,
            x1,
            y,
            size: 10.0,
            text: text.into(),
        }
    }

    #[test]
    fn gaps_make_spaces_and_kerning_does_not() {
        let runs = [
            run(0.0, 20.0, 700.0, "Resp"),
            run(20.5, 40.0, 700.0, "irar"),
            run(43.0, 60.0, 700.0, "fundo"),
        ];
        assert_eq!(page_text(&runs), "Respirar fundo");
    }

    #[test]
    fn hyphenated_line_ends_are_joined_but_compounds_kept() {
        let runs = [
            run(0.0, 100.0, 700.0, "uma compreen-"),
            run(0.0, 100.0, 688.0, "são do bem-"),
            run(0.0, 100.0, 676.0, "estar, cuide-"),
            run(0.0, 100.0, 664.0, "se bem."),
        ];
        assert_eq!(
            page_text(&runs),
            "uma compreensão do bem-\nestar, cuide-\nse bem."
        );
    }

    #[test]
    fn two_columns_come_out_column_by_column() {
        let mut runs = vec![run(0.0, 400.0, 760.0, "Title across both columns")];
        for i in 0..5 {
            let y = 700.0 - 12.0 * f64::from(i);
            runs.push(run(0.0, 180.0, y, &format!("left{i}")));
            runs.push(run(220.0, 400.0, y, &format!("right{i}")));
        }
        let text = page_text(&runs);
        assert_eq!(
            text,
            "Title across both columns\n\nleft0\nleft1\nleft2\nleft3\nleft4\n\nright0\nright1\nright2\nright3\nright4"
        );
    }
}
