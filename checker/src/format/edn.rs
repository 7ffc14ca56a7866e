//! A reader for the part of EDN that Jepsen histories use.
//!
//! [`parse_value`] reads one value: `nil`, `true`/`false`, integers, strings with
//! the usual escapes, keywords (`:invoke`), symbols, vectors and lists (`[1 4]`,
//! `(1 4)`) and maps (`{:process 3, :type :ok}`). Commas are whitespace. Errors give
//! the column (1-based) where reading failed.

use std::fmt;

/// An EDN value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Edn {
    /// `nil`.
    Nil,
    /// `true` or `false`.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A string.
    Str(String),
    /// A keyword, without its colon.
    Keyword(String),
    /// A bare symbol.
    Symbol(String),
    /// A vector or list.
    Seq(Vec<Edn>),
    /// A map, in written order.
    Map(Vec<(Edn, Edn)>),
}

impl Edn {
    /// The value of keyword `key` in a map.
    pub fn get(&self, key: &str) -> Option<&Edn> {
        match self {
            Edn::Map(entries) => entries
                .iter()
                .find(|(k, _)| matches!(k, Edn::Keyword(name) if name == key))
                .map(|(_, v)| v),
            _ => None,
        }
    }
}

impl fmt::Display for Edn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Edn::Nil => f.write_str("nil"),
            Edn::Bool(b) => write!(f, "{b}"),
            Edn::Int(i) => write!(f, "{i}"),
            Edn::Str(s) => write!(f, "{s:?}"),
            Edn::Keyword(k) => write!(f, ":{k}"),
            Edn::Symbol(s) => f.write_str(s),
            Edn::Seq(items) => {
                f.write_str("[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" ")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str("]")
            }
            Edn::Map(entries) => {
                f.write_str("{")?;
                for (i, (k, v)) in entries.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{k} {v}")?;
                }
                f.write_str("}")
            }
        }
    }
}

/// A reading error at a column.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EdnError {
    /// 1-based column (in characters).
    pub column: usize,
    /// What went wrong.
    pub reason: String,
}

struct Reader<'a> {
    chars: Vec<char>,
    pos: usize,
    _text: &'a str,
}

impl Reader<'_> {
    fn error(&self, reason: impl Into<String>) -> EdnError {
        EdnError {
            column: self.pos + 1,
            reason: reason.into(),
        }
    }

    fn skip_space(&mut self) {
        while let Some(&c) = self.chars.get(self.pos) {
            if c.is_whitespace() || c == ',' {
                self.pos += 1;
            } else if c == ';' {
                self.pos = self.chars.len();
            } else {
                break;
            }
        }
    }

    fn is_delimiter(c: char) -> bool {
        c.is_whitespace() || matches!(c, ',' | '[' | ']' | '(' | ')' | '{' | '}' | '"' | ';')
    }

    fn token(&mut self) -> String {
        let start = self.pos;
        while self.pos < self.chars.len() && !Self::is_delimiter(self.chars[self.pos]) {
            self.pos += 1;
        }
        self.chars[start..self.pos].iter().collect()
    }

    fn value(&mut self, depth: usize) -> Result<Edn, EdnError> {
        if depth > 64 {
            return Err(self.error("nested too deeply"));
        }
        self.skip_space();
        let Some(&c) = self.chars.get(self.pos) else {
            return Err(self.error("expected a value, found the end of the line"));
        };
        match c {
            '"' => self.string(),
            '[' | '(' => {
                let close = if c == '[' { ']' } else { ')' };
                self.pos += 1;
                let mut items = Vec::new();
                loop {
                    self.skip_space();
                    match self.chars.get(self.pos) {
                        Some(&d) if d == close => {
                            self.pos += 1;
                            return Ok(Edn::Seq(items));
                        }
                        None => return Err(self.error(format!("missing '{close}'"))),
                        _ => items.push(self.value(depth + 1)?),
                    }
                }
            }
            '{' => {
                self.pos += 1;
                let mut entries = Vec::new();
                loop {
                    self.skip_space();
                    match self.chars.get(self.pos) {
                        Some('}') => {
                            self.pos += 1;
                            return Ok(Edn::Map(entries));
                        }
                        None => return Err(self.error("missing '}'")),
                        _ => {
                            let k = self.value(depth + 1)?;
                            self.skip_space();
                            if self.chars.get(self.pos) == Some(&'}') {
                                return Err(self.error(format!("key {k} has no value")));
                            }
                            let v = self.value(depth + 1)?;
                            entries.push((k, v));
                        }
                    }
                }
            }
            ']' | ')' | '}' => Err(self.error(format!("unexpected '{c}'"))),
            ':' => {
                self.pos += 1;
                let name = self.token();
                if name.is_empty() {
                    return Err(self.error("empty keyword"));
                }
                Ok(Edn::Keyword(name))
            }
            _ => {
                let start = self.pos;
                let tok = self.token();
                match tok.as_str() {
                    "nil" => Ok(Edn::Nil),
                    "true" => Ok(Edn::Bool(true)),
                    "false" => Ok(Edn::Bool(false)),
                    _ if tok.starts_with(|c: char| c.is_ascii_digit())
                        || (tok.len() > 1 && tok.starts_with(['-', '+'])) =>
                    {
                        tok.trim_end_matches('N')
                            .parse::<i64>()
                            .map(Edn::Int)
                            .map_err(|_| EdnError {
                                column: start + 1,
                                reason: format!("bad number {tok:?}"),
                            })
                    }
                    _ => Ok(Edn::Symbol(tok)),
                }
            }
        }
    }

    fn string(&mut self) -> Result<Edn, EdnError> {
        self.pos += 1;
        let mut out = String::new();
        loop {
            let Some(&c) = self.chars.get(self.pos) else {
                return Err(self.error("unterminated string"));
            };
            self.pos += 1;
            match c {
                '"' => return Ok(Edn::Str(out)),
                '\\' => {
                    let Some(&e) = self.chars.get(self.pos) else {
                        return Err(self.error("unterminated string"));
                    };
                    self.pos += 1;
                    out.push(match e {
                        'n' => '\n',
                        't' => '\t',
                        'r' => '\r',
                        '"' => '"',
                        '\\' => '\\',
                        _ => return Err(self.error(format!("unknown escape \\{e}"))),
                    });
                }
                _ => out.push(c),
            }
        }
    }
}

