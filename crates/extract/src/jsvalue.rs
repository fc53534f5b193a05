//! Reading JavaScript data literals out of inline scripts without running them:
//! `var listData = {articleList: [{title: '…', pubDate: '2024-07-10', urls: {pc: '…'}}]}`.
//!
//! Written by hand because no crate reads what pages actually carry: JSON parsers (serde_json)
//! and JSON5 parsers refuse a whole literal over one value they do not know (`new Date()`, a
//! function, a concatenation, a regular expression), while a list of articles is still readable
//! around it. This reader keeps what it understands and skips the rest by bracket balance.

/// A value read from a literal.
#[derive(Debug, Clone, PartialEq)]
pub enum JsValue {
    /// A string (quotes removed, escapes resolved).
    Str(String),
    /// A number, as written.
    Num(String),
    /// An object: its keys and values in order.
    Obj(Vec<(String, JsValue)>),
    /// An array.
    Arr(Vec<JsValue>),
    /// Anything else (true, false, null, identifiers, calls, expressions), skipped over.
    Other,
}

/// Most nesting followed: deeper literals are skipped as [`JsValue::Other`].
const MAX_DEPTH: usize = 32;

struct Reader<'a> {
    s: &'a [u8],
    src: &'a str,
    pos: usize,
}

impl<'a> Reader<'a> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    /// Skips whitespace and comments.
    fn blank(&mut self) {
        while let Some(c) = self.peek() {
            if c.is_ascii_whitespace() {
                self.pos += 1;
            } else if self.s[self.pos..].starts_with(b"//") {
                self.pos = memchr::memchr(b'\n', &self.s[self.pos..]).map_or(self.s.len(), |i| self.pos + i);
            } else if self.s[self.pos..].starts_with(b"/*") {
                self.pos =
                    memchr::memmem::find(&self.s[self.pos + 2..], b"*/").map_or(self.s.len(), |i| self.pos + i + 4);
            } else {
                break;
            }
        }
    }

    fn string(&mut self) -> Option<String> {
        let quote = self.peek()?;
        self.pos += 1;
        let mut out = String::new();
        let mut start = self.pos;
        while let Some(c) = self.peek() {
            if c == quote {
                out.push_str(&self.src[start..self.pos]);
                self.pos += 1;
                return Some(out);
            }
            if quote == b'`' && self.s[self.pos..].starts_with(b"${") {
                return None;
            }
            if c == b'\n' && quote != b'`' {
                return None;
            }
            if c == b'\\' {
                out.push_str(&self.src[start..self.pos]);
                self.pos += 1;
                let e = self.peek()?;
                self.pos += 1;
                match e {
                    b'n' => out.push('\n'),
                    b't' => out.push('\t'),
                    b'r' => {}
                    b'u' => {
                        let hex = self.src.get(self.pos..self.pos + 4)?;
                        let c = u32::from_str_radix(hex, 16).ok().and_then(char::from_u32).unwrap_or('\u{fffd}');
                        out.push(c);
                        self.pos += 4;
                    }
                    b'x' => {
                        let hex = self.src.get(self.pos..self.pos + 2)?;
                        out.push(u8::from_str_radix(hex, 16).map_or('\u{fffd}', char::from));
                        self.pos += 2;
                    }
                    b'\n' => {}
                    _ => {
                        // An escaped character of any width stands for itself.
                        let ch = self.src[self.pos - 1..].chars().next()?;
                        out.push(ch);
                        self.pos += ch.len_utf8() - 1;
                    }
                }
                start = self.pos;
                continue;
            }
            self.pos += 1;
        }
        None
    }

    /// Skips one expression this reader does not model, up to a `,` `}` or `]` at its own level.
    fn skip_expression(&mut self) {
        let mut depth = 0usize;
        while let Some(c) = self.peek() {
            match c {
                b'"' | b'\'' | b'`' => {
                    if self.string().is_none() {
                        self.pos += 1;
                    }
                    continue;
                }
                b'(' | b'[' | b'{' => depth += 1,
                b')' | b']' | b'}' if depth == 0 => return,
                b')' | b']' | b'}' => depth -= 1,
                b',' | b';' if depth == 0 => return,
                _ => {}
            }
            self.pos += 1;
        }
    }

    fn key(&mut self) -> Option<String> {
        match self.peek()? {
            b'"' | b'\'' => self.string(),
            c if c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c >= 0x80 => {
                let start = self.pos;
                while self.peek().is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c >= 0x80) {
                    self.pos += 1;
                }
                Some(self.src.get(start..self.pos)?.to_owned())
            }
            _ => None,
        }
    }

    fn value(&mut self, depth: usize) -> Option<JsValue> {
        self.blank();
        let c = self.peek()?;
        let start = self.pos;
        if depth > MAX_DEPTH {
            self.skip_expression();
            return Some(JsValue::Other);
        }
        let v = match c {
            b'"' | b'\'' | b'`' => match self.string() {
                Some(s) => JsValue::Str(s),
                None => {
                    self.skip_expression();
                    JsValue::Other
                }
            },
            b'{' => {
                self.pos += 1;
                let mut fields = Vec::new();
                loop {
                    self.blank();
                    match self.peek()? {
                        b'}' => {
                            self.pos += 1;
                            break;
                        }
                        b',' => {
                            self.pos += 1;
                            continue;
                        }
                        _ => {}
                    }
                    let before = self.pos;
                    let Some(k) = self.key() else {
                        self.skip_expression();
                        if self.peek() == Some(b'}') {
                            self.pos += 1;
                            break;
                        }
                        if self.pos == before {
                            return None;
                        }
                        continue;
                    };
                    self.blank();
                    if self.peek() != Some(b':') {
                        // A shorthand property or a method: nothing to read.
                        self.skip_expression();
                        if self.pos == before {
                            return None;
                        }
                        continue;
                    }
                    self.pos += 1;
                    let v = self.value(depth + 1)?;
                    fields.push((k, v));
                }
                JsValue::Obj(fields)
            }
            b'[' => {
                self.pos += 1;
                let mut items = Vec::new();
                loop {
                    self.blank();
                    match self.peek()? {
                        b']' => {
                            self.pos += 1;
                            break;
                        }
                        b',' => {
                            self.pos += 1;
                            continue;
                        }
                        _ => items.push(self.value(depth + 1)?),
                    }
                }
                JsValue::Arr(items)
            }
            b'-' | b'0'..=b'9' => {
                let start = self.pos;
                while self.peek().is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-' | b'+')) {
                    self.pos += 1;
                }
                JsValue::Num(self.src[start..self.pos].to_owned())
            }
            _ => {
                self.skip_expression();
                if self.pos == start {
                    return None;
                }
                JsValue::Other
            }
        };
        self.blank();
        // The rest of an expression that started with a literal ('a' + b, x.y()): not modelled.
        if !matches!(self.peek(), None | Some(b',' | b'}' | b']' | b';' | b')')) {
            self.skip_expression();
            return Some(JsValue::Other);
        }
        Some(v)
    }
}

