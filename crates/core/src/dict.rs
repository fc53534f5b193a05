//! Dictionaries shipped with the rubrics (`rubrics/dict/`), by name, or a user's own file by path.

/// The shipped dictionaries: name → text.
pub const SHIPPED: &[(&str, &str)] = &[
    ("spam-strong", include_str!("../rubrics/dict/spam-strong.txt")),
    ("spam-weak", include_str!("../rubrics/dict/spam-weak.txt")),
    ("spam-context", include_str!("../rubrics/dict/spam-context.txt")),
    ("illegal-domains", include_str!("../rubrics/dict/illegal-domains.txt")),
    ("wrong-expressions", include_str!("../rubrics/dict/wrong-expressions.tsv")),
    ("inappropriate", include_str!("../rubrics/dict/inappropriate.txt")),
    ("typos", include_str!("../rubrics/dict/typos.tsv")),
];

/// A dictionary's text: a shipped one by name, or a file by path.
///
/// # Errors
/// When it is neither.
pub fn text(name: &str) -> Result<String, String> {
    if let Some((_, t)) = SHIPPED.iter().find(|(n, _)| *n == name) {
        return Ok((*t).to_owned());
    }
    std::fs::read_to_string(name).map_err(|e| {
        format!(
            "dictionary {name:?}: not a shipped one ({}) and not a readable file ({e})",
            SHIPPED.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
        )
    })
}

/// The entries of a dictionary: each non-blank line that is not a `#` comment, trimmed.
///
/// # Errors
/// When the dictionary cannot be found.
pub fn lines(name: &str) -> Result<Vec<String>, String> {
    Ok(entries(&text(name)?))
}

/// The entries of dictionary text.
#[must_use]
pub fn entries(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| l.trim_start_matches('\u{feff}').trim_end())
        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .map(str::to_owned)
        .collect()
}

/// The entries of several dictionaries plus inline terms, deduplicated, in order.
///
/// # Errors
/// When a dictionary cannot be found.
pub fn gather(names: &[String], inline: &[String]) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for n in names {
        for e in lines(n)? {
            if seen.insert(e.clone()) {
                out.push(e);
            }
        }
    }
    for e in inline {
        if seen.insert(e.clone()) {
            out.push(e.clone());
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_dictionaries_read() {
        for (name, _) in SHIPPED {
            assert!(!lines(name).unwrap().is_empty(), "{name}");
        }
        assert!(lines("illegal-domains").unwrap().len() > 14_000);
        assert!(text("no-such-dictionary").is_err());
        assert_eq!(entries("# c\n\n a \nb\n"), [" a", "b"]);
    }
}