/// Reads one value from `text`; returns it and the rest of the text.
pub fn parse_value(text: &str) -> Result<(Edn, String), EdnError> {
    let mut r = Reader {
        chars: text.chars().collect(),
        pos: 0,
        _text: text,
    };
    let v = r.value(0)?;
    let rest: String = r.chars[r.pos..].iter().collect();
    Ok((v, rest))
}

/// Reads `text` as exactly one value (trailing whitespace and commas allowed).
pub fn parse_all(text: &str) -> Result<Edn, EdnError> {
    let mut r = Reader {
        chars: text.chars().collect(),
        pos: 0,
        _text: text,
    };
    let v = r.value(0)?;
    r.skip_space();
    if r.pos < r.chars.len() {
        return Err(r.error("unexpected text after the value"));
    }
    Ok(v)
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn reads_jepsen_maps() {
        let v =
            parse_all(r#"{:process 3, :type :invoke, :f :append, :key "4", :value "x 3 12 y"}"#)
                .unwrap();
        assert_eq!(v.get("process"), Some(&Edn::Int(3)));
        assert_eq!(v.get("type"), Some(&Edn::Keyword("invoke".into())));
        assert_eq!(v.get("value"), Some(&Edn::Str("x 3 12 y".into())));
        assert_eq!(v.get("missing"), None);
        let v = parse_all(r#"{:value nil :f :cas :v [1 -4] :s "a\"b\\n"}"#).unwrap();
        assert_eq!(v.get("value"), Some(&Edn::Nil));
        assert_eq!(v.get("v"), Some(&Edn::Seq(vec![Edn::Int(1), Edn::Int(-4)])));
        assert_eq!(v.get("s"), Some(&Edn::Str("a\"b\\n".into())));
    }

    #[test]
    fn errors_name_the_column() {
        let e = parse_all(r#"{:process 3, :value "abc}"#).unwrap_err();
        assert_eq!(e.reason, "unterminated string");
        let e = parse_all("{:process 3 :type}").unwrap_err();
        assert!(e.reason.contains("no value"), "{e:?}");
        let e = parse_all("[1 2] 3").unwrap_err();
        assert_eq!(e.column, 7);
        let e = parse_all("12x").unwrap_err();
        assert!(e.reason.contains("bad number"));
    }

    #[test]
    fn parse_value_returns_the_rest() {
        let (v, rest) = parse_value("[1 4]  trailing").unwrap();
        assert_eq!(v, Edn::Seq(vec![Edn::Int(1), Edn::Int(4)]));
        assert_eq!(rest.trim(), "trailing");
    }
}
