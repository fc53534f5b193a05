//! Text taken from crawled pages, made safe to print on a terminal. A page title can carry
//! `ESC ] 0 ; … BEL` (which retitles the inspector's terminal), `ESC [ 2 J` (which clears it) or
//! a right-to-left override that reverses what follows; printed raw, a hostile site writes on
//! the inspector's screen. Such characters are shown escaped (`\x1b`, `\u{202e}`), never sent.

use std::borrow::Cow;
use std::fmt::Write as _;

/// Characters that reorder the text after them (bidirectional overrides and isolates).
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{061c}')
}

fn needs_escape(c: char) -> bool {
    c.is_control() || is_bidi_control(c)
}

fn escape(c: char, out: &mut String) {
    if (c as u32) < 0x100 {
        let _ = write!(out, "\\x{:02x}", c as u32);
    } else {
        let _ = write!(out, "\\u{{{:x}}}", c as u32);
    }
}

/// A crawled string for one line of terminal output: line breaks and tabs become spaces, every
/// other control character and bidirectional override is shown escaped.
#[must_use]
pub fn visible(s: &str) -> Cow<'_, str> {
    if !s.chars().any(needs_escape) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' | '\r' | '\t' => out.push(' '),
            c if needs_escape(c) => escape(c, &mut out),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Text about to be written to a terminal (a scorecard, a note): line breaks stay, the colour
/// sequences sitecensus itself writes (`ESC [ … m`) stay, every other control character and
/// bidirectional override is shown escaped.
#[must_use]
pub fn for_terminal(s: &str) -> Cow<'_, str> {
    if !s.chars().any(|c| needs_escape(c) && c != '\n') {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    let mut chars = s.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c == '\x1b' {
            // Select Graphic Rendition only: ESC [ digits and semicolons m.
            let rest = &s[i + 1..];
            if let Some(params) = rest.strip_prefix('[') {
                let len = params.bytes().take_while(|b| b.is_ascii_digit() || *b == b';').count();
                if params.as_bytes().get(len) == Some(&b'm') {
                    out.push_str(&s[i..i + 2 + len + 1]);
                    for _ in 0..len + 2 {
                        chars.next();
                    }
                    continue;
                }
            }
            escape(c, &mut out);
        } else if c == '\n' || !needs_escape(c) {
            out.push(c);
        } else {
            escape(c, &mut out);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_sequences_are_shown_not_sent() {
        assert_eq!(visible("政府网站"), "政府网站");
        assert_eq!(visible("a\x1b]0;pwned\x07b"), "a\\x1b]0;pwned\\x07b");
        assert_eq!(visible("x\x1b[2Jy\nz"), "x\\x1b[2Jy z");
        assert_eq!(visible("abc\u{202e}txt.exe"), "abc\\u{202e}txt.exe");
        assert_eq!(visible("\u{9b}31m"), "\\x9b31m");
        // Our own colours stay; anything else is escaped.
        assert_eq!(for_terminal("\x1b[1;31mFAIL\x1b[0m\nnext"), "\x1b[1;31mFAIL\x1b[0m\nnext");
        assert_eq!(for_terminal("\x1b[2J\x1b]0;t\x07"), "\\x1b[2J\\x1b]0;t\\x07");
    }
}