/// The array literals of a script (outermost first, each once), read as far as they can be.
#[must_use]
pub fn arrays(script: &str) -> Vec<JsValue> {
    let bytes = script.as_bytes();
    let mut out = Vec::new();
    let mut r = Reader { s: bytes, src: script, pos: 0 };
    while r.pos < bytes.len() {
        match bytes[r.pos] {
            b'"' | b'\'' | b'`' => {
                if r.string().is_none() {
                    r.pos += 1;
                }
            }
            b'/' if bytes[r.pos..].starts_with(b"//") || bytes[r.pos..].starts_with(b"/*") => r.blank(),
            b'[' => {
                let start = r.pos;
                match r.value(0) {
                    Some(v @ JsValue::Arr(_)) => out.push(v),
                    _ => r.pos = start + 1,
                }
                if r.pos <= start {
                    r.pos = start + 1;
                }
            }
            _ => r.pos += 1,
        }
    }
    out
}

/// The string literal starting at byte `pos` of `text` (quotes removed, escapes resolved) and
/// the byte just past it, if one starts there.
#[must_use]
pub fn string_at(text: &str, pos: usize) -> Option<(String, usize)> {
    if !matches!(text.as_bytes().get(pos), Some(b'"' | b'\'' | b'`')) {
        return None;
    }
    let mut r = Reader { s: text.as_bytes(), src: text, pos };
    r.string().map(|s| (s, r.pos))
}

/// Reads one literal (a JSON-encoded string inside a literal, say), if it is one.
#[must_use]
pub fn parse(text: &str) -> Option<JsValue> {
    let mut r = Reader { s: text.as_bytes(), src: text, pos: 0 };
    r.value(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_it_knows_and_skips_the_rest() {
        let code = r#"var listData = {total: 2, articleList: [
            {title: '县政府召开常务会议', pubDate: "2024-07-10", urls: {pc: "/xw/202407/t20240710_1.html"}, on: function(){ return [1,2]; }},
            {'title': "第二条\u65b0\u95fb", pubDate: new Date(2024, 6, 9), urls: '{"pc":"/xw/2.html"}'} // a comment ]
        ]};"#;
        let arrs = arrays(code);
        assert_eq!(arrs.len(), 1, "{arrs:?}");
        let JsValue::Arr(items) = &arrs[0] else { panic!() };
        assert_eq!(items.len(), 2);
        let JsValue::Obj(first) = &items[0] else { panic!() };
        assert_eq!(first[0], ("title".into(), JsValue::Str("县政府召开常务会议".into())));
        assert!(matches!(&first[2].1, JsValue::Obj(o) if o[0].1 == JsValue::Str("/xw/202407/t20240710_1.html".into())));
        let JsValue::Obj(second) = &items[1] else { panic!() };
        assert_eq!(second[0].1, JsValue::Str("第二条新闻".into()));
        assert_eq!(second[1].1, JsValue::Other);
        assert!(matches!(parse(r#"{"pc":"/xw/2.html"}"#), Some(JsValue::Obj(_))));
    }

    #[test]
    fn any_text_ends_without_panicking_or_looping() {
        // Every short string over the characters literals are made of (a small generator stands in
        // for a fuzzer): the reader must finish on each.
        let alphabet = b"[]{}(),:;'\"`ab1 \n/\\*$-.";
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..20_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let len = (state % 24) as usize;
            let text: String = (0..len)
                .map(|i| alphabet[((state >> (i % 8 * 8)) as usize + i * 7) % alphabet.len()] as char)
                .collect();
            let _ = arrays(&text);
            let _ = parse(&text);
        }
    }

    #[test]
    fn broken_literals_end_without_panicking() {
        for code in [
            "var a = [{title: 'x",
            "[[[[",
            "var a = [1, 2",
            "x = ['\\",
            "[{a:`${b}`}]",
            "[{'a':}]",
            "[{a: )}]",
            "f([1, )]",
            "[{a )}]",
            "[)]",
            "[{a:1} )",
            "[{)",
        ] {
            let _ = arrays(code);
        }
    }
}
